"""lobestack MinIO STAND-IN: moto's S3 app behind a thin WSGI layer that adds what MinIO does and moto does not.

NOT MinIO. Implements, for lobestack's hermetic CI:
  * S3 API (moto 5, path-style; S3_IGNORE_SUBDOMAIN_BUCKETNAME=true so a Host like `s3.test` is not read as a bucket)
  * /minio/health/live|ready|cluster -> 200
  * credentials: root = MINIO_ROOT_USER / MINIO_ROOT_PASSWORD, plus users added through our admin API
    (`mc admin user add`)
  * AWS SigV4 verification (header and presigned query), SigV2 access-key check only
  * anonymous access decided by the bucket policy (moto itself lets everything through)
  * CORS from MINIO_API_CORS_ALLOW_ORIGIN as MinIO's corsHandler answers it (exact or wildcard origin match)
  * a tiny console page on the console port
State lives in moto's memory and is written through to `<data dir>/.lobestack-standin/` (buckets, policies,
objects, users), so a container recreated on the same volume keeps it, as MinIO does.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import hashlib
import hmac
import io
import json
import logging
import os
import sys
import threading
import urllib.parse
import uuid

# must be set before moto is imported (moto reads them at import time)
os.environ.setdefault("S3_IGNORE_SUBDOMAIN_BUCKETNAME", "true")
os.environ.setdefault("MOTO_DISABLE_GLOBAL_CORS", "true")

SERVER_NAME = "lobestack-minio-standin"
LOG = logging.getLogger("minio-standin")

# MinIO's corsHandler (cmd/api-router.go, RELEASE.2025-04-22T22-12-26Z) on rs/cors v1.11.1: these methods
# (compared case-sensitively; OPTIONS always passes), any request header, credentials, these exposed headers.
CORS_METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE", "OPTIONS", "PATCH")
CORS_EXPOSE = (
    "Date, Etag, Server, Connection, Accept-Ranges, Content-Range, Content-Encoding, Content-Length, "
    "Content-Type, Content-Disposition, Last-Modified, Content-Language, Cache-Control, Retry-After, "
    "X-Amz-Bucket-Region, Expires, X-Amz*, X-Amz*, *"
)
PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
MAX_SKEW = _dt.timedelta(minutes=15)


def _env_secret(name: str, default: str | None = None) -> str | None:
    """MINIO_ROOT_USER or the content of MINIO_ROOT_USER_FILE (docker secrets), like MinIO."""
    val = os.environ.get(name)
    path = os.environ.get(name + "_FILE")
    if not val and path:
        try:
            with open(path, encoding="utf-8") as fh:
                val = fh.read().strip()
        except OSError as exc:
            sys.exit(f"ERROR Unable to read {name}_FILE {path}: {exc}")
    return val or default


def _truthy(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


# --------------------------------------------------------------------------- IAM (in memory)
class IAM:
    def __init__(self, root_user: str, root_password: str):
        self.root_user = root_user
        self.root_password = root_password
        self.lock = threading.RLock()  # the admin API saves the state while holding it
        self.users: dict[str, dict] = {}  # access key -> {"secretKey", "status", "policies": [..]}
        self.policies: dict[str, dict] = {}  # name -> policy document
        for name, doc in CANNED_POLICIES.items():
            self.policies[name] = doc

    def secret_for(self, access_key: str) -> str | None:
        if access_key == self.root_user:
            return self.root_password
        with self.lock:
            user = self.users.get(access_key)
            if user and user.get("status", "enabled") == "enabled":
                return user["secretKey"]
        return None

    def user_policies(self, access_key: str) -> list[dict]:
        with self.lock:
            user = self.users.get(access_key) or {}
            return [self.policies[n] for n in user.get("policies", []) if n in self.policies]


CANNED_POLICIES = {  # the built-in policies MinIO ships
    "readwrite": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::*"]}],
    },
    "readonly": {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetBucketLocation", "s3:GetObject"], "Resource": ["arn:aws:s3:::*"]}
        ],
    },
    "writeonly": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": ["arn:aws:s3:::*"]}],
    },
    "consoleAdmin": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["admin:*", "kms:*", "s3:*"], "Resource": ["arn:aws:s3:::*"]}],
    },
}


def match_simple(pattern: str, name: str) -> bool:
    """minio/pkg wildcard.MatchSimple: `*` any run, `?` one character (optional at the end), else exact and
    case-sensitive."""
    if pattern == "":
        return name == ""
    if pattern == "*":
        return True
    return _deep_match(name, pattern)


def _deep_match(s: str, p: str) -> bool:
    while p:
        if p[0] == "*":
            return len(p) == 1 or _deep_match(s, p[1:]) or (len(s) > 0 and _deep_match(s[1:], p))
        if p[0] == "?":
            if not s:
                return True  # MatchSimple: a trailing `?` may match nothing
        elif not s or s[0] != p[0]:
            return False
        s, p = s[1:], p[1:]
    return not s and not p


def cors_allow_origins(value: str) -> list[str]:
    """MINIO_API_CORS_ALLOW_ORIGIN as MinIO reads it (internal/config/api/api.go LookupConfig): split on commas,
    entries used as written (no trimming); unset or empty means `*`. A list with an empty entry (`a,,b`, a trailing
    comma) is "invalid cors value": MinIO logs it and starts with the API defaults, so every origin is allowed."""
    if not value:
        return ["*"]
    origins = value.split(",")
    if "" in origins:
        print("Invalid api configuration: invalid cors value (so every origin is allowed: *)", file=sys.stderr)
        return ["*"]
    return origins


# --------------------------------------------------------------------------- policy evaluation (subset)
def _as_list(v) -> list:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _principal_is_anonymous(principal) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in _as_list(principal.get("AWS"))
    return False


def policy_allows(docs: list[dict], action: str, resource: str, anonymous: bool) -> bool:
    """IAM-style evaluation: an explicit Deny wins, else any Allow. Statements with a Condition,
    NotAction, NotResource or NotPrincipal are not understood: an Allow of that kind is ignored
    (never grants), a Deny of that kind is applied (always denies) -- i.e. fail closed."""
    allowed = False
    for doc in docs:
        for st in _as_list(doc.get("Statement")):
            if not isinstance(st, dict):
                continue
            effect = st.get("Effect")
            exotic = any(k in st for k in ("Condition", "NotAction", "NotResource", "NotPrincipal"))
            if anonymous and not _principal_is_anonymous(st.get("Principal")):
                continue
            act_ok = any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _as_list(st.get("Action")))
            res_ok = any(fnmatch.fnmatchcase(resource, r) for r in _as_list(st.get("Resource")))
            if effect == "Deny" and act_ok and res_ok:
                return False  # an exotic Deny (with Condition ...) is applied unconditionally: fail closed
            if effect == "Allow" and not exotic and act_ok and res_ok:
                allowed = True
    return allowed


_BUCKET_SUB = {
    "policy": "BucketPolicy",
    "location": "BucketLocation",
    "cors": "BucketCORS",
    "versioning": "BucketVersioning",
    "tagging": "BucketTagging",
    "acl": "BucketAcl",
    "lifecycle": "LifecycleConfiguration",
    "notification": "BucketNotification",
    "encryption": "EncryptionConfiguration",
    "object-lock": "BucketObjectLockConfiguration",
}


def s3_action(method: str, bucket: str, key: str, query: dict) -> tuple[str, str]:
    """(IAM action, resource ARN) for a path-style S3 request."""
    if not bucket:
        return "s3:ListAllMyBuckets", "arn:aws:s3:::*"
    if not key:
        res = f"arn:aws:s3:::{bucket}"
        for sub, name in _BUCKET_SUB.items():
            if sub in query:
                if sub == "location":
                    return "s3:GetBucketLocation", res
                verb = {"GET": "Get", "HEAD": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method, "Put")
                return f"s3:{verb}{name}", res
        if method == "POST" and "delete" in query:
            return "s3:DeleteObject", res + "/*"
        if "uploads" in query:
            return "s3:ListBucketMultipartUploads", res
        if method in ("GET", "HEAD"):
            return "s3:ListBucket", res
        if method == "PUT":
            return "s3:CreateBucket", res
        if method == "DELETE":
            return "s3:DeleteBucket", res
        if method == "POST":  # browser form upload (POST policy)
            return "s3:PutObject", res + "/*"
        return "s3:ListBucket", res
    res = f"arn:aws:s3:::{bucket}/{key}"
    if "tagging" in query:
        return ("s3:GetObjectTagging" if method in ("GET", "HEAD") else "s3:PutObjectTagging"), res
    if method in ("GET", "HEAD"):
        if "uploadId" in query:
            return "s3:ListMultipartUploadParts", res
        return "s3:GetObject", res
    if method == "DELETE":
        return ("s3:AbortMultipartUpload" if "uploadId" in query else "s3:DeleteObject"), res
    return "s3:PutObject", res  # PUT, POST (multipart create/complete)


# --------------------------------------------------------------------------- SigV4
class AuthError(Exception):
    def __init__(self, code: str, message: str, status: int = 403):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


_ERR_MSG = {
    "InvalidAccessKeyId": "The Access Key Id you provided does not exist in our records.",
    "SignatureDoesNotMatch": "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method.",
    "AccessDenied": "Access Denied.",
}


def _uri_encode(s: str, safe: str = "-_.~") -> str:
    return urllib.parse.quote(s, safe=safe)


def _canonical_query(raw_qs: str, drop: str | None = None) -> str:
    pairs = []
    for part in raw_qs.split("&") if raw_qs else []:
        if not part:
            continue
        k, _, v = part.partition("=")
        k = urllib.parse.unquote(k)
        v = urllib.parse.unquote(v)
        if drop and k == drop:
            continue
        pairs.append((_uri_encode(k), _uri_encode(v)))
    pairs.sort()
    return "&".join(f"{k}={v}" for k, v in pairs)


def _header(environ: dict, name: str) -> str | None:
    name = name.lower()
    if name == "content-type":
        return environ.get("CONTENT_TYPE")
    if name == "content-length":
        return environ.get("CONTENT_LENGTH")
    return environ.get("HTTP_" + name.upper().replace("-", "_"))


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def _parse_amz_date(s: str) -> _dt.datetime:
    try:
        return _dt.datetime.strptime(s, "%Y%m%dT%H%M%SZ").replace(tzinfo=_dt.UTC)
    except (TypeError, ValueError):
        raise AuthError("AccessDenied", "X-Amz-Date is missing or malformed.", 403) from None


def authenticate(environ: dict, iam: IAM, verify_sig: bool) -> str | None:
    """Return the access key of the request (None: anonymous), or raise AuthError."""
    auth = _header(environ, "authorization") or ""
    qs = environ.get("QUERY_STRING", "")
    query = urllib.parse.parse_qs(qs, keep_blank_values=True)

    # SigV2 (header or query): access key is checked, the signature is not
    if auth.startswith("AWS ") or "AWSAccessKeyId" in query:
        ak = auth[4:].split(":", 1)[0] if auth.startswith("AWS ") else query["AWSAccessKeyId"][0]
        if iam.secret_for(ak) is None:
            raise AuthError("InvalidAccessKeyId", _ERR_MSG["InvalidAccessKeyId"])
        return ak

    presigned = "X-Amz-Credential" in query or "X-Amz-Signature" in query
    if not auth and not presigned:
        return None
    if auth and not auth.startswith("AWS4-HMAC-SHA256"):
        raise AuthError("AccessDenied", "Unsupported Authorization type.", 400)

    if presigned:
        if query.get("X-Amz-Algorithm", [""])[0] != "AWS4-HMAC-SHA256":
            raise AuthError(
                "AuthorizationQueryParametersError", 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"', 400
            )
        credential = query.get("X-Amz-Credential", [""])[0]
        signed_headers = query.get("X-Amz-SignedHeaders", [""])[0]
        signature = query.get("X-Amz-Signature", [""])[0]
        amz_date = query.get("X-Amz-Date", [""])[0]
        payload_hash = query.get("X-Amz-Content-Sha256", ["UNSIGNED-PAYLOAD"])[0]
    else:
        fields = {}
        for item in auth[len("AWS4-HMAC-SHA256") :].split(","):
            k, _, v = item.strip().partition("=")
            fields[k.strip()] = v.strip()
        credential = fields.get("Credential", "")
        signed_headers = fields.get("SignedHeaders", "")
        signature = fields.get("Signature", "")
        amz_date = _header(environ, "x-amz-date") or ""
        payload_hash = _header(environ, "x-amz-content-sha256") or ""

    cred_parts = credential.split("/")
    if len(cred_parts) != 5 or cred_parts[4] != "aws4_request":
        raise AuthError(
            "AuthorizationHeaderMalformed" if not presigned else "AuthorizationQueryParametersError",
            "The authorization credential is malformed.",
            400,
        )
    ak, scope_date, region, service, _ = cred_parts
    secret = iam.secret_for(ak)
    if secret is None:
        raise AuthError("InvalidAccessKeyId", _ERR_MSG["InvalidAccessKeyId"])
    if not verify_sig:
        return ak

    when = _parse_amz_date(amz_date)
    now = _dt.datetime.now(_dt.UTC)
    if presigned:
        try:
            expires = int(query.get("X-Amz-Expires", ["0"])[0])
        except ValueError:
            expires = -1
        if expires < 0 or expires > 604800:
            raise AuthError("AuthorizationQueryParametersError", "X-Amz-Expires must be between 0 and 604800", 400)
        if now > when + _dt.timedelta(seconds=expires):
            raise AuthError("AccessDenied", "Request has expired")
        if when - now > MAX_SKEW:
            raise AuthError(
                "RequestTimeTooSkewed", "The difference between the request time and the server's time is too large."
            )
    elif abs(now - when) > MAX_SKEW:
        raise AuthError(
            "RequestTimeTooSkewed", "The difference between the request time and the server's time is too large."
        )

    if not payload_hash:  # header-signed request without the header: hash the body ourselves
        body = _buffer_body(environ)
        payload_hash = hashlib.sha256(body).hexdigest()

    canon_headers = []
    for name in signed_headers.split(";"):
        val = _header(environ, name)
        if val is None:
            val = ""
        canon_headers.append(f"{name}:{' '.join(val.strip().split())}\n")
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or urllib.parse.quote(environ.get("PATH_INFO", "/"))
    raw_path = raw_uri.split("?", 1)[0] or "/"
    if raw_path.startswith(("http://", "https://")):  # absolute-form request target
        raw_path = urllib.parse.urlsplit(raw_path).path or "/"
    raw_qs = raw_uri.split("?", 1)[1] if "?" in raw_uri else qs
    cquery = _canonical_query(raw_qs, drop="X-Amz-Signature" if presigned else None)
    scope = f"{scope_date}/{region}/{service}/aws4_request"
    candidates = [raw_path]
    normalized = _uri_encode(urllib.parse.unquote(raw_path), safe="/-_.~")
    if normalized != raw_path:
        candidates.append(normalized)
    for path in candidates:
        creq = "\n".join(
            [environ["REQUEST_METHOD"], path, cquery, "".join(canon_headers), signed_headers, payload_hash]
        )
        sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
        expected = hmac.new(_signing_key(secret, scope_date, region, service), sts.encode(), hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, signature):
            return ak
    LOG.info(
        "SignatureDoesNotMatch for %s %s (signed headers %s, host %r)",
        environ["REQUEST_METHOD"],
        raw_path,
        signed_headers,
        _header(environ, "host"),
    )
    raise AuthError("SignatureDoesNotMatch", _ERR_MSG["SignatureDoesNotMatch"])


def _buffer_body(environ: dict) -> bytes:
    if "lobestack.body" in environ:
        return environ["lobestack.body"]
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["lobestack.body"] = body
    environ["wsgi.input"] = io.BytesIO(body)
    return body


# --------------------------------------------------------------------------- persistence under the data dir
def _s3_backend():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]


class Persistence:
    """Keeps buckets, bucket policies, objects (bytes, metadata, last-modified) and IAM users/policies under
    `<data dir>/.lobestack-standin/`, so a recreated container on the same volume finds them, as with MinIO.
    Written through after every successful change; loaded into moto at start. Not MinIO's on-disk format."""

    def __init__(self, data_dir: str, iam: IAM):
        import pathlib

        self.root = pathlib.Path(data_dir) / ".lobestack-standin"
        self.iam = iam
        self.lock = threading.Lock()

    def _obj_path(self, bucket: str, key: str):
        return self.root / "objects" / bucket / hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def _write(path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def load(self) -> str:
        """Restore the saved state into moto and the IAM; say what was found."""
        state_file = self.root / "state.json"
        if not state_file.is_file():
            self.root.mkdir(parents=True, exist_ok=True)
            return "empty"
        state = json.loads(state_file.read_text())
        backend = _s3_backend()
        objects = 0
        for name, meta in state.get("buckets", {}).items():
            backend.create_bucket(name, "us-east-1")
            if meta.get("policy"):
                backend.put_bucket_policy(name, meta["policy"].encode())
            for info_file in sorted((self.root / "objects" / name).glob("*.json")):
                info = json.loads(info_file.read_text())
                key = backend.put_object(name, info["key"], info_file.with_suffix("").read_bytes())
                key.set_metadata(info.get("metadata", {}))
                if info.get("last_modified"):
                    key.last_modified = _dt.datetime.fromisoformat(info["last_modified"])
                objects += 1
        with self.iam.lock:
            self.iam.users.update(state.get("users", {}))
            self.iam.policies.update(state.get("policies", {}))
        return f"{len(state.get('buckets', {}))} bucket(s), {objects} object(s), {len(state.get('users', {}))} user(s)"

    def save_state(self) -> None:
        backend = _s3_backend()
        buckets = {}
        for name, bucket in backend.buckets.items():
            policy = bucket.policy.decode() if isinstance(bucket.policy, bytes) else bucket.policy
            buckets[name] = {"policy": policy or None}
        with self.iam.lock:
            users = dict(self.iam.users)
            policies = {k: v for k, v in self.iam.policies.items() if k not in CANNED_POLICIES}
        data = json.dumps({"buckets": buckets, "users": users, "policies": policies}, indent=1).encode()
        with self.lock:
            self._write(self.root / "state.json", data)
            for gone in (self.root / "objects").glob("*"):
                if gone.name not in buckets:
                    for f in gone.iterdir():
                        f.unlink()
                    gone.rmdir()

    def save_key(self, bucket: str, key: str) -> None:
        backend = _s3_backend()
        path = self._obj_path(bucket, key)
        info_path = path.with_suffix(".json")
        try:
            obj = backend.get_object(bucket, key)
        except Exception:  # the bucket is gone
            obj = None
        with self.lock:
            if obj is None:
                info_path.unlink(missing_ok=True)
                path.unlink(missing_ok=True)
                return
            self._write(path, obj.value)
            info = {"key": key, "metadata": dict(obj.metadata), "last_modified": obj.last_modified.isoformat()}
            self._write(info_path, json.dumps(info).encode())

    def save_bucket_keys(self, bucket: str) -> None:
        """After a multi-object delete: drop what moto no longer has."""
        try:
            present = set(_s3_backend().get_bucket(bucket).keys.keys())
        except Exception:
            present = set()
        for info_file in (self.root / "objects" / bucket).glob("*.json"):
            key = json.loads(info_file.read_text())["key"]
            if key not in present:
                self.save_key(bucket, key)


# --------------------------------------------------------------------------- the WSGI layer
def _xml_error(code: str, message: str, resource: str, bucket: str = "", key: str = "") -> bytes:
    from xml.sax.saxutils import escape

    rid = uuid.uuid4().hex[:16].upper()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<Key>{escape(key)}</Key><BucketName>{escape(bucket)}</BucketName>"
        f"<Resource>{escape(resource)}</Resource><RequestId>{rid}</RequestId>"
        f"<HostId>{SERVER_NAME}</HostId></Error>"
    ).encode()


