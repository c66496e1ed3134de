"""A throwaway PostgreSQL cluster for the tests, from the system's server binaries.

Why our own and not pytest-postgresql: its executors run ``pg_ctl`` as the current user,
and CI runs as root, which PostgreSQL refuses (``initdb: cannot be run as root``). Here,
when we are root, every server command runs as the ``postgres`` system user that Debian's
``postgresql`` package creates (``runuser -u postgres``), in a data directory we hand to it.

The cluster listens on 127.0.0.1 on a free port and on a Unix socket inside its own data
directory (never /var/run/postgresql), with password (SCRAM) authentication so that a
wrong password is a real refusal, and with fsync off: it is thrown away after the session.
Each test gets its own database (``create_database``), dropped afterwards.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

SERVER_USER = "postgres"  # the system user of Debian's package; used only when we are root
SUPERUSER = "agentreach"  # the cluster's own superuser (a role inside the cluster, not a system user)


def find_bindir() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``: ``$PG_BINDIR``, then
    ``pg_ctl`` on PATH, then the newest Debian ``/usr/lib/postgresql/<v>/bin``."""
    candidates: list[str] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(os.environ["PG_BINDIR"])
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for cand in candidates:
        d = Path(cand)
        if all((d / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres")):
            return d
    return None


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parent.name
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def free_port() -> int:
    """A TCP port nobody listens on right now (also what a 'connection refused' test needs)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """One initdb'd, running cluster; ``url(db)`` gives a SQLAlchemy URL into it."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.password = secrets.token_hex(12)
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="agentreach-pg-"))
        self.data = self.root / "data"
        self._as_root = os.geteuid() == 0
        self._counter = 0

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if self._as_root:
            try:
                user = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise RuntimeError(f"running as root, and there is no {SERVER_USER!r} system user to run "
                                   "PostgreSQL as (install Debian's postgresql package)") from None
            os.chown(self.root, user.pw_uid, user.pw_gid)
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=scram-sha-256",
                  f"--pwfile={pwfile}", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8", "--locale-provider=icu", "--icu-locale=en-US")
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.root / "log"),
                  "-o", options)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "stop", "-m", "immediate", "-w", "-D", str(self.data))
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, exe: str, *args: str) -> None:
        cmd = [str(self.bindir / exe), *args]
        if self._as_root:
            cmd = ["runuser", "-u", SERVER_USER, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=self.root, timeout=120)
        if done.returncode != 0:
            log = self.root / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise subprocess.CalledProcessError(done.returncode, cmd, done.stdout, done.stderr + tail)

    # -- databases --------------------------------------------------------------------------
    def url(self, database: str, *, password: str | None = None, port: int | None = None) -> str:
        """``postgresql://`` as a user writes it (the store picks the psycopg 3 driver)."""
        pw = self.password if password is None else password
        return f"postgresql://{SUPERUSER}:{pw}@127.0.0.1:{port or self.port}/{database}"

    def create_database(self, prefix: str = "t") -> str:
        self._counter += 1
        name = f"{prefix}_{self._counter}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE template0 STRATEGY FILE_COPY')
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def execute(self, database: str, sql: str) -> None:
        """Run SQL in a database of the cluster (for tests that shape a store by hand)."""
        import psycopg

        with psycopg.connect(self._dsn(database), autocommit=True) as conn:
            conn.execute(sql)

    def _admin(self, sql: str) -> None:
        self.execute("postgres", sql)

    def _dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={database} user={SUPERUSER} password={self.password}"


@contextlib.contextmanager
def running_cluster(bindir: Path) -> Iterator[Cluster]:
    cluster = Cluster(bindir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
