"""``ls push`` and ``ls pull`` through a proxy that drops connections and answers 500, in front of
the real Label Studio: safe requests are retried with back-off, creating requests are re-checked
before they are sent again (so no task is ever duplicated), and no partial export file lands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.faultproxy import Fault, FaultProxy
from support.figures import report
from support.helpers import seed_inputs

from builder.cli.main import main
from builder.labelstudio.client import connect, find_project

pytestmark = pytest.mark.labelstudio

P = r"/api/projects/\d+"


@pytest.fixture
def proxied(ls_server: Any, monkeypatch: pytest.MonkeyPatch):
    def use(faults: list[Fault]) -> FaultProxy:
        proxy = FaultProxy(ls_server.url, faults)
        monkeypatch.setenv("LABEL_STUDIO_URL", proxy.url)
        monkeypatch.setenv("LABEL_STUDIO_API_KEY", ls_server.api_key)
        return proxy

    return use


def _task_count(ls_server: Any, project: str) -> int:
    client = connect(ls_server.url, ls_server.api_key)
    found = find_project(client, project)
    return len(list(client.tasks.list(project=found.id))) if found else 0


def _articles(tmp_path: Path) -> Path:
    """The seed article plus two more ids with the same text (enough for a batch)."""
    import shutil

    folder = tmp_path / "articles"
    shutil.copytree(seed_inputs()[0], folder)
    meta = json.loads((folder / "000_e5b139a28bf6bbf6.json").read_text())
    for n in (1, 2):
        new = f"00{n}_copy"
        shutil.copyfile(folder / "000_e5b139a28bf6bbf6.txt", folder / f"{new}.txt")
        (folder / f"{new}.json").write_text(json.dumps({**meta, "id": new}))
    return folder


def test_push_survives_500s_and_dropped_answers_without_duplicates(
    proxied, ls_server, tmp_path: Path, capsys, request
) -> None:
    articles = _articles(tmp_path)
    faults = [
        Fault("POST", r"/api/projects/?", "500"),  # create project: never reached the server
        Fault("GET", r"/api/tasks/?", "drop"),  # a read: simply retried
        Fault("POST", P + r"/import", "drop-after"),  # saved, answer lost: must not re-import
    ]
    with proxied(faults) as proxy:
        code = main(["ls", "push", "--project", "flaky-push", "--articles", str(articles)])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert "imported 3 new task(s); 0 already in the project" in out
        assert proxy.injected() == [
            ("POST", "/api/projects/", "500"),
            ("GET", "/api/tasks/", "drop"),
        ] + [(m, p, "drop-after") for m, p, _ in proxy.injected()[2:]]
        assert len(proxy.injected()) == 3
        imports = [e for e in proxy.log if e[1].endswith("/import")]
        assert [e[2] for e in imports] == ["drop-after"]  # sent once, never again
        retries = [line for line in err.splitlines() if line.startswith("Label Studio: ")]
        # one retry per injected fault; a kept-alive connection the proxy closed may add one more
        failed = [line.split(" failed ")[0].removeprefix("Label Studio: ") for line in retries]
        assert {"create the project", "list tasks", "import tasks"} <= set(failed), err
        assert failed.count("import tasks") == 1, err
        assert ls_server.api_key not in out + err
    assert _task_count(ls_server, "flaky-push") == 3
    assert sum(1 for p in _projects(ls_server) if p == "flaky-push") == 1
    # again through a clean proxy: nothing new
    with proxied([]):
        assert main(["ls", "push", "--project", "flaky-push", "--articles", str(articles)]) == 0
    assert "imported 0 new task(s); 3 already in the project" in capsys.readouterr().out
    assert _task_count(ls_server, "flaky-push") == 3
    report(
        request.config,
        "ls push under faults: 3 injected (500, drop, drop-after import), "
        "3 tasks on the server, 0 duplicated",
    )


def _projects(ls_server: Any) -> list[str]:
    client = connect(ls_server.url, ls_server.api_key)
    return [p.title for p in client.projects.list()]


def test_pull_survives_faults_and_writes_one_complete_file(
    proxied, ls_server, tmp_path: Path, capsys
) -> None:
    articles = _articles(tmp_path)
    with proxied([]):
        assert main(["ls", "push", "--project", "flaky-pull", "--articles", str(articles)]) == 0
    capsys.readouterr()
    out_dir = tmp_path / "exports"
    faults = [
        Fault("POST", P + r"/exports/?", "500"),
        Fault("GET", P + r"/exports/\d+/?", "drop"),
        Fault("GET", P + r"/exports/\d+/download/?", "truncate"),
        Fault("GET", P + r"/exports/\d+/download/?", "drop-after"),
    ]
    with proxied(faults) as proxy:
        code = main(["ls", "pull", "--project", "flaky-pull", "--out", str(out_dir)])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert sorted(a for _, _, a in proxy.injected()) == [
            "500",
            "drop",
            "drop-after",
            "truncate",
        ]
        assert ls_server.api_key not in out + err
    (pulled,) = out_dir.iterdir()
    assert pulled.name.startswith("flaky-pull-") and pulled.suffix == ".json"
    tasks = json.loads(pulled.read_bytes())
    assert sorted(t["data"]["article_id"] for t in tasks) == [
        "000_e5b139a28bf6bbf6",
        "001_copy",
        "002_copy",
    ]


def test_pull_that_keeps_failing_leaves_no_file(proxied, ls_server, tmp_path: Path, capsys) -> None:
    articles = _articles(tmp_path)
    with proxied([]):
        assert main(["ls", "push", "--project", "dead-pull", "--articles", str(articles)]) == 0
    capsys.readouterr()
    out_dir = tmp_path / "exports"
    with proxied([Fault("GET", P + r"/exports/\d+/download/?", "truncate", times=99)]) as proxy:
        code = main(["ls", "pull", "--project", "dead-pull", "--out", str(out_dir)])
        out, err = capsys.readouterr()
    assert code == 1
    assert "error: <input>: Label Studio refused or failed to download the export (" in err
    assert err.count("Label Studio: download the export failed") == 4
    assert len([e for e in proxy.log if e[1].endswith("/download")]) == 5  # bounded attempts
    assert "Traceback" not in err and ls_server.api_key not in out + err
    assert list(out_dir.iterdir()) == []  # no export, no .partial


def test_every_request_the_client_makes_reaches_the_proxy(ls_server) -> None:
    """The proxy closes each connection after one answer and says so (``Connection: close``):
    a client never sends a request into a connection the proxy has closed, where it would fail
    without reaching the proxy. The attempts counted above are then the client's attempts."""
    with FaultProxy(ls_server.url, []) as proxy:
        client = connect(proxy.url, ls_server.api_key)
        for _ in range(100):
            client.versions.get()
    assert len(proxy.log) == 100 and proxy.injected() == []
