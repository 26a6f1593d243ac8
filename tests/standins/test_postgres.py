"""lobestack/postgres-pgvector:17 (real PostgreSQL 17 + pgvector, Debian trixie's packages, not a stand-in) keeps
the contract of the official postgres image that the bundle uses: POSTGRES_* env, initdb on an empty volume with
scram-sha-256 for TCP, /docker-entrypoint-initdb.d, pg_isready for the healthcheck, data kept across a
restart, and pgvector usable (an HNSW index and a nearest-neighbour query)."""

from __future__ import annotations

import secrets
import time

import pytest

from tests.standins.conftest import Harness, Started

USER, DB = "lobe", "lobechat"
PASSWORD = "pw-" + secrets.token_hex(8)


def ready(c: Started) -> tuple[bool, str]:
    # the entrypoint's temporary init server answers pg_isready too: wait for the final one
    code, out = c.exec(["sh", "-c", 'pg_isready -U "$POSTGRES_USER" -d "$POSTGRES_DB"'])
    return code == 0 and "init process complete" in c.logs(), out.strip()


def psql(c: Started, sql: str, password: str = PASSWORD) -> tuple[int, str]:
    """psql over TCP with the password, as a client on the network does (not the trusted local socket)."""
    return c.exec(
        ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-At", "-h", "127.0.0.1", "-U", USER, "-d", DB, "-c", sql],
        env={"PGPASSWORD": password},
    )


@pytest.fixture(scope="module")
def volume(harness: Harness) -> str:
    return harness.volume("pgdata")


@pytest.fixture(scope="module")
def postgres(harness: Harness, volume: str, tmp_path_factory: pytest.TempPathFactory) -> Started:
    initdb = tmp_path_factory.mktemp("initdb")
    (initdb / "01-marker.sql").write_text(
        "CREATE TABLE lobestack_init_marker (id int); INSERT INTO lobestack_init_marker VALUES (42);\n"
    )
    for path in (initdb, initdb / "01-marker.sql"):
        path.chmod(0o755)
    return harness.start(
        "postgres",
        "postgres",
        env={"POSTGRES_USER": USER, "POSTGRES_PASSWORD": PASSWORD, "POSTGRES_DB": DB},
        mounts={volume: "/var/lib/postgresql/data", str(initdb): "/docker-entrypoint-initdb.d:ro"},
        ready=ready,
        timeout_s=90,
    )


def test_image_labels_say_real_postgres_with_pgvector(docker_client, standin_images) -> None:
    labels = docker_client.images.get(standin_images["postgres"]).labels
    assert labels["org.lobestack.standin"] == "false"
    assert labels["org.lobestack.role"] == "postgres"
    assert labels["org.lobestack.pgvector"] == "0.8.0"


def test_first_start_runs_initdb_and_the_init_scripts(postgres: Started) -> None:
    log = postgres.logs()
    assert "running /docker-entrypoint-initdb.d/01-marker.sql" in log
    assert psql(postgres, "SELECT id FROM lobestack_init_marker") == (0, "42\n")


def test_tcp_needs_the_password_scram_sha_256(postgres: Started) -> None:
    assert psql(postgres, "SHOW password_encryption") == (0, "scram-sha-256\n")
    code, out = psql(postgres, "SELECT 1", password="wrong")
    assert code != 0
    assert "password authentication failed" in out
    code, hba = postgres.exec(["sh", "-c", 'grep -v "^#" "$PGDATA/pg_hba.conf"'])
    assert "host all all all scram-sha-256" in hba
    assert not [line for line in hba.splitlines() if line.startswith("host") and "trust" in line]
    assert psql(postgres, "SHOW listen_addresses") == (0, "*\n")


def test_pgvector_index_and_nearest_neighbour(postgres: Started) -> None:
    sql = (
        "CREATE EXTENSION IF NOT EXISTS vector;"
        "CREATE TABLE items (id int, embedding vector(3));"
        "INSERT INTO items VALUES (1, '[1,2,3]'), (2, '[4,5,6]'), (3, '[3,1,2]');"
        "CREATE INDEX ON items USING hnsw (embedding vector_l2_ops);"
        "SELECT id FROM items ORDER BY embedding <-> '[3,1,2.1]' LIMIT 1;"
    )
    code, out = psql(postgres, sql)
    assert (code, out.split()[-1:]) == (0, ["3"]), out


def test_server_runs_as_postgres(postgres: Started) -> None:
    top = postgres.container.top(ps_args="-o pid,user,args")["Processes"]
    assert any(user in ("postgres", "999") and args.startswith("postgres") for _, user, args in top), top


def test_restart_on_the_same_volume_keeps_data_without_reinit(postgres: Started) -> None:
    assert psql(postgres, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)")[0] == 0
    t0 = time.monotonic()
    postgres.container.stop(timeout=20)
    assert time.monotonic() - t0 < 8, "signals must reach postgres (fast shutdown)"
    postgres.container.start()
    deadline = time.monotonic() + 60
    while postgres.logs().count("database system is ready to accept connections") < 3:
        assert time.monotonic() < deadline, postgres.logs()[-2000:]
        time.sleep(0.3)
    log = postgres.logs()
    assert "Skipping initialization" in log and log.count("init process complete") == 1
    assert psql(postgres, "SELECT v FROM kept") == (0, "7\n")


def test_no_password_on_an_empty_volume_refuses_to_start(harness: Harness) -> None:
    code, log = harness.run_to_exit("postgres", "no-password", env={"POSTGRES_USER": USER})
    assert code == 1
    assert "superuser password is not specified" in log
