"""Shared fixtures for tests that talk to a real Label Studio.

A real server, not a mock: the builder's input is whatever Label Studio actually exports, and the
server validates nothing, so only a live round trip shows what the builder must cope with.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from builder.labelstudio.server import LabelStudioServer, ls_executable

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio

INSTALL_COMMAND = "make ls-install"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"labelstudio: needs a real Label Studio server (`{INSTALL_COMMAND}`)"
    )


@dataclass(frozen=True)
class ExternalLabelStudio:
    """A server someone else runs (CLAIMWIRE_LS_URL/CLAIMWIRE_LS_TOKEN): no process to inspect."""

    url: str
    api_key: str = field(repr=False)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_label_studio() -> Path:
    """Skip locally but fail in CI: a silently skipped integration suite proves nothing there."""
    exe = ls_executable()
    if exe.exists():
        return exe
    message = f"Label Studio is not installed at {exe}; install it with `{INSTALL_COMMAND}`"
    if _in_ci():
        pytest.fail(f"CI is set and {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def ls_server() -> Iterator[LabelStudioServer | ExternalLabelStudio]:
    url, token = os.environ.get("CLAIMWIRE_LS_URL"), os.environ.get("CLAIMWIRE_LS_TOKEN")
    if url and token:
        yield ExternalLabelStudio(url=url.rstrip("/"), api_key=token)
        return
    require_label_studio()
    # First start runs all migrations: 52-80 s measured on 2 busy CPUs, so more than the default.
    with LabelStudioServer(timeout=180) as server:
        yield server


@pytest.fixture(scope="session")
def ls_client(ls_server: LabelStudioServer | ExternalLabelStudio) -> LabelStudio:
    from label_studio_sdk import LabelStudio

    # Explicit key: the SDK would otherwise fall back to a LABEL_STUDIO_API_KEY from the shell.
    return LabelStudio(base_url=ls_server.url, api_key=ls_server.api_key)  # type: ignore[no-untyped-call]
