"""The README's "Annotating with Label Studio" section, run as written, line by line, in a copy of
the checkout (the files git tracks: what a fresh clone holds): `make ls-serve` starts its own
server, the two `export` lines are the ones it prints, push, an annotation made through the API
where the README says to annotate in the browser, pull, `VERSION=1.1.0 make build`, and the
release pushed back. Then pull after pull: a second snapshot beside the first, and a build again.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from support.helpers import ROOT, SEED_ID

from builder.labelstudio.server import default_venv

pytestmark = pytest.mark.labelstudio

SECTION = "## Annotating with Label Studio"


def readme_lines() -> list[str]:
    """The lines of the section's first bash block, as written."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    block = section[section.index("```bash\n") + len("```bash\n") :]
    return block[: block.index("```")].splitlines()


def _clone(into: Path) -> Path:
    """The tracked files of the checkout, as they are in the work tree, with the two venvs the
    suite runs with linked in (a fresh clone's `make` would create them; that is not tested)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        src = ROOT / name
        if not src.is_file():
            continue  # deleted in the work tree
        dst = into / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(src.read_bytes())
    (into / ".venv").symlink_to((ROOT / ".venv").resolve())
    (into / ".ls-venv").symlink_to(default_venv().resolve())
    # make's install target is up to date: the venv is newer than every file it depends on
    # (pyproject.toml, setup.py and the modules setup.py compiles)
    installed = (into / ".venv" / "bin" / "claimwire").stat().st_mtime
    for name in filter(None, listed.decode().split("\0")):
        if (into / name).is_file():
            os.utime(into / name, (installed - 60, installed - 60))
    return into


def _env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LABEL_STUDIO_", "MAKEFLAGS", "MFLAGS", "VERSION"))
    }
    env.update(
        HF_DATASETS_OFFLINE="1",
        HF_HUB_OFFLINE="1",
        CLAIMWIRE_LS_VENV=str(default_venv().resolve()),
    )
    return env


class Serve:
    """`make ls-serve` in the background, its output read as it comes."""

    def __init__(self, line: str, cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            ["bash", "-c", line],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, prefix: str, timeout: float = 300) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            self.seen.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"`make ls-serve` printed no {prefix!r}:\n" + "\n".join(self.seen))

    def stop(self) -> None:
        """Ctrl-C's equivalent for the process group: `claimwire ls serve` stops the server."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture
def clone(tmp_path: Path) -> Iterator[Path]:
    yield _clone(tmp_path / "claimwire")


def _run(line: str, cwd: Path, env: dict[str, str], exports: list[str]) -> str:
    script = "\n".join(["set -e", *exports, line])
    done = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"`{line}` failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _documents(release: Path) -> dict[str, dict[str, Any]]:
    rows = [
        r
        for f in sorted((release / "data" / "documents").glob("*.parquet"))
        for r in pq.read_table(f).to_pylist()
    ]
    return {r["id"]: r for r in rows}


def _annotate_seed(clone: Path, url: str) -> None:
    """What the README leaves to the browser: one annotation of the seed article, made through
    the API by the same user (the gold spec's regions)."""
    from builder.io.articles import load_rules, read_article
    from builder.labelstudio.client import connect, existing_tasks, find_project
    from builder.labelstudio.spec import resolve

    key = (clone / ".ls-data" / "claimwire-api-token").read_text().strip()
    client = connect(url, key)
    project = find_project(client, "claimwire")
    assert project is not None
    task_id, _ = existing_tasks(client, int(project.id))[SEED_ID]
    articles = clone / "articles"
    article = read_article(articles / f"{SEED_ID}.json", load_rules(articles / "sources.json"))
    spec = json.loads((clone / "annotations/gold" / f"{SEED_ID}.spec.json").read_text())
    me = int(client.users.whoami().id)
    client.annotations.create(task_id, result=resolve(spec, article.text), completed_by=me)


