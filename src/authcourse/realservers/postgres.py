"""A throwaway real PostgreSQL: Debian's binaries, a fresh cluster in a temporary folder, a free port.

For the course's PostgreSQL experiments, the tests and the benchmarks; workshops point `--store`
at any `postgresql://` URL instead. `initdb` and the server refuse to run as root, so when this
process is root (a container, CI) both run as the `postgres` user through `runuser`, in a
folder that user owns. The cluster trusts local connections: it listens on 127.0.0.1 only.
Unlike the `RedisServer` default, PostgreSQL always writes to disk: a restart keeps the data.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import weakref
from pathlib import Path

from .process import free_port

START_TIMEOUT = 30  # seconds, for pg_ctl -w
SERVICE_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """Raised when no PostgreSQL binaries are installed (apt-get install postgresql)."""


def postgres_bin_dir() -> Path | None:
    """The folder with `initdb` and `pg_ctl`: Debian's newest /usr/lib/postgresql/*/bin, else the PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_service_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise PostgresUnavailable(f"running as root, and no {SERVICE_USER!r} user to run PostgreSQL as") from None
    return ["runuser", "-u", SERVICE_USER, "--", *command]


def _run(command: list[str], cwd: str) -> None:
    result = subprocess.run(_as_service_user(command), cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise RuntimeError(f"{Path(command[0]).name} failed ({result.returncode}): {output}")


def _stop_cluster(pg_ctl: str, data: str, cwd: str, mode: str) -> None:
    subprocess.run(_as_service_user([pg_ctl, "-D", data, "-m", mode, "-w", "stop"]), cwd=cwd, capture_output=True)


class PostgresServer:
    """`with PostgresServer() as pg: pg.url` is a fresh, empty PostgreSQL for as long as the block runs."""

    def __init__(self, *, port: int | None = None) -> None:
        self.port = port
        self._dir: str | None = None
        self._running = False
        self._finalizer: weakref.finalize | None = None

    @property
    def url(self) -> str:
        return f"postgresql://{SERVICE_USER}@127.0.0.1:{self.port}/postgres"

    @property
    def data_dir(self) -> Path | None:
        return Path(self._dir, "data") if self._dir else None

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while it runs (first line of postmaster.pid)."""
        if not self._running or self.data_dir is None:
            return None
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            return None

    def _binary(self, name: str) -> str:
        folder = postgres_bin_dir()
        if folder is None:
            raise PostgresUnavailable("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        return str(folder / name)

    def _prepare(self) -> None:
        """A temporary folder owned by the service user, with a fresh cluster in it (once)."""
        if self._dir is not None:
            return
        initdb = self._binary("initdb")
        folder = tempfile.mkdtemp(prefix="authcourse-pg-")
        if os.geteuid() == 0:
            _as_service_user(["true"])  # refuse clearly if the user is missing
            user = pwd.getpwnam(SERVICE_USER)
            os.chown(folder, user.pw_uid, user.pw_gid)
        self._dir = folder
        _run([initdb, "-D", str(self.data_dir), "-A", "trust", "-U", SERVICE_USER, "-E", "UTF8", "--locale=C",
              "--no-sync", "--no-instructions"], cwd=folder)

    def start(self) -> PostgresServer:
        if self._running:
            return self
        pg_ctl = self._binary("pg_ctl")
        self._prepare()
        assert self._dir is not None
        self.port = self.port or free_port()
        options = f"-p {self.port} -k {self._dir} -c listen_addresses=127.0.0.1"
        log = str(Path(self._dir, "server.log"))
        _run([pg_ctl, "-D", str(self.data_dir), "-o", options, "-l", log, "-t", str(START_TIMEOUT), "-w", "start"],
             cwd=self._dir)
        self._running = True
        # Stop the cluster if this object is dropped or the interpreter exits without cleanup().
        if self._finalizer is None or not self._finalizer.alive:
            self._finalizer = weakref.finalize(self, _stop_cluster, pg_ctl, str(self.data_dir), self._dir, "immediate")
        return self

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server (`kill=True`: at once, as a crash would); the data stays until `cleanup()`."""
        if self._running and self._dir is not None:
            _stop_cluster(self._binary("pg_ctl"), str(self.data_dir), self._dir, "immediate" if kill else "fast")
            self._running = False

    def restart(self) -> PostgresServer:
        self.stop()
        return self.start()

    def cleanup(self) -> None:
        self.stop()
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()
