"""A PostgreSQL server for the tests: the one CI names, or a throwaway one started here.

`TEAMTIDE_TEST_DATABASE_URL` names a server (CI passes the machine's). Without it, a
temporary cluster is made with `initdb` and `pg_ctl` when PostgreSQL's binaries are
installed (as an unprivileged user when run as root, since PostgreSQL refuses root).
Otherwise the PostgreSQL tests are skipped with the reason, except under CI, where a
missing server is a failure.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db.session import normalise_url


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_user() -> list[str]:
    """Prefix for running PostgreSQL's tools: they refuse to run as root."""
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["runuser", "-u", user, "--"]
    raise RuntimeError("running as root and no unprivileged user to run PostgreSQL as")


@contextmanager
def temporary_server() -> Iterator[str]:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        raise FileNotFoundError("PostgreSQL's initdb/pg_ctl are not installed")
    prefix = _as_user()
    root = Path(tempfile.mkdtemp(prefix="teamtide-pg-"))
    data = root / "data"
    if prefix:
        shutil.chown(root, user=prefix[2])
    port = _free_port()
    subprocess.run(
        [*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    subprocess.run(
        [*prefix, pg_ctl, "-D", str(data), "-o", opts, "-w", "-l", str(root / "log"), "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def server_url() -> Iterator[str]:
    """A server URL for this test run, or `pytest.skip` (a failure under CI) with the reason."""
    given = os.environ.get("TEAMTIDE_TEST_DATABASE_URL")
    if given:
        yield normalise_url(given)
        return
    try:
        with temporary_server() as url:
            yield url
    except (FileNotFoundError, RuntimeError, subprocess.CalledProcessError) as exc:
        reason = f"no PostgreSQL for the tests: set TEAMTIDE_TEST_DATABASE_URL or install PostgreSQL ({exc})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A database of its own for one test run, dropped afterwards, so runs never see each other's rows."""
    name = f"teamtide_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fresh_schema_url(database_url: str, engine_cache: dict[str, object]) -> str:
    """A new schema in the run's database, named in the URL's search_path: one per test, cheap."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = engine_cache.get(database_url)
    if engine is None:
        engine = engine_cache[database_url] = create_engine(
            database_url, isolation_level="AUTOCOMMIT"
        )
    with engine.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def wait_until_ready(url: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with create_engine(url).connect() as conn:
                conn.execute(text("select 1"))
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
