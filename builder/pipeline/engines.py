"""Where the build's batches run: one function per engine, each yielding the results of the same
``process`` function (:func:`builder.pipeline.build._process`) in input order.

- :func:`local`: this process (``jobs`` 1) or a pool of ``jobs`` worker processes on this machine;
- :func:`dask`: the workers of a Dask cluster (``pip install "claimwire[dask]"``), one joined at
  ``address`` (``tcp://HOST:8786``) or, without it, a ``LocalCluster`` of ``jobs`` worker
  processes (one thread each) started here and shut down with the build.

Every engine keeps at most two batches per worker in flight and hands each result to the driver
once, in input order: a batch that runs twice (Dask reruns the tasks of a lost worker
elsewhere, and the driver sends again a batch whose data was on it) is still consumed once, and
``process`` has no side effect, so the release is byte-identical whatever the engine. A
``context`` (the build's settings) is given to the workers once, through
``init(context, worker)``.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

from ..errors import ClaimwireError, Problem, UsageError

ENGINES = ("local", "dask")
INSTALL_DASK = 'pip install "claimwire[dask]"'
DRAIN_SECONDS = 60  # the longest wait for a batch in flight when a build stops early
SEND_ATTEMPTS = 3  # times a batch is sent when the workers holding it are lost
CONNECT_SECONDS = 10  # to reach a scheduler at --address and see one of its workers

Items = TypeVar("Items")
Context = TypeVar("Context")
Result = TypeVar("Result")


def local(
    batches: Iterator[tuple[Items, int]],
    process: Callable[[Items], Result],
    init: Callable[[Context, bool], None],
    context: Context,
    jobs: int,
) -> Generator[tuple[Result, int], None, None]:
    """Results of ``process`` in input order, with at most ``2 * jobs`` batches in flight
    (``Pool.imap`` would read the whole export ahead into its queue)."""
    if jobs <= 1:
        init(context, False)
        for items, nbytes in batches:
            yield process(items), nbytes
        return
    methods = multiprocessing.get_all_start_methods()
    mp = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with mp.Pool(jobs, initializer=init, initargs=(context, True)) as pool:
        pending: deque[tuple[Any, int]] = deque()
        try:
            for items, nbytes in batches:
                pending.append((pool.apply_async(process, (items,)), nbytes))
                if len(pending) >= 2 * jobs:
                    result, done = pending.popleft()
                    yield result.get(), done
            while pending:
                result, done = pending.popleft()
                yield result.get(), done
        finally:
            # On an error or Ctrl-C, let the batches in flight arrive before the pool is
            # terminated: a worker killed while sending its result leaves a partial message in
            # the pipe, and the pool's result thread then waits for the rest of it forever.
            pool.close()
            for result, _ in pending:
                result.wait(DRAIN_SECONDS)


def _on_worker(
    process: Callable[[Items], Result],
    init: Callable[[Context, bool], None],
    context: Context,
    items: Items,
) -> Result:
    """One batch on a Dask worker. ``context`` is the copy the worker already holds (scattered
    once); setting it is an assignment. Workers run one task at a time (one thread each), and
    Ctrl-C stays with the worker's own process (``worker`` False: no signal handler is set)."""
    init(context, False)
    return process(items)


def dask(
    batches: Iterator[tuple[Items, int]],
    process: Callable[[Items], Result],
    init: Callable[[Context, bool], None],
    context: Context,
    jobs: int,
    address: str | None = None,
) -> Generator[tuple[Result, int], None, None]:
    """Results of ``process`` on a Dask cluster, in input order, with at most two batches per
    worker thread in flight. The cluster started here is shut down on every path; a joined one
    is left running, with this build's work cancelled."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError(
            Problem(
                "--engine dask needs Dask distributed, which is not installed",
                expected="the dask extra of claimwire",
                fix=f"{INSTALL_DASK}, or build with --engine local",
            )
        ) from None
    cluster: Any = None
    client: Any = None
    pending: deque[tuple[Any, Items, int]] = deque()
    try:
        if address is None:
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=max(1, jobs),
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # any free port: 8787 may be another cluster's
            )
            client = Client(cluster)  # type: ignore[no-untyped-call]
        else:
            client = _join(Client, address)
        threads = sum(w["nthreads"] for w in client.scheduler_info()["workers"].values())
        # the settings, once per worker (a worker that joins later fetches them from a peer)
        shared = client.scatter(context, broadcast=True, hash=False)

        def submit(items: Items) -> Any:
            # The batch goes to a worker as data, not inside the task: the scheduler keeps the
            # messages that carried a task's arguments (the driver grew by a batch per batch).
            for attempt in range(1, SEND_ATTEMPTS + 1):
                try:
                    (data,) = client.scatter([items], hash=False)
                    return client.submit(_on_worker, process, init, shared, data, pure=False)
                except OSError as exc:  # the worker it went to is gone: another one
                    if attempt == SEND_ATTEMPTS:
                        raise _lost(exc) from None
                    time.sleep(1)
            raise AssertionError("unreachable")

        for items, nbytes in batches:
            pending.append((submit(items), items, nbytes))
            if len(pending) >= 2 * max(1, threads):
                yield _result(submit, *pending.popleft())
        while pending:
            yield _result(submit, *pending.popleft())
    finally:
        for future, _, _ in pending:
            future.cancel()
        pending.clear()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def _join(client: Callable[..., Any], address: str) -> Any:
    """A client of the scheduler at ``address`` that has at least one worker."""
    try:
        joined = client(address, timeout=CONNECT_SECONDS)
    except (OSError, ValueError) as exc:
        raise UsageError(
            Problem(
                f"cannot reach the Dask scheduler at {address}: {exc}",
                expected="the address `dask scheduler` prints, such as tcp://HEAD:8786",
                fix="start `dask scheduler` on the head node (and `dask worker "
                "tcp://HEAD:8786` on each node), or leave --address out to start a cluster "
                "on this machine",
            )
        ) from None
    try:
        joined.wait_for_workers(1, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError):
        joined.close()
        raise UsageError(
            Problem(
                f"the Dask scheduler at {address} has no worker",
                fix="start `dask worker <scheduler address>` on each node",
            )
        ) from None
    return joined


def _result(
    submit: Callable[[Items], Any], future: Any, items: Items, nbytes: int
) -> tuple[Any, int]:
    """The batch's result. A batch whose data went with a lost worker is sent again (the
    driver still holds it); its result is consumed once, here."""
    from distributed import KilledWorker
    from distributed.client import FutureCancelledError

    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return future.result(), nbytes
        except (KilledWorker, FutureCancelledError, OSError) as exc:
            if attempt == SEND_ATTEMPTS:
                raise _lost(exc) from None
            future = submit(items)
    raise AssertionError("unreachable")


def _lost(exc: BaseException) -> ClaimwireError:
    return ClaimwireError(
        Problem(
            f"the Dask workers running a batch kept dying or could not be reached ({exc})",
            fix="look at the workers' logs (out of memory? a node down?), then build again",
        )
    )
