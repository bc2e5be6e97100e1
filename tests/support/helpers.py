"""Shared helpers for tests: a scratch copy of the shipped inputs that a test may break."""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builder.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SEED_ID = "000_e5b139a28bf6bbf6"


@dataclass
class Workspace:
    root: Path

    @property
    def articles(self) -> Path:
        return self.root / "articles"

    @property
    def export(self) -> Path:
        return self.root / "exports" / "gold.json"

    @property
    def dist(self) -> Path:
        return self.root / "dist"

    def tasks(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = json.loads(self.export.read_text(encoding="utf-8"))
        return data

    def write_tasks(self, tasks: list[dict[str, Any]]) -> None:
        self.export.write_text(json.dumps(tasks, indent=1, ensure_ascii=False), encoding="utf-8")

    def build(self, *extra: str) -> int:
        return main(
            [
                "build",
                "--articles",
                str(self.articles),
                "--annotations",
                str(self.export.parent),
                "--out",
                str(self.dist),
                *extra,
            ]
        )


def in_ci() -> bool:
    """Whether the CI environment variable is set (as tests/conftest.py reads it): tests that
    would skip for want of a tool or a privilege must fail there instead, since a silently
    skipped test proves nothing."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def seed_export() -> bytes:
    """The shipped export cut down to the seed's task, the bytes around it kept as exported (the
    seed's task comes first, so lines and columns inside it are those of the shipped file)."""
    from builder.io.exports import RawTask, raw_tasks

    path = ROOT / "annotations" / "exports" / "gold.json"
    data = path.read_bytes()
    tasks = [t for t in raw_tasks(path) if isinstance(t, RawTask)]
    seed = next(t for t in tasks if f'"article_id": "{SEED_ID}"'.encode() in t.data)
    assert seed is tasks[0], "the seed's task is no longer the first of the shipped export"
    end = tasks[-1].offset + len(tasks[-1].data)
    return data[: seed.offset] + seed.data + data[end:]


def workspace(tmp: Path) -> Workspace:
    """A copy of the seed article (and the cleaning rules) with its gold export: the shipped
    corpus grows, the tests' inputs do not."""
    (tmp / "articles").mkdir(parents=True)
    for name in ("sources.json", f"{SEED_ID}.txt", f"{SEED_ID}.json"):
        shutil.copyfile(ROOT / "articles" / name, tmp / "articles" / name)
    (tmp / "exports").mkdir()
    # the seed's task only, kept byte for byte as Label Studio exported it
    (tmp / "exports" / "gold.json").write_bytes(seed_export())
    return Workspace(tmp)


def ls_user(client: Any, name: str) -> int:
    """The id of Label Studio user ``name``, created on first use (with a name and an email the
    privacy tests look for)."""
    for u in client.users.list():
        if u.username == name:
            return int(u.id)
    return int(
        client.users.create(
            username=name,
            email=f"{name}@example.org",
            first_name="Quintessa",
            last_name="Testperson",
            password="x" * 16,
        ).id
    )


@functools.cache
def seed_inputs() -> tuple[Path, Path]:
    """(articles folder, exports folder) holding only the seed article and its gold task, made
    once per test session: the inputs the tests' exact figures are about."""
    tmp = Path(tempfile.mkdtemp(prefix="claimwire-seed-"))
    atexit.register(shutil.rmtree, tmp, True)
    ws = workspace(tmp)
    return ws.articles, ws.export.parent
