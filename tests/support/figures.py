"""Reliability figures (inputs tried, crashes, kill points...) printed at the end of the run.

Each test that measures something calls :func:`report`; the line shows in the pytest output even
with output capture on, and is appended to the file named by ``CLAIMWIRE_FIGURES`` if set.
"""

from __future__ import annotations

import contextlib
import os

import pytest


def report(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None:
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(f"[figures] {line}")
    target = os.environ.get("CLAIMWIRE_FIGURES")
    if target:
        with open(target, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def budget(name: str, default: int) -> int:
    """An example/point budget: ``CLAIMWIRE_FUZZ_EXAMPLES`` scales the fuzz tests for long runs."""
    value = os.environ.get(name)
    return int(value) if value and value.isdigit() else default
