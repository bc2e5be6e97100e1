"""Integration tests for builder.labelstudio.server against a real Label Studio process.

They guard the facts the rest of the suite relies on: loopback-only binding, a working legacy token
through the SDK, no token in logs, restarts reusing the stored token, and a clean stop.
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from label_studio_sdk import ImportApiRequest

from builder.labelstudio.server import (
    LOG_FILE,
    PASSWORD_FILE,
    TOKEN_FILE,
    LabelStudioError,
    LabelStudioServer,
    free_port,
)

if TYPE_CHECKING:
    from conftest import ExternalLabelStudio
    from label_studio_sdk import LabelStudio

pytestmark = pytest.mark.labelstudio

LABEL_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="stance" toName="text" choice="single">
    <Choice value="supports"/><Choice value="refutes"/>
  </Choices>
</View>"""
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _local(server: LabelStudioServer | ExternalLabelStudio) -> LabelStudioServer:
    if not isinstance(server, LabelStudioServer):
        pytest.skip("external server (CLAIMWIRE_LS_URL): no local process or log to inspect")
    return server


def _listeners(port: int) -> dict[int, str]:
    """Listening sockets on `port` as {inode: address}, read from /proc so no `ss` is needed."""
    found: dict[int, str] = {}
    for name, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            cols = line.split()
            addr_hex, port_hex = cols[1].split(":")
            if cols[3] != "0A" or int(port_hex, 16) != port:  # 0A = LISTEN
                continue
            raw = bytes.fromhex(addr_hex)  # kernel prints each 32-bit word little-endian
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found[int(cols[9])] = socket.inet_ntop(family, raw)
    return found


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = str(fd.readlink()) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _get(url: str, token: str | None = None) -> int:
    headers = {"Authorization": f"Token {token}"} if token else {}
    with _NO_PROXY.open(urllib.request.Request(url, headers=headers), timeout=10) as r:
        return int(r.status)


def test_binds_loopback_only(ls_server: LabelStudioServer | ExternalLabelStudio) -> None:
    server = _local(ls_server)
    assert server.pid is not None
    socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
    listeners = _listeners(server.port)
    assert set(listeners.values()) == {"127.0.0.1"}, listeners
    assert set(listeners) <= _socket_inodes(server.pid), "listener is not the server's socket"


def test_health(ls_server: LabelStudioServer | ExternalLabelStudio) -> None:
    assert _get(f"{ls_server.url}/health") == 200


def test_sdk_round_trip(ls_client: LabelStudio) -> None:
    me = ls_client.users.whoami()
    project = ls_client.projects.create(title="claimwire smoke", label_config=LABEL_CONFIG)
    assert project.id is not None
    try:
        imported = ls_client.projects.import_tasks(
            project.id, request=[ImportApiRequest(data={"text": "The moon is made of cheese."})]
        )
        assert imported.task_count == 1
        tasks = list(ls_client.tasks.list(project=project.id))  # type: ignore[var-annotated]
        assert len(tasks) == 1 and tasks[0].id is not None
        result = [
            {
                "from_name": "stance",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": ["refutes"]},
            }
        ]
        created = ls_client.annotations.create(
            tasks[0].id, result=result, completed_by=me.id, lead_time=1.5
        )
        listed = ls_client.annotations.list(tasks[0].id)
        assert [a.id for a in listed] == [created.id]
        assert listed[0].result is not None
        assert listed[0].result[0]["value"] == {"choices": ["refutes"]}
    finally:
        ls_client.projects.delete(project.id)


def test_secrets_not_in_log(ls_server: LabelStudioServer | ExternalLabelStudio) -> None:
    """Runs after the round trip so the log holds authenticated API requests too."""
    server = _local(ls_server)
    log = server.log_path.read_text(errors="replace")
    assert "/api/" in log, "expected the round trip's requests in the log"
    assert server.api_key not in log
    assert server.password_path.read_text().strip() not in log
    assert server.token_path.stat().st_mode & 0o077 == 0


@pytest.fixture
def migrated_copy(
    ls_server: LabelStudioServer | ExternalLabelStudio, tmp_path: Path
) -> Iterator[Path]:
    """Copy the session server's data dir: a restart takes seconds, a first start a minute."""
    source = _local(ls_server).data_dir
    target = tmp_path / "ls-data"
    target.mkdir(mode=0o700)
    for name in (TOKEN_FILE, PASSWORD_FILE, ".env"):
        shutil.copy2(source / name, target / name)
    with (
        sqlite3.connect(source / "label_studio.sqlite3") as src,
        sqlite3.connect(target / "label_studio.sqlite3") as dst,
    ):
        src.backup(dst)  # consistent even while the source server is running
    yield target


def test_restart_reuses_token_and_stop_frees_port(migrated_copy: Path) -> None:
    server = LabelStudioServer(data_dir=migrated_copy)
    with server:
        assert server.pid is not None and _listeners(server.port)
        assert _get(f"{server.url}/api/projects", token=server.api_key) == 200
    assert server.pid is None
    assert _listeners(server.port) == {}
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=5)
    assert migrated_copy.exists(), "a caller's data dir must survive stop()"
    assert server.api_key not in (migrated_copy / LOG_FILE).read_text(errors="replace")


def test_taken_port_fails_instead_of_moving(migrated_copy: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", free_port()))
        squatter.listen()
        port = squatter.getsockname()[1]
        server = LabelStudioServer(data_dir=migrated_copy, port=port, timeout=60)
        with pytest.raises(LabelStudioError, match="moved"):
            server.start()
        assert server.pid is None
    assert _listeners(port + 1) == {}
