"""The MinIO stand-in (lobestack/minio-standin:1) shows what the live checks judge as real MinIO
RELEASE.2025-04-22T22-12-26Z does: SigV4 presigned uploads and downloads, a Host rewritten before it
(SignatureDoesNotMatch), MINIO_API_CORS_ALLOW_ORIGIN as MinIO's CORS handler applies it, the anonymous-read
policy set and removed with `mc anonymous`, and state that survives a recreated container on the same volume.
The bucket is made by the bundle's own compose/minio/init.sh, run with the stand-in's `mc` as compose runs it."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pytest

from tests.standins.conftest import Harness, Started, http_ready

REPO = Path(__file__).resolve().parents[2]
APP_ORIGIN = "https://lobe.test"
ROOT_USER, ROOT_PASSWORD = "lobestack-root", "root-" + secrets.token_hex(8)
APP_KEY, APP_SECRET = "lobe-app", "app-" + secrets.token_hex(8)
BUCKET = "lobe"
FIVE_MB = os.urandom(5 * 1024 * 1024)

pytestmark = pytest.mark.usefixtures("standin_images")


def start_minio(harness: Harness, name: str, *, cors: str = APP_ORIGIN, volume: str | None = None) -> Started:
    return harness.start(
        "minio",
        name,
        aliases=("minio",) if name == "minio" else (),
        env={"MINIO_ROOT_USER": ROOT_USER, "MINIO_ROOT_PASSWORD": ROOT_PASSWORD, "MINIO_API_CORS_ALLOW_ORIGIN": cors},
        command=["server", "/data", "--console-address", ":9001"],
        mounts={volume: "/data"} if volume else None,
        ports=(9000, 9001),
        ready=http_ready(9000, "/minio/health/live", status=200),
    )


def s3(endpoint: str, key: str = APP_KEY, secret: str = APP_SECRET):
    import boto3
    from botocore.config import Config

    config = Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1})
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=config,
    )


def mc(minio: Started, *args: str) -> tuple[int, str]:
    """The stand-in's `mc` inside the minio container, with the root credentials as a real check passes them."""
    return minio.exec(["mc", *args], env={"MC_HOST_local": f"http://{ROOT_USER}:{ROOT_PASSWORD}@127.0.0.1:9000"})


@pytest.fixture(scope="module")
def minio(harness: Harness) -> Started:
    return start_minio(harness, "minio", volume=harness.volume("data"))


@pytest.fixture(scope="module")
def init_run(harness: Harness, minio: Started) -> tuple[int, str]:
    """compose's minio-init service: the bundle's init.sh, entrypoint /bin/sh, on the same network."""
    return harness.run_to_exit(
        "minio",
        "minio-init",
        entrypoint=["/bin/sh", "/lobestack/minio-init.sh"],
        env={
            "MINIO_ROOT_USER": ROOT_USER,
            "MINIO_ROOT_PASSWORD": ROOT_PASSWORD,
            "S3_BUCKET": BUCKET,
            "S3_SET_ACL": "1",
            "S3_ACCESS_KEY_ID": APP_KEY,
            "S3_SECRET_ACCESS_KEY": APP_SECRET,
        },
        mounts={str(REPO / "compose" / "minio" / "init.sh"): "/lobestack/minio-init.sh:ro"},
        timeout_s=90,
    )


@pytest.fixture(scope="module")
def app(minio: Started, init_run: tuple[int, str]):
    assert init_run[0] == 0, init_run[1]
    return s3(minio.url(9000))


def test_image_labels_say_standin(docker_client, standin_images) -> None:
    labels = docker_client.images.get(standin_images["minio"]).labels
    assert labels["org.lobestack.standin"] == "true"
    assert labels["org.lobestack.role"] == "minio"
    assert "STAND-IN for minio/minio" in labels["org.opencontainers.image.description"]


def test_health_routes_console_and_compose_healthcheck(minio: Started) -> None:
    import requests

    live = requests.get(minio.url(9000, "/minio/health/ready"), timeout=5)
    assert (live.status_code, live.headers["Server"]) == (200, "lobestack-minio-standin")
    assert "MinIO Console (lobestack stand-in)" in requests.get(minio.url(9001, "/"), timeout=5).text
    assert minio.exec(["mc", "ready", "local"])[0] == 0  # compose's healthcheck, no credentials needed


