"""Run a real, loopback-only Label Studio server for tests and local annotation work.

Stdlib only on purpose: Label Studio pins its own dependency set (pyarrow<25, Django 5.2, ...)
that clashes with the builder's, so it lives in a separate venv and is driven as a subprocess.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from ..errors import LabelStudioError

LABEL_STUDIO_VERSION = "1.23.2"
REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
USERNAME = "admin@claimwire.local"
TOKEN_FILE = "claimwire-api-token"
PASSWORD_FILE = "claimwire-password"
LOG_FILE = "label-studio.log"

# Label Studio reads every setting from LABEL_STUDIO_X, HEARTEX_X or plain X; a stray USERNAME,
# PORT or HOST in a developer's shell would silently change the user, port or URL prefix.
_CLEARED_ENV = ("USERNAME", "PASSWORD", "PORT", "HOST", "USER_TOKEN", "PYTHONPATH", "PYTHONHOME")
_CLEARED_PREFIXES = ("LABEL_STUDIO_", "HEARTEX_")
# No outbound calls from a test server: error reporting, version check, analytics.
_QUIET_ENV = {
    "SENTRY_DSN": "",
    "FRONTEND_SENTRY_DSN": "",
    "LATEST_VERSION_CHECK": "false",
    "COLLECT_ANALYTICS": "false",
}
_BOUND_RE = re.compile(r"Starting development server at https?://([^:/\s]+):(\d+)/")
_MOVED_RE = re.compile(r"Port (\d+) is in use")
# Bypass any http_proxy in the environment: the server is only ever on loopback.
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def default_venv() -> Path:
    """Where the server's own venv lives; overridable so CI and devs can share one install."""
    return Path(os.environ.get("CLAIMWIRE_LS_VENV") or REPO_ROOT / ".ls-venv")


def ls_executable(venv: Path | None = None) -> Path:
    return (venv or default_venv()) / "bin" / "label-studio"


def ensure_installed(venv: Path | None = None) -> Path:
    """Create the dedicated venv on first use; a shared venv would break the builder's pyarrow."""
    venv = venv or default_venv()
    exe = ls_executable(venv)
    if exe.exists():
        return exe
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", f"label-studio=={LABEL_STUDIO_VERSION}"], check=True
    )
    if not exe.exists():
        raise LabelStudioError(f"pip finished but {exe} is missing")
    return exe


