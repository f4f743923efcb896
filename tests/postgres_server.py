"""A real PostgreSQL server for the tests, from the machine's own PostgreSQL programs (initdb,
postgres), with logical decoding on. PostgreSQL refuses to run as root: as root the server runs
as the `postgres` user, in a folder of its own."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import psycopg

from processes import free_port


class PostgresUnavailable(Exception):
    pass


def _program(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)),
                                       None)
    if found is None:
        raise PostgresUnavailable(f"no `{name}` program (install PostgreSQL's server package)")
    return found


class PostgresServer:
    def __init__(self):
        self.port = free_port()
        self.folder = tempfile.mkdtemp(prefix="ksql-postgres-")
        self.process = None
        self._as = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]

    def start(self) -> "PostgresServer":
        data = os.path.join(self.folder, "data")
        subprocess.run([*self._as, _program("initdb"), "-D", data, "-A", "trust", "-U", "postgres"],
                       check=True, capture_output=True)
        log = open(os.path.join(self.folder, "server.log"), "wb")
        self.process = subprocess.Popen([*self._as, _program("postgres"), "-D", data, "-p", str(self.port),
                                         "-k", self.folder, "-c", "listen_addresses=127.0.0.1",
                                         "-c", "wal_level=logical", "-c", "fsync=off"],
                                        stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.dsn("postgres")).close()
                return self
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    with open(os.path.join(self.folder, "server.log")) as f:
                        raise PostgresUnavailable(f"PostgreSQL did not start: {f.read()[-2000:]}") from None
                time.sleep(0.1)

    def dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def new_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as c:
            c.execute(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as c:
            for (slot,) in c.execute("SELECT slot_name FROM pg_replication_slots WHERE database = %s", (name,)):
                c.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
            c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)
