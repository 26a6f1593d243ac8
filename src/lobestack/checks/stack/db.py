"""The databases, through the ports the stack publishes on this host: pgvector in LobeChat's database, and
Logto's database seeded as the real `logto db seed` leaves it."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from lobestack.checks.faults import Command, fault
from lobestack.checks.registry import Finding, Group
from lobestack.probes.postgres import PostgresProbeError, query
from lobestack.targets.target import HOST_PORTS, Target

GROUP = Group("DB", layer="stack", title="Databases", impact="breaks")


def _psql(service: str, db: str, sql: str) -> tuple[str, ...]:
    return ("sh", "-c", f'psql -v ON_ERROR_STOP=1 -q -U "$POSTGRES_USER" -d {db} -c "{sql}"')


def _database(target: Target, url_key: str, role: str) -> tuple[str, str, int] | Finding:
    """(url, host, port) to reach the database a service's URL names, through its published port."""
    service = getattr(target.deployment, role)
    url = service.environment.get(url_key, "") if service else ""
    parts = urlsplit(url)
    db_service = target.deployment.compose.services.get(parts.hostname or "")
    if not url or db_service is None:
        return Finding(f"{role}'s {url_key} names no database service of the compose file")
    try:
        host, port = target.published(db_service.name, parts.port or 5432)
    except KeyError as exc:
        return Finding(str(exc))
    return url, host, port


@GROUP.check(
    "DB-VECTOR",
    title="the `vector` extension (pgvector) is installed in LobeChat's database",
    fix="run LobeChat's database on an image with pgvector (pgvector/pgvector:0.8.0-pg17); LobeChat's migrations "
    "create the extension (log: 'extension \"vector\" is not available' when missing)",
    faults=[
        fault(
            Command(
                "lobe-db",
                _psql("lobe-db", "lobechat", "DROP EXTENSION vector"),
                _psql("lobe-db", "lobechat", "CREATE EXTENSION vector"),
            ),
            expect="no `vector` extension",
        )
    ],
    needs=[HOST_PORTS],
)
def vector(target: Target) -> Iterator[Finding]:
    where = _database(target, "DATABASE_URL", "lobe")
    if isinstance(where, Finding):
        yield where
        return
    url, host, port = where
    try:
        rows = query(url, host, port, "select extversion from pg_extension where extname = 'vector'")
    except PostgresProbeError as exc:
        yield Finding(f"LobeChat's database at {host}:{port}: {exc}")
        return
    if not rows:
        yield Finding(f"LobeChat's database at {host}:{port} has no `vector` extension")


@GROUP.check(
    "DB-LOGTO-SEEDED",
    title="Logto's database is seeded: the `systems` table holds the alteration state `logto db seed` writes",
    fix="Logto seeds on first start (`npm run cli db seed -- --swe` in the entrypoint); read `docker compose logs "
    "logto` for why it did not",
    faults=[
        fault(
            Command(
                "logto-db",
                _psql("logto-db", "logto", "ALTER TABLE systems RENAME TO systems_moved"),
                _psql("logto-db", "logto", "ALTER TABLE systems_moved RENAME TO systems"),
            ),
            expect="is not seeded",
        )
    ],
    needs=[HOST_PORTS],
)
def logto_seeded(target: Target) -> Iterator[Finding]:
    where = _database(target, "DB_URL", "logto")
    if isinstance(where, Finding):
        yield where
        return
    url, host, port = where
    try:
        rows = query(url, host, port, "select to_regclass('public.systems') is not null")
        seeded = bool(rows and rows[0][0]) and bool(
            query(url, host, port, "select 1 from systems where key = 'alterationState'")
        )
    except PostgresProbeError as exc:
        yield Finding(f"Logto's database at {host}:{port}: {exc}")
        return
    if not seeded:
        yield Finding(f"Logto's database at {host}:{port} is not seeded (no systems row 'alterationState')")
