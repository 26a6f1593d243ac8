#!/usr/bin/env python3
"""Self-test of lobestack/postgres-pgvector:1 (and the WITH_PGVECTOR=0 variant). Needs docker; stdlib only.

  python3 selftest.py [--build] [--image lobestack/postgres-pgvector:1] [--nopg-image lobestack/postgres-nopgvector:1]

Runs containers named lsdev-pgtest-*, publishes on 127.0.0.1 only, removes everything it made.
Last line: "N passed, N failed".
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX = os.environ.get("LSDEV_PREFIX", "lsdev-pgtest")
RESULTS: list[tuple[str, bool, str]] = []


def sh(
    *args: str, check: bool = True, timeout: int = 120, env: dict | None = None, input_: str | None = None
) -> subprocess.CompletedProcess:
    cp = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, env=env, input=input_)
    if check and cp.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} -> {cp.returncode}\n{cp.stdout}\n{cp.stderr}")
    return cp


def check(name: str, ok: bool, detail: str = "") -> bool:
    RESULTS.append((name, ok, detail))
    print(f"{'PASS' if ok else 'FAIL'}: {name}" + (f" -- {detail}" if detail and not ok else ""), flush=True)
    return ok


def build(image: str, with_pgvector: str) -> None:
    ca = os.path.join(HERE, "extra-ca.pem")
    if not os.path.exists(ca):
        open(ca, "w").close()
    base = os.environ.get("BASE_IMAGE", "lobestack/bookworm-base:1")
    t0 = time.time()
    sh(
        "docker",
        "build",
        "--build-arg",
        f"BASE_IMAGE={base}",
        "--build-arg",
        f"WITH_PGVECTOR={with_pgvector}",
        "-t",
        image,
        HERE,
        timeout=900,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
    )
    print(f"built {image} (WITH_PGVECTOR={with_pgvector}) in {time.time() - t0:.0f}s", flush=True)


class PG:
    """One postgres container with a named volume and a published loopback port."""

    def __init__(self, image: str, tag: str, volume: str, initdir: str | None, env: dict):
        self.image, self.name, self.volume, self.initdir, self.env = image, f"{PREFIX}-{tag}", volume, initdir, env
        self.port = 0

    def start(self) -> None:
        args = [
            "docker",
            "run",
            "-d",
            "--init",
            "--name",
            self.name,
            "-p",
            "127.0.0.1::5432",
            "-v",
            f"{self.volume}:/var/lib/postgresql/data",
            "--label",
            "org.lobestack.test=selftest",
        ]
        if self.initdir:
            args += ["-v", f"{self.initdir}:/docker-entrypoint-initdb.d:ro"]
        for k, v in self.env.items():
            args += ["-e", f"{k}={v}"]
        sh(*args, self.image)
        self.port = int(sh("docker", "port", self.name, "5432/tcp").stdout.strip().splitlines()[0].rsplit(":", 1)[1])

    def logs(self) -> str:
        cp = sh("docker", "logs", self.name, check=False)
        return cp.stdout + cp.stderr

    def wait_ready(self, marker_count: int = 1, timeout: float = 90) -> bool:
        """ready = the final server logged 'ready to accept connections' and pg_isready (the compose healthcheck)
        says so, as the container env runs it."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.logs().count("database system is ready to accept connections") >= marker_count:
                cp = sh(
                    "docker",
                    "exec",
                    self.name,
                    "sh",
                    "-c",
                    'pg_isready -U "$POSTGRES_USER" -d "$POSTGRES_DB"',
                    check=False,
                )
                if cp.returncode == 0 and (
                    "init process complete" in self.logs()
                    or marker_count > 1
                    or "Skipping initialization" in self.logs()
                ):
                    return True
            state = sh("docker", "inspect", "-f", "{{.State.Running}}", self.name, check=False).stdout.strip()
            if state == "false":
                return False
            time.sleep(0.5)
        return False

    def psql(self, sql: str, user: str, password: str, db: str) -> subprocess.CompletedProcess:
        """psql over TCP through the published loopback port, with the password (scram-sha-256)."""
        if shutil.which("psql"):
            env = {**os.environ, "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "5"}
            return sh(
                "psql",
                "-X",
                "-v",
                "ON_ERROR_STOP=1",
                "-At",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                user,
                "-d",
                db,
                "-c",
                sql,
                check=False,
                env=env,
            )
        # no psql on this machine: the image's own psql, over TCP inside the container's network namespace
        return sh(
            "docker",
            "run",
            "--rm",
            "--network",
            f"container:{self.name}",
            "-e",
            f"PGPASSWORD={password}",
            "--entrypoint",
            "psql",
            self.image,
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-At",
            "-h",
            "127.0.0.1",
            "-U",
            user,
            "-d",
            db,
            "-c",
            sql,
            check=False,
        )

    def rm(self) -> None:
        sh("docker", "rm", "-f", "-v", self.name, check=False)


def test_main_image(image: str, tmp: str) -> None:
    labels = sh("docker", "inspect", "-f", "{{json .Config.Labels}}", image).stdout
    check(
        "labels: not a stand-in, role postgres, pgvector version in description",
        '"org.lobestack.standin":"false"' in labels
        and '"org.lobestack.role":"postgres"' in labels
        and "+ pgvector" in labels,
        labels,
    )

    initdir = os.path.join(tmp, "initdb.d")
    os.makedirs(initdir)
    with open(os.path.join(initdir, "01-marker.sql"), "w") as fh:
        fh.write("CREATE TABLE lobestack_init_marker (id int); INSERT INTO lobestack_init_marker VALUES (42);\n")
    os.chmod(initdir, 0o755)
    os.chmod(os.path.join(initdir, "01-marker.sql"), 0o644)

    vol = f"{PREFIX}-data-{uuid.uuid4().hex[:6]}"
    sh("docker", "volume", "create", "--label", "org.lobestack.test=selftest", vol)
    user, pw, db = "lobe", "S3lftest-" + uuid.uuid4().hex[:12], "lobechat"
    pg = PG(image, "main", vol, initdir, {"POSTGRES_USER": user, "POSTGRES_PASSWORD": pw, "POSTGRES_DB": db})
    try:
        pg.start()
        ok = check(
            "first start: initdb + init scripts + ready (pg_isready with the container env)",
            pg.wait_ready(),
            pg.logs()[-2000:],
        )
        if not ok:
            return
        logs = pg.logs()
        check(
            "initdb ran with scram-sha-256 host auth and the initdb.d script ran",
            "running /docker-entrypoint-initdb.d/01-marker.sql" in logs and "init process complete" in logs,
            logs,
        )
        cp = pg.psql("SHOW password_encryption; SELECT current_user, current_database();", user, pw, db)
        check(
            "psql over TCP with the password",
            cp.returncode == 0 and "scram-sha-256" in cp.stdout and f"{user}|{db}" in cp.stdout,
            cp.stdout + cp.stderr,
        )
        cp = pg.psql("SELECT 1", user, "wrong-password", db)
        check(
            "wrong password is refused",
            cp.returncode != 0 and "password authentication failed" in cp.stderr,
            cp.stdout + cp.stderr,
        )
        hba = sh("docker", "exec", pg.name, "sh", "-c", 'grep -v "^#" "$PGDATA/pg_hba.conf" | grep -v "^$"').stdout
        check(
            "pg_hba: host all all all scram-sha-256, no trust for host",
            "host all all all scram-sha-256" in hba
            and not any(line.startswith("host") and "trust" in line for line in hba.splitlines()),
            hba,
        )
        sql = (
            "CREATE EXTENSION IF NOT EXISTS vector;"
            "CREATE TABLE items (id int, embedding vector(3));"
            "INSERT INTO items VALUES (1, '[1,2,3]'), (2, '[4,5,6]'), (3, '[3,1,2]');"
            "CREATE INDEX ON items USING hnsw (embedding vector_l2_ops);"
            "SELECT id FROM items ORDER BY embedding <-> '[3,1,2.1]' LIMIT 1;"
            "SELECT extversion FROM pg_extension WHERE extname = 'vector';"
        )
        cp = pg.psql(sql, user, pw, db)
        out = cp.stdout.split()
        check(
            "CREATE EXTENSION vector + hnsw index + nearest-neighbour query",
            cp.returncode == 0 and "3" in out,
            cp.stdout + cp.stderr,
        )
        cp = pg.psql("SELECT id FROM lobestack_init_marker", user, pw, db)
        check("initdb.d table exists in POSTGRES_DB", cp.stdout.strip() == "42", cp.stdout + cp.stderr)
        top = sh("docker", "top", pg.name, "-o", "pid,user,args").stdout
        procs = [line.split(None, 2) for line in top.splitlines()[1:] if line.strip()]
        check(
            "server runs as user postgres",
            any(len(p) == 3 and p[1] in ("postgres", "999") and p[2].startswith("postgres") for p in procs),
            top,
        )
        listen = pg.psql("SHOW listen_addresses", user, pw, db).stdout.strip()
        check("listen_addresses = '*'", listen == "*", listen)

        t0 = time.time()
        sh("docker", "stop", "-t", "20", pg.name)
        stop_s = time.time() - t0
        check("docker stop is quick (signals reach postgres)", stop_s < 8, f"{stop_s:.1f}s")
        sh("docker", "start", pg.name)
        pg.port = int(sh("docker", "port", pg.name, "5432/tcp").stdout.strip().splitlines()[0].rsplit(":", 1)[1])
        check("restart on the same volume: ready", pg.wait_ready(marker_count=3), pg.logs()[-1500:])
        logs = pg.logs()
        check(
            "restart: no re-initialisation",
            "Skipping initialization" in logs and logs.count("init process complete") == 1,
            logs[-1500:],
        )
        cp = pg.psql("SELECT count(*) FROM items", user, pw, db)
        check("restart: data kept", cp.stdout.strip() == "3", cp.stdout + cp.stderr)
    finally:
        pg.rm()
        sh("docker", "volume", "rm", "-f", vol, check=False)

    # no POSTGRES_PASSWORD on an empty volume: refuses to start, like the official image
    vol2 = f"{PREFIX}-data-{uuid.uuid4().hex[:6]}"
    pg2 = PG(image, "nopw", vol2, None, {"POSTGRES_USER": user})
    try:
        pg2.start()
        code = sh("docker", "wait", pg2.name, timeout=60).stdout.strip()
        check(
            "no POSTGRES_PASSWORD: exits 1 with the official error",
            code == "1" and "superuser password is not specified" in pg2.logs(),
            code + pg2.logs()[-800:],
        )
    finally:
        pg2.rm()
        sh("docker", "volume", "rm", "-f", vol2, check=False)


def test_nopgvector_image(image: str) -> None:
    labels = sh("docker", "inspect", "-f", "{{json .Config.Labels}}", image).stdout
    check(
        "variant labels say WITHOUT pgvector",
        '"org.lobestack.pgvector":"none"' in labels and "WITHOUT pgvector" in labels,
        labels,
    )
    vol = f"{PREFIX}-data-{uuid.uuid4().hex[:6]}"
    user, pw, db = "lobe", "S3lftest-" + uuid.uuid4().hex[:12], "lobechat"
    pg = PG(image, "nopgv", vol, None, {"POSTGRES_USER": user, "POSTGRES_PASSWORD": pw, "POSTGRES_DB": db})
    try:
        pg.start()
        if not check("variant starts", pg.wait_ready(), pg.logs()[-1500:]):
            return
        check("variant logs that it has no pgvector", "built WITHOUT pgvector" in pg.logs(), pg.logs()[-800:])
        cp = pg.psql("CREATE EXTENSION vector", user, pw, db)
        check(
            'variant: CREATE EXTENSION vector fails (extension "vector" is not available)',
            cp.returncode != 0 and 'extension "vector" is not available' in cp.stderr,
            cp.stdout + cp.stderr,
        )
    finally:
        pg.rm()
        sh("docker", "volume", "rm", "-f", vol, check=False)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", default="lobestack/postgres-pgvector:1")
    ap.add_argument("--nopg-image", default="lobestack/postgres-nopgvector:1")
    ap.add_argument("--build", action="store_true", help="build both images first")
    args = ap.parse_args()
    if args.build:
        build(args.image, "1")
        build(args.nopg_image, "0")
    with tempfile.TemporaryDirectory(prefix="lsdev-pgtest-") as tmp:
        os.chmod(tmp, 0o755)
        try:
            test_main_image(args.image, tmp)
            if sh("docker", "image", "inspect", args.nopg_image, check=False).returncode == 0:
                test_nopgvector_image(args.nopg_image)
            else:
                print(f"SKIP: {args.nopg_image} not built (use --build)")
        except Exception as exc:
            check("selftest ran to the end", False, repr(exc))
    passed = sum(1 for _, ok, _ in RESULTS if ok)
    failed = len(RESULTS) - passed
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed else 1


if __name__ == "__main__":
    sys.exit(main())
