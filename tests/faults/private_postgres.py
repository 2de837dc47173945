"""A PostgreSQL cluster of a test's own, which it may stop and start as it likes.

The machine's PostgreSQL on 5432 is shared with other sessions and the CI run, so a test that
restarts the database brings its own: `initdb` into a temporary directory, a server on
127.0.0.1 on a free port with trust authentication and its Unix socket in that directory.
PostgreSQL refuses to run as root, so as root the server binaries run as the `postgres` OS
user (`runuser`); as anyone else they run as that user.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from learningday.temporal.devserver import free_port

SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
OS_USER = "postgres"


class ClusterError(RuntimeError):
    """The private cluster could not be created, started or stopped; carries the server log."""


def find_server_binaries() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin (Debian, Ubuntu) holding initdb, pg_ctl and
    postgres, else the directory of `initdb` on PATH; None when there is no server to run."""

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in SERVER_BINARIES):
            return bindir
    return None


def _runner() -> tuple[list[str], int, int]:
    """The command prefix that runs a server binary, and the uid/gid that must own its files."""
    if os.geteuid() != 0:
        return [], os.geteuid(), os.getegid()
    try:
        user = pwd.getpwnam(OS_USER)
    except KeyError:
        raise ClusterError(
            f"running as root, and PostgreSQL refuses root, but there is no `{OS_USER}` OS user "
            "to run initdb and the server as: create one (the postgresql package does) or run as another user"
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ClusterError("running as root without `runuser` (util-linux) to run PostgreSQL as the postgres user")
    return [runuser, "-u", OS_USER, "--"], user.pw_uid, user.pw_gid


@dataclass
class PrivatePostgres:
    """One cluster in `base` (data directory, log, Unix socket), listening on 127.0.0.1:`port`."""

    bindir: Path
    base: Path
    prefix: list[str]
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def log(self) -> Path:
        return self.base / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, binary: str, *args: str, timeout: float = 60) -> str:
        command = [*self.prefix, str(self.bindir / binary), *args]
        done = subprocess.run(command, cwd=self.base, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise ClusterError(
                f"{binary} {' '.join(args)} exited with {done.returncode}: {done.stderr.strip() or done.stdout.strip()}\n"
                f"--- server log ---\n{self.log_tail()}"
            )
        return done.stdout

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def init(self) -> None:
        # --no-sync: a scratch cluster need not survive a power cut, and the machine is shared.
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-locale",
            "--encoding=UTF8",
            "--no-sync",
            "--no-instructions",
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# learningday test cluster\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.base}'\n"
                # The restart under test is a clean one (a fast shutdown checkpoints): durability
                # against a machine crash is not what is tested, and fsyncs would slow everyone.
                "fsync = off\n"
            )

    def start(self) -> None:
        """Start the server and wait until it accepts connections. A port taken between
        choosing it and binding it (another process got there first) is retried on a new one."""
        for _ in range(3):
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    f"-p {self.port}",
                    "start",
                    timeout=90,
                )
                return
            except ClusterError as error:
                if "could not bind" not in str(error) and "Address already in use" not in str(error):
                    raise
                self.port = free_port()
        raise ClusterError(f"no free port for the private PostgreSQL after 3 tries:\n{self.log_tail()}")

    def stop(self, mode: str = "fast") -> None:
        """`fast`: roll back open transactions and close every connection, as an operator's
        restart does; `immediate`: no shutdown checkpoint (used on teardown only)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", timeout=90)

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def create_database(self, name: str) -> str:
        """An empty database on the cluster; returns its SQLAlchemy URL."""
        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        return self.url(name)

    def destroy(self) -> None:
        """Stop the server however it is (never leave a postmaster behind) and remove its files."""
        try:
            if self.running():
                try:
                    self.stop("immediate")
                except (ClusterError, subprocess.TimeoutExpired):
                    self._kill_postmaster()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def _kill_postmaster(self) -> None:
        # pg_ctl could not stop it: signal the postmaster this cluster started (its pid is the
        # first line of postmaster.pid) and nothing else.
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.data / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def private_postgres(bindir: Path) -> Iterator[PrivatePostgres]:
    """A running private cluster; stopped and deleted on the way out, and at interpreter exit
    should the way out be skipped."""
    prefix, uid, gid = _runner()
    base = Path(tempfile.mkdtemp(prefix="learningday-pg-"))
    os.chown(base, uid, gid)
    cluster = PrivatePostgres(bindir=bindir, base=base, prefix=prefix)
    atexit.register(cluster.destroy)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        atexit.unregister(cluster.destroy)
        cluster.destroy()