def free_port() -> int:
    """Ask the kernel for a free port: Label Studio silently moves to port+1 if it is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _secret(path: Path, length: int) -> str:
    """Reuse a stored secret: on an existing data dir the server ignores new user/token flags."""
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_hex(length // 2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return value


class LabelStudioServer:
    """A Label Studio process bound to 127.0.0.1 with a known admin user and API token."""

    def __init__(
        self,
        data_dir: Path | None = None,
        port: int | None = None,
        venv: Path | None = None,
        timeout: float = 120.0,
    ) -> None:
        self.executable = ls_executable(venv)
        if not self.executable.exists():  # before mkdtemp, so a failure leaves nothing behind
            raise LabelStudioError(f"{self.executable} not found; run `make ls-install`")
        self._own_dir = data_dir is None
        # Absolute: the server runs with cwd=data_dir and gets the path through the environment.
        self.data_dir = (
            Path(tempfile.mkdtemp(prefix="claimwire-ls-")) if data_dir is None else data_dir
        ).resolve()
        self.port = port or free_port()
        self.timeout = timeout
        self.url = f"http://{HOST}:{self.port}"
        self.username = USERNAME
        self.log_path = self.data_dir / LOG_FILE
        self.token_path = self.data_dir / TOKEN_FILE
        self.password_path = self.data_dir / PASSWORD_FILE
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def api_key(self) -> str:
        return self.token_path.read_text().strip()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def __repr__(self) -> str:  # keeps the token out of pytest and traceback output
        return f"LabelStudioServer(url={self.url!r}, data_dir={str(self.data_dir)!r})"

    def start(self) -> LabelStudioServer:
        # 0700: the SQLite file holds the API token in clear and the .env holds SECRET_KEY.
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        token = _secret(self.token_path, 40)
        password = _secret(self.password_path, 24)
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in _CLEARED_ENV and not k.startswith(_CLEARED_PREFIXES)
        }
        env.update(_QUIET_ENV)
        env["LABEL_STUDIO_BASE_DATA_DIR"] = str(self.data_dir)
        # Only honoured on the first start of a data dir; without it the token gets 401.
        env["LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN"] = "true"
        # Secrets go in the environment, not argv: /proc/<pid>/cmdline (`ps`) is world-readable.
        env["LABEL_STUDIO_PASSWORD"] = password
        env["LABEL_STUDIO_USER_TOKEN"] = token
        cmd = [
            str(self.executable), "start", "--no-browser",
            "--internal-host", HOST, "--port", str(self.port), "--username", self.username,
        ]  # fmt: skip
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(
                cmd, env=env, cwd=self.data_dir, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        tail = "\n".join(text.splitlines()[-lines:])
        return tail.replace(self.api_key, "<token>") if self.token_path.exists() else tail

    def _fail(self, why: str) -> LabelStudioError:
        return LabelStudioError(f"{why}\n--- {self.log_path} (tail) ---\n{self._log_tail()}")

    def _wait_ready(self) -> None:
        """Confirm the bound address from the log before trusting /health on our port."""
        assert self._proc is not None
        deadline = time.monotonic() + self.timeout
        bound = False
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise self._fail(f"Label Studio exited with code {self._proc.returncode}")
            log = self.log_path.read_text(errors="replace")
            if m := _MOVED_RE.search(log):
                raise self._fail(f"port {m.group(1)} was taken and Label Studio moved to another")
            if not bound and (m := _BOUND_RE.search(log)):
                if (m.group(1), int(m.group(2))) != (HOST, self.port):
                    raise self._fail(
                        f"bound {m.group(1)}:{m.group(2)}, expected {HOST}:{self.port}"
                    )
                bound = True
            if bound and self._health_ok():
                return
            time.sleep(0.5)
        raise self._fail(f"Label Studio not healthy at {self.url} after {self.timeout:.0f} s")

    def _health_ok(self) -> bool:
        try:
            with _HTTP.open(f"{self.url}/health", timeout=5) as r:
                return int(r.status) == 200
        except (urllib.error.URLError, OSError):
            return False

    def wait(self) -> int:
        """Block until the server exits on its own (it never should); returns its exit code."""
        return self._proc.wait() if self._proc else 0

    def stop(self) -> None:
        """Signal the process group, so nothing the server spawned outlives it; then reap."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            except ProcessLookupError:
                proc.wait()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> LabelStudioServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Start a server for manual annotation; never prints the token, only where it is stored."""
    parser = argparse.ArgumentParser(prog="python -m builder.ls_server", description=__doc__)
    parser.add_argument("--data-dir", type=Path, help="keep projects here (default: temp dir)")
    parser.add_argument("--port", type=int, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--install-only", action="store_true", help="install Label Studio, exit")
    args = parser.parse_args(argv)
    exe = ensure_installed()
    if args.install_only:
        print(f"Label Studio {LABEL_STUDIO_VERSION}: {exe}")
        return 0
    # Turn `kill` into a normal exit so the `with` block stops the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = LabelStudioServer(data_dir=args.data_dir, port=args.port)
    started = time.monotonic()
    with server:
        print(f"Label Studio ready at {server.url} in {time.monotonic() - started:.1f} s")
        print(f"export LABEL_STUDIO_URL={server.url}")
        print(f"export LABEL_STUDIO_API_KEY_FILE={server.token_path}  # the token, mode 0600")
        print(f"UI login: {server.username}, password in {server.password_path}")
        print("Ctrl-C to stop.", flush=True)
        try:
            code = server.wait()
            print(f"Label Studio exited with code {code}; log: {server.log_path}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("\nstopping Label Studio", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
