#!/usr/bin/env python3
"""Self-test of lobestack/minio-standin:1 (the moto-based MinIO STAND-IN). Needs docker and boto3 on the host.

  python3 selftest.py [--build] [--image lobestack/minio-standin:1]

Starts `minio` (server /data --console-address :9001) on a user-defined network, runs the one-shot init
container (entrypoint /bin/sh /lobestack/minio-init.sh) like compose does, then checks from the host with boto3
and raw HTTP. Names: lsdev-minio-*; ports on 127.0.0.1 only; removes what it made. Last line: "N passed, N failed".
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX = os.environ.get("LSDEV_PREFIX", "lsdev-minio")
ORIGIN = "https://lobe.test"
RESULTS: list[tuple[str, bool, str]] = []

INIT_SCRIPT = """set -e
printf '%s\\n%s\\n' "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" | mc alias set local http://minio:9000
mc mb --ignore-existing "local/$S3_BUCKET"
mc anonymous set download "local/$S3_BUCKET"
printf '%s\\n%s\\n' "$S3_ACCESS_KEY_ID" "$S3_SECRET_ACCESS_KEY" | mc admin user add local
cat > /tmp/lobe-rw.json <<EOF
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*"],
 "Resource": ["arn:aws:s3:::$S3_BUCKET", "arn:aws:s3:::$S3_BUCKET/*"]}]}
EOF
mc admin policy create local lobe-rw /tmp/lobe-rw.json
mc admin policy attach local lobe-rw --user="$S3_ACCESS_KEY_ID"
mc anonymous get-json "local/$S3_BUCKET"
mc ls "local/$S3_BUCKET"
mc mb --ignore-existing "local/$S3_BUCKET"
echo INIT-DONE
"""


def sh(*args: str, check: bool = True, timeout: int = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    cp = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, env=env)
    if check and cp.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} -> {cp.returncode}\n{cp.stdout}\n{cp.stderr}")
    return cp


def check(name: str, ok: bool, detail: str = "") -> bool:
    RESULTS.append((name, ok, detail))
    print(f"{'PASS' if ok else 'FAIL'}: {name}" + (f" -- {detail}" if detail and not ok else ""), flush=True)
    return ok


def req(method: str, url: str, headers: dict | None = None, body: bytes | None = None, host: str | None = None):
    """Raw HTTP (no redirects, no retries); `host` overrides the Host header. Returns (status, headers, body)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    target = u.path + (f"?{u.query}" if u.query else "")
    hdrs = dict(headers or {})
    conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", host or u.netloc)
    for k, v in hdrs.items():
        conn.putheader(k, v)
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


def build(image: str) -> None:
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
        "-t",
        image,
        HERE,
        timeout=900,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
    )
    print(f"built {image} in {time.time() - t0:.0f}s", flush=True)


