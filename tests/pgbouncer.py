"""A PgBouncer of the test's own, in transaction pooling mode (as Heroku's connection pooler runs),
in front of the test PostgreSQL: a free port, a config in a temporary directory, stopped after."""
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg2
import pytest
from servers import free_port, with_port

CONFIG = """\
[databases]
* = host={host} port={port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen_port}
unix_socket_dir =
auth_type = trust
auth_file = {directory}/userlist.txt
pool_mode = transaction
max_client_conn = 500
default_pool_size = 8
server_idle_timeout = 10
logfile = {directory}/pgbouncer.log
pidfile = {directory}/pgbouncer.pid
"""


def pgbouncer_binary():
    return shutil.which("pgbouncer") or next(
        (path for path in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.path.exists(path)), None)


class PgBouncer:
    def __init__(self, postgresql_url):
        self.target = urlparse(postgresql_url)
        self.port = free_port()
        self.url = with_port(postgresql_url, self.port)
        self.directory = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
        self.process = None

    def start(self):
        binary = pgbouncer_binary()
        user = self.target.username or "postgres"
        (self.directory / "userlist.txt").write_text(f'"{user}" ""\n')
        (self.directory / "pgbouncer.ini").write_text(CONFIG.format(
            host=self.target.hostname or "127.0.0.1", port=self.target.port or 5432, listen_port=self.port,
            directory=self.directory))
        command = [binary, str(self.directory / "pgbouncer.ini")]
        if os.geteuid() == 0:
            # PgBouncer refuses to run as root; its files must be readable (and its log writable) by it.
            shutil.chown(self.directory, "postgres")
            for path in self.directory.iterdir():
                shutil.chown(path, "postgres")
            command[1:1] = ["-u", "postgres"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                psycopg2.connect(self.url, connect_timeout=2).close()
                return self
            except psycopg2.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"pgbouncer did not start:\n{self.log()}")
                time.sleep(0.1)

    def log(self):
        path = self.directory / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.directory, ignore_errors=True)


def pgbouncer_or_skip(postgresql_url):
    """A started PgBouncer in front of `postgresql_url`; skips when PgBouncer is not installed."""
    if pgbouncer_binary() is None:
        pytest.skip("pgbouncer is not installed (Debian package pgbouncer; .ci/run installs it)")
    return PgBouncer(postgresql_url).start()