def test_bundle_init_script_makes_bucket_policy_and_user(minio: Started, init_run: tuple[int, str]) -> None:
    code, log = init_run
    assert code == 0, log
    assert f"minio-init: bucket {BUCKET} ready (anonymous read: 1)" in log
    code, out = mc(minio, "anonymous", "get-json", f"local/{BUCKET}")
    policy = json.loads(out)
    assert code == 0
    # anonymous GetObject on the objects, and nothing else (`mc anonymous set download` would let anyone list too)
    assert policy["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"AWS": ["*"]},
            "Action": ["s3:GetObject"],
            "Resource": [f"arn:aws:s3:::{BUCKET}/*"],
        }
    ]
    import requests

    listing = requests.get(minio.url(9000, f"/{BUCKET}/?list-type=2"), timeout=5)
    assert listing.status_code == 403 and "<Code>AccessDenied</Code>" in listing.text


def test_presigned_put_and_get_of_5_mb_round_trip(minio: Started, app) -> None:
    import requests

    key = f"lobestack-probe/{secrets.token_hex(4)}/five-mb.bin"
    put_url = app.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=600)
    put = requests.put(put_url, data=FIVE_MB, headers={"Origin": APP_ORIGIN}, timeout=30)
    assert put.status_code == 200, put.text
    assert put.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    get_url = app.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=600)
    get = requests.get(get_url, timeout=30)
    assert get.status_code == 200
    assert get.content == FIVE_MB


def test_host_other_than_the_signed_one_is_signature_does_not_match(minio: Started, app) -> None:
    """What a proxy that rewrites Host before MinIO causes."""
    import requests

    key = f"lobestack-probe/{secrets.token_hex(4)}/host.txt"
    app.put_object(Bucket=BUCKET, Key=key, Body=b"host")
    for method, operation in (("GET", "get_object"), ("PUT", "put_object")):
        url = app.generate_presigned_url(operation, Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=600)
        answer = requests.request(
            method, url, data=b"x" if method == "PUT" else None, timeout=10, headers={"Host": "minio:9000"}
        )
        assert answer.status_code == 403, (method, answer.text)
        assert "<Code>SignatureDoesNotMatch</Code>" in answer.text


def test_public_host_kept_by_the_proxy_is_path_style_and_verifies(minio: Started) -> None:
    """Signed for https://s3.test (the public endpoint) and received with that Host: no virtual-host reading."""
    import requests

    public = s3("http://s3.test:9000", ROOT_USER, ROOT_PASSWORD)
    key = f"lobestack-probe/{secrets.token_hex(4)}/public.txt"
    url = public.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=600)
    target = url.replace("http://s3.test:9000", minio.url(9000))
    answer = requests.put(target, data=b"public", headers={"Host": "s3.test:9000"}, timeout=10)
    assert answer.status_code == 200, answer.text


def test_wrong_keys_are_refused_as_minio_does(minio: Started, app) -> None:
    from botocore.exceptions import ClientError

    for key, secret, code in (
        ("NOSUCHKEY", APP_SECRET, "InvalidAccessKeyId"),
        (APP_KEY, "wrong-secret", "SignatureDoesNotMatch"),
    ):
        with pytest.raises(ClientError) as caught:
            s3(minio.url(9000), key, secret).list_objects_v2(Bucket=BUCKET)
        assert caught.value.response["Error"]["Code"] == code


def preflight(minio: Started, origin: str, method: str = "PUT"):
    import requests

    return requests.options(
        minio.url(9000, f"/{BUCKET}/lobestack-probe/cors.txt"),
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type,x-amz-acl",
        },
        timeout=5,
    )


def test_cors_preflight_from_the_app_origin_allows_put(minio: Started) -> None:
    answer = preflight(minio, APP_ORIGIN)
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert answer.headers["Access-Control-Allow-Methods"] == "PUT"
    assert answer.headers["Access-Control-Allow-Headers"] == "content-type,x-amz-acl"
    assert answer.headers["Access-Control-Allow-Credentials"] == "true"
    assert answer.headers["Vary"] == "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"


@pytest.mark.parametrize(
    "origin", ["https://lobestack-foreign.invalid", "http://lobe.test", "https://lobe.test:8443", "lobe.test"]
)
def test_cors_preflight_from_another_origin_gets_no_allow_origin(minio: Started, origin: str) -> None:
    answer = preflight(minio, origin)
    assert answer.status_code == 204
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_cors_origin_without_scheme_never_matches_the_browser_origin(harness: Harness) -> None:
    """MINIO_API_CORS_ALLOW_ORIGIN=lobe.test (a common mistake): MinIO matches the Origin header exactly."""
    with harness.running(
        "minio",
        "cors-no-scheme",
        env={"MINIO_API_CORS_ALLOW_ORIGIN": "lobe.test,https://*.other.test"},
        command=["server", "/data"],
        ports=(9000,),
        ready=http_ready(9000, "/minio/health/live", status=200),
    ) as minio:
        assert "Access-Control-Allow-Origin" not in preflight(minio, APP_ORIGIN).headers
        assert preflight(minio, "https://app.other.test").headers["Access-Control-Allow-Origin"] == (
            "https://app.other.test"
        )