def test_the_readme_label_studio_section_as_written(clone: Path):
    lines = readme_lines()
    commands = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    assert commands[0].startswith("make ls-serve")
    env = _env()
    exports: list[str] = []
    outputs: dict[str, str] = {}
    serve: Serve | None = None
    url = ""
    try:
        for line in lines:
            stripped = line.strip()
            if stripped.startswith("make ls-serve"):
                serve = Serve(line, clone, env)
                printed = serve.wait_for("export LABEL_STUDIO_URL=")
                url = printed.split("=", 1)[1].split()[0]
                port = url.rsplit(":", 1)[1]
                key_line = serve.wait_for("export LABEL_STUDIO_API_KEY_FILE=")
                serve.wait_for("Ctrl-C to stop.")
            elif stripped.startswith("export LABEL_STUDIO_URL="):
                # the README's line with the port ls-serve printed
                written = stripped.split("#")[0].strip().replace("PORT", port)
                assert written == printed, (written, printed)
                exports.append(written)
            elif stripped.startswith("export LABEL_STUDIO_API_KEY_FILE="):
                written = stripped.split("#")[0].strip()
                relative = written.split("=", 1)[1]
                printed_path = key_line.split("=", 1)[1].split()[0]
                assert Path(printed_path) == (clone / relative).resolve()
                exports.append(written)
            elif stripped.startswith("# annotate in the browser"):
                _annotate_seed(clone, url)
            elif stripped and not stripped.startswith("#"):
                outputs[stripped] = _run(line, clone, env, exports)
        assert serve is not None

        # what the lines did: push made the project, pull a snapshot beside the shipped export,
        # and the build read the new, mostly unannotated, snapshot without a collision
        pushed = next(v for k, v in outputs.items() if "ls push --project claimwire" in k)
        n_articles = len(list((clone / "articles").glob("*.txt")))
        assert f"imported {n_articles} new task(s); 0 already in the project" in pushed
        pulled = sorted((clone / "annotations" / "exports").glob("claimwire-*.json"))
        assert len(pulled) == 1
        built = next(v for k, v in outputs.items() if k.startswith("VERSION=1.1.0 make build"))
        assert (
            f"tasks: {2 * n_articles} task(s) in the exports: 0 older state(s) of a task in a "
            f"later snapshot, {n_articles - 1} without annotation beside another task of their "
            "article, 1 pooled into another task of their article"
        ) in built
        review = next(v for k, v in outputs.items() if "--project review" in k)
        assert f"{n_articles} new task(s)" in review
        new = _documents(clone / "dist" / "claimwire-1.1.0")
        # the gold export alone, for comparison
        gold_only = clone / "gold-only"
        _run(
            ".venv/bin/claimwire build --version 1.1.0 --out gold-only "
            "--annotations annotations/exports/gold.json",
            clone,
            env,
            exports,
        )
        old = _documents(gold_only / "claimwire-1.1.0")
        assert new.keys() == old.keys()
        assert all(new[k] == old[k] for k in new if k != SEED_ID)
        # the seed: the gold task's ground truth and the new annotation, adjudicated together
        assert new[SEED_ID]["annotation"]["adjudication"] == "ground_truth"
        assert new[SEED_ID]["entities"] == [
            {**e, "decided_by": "ground_truth"} for e in old[SEED_ID]["entities"]
        ]

        # pull after pull: a second snapshot beside the first; each task's latest state is read
        time.sleep(1.1)  # a new name: ls pull names snapshots to the second
        pull = next(line for line in lines if "ls pull --project claimwire" in line)
        _run(pull, clone, env, exports)
        assert len(list((clone / "annotations" / "exports").glob("claimwire-*.json"))) == 2
        again = _run("VERSION=1.2.0 make build", clone, env, exports)
        assert f"tasks: {3 * n_articles} task(s) in the exports: {n_articles} older state(s)" in (
            again
        )
        assert _documents(clone / "dist" / "claimwire-1.2.0") == new
    finally:
        if serve is not None:
            serve.stop()
    assert serve.proc.returncode is not None
    log = (clone / ".ls-data" / "label-studio.log").read_text(errors="replace")
    assert re.search(r"Starting development server at http://127\.0\.0\.1:\d+/", log)
