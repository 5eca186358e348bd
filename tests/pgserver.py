"""A throwaway PostgreSQL server for tests: Debian's binaries, a temporary data directory, 127.0.0.1.

PostgreSQL refuses to run as root, so when the tests run as root ``initdb`` and ``pg_ctl`` run as
the ``postgres`` system user (``runuser -u postgres --``) on a data directory that user owns. The
server listens on 127.0.0.1 at a free port with its socket inside the temporary directory, trusts
local connections (it lives only as long as the test session) and is stopped afterwards. Nothing
is mocked: if the binaries are missing this raises, so tests fail loudly instead of skipping.

Example::

    with PgServer.start() as pg:
        dsn = pg.create_database("review")          # postgresql://postgres@127.0.0.1:PORT/review
        pg.create_role("lsm_app", login=True)
        pg.execute("GRANT ALL ON DATABASE review TO lsm_app")
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

PG_ROOT = "/usr/lib/postgresql"
SYSTEM_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL's server binaries are not installed (apt-get install postgresql)."""


def find_bin_dir() -> Path:
    """The newest installed ``/usr/lib/postgresql/<version>/bin`` holding ``initdb``."""
    found = sorted((Path(p).parent for p in glob.glob(f"{PG_ROOT}/*/bin/initdb")),
                   key=lambda p: float(p.parent.name) if p.parent.name.replace(".", "").isdigit() else 0)
    if not found:
        raise PostgresUnavailable(f"no PostgreSQL server under {PG_ROOT}: apt-get install -y postgresql")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, root: Path, port: int, bin_dir: Path, superuser: str = "postgres"):
        self.root = root
        self.port = port
        self.bin_dir = bin_dir
        self.superuser = superuser
        self.data = root / "data"
        self.socket_dir = root / "socket"

    @classmethod
    def start(cls, bin_dir: Path | None = None) -> PgServer:
        bin_dir = bin_dir or find_bin_dir()
        root = Path(tempfile.mkdtemp(prefix="lsm-pg-"))
        server = cls(root, _free_port(), bin_dir)
        server.socket_dir.mkdir()
        if os.geteuid() == 0:
            owner = pwd.getpwnam(SYSTEM_USER)
            for path in (root, server.socket_dir):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        server._run("initdb", "-D", str(server.data), "-U", server.superuser, "-A", "trust", "-E", "UTF8",
                    "--locale=C", "--no-sync")
        options = (f"-c listen_addresses=127.0.0.1 -p {server.port} -k {server.socket_dir} -c fsync=off "
                   f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        try:
            server._run("pg_ctl", "-D", str(server.data), "-o", options, "-l", str(root / "server.log"), "-w",
                        "-t", "60", "start")
        except RuntimeError:
            log = (root / "server.log").read_text(errors="replace") if (root / "server.log").exists() else ""
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError(f"PostgreSQL did not start:\n{log[-2000:]}") from None
        return server

    def _run(self, program: str, *args: str) -> None:
        cmd = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", SYSTEM_USER, "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")

    def dsn(self, database: str = "postgres", user: str | None = None, password: str | None = None) -> str:
        auth = user or self.superuser
        if password:
            auth += f":{password}"
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def execute(self, statement: str | sql.Composable, database: str = "postgres") -> None:
        """Run one statement as the superuser (autocommit, so CREATE DATABASE works)."""
        with psycopg.connect(self.dsn(database), autocommit=True) as conn:
            conn.execute(statement)

    def create_database(self, name: str, owner: str | None = None) -> str:
        """A new empty database; returns the superuser's DSN for it."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if owner:
            statement = sql.SQL("{} OWNER {}").format(statement, sql.Identifier(owner))
        self.execute(statement)
        return self.dsn(name)

    def create_role(self, name: str, password: str | None = None, login: bool = True) -> None:
        statement = sql.SQL("CREATE ROLE {} {}").format(sql.Identifier(name), sql.SQL("LOGIN" if login else "NOLOGIN"))
        if password:
            statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(password))
        self.execute(statement)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
