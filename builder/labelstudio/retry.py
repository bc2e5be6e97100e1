"""Retry with exponential back-off, for Label Studio requests that are safe to repeat.

Safe means that sending the request twice cannot change the server twice: reads, polls,
downloads, and updates that set a value. Requests that create something (task imports,
annotations, projects) are never repeated blindly; their callers re-read the server after a
failure and send only what is still missing (see :mod:`builder.labelstudio.client`).

Transient failures are dropped connections, timeouts and HTTP 408/429/5xx. Anything else (401,
404, a validation error) fails at once: repeating it would only delay the message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Backoff:
    """How often and how long to wait: ``base * 2**n`` seconds, at most ``cap``, no jitter (one
    client per project; a fixed schedule keeps runs comparable)."""

    attempts: int = 5
    base: float = 0.25
    cap: float = 4.0

    def delays(self) -> Iterator[float]:
        for n in range(self.attempts - 1):
            yield min(self.cap, self.base * 2**n)


DEFAULT = Backoff()


class IncompleteDownload(Exception):
    """A response body that ended early without a protocol error (a body delimited by the
    connection closing): found by parsing it, worth another attempt like a dropped connection."""


def transient(exc: BaseException) -> bool:
    """Whether ``exc`` is worth another attempt: a network failure or a server-side hiccup."""
    import httpx

    if isinstance(exc, httpx.TransportError | IncompleteDownload):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and status in RETRY_STATUSES


def describe(exc: BaseException) -> str:
    """A short, secret-free description: the status code or the exception type, never headers."""
    status = getattr(exc, "status_code", None)
    return f"HTTP {status}" if status else type(exc).__name__


def retrying(
    fn: Callable[[], T],
    what: str,
    policy: Backoff = DEFAULT,
    on_retry: Callable[[str], Any] | None = None,
    sleep: Callable[[float], Any] = time.sleep,
) -> T:
    """``fn()``, repeated after transient failures; the last failure is re-raised."""
    delays = policy.delays()
    attempt = 1
    while True:
        try:
            return fn()
        except Exception as exc:
            delay = next(delays, None) if transient(exc) else None
            if delay is None:
                raise
            if on_retry is not None:
                on_retry(
                    f"Label Studio: {what} failed ({describe(exc)}); retrying in {delay:g} s "
                    f"(attempt {attempt + 1} of {policy.attempts})"
                )
            sleep(delay)
            attempt += 1
