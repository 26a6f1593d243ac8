"""PostgreSQL facts through a published port (psycopg), with the credentials of the deployment's own URL."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import psycopg

from lobestack.probes import ProbeError


class PostgresProbeError(ProbeError):
    pass


def query(url: str, host: str, port: int, sql: str, timeout_s: float = 5.0) -> list[tuple]:
    """Run one read-only query against the database `url` names, connecting to `host:port` instead of its host."""
    parts = urlsplit(url)
    try:
        with psycopg.connect(
            host=host,
            port=port,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            dbname=parts.path.lstrip("/") or None,
            connect_timeout=max(1, int(timeout_s)),
            options="-c default_transaction_read_only=on",
        ) as conn:
            return conn.execute(sql).fetchall()
    except psycopg.Error as exc:
        # psycopg's messages name host, port, user and the server's words: never the password.
        raise PostgresProbeError(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__) from None