FOREIGN = "https://lobestack-foreign.invalid"


@pytest.mark.parametrize(
    "cors",
    ["*", f"{APP_ORIGIN},", f"{APP_ORIGIN},,https://admin.test"],
    ids=["wildcard", "trailing-comma", "empty-entry"],
)
def test_cors_allowing_every_origin_echoes_a_foreign_one_with_credentials(harness: Harness, cors: str) -> None:
    """As MinIO: `*` goes through the origin function (rs/cors then echoes the Origin, never `*`, and allows
    credentials); a list with an empty entry is "invalid cors value" and MinIO falls back to its default, `*`."""
    with harness.running(
        "minio",
        f"cors-{secrets.token_hex(2)}",
        env={"MINIO_API_CORS_ALLOW_ORIGIN": cors},
        command=["server", "/data"],
        ports=(9000,),
        ready=http_ready(9000, "/minio/health/live", status=200),
    ) as minio:
        for origin in (FOREIGN, APP_ORIGIN):
            answer = preflight(minio, origin)
            assert answer.status_code == 204
            assert answer.headers["Access-Control-Allow-Origin"] == origin
            assert answer.headers["Access-Control-Allow-Credentials"] == "true"
        if cors != "*":
            assert "invalid cors value" in minio.logs()


def test_anonymous_read_follows_mc_anonymous_set(minio: Started, app) -> None:
    import requests

    key = f"lobestack-probe/{secrets.token_hex(4)}/anon.txt"
    app.put_object(Bucket=BUCKET, Key=key, Body=b"anonymous", ContentType="text/plain")
    public_url = minio.url(9000, f"/{BUCKET}/{key}")
    assert requests.get(public_url, timeout=5).status_code == 200
    try:
        code, out = mc(minio, "anonymous", "set", "none", f"local/{BUCKET}")
        assert code == 0, out
        refused = requests.get(public_url, timeout=5)
        assert refused.status_code == 403
        assert "<Code>AccessDenied</Code>" in refused.text
    finally:
        code, out = mc(minio, "anonymous", "set", "download", f"local/{BUCKET}")
        assert code == 0, out
    restored = requests.get(public_url, timeout=5)
    assert (restored.status_code, restored.content) == (200, b"anonymous")
    assert requests.put(public_url, data=b"x", timeout=5).status_code == 403  # download never means upload


def test_mc_default_alias_has_no_credentials_like_the_real_mc(minio: Started, init_run: tuple[int, str]) -> None:
    code, out = minio.exec(["mc", "anonymous", "set", "none", f"local/{BUCKET}"])
    assert code == 1, out
    code, out = minio.exec(["mc", "frobnicate"])
    assert code == 1
    assert "frobnicate" in out


def test_state_survives_a_recreated_container_on_the_same_volume(harness: Harness) -> None:
    import requests

    volume = harness.volume("persist")
    key = "lobestack-probe/persist/kept.bin"
    with harness.running(
        "minio",
        "persist-1",
        env={"MINIO_ROOT_USER": ROOT_USER, "MINIO_ROOT_PASSWORD": ROOT_PASSWORD},
        command=["server", "/data"],
        mounts={volume: "/data"},
        ports=(9000,),
        ready=http_ready(9000, "/minio/health/live", status=200),
    ) as first:
        root = s3(first.url(9000), ROOT_USER, ROOT_PASSWORD)
        root.create_bucket(Bucket="kept")
        root.put_object(Bucket="kept", Key=key, Body=FIVE_MB, ContentType="application/x-test")
        root.put_object(Bucket="kept", Key="gone.txt", Body=b"deleted before the restart")
        root.delete_object(Bucket="kept", Key="gone.txt")
        assert mc(first, "anonymous", "set", "download", "local/kept")[0] == 0
        assert mc(first, "admin", "user", "add", "local", APP_KEY, APP_SECRET)[0] == 0
    with harness.running(
        "minio",
        "persist-2",
        env={"MINIO_ROOT_USER": ROOT_USER, "MINIO_ROOT_PASSWORD": ROOT_PASSWORD},
        command=["server", "/data"],
        mounts={volume: "/data"},
        ports=(9000,),
        ready=http_ready(9000, "/minio/health/live", status=200),
    ) as second:
        assert "restored 1 bucket(s), 1 object(s), 1 user(s)" in second.logs()
        kept = s3(second.url(9000)).get_object(Bucket="kept", Key=key)  # the user's key still works
        assert kept["ContentType"] == "application/x-test"
        assert kept["Body"].read() == FIVE_MB
        assert requests.get(second.url(9000, f"/kept/{key}"), timeout=10).status_code == 200  # the policy too