def run(image: str, tmp: str) -> None:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    labels = sh("docker", "inspect", "-f", "{{json .Config.Labels}}", image).stdout
    check(
        "labels: stand-in, role minio, description says STAND-IN",
        '"org.lobestack.standin":"true"' in labels
        and '"org.lobestack.role":"minio"' in labels
        and "STAND-IN for minio/minio" in labels,
        labels,
    )

    sfx = uuid.uuid4().hex[:6]
    net, srv, init = f"{PREFIX}-net-{sfx}", f"{PREFIX}-s3-{sfx}", f"{PREFIX}-init-{sfx}"
    # A root password that starts with '-': piped keys must carry it where an argument would be an option.
    root_user, root_pw = "lobestack-root", "-root-" + uuid.uuid4().hex[:16]
    ak, sk, bucket = "lobe-app", "app-" + uuid.uuid4().hex[:16], "lobe"
    script = os.path.join(tmp, "minio-init.sh")
    with open(script, "w") as fh:
        fh.write(INIT_SCRIPT)
    os.chmod(script, 0o644)
    sh("docker", "network", "create", "--label", "org.lobestack.test=selftest", net)
    try:
        sh(
            "docker",
            "run",
            "-d",
            "--init",
            "--name",
            srv,
            "--network",
            net,
            "--network-alias",
            "minio",
            "--label",
            "org.lobestack.test=selftest",
            "-e",
            f"MINIO_ROOT_USER={root_user}",
            "-e",
            f"MINIO_ROOT_PASSWORD={root_pw}",
            "-e",
            f"MINIO_API_CORS_ALLOW_ORIGIN={ORIGIN}",
            "-v",
            "/data",
            "-p",
            "127.0.0.1::9000",
            "-p",
            "127.0.0.1::9001",
            image,
            "server",
            "/data",
            "--console-address",
            ":9001",
        )

        def port(p: int) -> int:
            return int(sh("docker", "port", srv, f"{p}/tcp").stdout.strip().splitlines()[0].rsplit(":", 1)[1])

        api = f"http://127.0.0.1:{port(9000)}"
        console = f"http://127.0.0.1:{port(9001)}"
        deadline, status = time.time() + 30, 0
        while time.time() < deadline:
            try:
                status, hdrs, _ = req("GET", api + "/minio/health/live")
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.3)
        check("/minio/health/live answers 200", status == 200, sh("docker", "logs", srv, check=False).stderr[-800:])
        status, hdrs, _ = req("GET", api + "/minio/health/ready")
        check(
            "/minio/health/ready answers 200 with Server: lobestack-minio-standin",
            status == 200 and hdrs.get("server") == "lobestack-minio-standin",
            str(hdrs),
        )
        cp = sh("docker", "exec", srv, "mc", "ready", "local", check=False)
        check("healthcheck `mc ready local` exits 0", cp.returncode == 0, cp.stdout + cp.stderr)
        status, _, body = req("GET", console + "/")
        check(
            "console port serves the stand-in page",
            status == 200 and b"MinIO Console (lobestack stand-in)" in body,
            body[:200].decode(errors="replace"),
        )

        cp = sh(
            "docker",
            "run",
            "--name",
            init,
            "--init",
            "--network",
            net,
            "--label",
            "org.lobestack.test=selftest",
            "-v",
            f"{script}:/lobestack/minio-init.sh:ro",
            "--entrypoint",
            "/bin/sh",
            "-e",
            f"MINIO_ROOT_USER={root_user}",
            "-e",
            f"MINIO_ROOT_PASSWORD={root_pw}",
            "-e",
            f"S3_BUCKET={bucket}",
            "-e",
            f"S3_ACCESS_KEY_ID={ak}",
            "-e",
            f"S3_SECRET_ACCESS_KEY={sk}",
            image,
            "/lobestack/minio-init.sh",
            check=False,
            timeout=120,
        )
        check(
            "minio-init (entrypoint /bin/sh /lobestack/minio-init.sh) exits 0",
            cp.returncode == 0 and "INIT-DONE" in cp.stdout,
            cp.stdout[-1500:] + cp.stderr[-1500:],
        )
        check(
            "init: `mc anonymous get-json` shows anonymous s3:GetObject on arn:aws:s3:::lobe/*",
            '"arn:aws:s3:::lobe/*"' in cp.stdout and '"s3:GetObject"' in cp.stdout,
            cp.stdout[-1500:],
        )
        cp2 = sh("docker", "run", "--rm", "--network", net, "--entrypoint", "mc", image, "frobnicate", check=False)
        check(
            "unknown mc subcommand: exit 1 and names it",
            cp2.returncode == 1 and "frobnicate" in cp2.stderr,
            cp2.stdout + cp2.stderr,
        )

        cfg = Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1})
        app = boto3.client(
            "s3", endpoint_url=api, aws_access_key_id=ak, aws_secret_access_key=sk, region_name="us-east-1", config=cfg
        )
        key, payload = "files/selftest hello.txt", b"hello from the lobestack selftest\n"
        url = app.generate_presigned_url(
            "put_object", Params={"Bucket": bucket, "Key": key, "ContentType": "text/plain"}, ExpiresIn=3600
        )
        status, hdrs, body = req("PUT", url, {"Content-Type": "text/plain", "Origin": ORIGIN}, payload)
        check(
            "presigned PUT with the new user's key: 200 (+ ACAO for the app origin)",
            status == 200 and hdrs.get("access-control-allow-origin") == ORIGIN,
            f"{status} {hdrs} {body[:300]}",
        )
        obj_url = f"{api}/{bucket}/{urllib.parse.quote(key)}"
        status, hdrs, body = req("GET", obj_url)
        check(
            "anonymous GET of the object (download policy): 200 + same bytes",
            status == 200 and body == payload,
            f"{status} {body[:300]}",
        )
        status, _, body = req("GET", obj_url, host="s3.test")
        check(
            "Host s3.test is not read as virtual-host style (path-style GET works)",
            status == 200 and body == payload,
            f"{status} {body[:300]}",
        )

        pre = {
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type,x-amz-meta-foo",
        }
        status, hdrs, _ = req("OPTIONS", obj_url, pre)
        check(
            "CORS preflight on an existing key from the app origin: 2xx, ACAO = origin, methods, headers",
            200 <= status < 300
            and hdrs.get("access-control-allow-origin") == ORIGIN
            and "PUT" in hdrs.get("access-control-allow-methods", "")
            and "x-amz-meta-foo" in hdrs.get("access-control-allow-headers", ""),
            f"{status} {hdrs}",
        )
        status, hdrs, _ = req("OPTIONS", obj_url, {**pre, "Origin": "https://evil.test"})
        check(
            "CORS preflight from another origin: no ACAO", "access-control-allow-origin" not in hdrs, f"{status} {hdrs}"
        )
        status, hdrs, _ = req("OPTIONS", obj_url, {**pre, "Origin": "lobe.test"})
        check(
            "CORS origin without scheme does not match", "access-control-allow-origin" not in hdrs, f"{status} {hdrs}"
        )
        status, hdrs, _ = req("GET", obj_url, {"Origin": "https://evil.test"})
        check(
            "simple GET from another origin: 200 but no ACAO",
            status == 200 and "access-control-allow-origin" not in hdrs,
            f"{status} {hdrs}",
        )

        status, _, body = req("PUT", f"{api}/{bucket}/anon.txt", {"Content-Type": "text/plain"}, b"x")
        check(
            "anonymous PUT is refused (403 AccessDenied)",
            status == 403 and b"AccessDenied" in body,
            f"{status} {body[:300]}",
        )

        def code_of(fn) -> str:
            try:
                fn()
                return "OK"
            except ClientError as exc:
                return exc.response.get("Error", {}).get("Code", "?")

        bad_key = boto3.client(
            "s3",
            endpoint_url=api,
            aws_access_key_id="NOSUCHKEY",
            aws_secret_access_key=sk,
            region_name="us-east-1",
            config=cfg,
        )
        c = code_of(lambda: bad_key.list_objects_v2(Bucket=bucket))
        check("unknown access key: InvalidAccessKeyId", c == "InvalidAccessKeyId", c)
        bad_secret = boto3.client(
            "s3",
            endpoint_url=api,
            aws_access_key_id=ak,
            aws_secret_access_key="wrong-secret",
            region_name="us-east-1",
            config=cfg,
        )
        c = code_of(lambda: bad_secret.list_objects_v2(Bucket=bucket))
        check("known key, wrong secret: SignatureDoesNotMatch", c == "SignatureDoesNotMatch", c)
        c = code_of(lambda: app.put_object(Bucket=bucket, Key="sdk.txt", Body=b"sdk"))
        got = app.get_object(Bucket=bucket, Key="sdk.txt")["Body"].read() if c == "OK" else b""
        check(
            "SDK PUT + GET with the new user's key (header-signed SigV4) works",
            c == "OK" and got == b"sdk",
            f"{c} {got!r}",
        )

        get_url = app.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=600)
        status, _, body = req("GET", get_url)
        check("presigned GET: 200", status == 200 and body == payload, f"{status} {body[:200]}")
        status, _, body = req("GET", get_url, host="s3.internal:9000")
        check(
            "presigned GET with the Host rewritten: 403 SignatureDoesNotMatch",
            status == 403 and b"SignatureDoesNotMatch" in body,
            f"{status} {body[:300]}",
        )
        status, _, body = req("GET", get_url.replace("selftest%20hello", "selftest%20hellO"))
        check("tampered presigned URL: 403", status == 403, f"{status} {body[:300]}")

        root = boto3.client(
            "s3",
            endpoint_url=api,
            aws_access_key_id=root_user,
            aws_secret_access_key=root_pw,
            region_name="us-east-1",
            config=cfg,
        )
        root.create_bucket(Bucket="private")
        root.put_object(Bucket="private", Key="secret.txt", Body=b"s")
        status, _, _ = req("GET", f"{api}/private/secret.txt")
        check("anonymous GET on a bucket without policy: 403", status == 403, str(status))
        root.delete_bucket_policy(Bucket=bucket)
        status, _, _ = req("GET", obj_url)
        check("anonymous GET after the policy is removed (mc anonymous set none): 403", status == 403, str(status))
        cp = sh(
            "docker",
            "exec",
            "-e",
            f"MC_HOST_local=http://{root_user}:{root_pw}@127.0.0.1:9000",
            srv,
            "mc",
            "ls",
            f"local/{bucket}/files/",
            check=False,
        )
        check(
            "mc ls ALIAS/BUCKET/PREFIX lists the uploaded object",
            cp.returncode == 0 and "selftest hello.txt" in cp.stdout,
            cp.stdout + cp.stderr,
        )

        t0 = time.time()
        sh("docker", "stop", "-t", "20", srv)
        check("docker stop is quick (init: true, SIGTERM handled)", time.time() - t0 < 8, f"{time.time() - t0:.1f}s")
    finally:
        for c in (init, srv):
            sh("docker", "rm", "-f", "-v", c, check=False)
        sh("docker", "network", "rm", net, check=False)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", default="lobestack/minio-standin:1")
    ap.add_argument("--build", action="store_true")
    args = ap.parse_args()
    if args.build:
        build(args.image)
    with tempfile.TemporaryDirectory(prefix="lsdev-minio-") as tmp:
        os.chmod(tmp, 0o755)
        try:
            run(args.image, tmp)
        except Exception as exc:
            check("selftest ran to the end", False, repr(exc))
    passed = sum(1 for _, ok, _ in RESULTS if ok)
    failed = len(RESULTS) - passed
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed else 1


if __name__ == "__main__":
    sys.exit(main())