class MinioLayer:
    def __init__(
        self,
        s3_app,
        iam: IAM,
        cors_origins: list[str],
        verify_sig: bool,
        enforce_policies: bool,
        persistence: Persistence | None = None,
    ):
        self.app = s3_app
        self.iam = iam
        self.cors_origins = cors_origins
        self.verify_sig = verify_sig
        self.enforce_policies = enforce_policies
        self.persistence = persistence

    # -- CORS (MinIO's corsHandler: rs/cors with an AllowOriginFunc over MINIO_API_CORS_ALLOW_ORIGIN)
    def allowed_origin(self, origin: str | None) -> bool:
        """The Origin header, as sent, matches one entry exactly or by wildcard (`*`, `?`): `lobe.test` never
        matches `https://lobe.test`."""
        if not origin:
            return False
        return any(match_simple(pattern, origin) for pattern in self.cors_origins)

    def cors_headers(self, environ: dict) -> list[tuple[str, str]]:
        origin = _header(environ, "origin")
        if not self.allowed_origin(origin) or environ["REQUEST_METHOD"] not in CORS_METHODS:
            return []
        return [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Expose-Headers", CORS_EXPOSE),
            ("Access-Control-Allow-Credentials", "true"),
        ]

    def preflight(self, environ, start_response):
        """rs/cors' handlePreflight: always 204; the CORS headers only for an allowed origin and method. The
        answer names the requested method and echoes the requested headers (MinIO allows any header)."""
        origin = _header(environ, "origin")
        req_method = _header(environ, "access-control-request-method") or ""
        headers = [("Vary", PREFLIGHT_VARY), ("Content-Length", "0")]
        if self.allowed_origin(origin) and (req_method == "OPTIONS" or req_method in CORS_METHODS):
            headers += [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Methods", req_method)]
            req_headers = _header(environ, "access-control-request-headers")
            if req_headers:
                headers.append(("Access-Control-Allow-Headers", req_headers))
            headers.append(("Access-Control-Allow-Credentials", "true"))
        start_response("204 No Content", headers)
        return [b""]

    # -- helpers
    def respond(self, environ, start_response, status: str, body: bytes, ctype: str, extra=()):
        headers = [("Content-Type", ctype), ("Content-Length", str(len(body))), *extra]
        headers += [("Vary", "Origin"), *self.cors_headers(environ)]
        start_response(status, headers)
        return [body] if environ["REQUEST_METHOD"] != "HEAD" else [b""]

    def error(self, environ, start_response, status: int, code: str, message: str, bucket="", key=""):
        reason = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed"}.get(status, "")
        body = _xml_error(code, message, environ.get("PATH_INFO", "/"), bucket, key)
        return self.respond(environ, start_response, f"{status} {reason}", body, "application/xml")

    def __call__(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "/") or "/"

        if path.startswith("/minio/health/"):
            if path.rstrip("/") in (
                "/minio/health/live",
                "/minio/health/ready",
                "/minio/health/cluster",
                "/minio/health/cluster/read",
            ):
                return self.respond(environ, start_response, "200 OK", b"", "text/plain")
            return self.error(environ, start_response, 404, "NotFound", "Not found")

        if method == "OPTIONS" and _header(environ, "access-control-request-method"):
            # a CORS preflight never reaches the S3 handlers (rs/cors), so no auth and no 403 from moto
            return self.preflight(environ, start_response)

        try:
            ak = authenticate(environ, self.iam, self.verify_sig)
        except AuthError as exc:
            return self.error(environ, start_response, exc.status, exc.code, exc.message)

        if path.startswith("/minio/admin/"):
            return self.admin(environ, start_response, ak, path)
        if path.startswith("/minio/"):
            return self.error(
                environ,
                start_response,
                400,
                "InvalidRequest",
                "This MinIO endpoint is not implemented by the lobestack stand-in.",
            )

        parts = path.lstrip("/").split("/", 1)
        bucket = parts[0]
        key = parts[1] if len(parts) > 1 else ""
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        action, resource = s3_action(method, bucket, key, query)

        if ak is None:
            if not self.anonymous_allowed(bucket, action, resource):
                return self.error(environ, start_response, 403, "AccessDenied", _ERR_MSG["AccessDenied"], bucket, key)
        elif (
            ak != self.iam.root_user
            and self.enforce_policies
            and not policy_allows(self.iam.user_policies(ak), action, resource, anonymous=False)
        ):
            return self.error(environ, start_response, 403, "AccessDenied", _ERR_MSG["AccessDenied"], bucket, key)

        extra = [("Vary", "Origin"), *self.cors_headers(environ)]
        seen = []

        def sr(status, headers, exc_info=None):
            seen.append(status)
            headers = [
                (k, v)
                for k, v in headers
                if not k.lower().startswith("access-control-") and k.lower() not in ("server", "date")
            ]
            headers += extra
            return start_response(status, headers, exc_info)

        body = self.app(environ, sr)
        if self.persistence is not None and method in ("PUT", "POST", "DELETE") and seen and seen[0][0] == "2":
            if key:
                self.persistence.save_key(bucket, key)
            elif method == "POST" and "delete" in query:
                self.persistence.save_bucket_keys(bucket)
            else:
                self.persistence.save_state()
        return body

    def anonymous_allowed(self, bucket: str, action: str, resource: str) -> bool:
        if not bucket:
            return False
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.s3.models import s3_backends

        try:
            b = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_bucket(bucket)
        except Exception:
            return False
        if not b.policy:
            return False
        try:
            doc = json.loads(b.policy.decode() if isinstance(b.policy, bytes) else b.policy)
        except ValueError:
            return False
        return policy_allows([doc], action, resource, anonymous=True)

    # -- admin API (our own JSON dialect; only our `mc` speaks it)
    def admin(self, environ, start_response, ak: str | None, path: str):
        if ak != self.iam.root_user:
            return self.error(environ, start_response, 403, "AccessDenied", _ERR_MSG["AccessDenied"])
        method = environ["REQUEST_METHOD"]
        query = {
            k: v[0] for k, v in urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()
        }
        op = path[len("/minio/admin/v3/") :] if path.startswith("/minio/admin/v3/") else ""
        body = _buffer_body(environ)

        def ok(obj=None):
            if method != "GET" and self.persistence is not None:
                self.persistence.save_state()
            data = json.dumps(obj if obj is not None else {}).encode()
            return self.respond(environ, start_response, "200 OK", data, "application/json")

        def bad(msg, code="XMinioAdminInvalidArgument", status=400):
            return self.error(environ, start_response, status, code, msg)

        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return bad("request body is not JSON (the lobestack stand-in admin API takes plain JSON)")
        iam = self.iam
        if op == "add-user" and method == "PUT":
            user = query.get("accessKey", "")
            secret = payload.get("secretKey", "")
            if len(user) < 3 or len(secret) < 8:
                return bad("access key must be at least 3 and secret key at least 8 characters")
            if user == iam.root_user:
                return bad("Adding a user with the same access key as root credential is not allowed")
            with iam.lock:
                old = iam.users.get(user, {})
                iam.users[user] = {
                    "secretKey": secret,
                    "status": payload.get("status", "enabled"),
                    "policies": old.get("policies", []),
                }
            return ok()
        if op == "remove-user" and method == "DELETE":
            with iam.lock:
                if iam.users.pop(query.get("accessKey", ""), None) is None:
                    return bad("The specified user does not exist", "XMinioAdminNoSuchUser", 404)
            return ok()
        if op == "list-users" and method == "GET":
            with iam.lock:
                return ok(
                    {k: {"status": v["status"], "policyName": ",".join(v["policies"])} for k, v in iam.users.items()}
                )
        if op == "add-canned-policy" and method == "PUT":
            name = query.get("name", "")
            if not name or not isinstance(payload, dict) or "Statement" not in payload:
                return bad(
                    "policy name and a policy document with a Statement are required", "XMinioMalformedIAMPolicy"
                )
            with iam.lock:
                iam.policies[name] = payload
            return ok()
        if op == "list-canned-policies" and method == "GET":
            with iam.lock:
                return ok(dict(iam.policies))
        if op == "idp/builtin/policy/attach" and method == "POST":
            user = payload.get("user", "")
            names = payload.get("policies", [])
            with iam.lock:
                if user not in iam.users:
                    return bad("The specified user does not exist", "XMinioAdminNoSuchUser", 404)
                missing = [n for n in names if n not in iam.policies]
                if missing:
                    return bad(f"The canned policy does not exist: {','.join(missing)}", "XMinioAdminNoSuchPolicy", 404)
                cur = iam.users[user]["policies"]
                if all(n in cur for n in names):
                    return bad(
                        "The specified policy change is already in effect.", "XMinioAdminPolicyChangeAlreadyApplied"
                    )
                cur.extend(n for n in names if n not in cur)
                return ok({"policiesAttached": names, "user": user})
        if op == "info" and method == "GET":
            return ok({"mode": "online", "servers": [{"state": "online", "version": "lobestack-standin"}]})
        return bad(
            f"admin operation {method} {op!r} is not implemented by the lobestack stand-in",
            "XMinioAdminNotImplemented",
            501,
        )


# --------------------------------------------------------------------------- console + serving
CONSOLE_HTML = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>MinIO Console (lobestack stand-in)</title></head>
<body><h1>MinIO Console (lobestack stand-in)</h1>
<p>This is NOT MinIO: it is lobestack's moto-based S3 stand-in for hermetic CI. There is no real console.</p>
</body></html>
"""


def console_app(environ, start_response):
    if environ.get("PATH_INFO", "").startswith("/minio/health/"):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "0")])
        return [b""]
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(CONSOLE_HTML)))])
    return [CONSOLE_HTML] if environ["REQUEST_METHOD"] != "HEAD" else [b""]


def _parse_addr(addr: str, default_port: int) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port or default_port)


def serve(argv: list[str]) -> int:
    from werkzeug.serving import WSGIRequestHandler, make_server

    address, console_address, dirs = ":9000", ":9001", []
    it = iter(argv)
    for arg in it:
        if arg in ("--address", "--console-address", "--certs-dir", "-S", "--config-dir", "--ftp", "--sftp"):
            val = next(it, "")
            if arg == "--address":
                address = val
            elif arg == "--console-address":
                console_address = val
            elif arg in ("--certs-dir", "-S"):
                print(f"WARNING: {arg} ignored: the lobestack stand-in serves plain HTTP only", file=sys.stderr)
        elif arg.startswith("--address="):
            address = arg.split("=", 1)[1]
        elif arg.startswith("--console-address="):
            console_address = arg.split("=", 1)[1]
        elif arg.startswith("-"):
            pass  # --quiet, --anonymous, --json ...: accepted, ignored
        else:
            dirs.append(arg)
    if not dirs and os.environ.get("MINIO_VOLUMES"):
        dirs = os.environ["MINIO_VOLUMES"].split()
    if not dirs:
        print(
            "ERROR Invalid command line arguments: no data directory given (usage: minio server DIR)", file=sys.stderr
        )
        return 1

    user = _env_secret("MINIO_ROOT_USER") or _env_secret("MINIO_ACCESS_KEY")
    password = _env_secret("MINIO_ROOT_PASSWORD") or _env_secret("MINIO_SECRET_KEY")
    if not user and not password:
        user, password = "minioadmin", "minioadmin"
        print(
            "WARNING: Detected default credentials 'minioadmin:minioadmin', we recommend that you change these "
            "values with 'MINIO_ROOT_USER' and 'MINIO_ROOT_PASSWORD' environment variables",
            file=sys.stderr,
        )
    if not user or len(user) < 3 or not password or len(password) < 8:
        print(
            "ERROR Unable to validate credentials inherited from the shell environment: Invalid credentials "
            "(MINIO_ROOT_USER must be >= 3 and MINIO_ROOT_PASSWORD >= 8 characters)",
            file=sys.stderr,
        )
        return 1

    for d in dirs:
        if "{" not in d and "://" not in d:
            os.makedirs(d, exist_ok=True)

    cors_origins = cors_allow_origins(os.environ.get("MINIO_API_CORS_ALLOW_ORIGIN", ""))
    verify_sig = not _truthy("LOBESTACK_MINIO_SKIP_SIGV4")
    enforce = _truthy("LOBESTACK_MINIO_ENFORCE_POLICIES")

    import moto
    from moto.moto_server.werkzeug_app import create_backend_app

    iam = IAM(user, password)
    persistence, restored = None, "state in memory only: the data dir is not a local, writable path"
    local_dirs = [d for d in dirs if "{" not in d and "://" not in d]
    if local_dirs and os.access(local_dirs[0], os.W_OK):
        persistence = Persistence(local_dirs[0], iam)
        try:
            restored = f"state under {persistence.root}: restored {persistence.load()}"
        except (OSError, ValueError) as exc:
            print(f"ERROR cannot read the saved state under {persistence.root}: {exc}", file=sys.stderr)
            return 1
    app = MinioLayer(create_backend_app("s3"), iam, cors_origins, verify_sig, enforce, persistence)

    class Handler(WSGIRequestHandler):
        def version_string(self):  # the Server header
            return SERVER_NAME

    api_host, api_port = _parse_addr(address, 9000)
    con_host, con_port = _parse_addr(console_address, 9001)
    api = make_server(api_host, api_port, app, threaded=True, request_handler=Handler)
    con = make_server(con_host, con_port, console_app, threaded=True, request_handler=Handler)
    threading.Thread(target=con.serve_forever, name="console", daemon=True).start()
    print(f"MinIO Object Storage Server -- lobestack STAND-IN (moto {moto.__version__}), NOT MinIO", flush=True)
    print(f"API: http://{api_host}:{api_port}", flush=True)
    print(f"WebUI: http://{con_host}:{con_port}", flush=True)
    print(f"Data dirs: {' '.join(dirs)}; {restored}", flush=True)
    print(
        f"CORS allowed origins: {', '.join(cors_origins) or '(none)'}; SigV4 verification: "
        f"{'on' if verify_sig else 'OFF'}; user policy enforcement: {'on' if enforce else 'off'}",
        flush=True,
    )
    api.serve_forever()
    return 0


def main(argv: list[str]) -> int:
    logging.basicConfig(
        level=os.environ.get("LOBESTACK_MINIO_LOG_LEVEL", "INFO"),
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    if argv and argv[0] == "minio":
        argv = argv[1:]
    if not argv or argv[0] in ("-h", "--help", "help"):
        print("minio (lobestack stand-in): usage: minio server DIR [--address :9000] [--console-address :9001]")
        return 0 if argv else 1
    if argv[0] in ("--version", "-v", "version"):
        print("minio version RELEASE.2025-04-22T22-12-26Z (lobestack stand-in, moto-based, NOT MinIO)")
        return 0
    if argv[0] == "server":
        return serve(argv[1:])
    print(f"minio: '{argv[0]}' is not a minio command supported by the lobestack stand-in", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
