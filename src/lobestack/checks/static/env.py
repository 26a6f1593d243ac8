"""Env policy: required values present, secrets strong and not placeholders, formats LobeChat and MinIO demand,
no deprecated or wrong-major variable names."""

from __future__ import annotations

import base64
import binascii
import math
import re
import string
from collections import Counter
from collections.abc import Iterator

from lobestack.checks.faults import Edit, SetEnv
from lobestack.checks.registry import Finding, Group
from lobestack.deployment import Deployment
from lobestack.deployment.envfile import SECRET_NAME

GROUP = Group("ENV", layer="static", title="Env policy")

REQUIRED = (
    "APP_DOMAIN",
    "AUTH_DOMAIN",
    "S3_DOMAIN",
    "APP_URL",
    "NEXTAUTH_URL",
    "NEXT_AUTH_SECRET",
    "NEXT_AUTH_SSO_PROVIDERS",
    "AUTH_LOGTO_ID",
    "AUTH_LOGTO_SECRET",
    "AUTH_LOGTO_ISSUER",
    "KEY_VAULTS_SECRET",
    "LOBE_DB_PASSWORD",
    "LOGTO_ENDPOINT",
    "LOGTO_ADMIN_ENDPOINT",
    "LOGTO_DB_PASSWORD",
    "MINIO_ROOT_USER",
    "MINIO_ROOT_PASSWORD",
    "S3_BUCKET",
    "S3_ENDPOINT",
    "S3_PUBLIC_DOMAIN",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
)
# Minimum length per secret; the rest of SECRET_NAME's matches need 16.
MIN_LENGTH = {"NEXT_AUTH_SECRET": 32, "S3_SECRET_ACCESS_KEY": 32, "AUTH_LOGTO_SECRET": 16}
_PLACEHOLDER = re.compile(
    r"change.?me|placeholder|example|your[-_ ]|^<.*>$|^x+$|^(password|passw0rd|secret|admin|root|test|minioadmin|"
    r"minio123|postgres|logto|lobe|default|12345678?9?0?)$",
    re.IGNORECASE,
)
_URL_KEYS = (
    "APP_URL",
    "NEXTAUTH_URL",
    "AUTH_LOGTO_ISSUER",
    "LOGTO_ENDPOINT",
    "LOGTO_ADMIN_ENDPOINT",
    "S3_ENDPOINT",
    "S3_PUBLIC_DOMAIN",
)


def _entropy_bits(value: str) -> float:
    counts = Counter(value)
    per_char = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return per_char * len(value)


@GROUP.check(
    "ENV-REQUIRED",
    title="every required variable is present and not empty",
    fix="set it in .env (see .env.example for its format); AUTH_LOGTO_ID/SECRET come from the Logto application "
    "for LobeChat (`lobestack provision`, or the Logto console)",
    faults=[SetEnv({"AUTH_LOGTO_ID": ""}), SetEnv({"S3_ENDPOINT": None})],
)
def required(d: Deployment) -> Iterator[Finding]:
    for where, message in d.compose.unresolved:
        yield Finding(message, where)
    for key in REQUIRED:
        if key not in d.env.values:
            yield Finding(f"{key} is missing", d.env.where(key))
        elif not d.env.get(key).strip():
            yield Finding(f"{key} is empty", d.env.where(key))


@GROUP.check(
    "ENV-SECRET-STRENGTH",
    title="secrets are long, random and not placeholders",
    fix="regenerate it (`openssl rand -hex 32`: letters and digits, safe everywhere), or re-run "
    "`lobestack init --force` and keep the values you need",
    faults=[
        SetEnv({"LOGTO_DB_PASSWORD": "changeme"}),
        SetEnv({"NEXT_AUTH_SECRET": "a" * 40}),
        SetEnv({"LOBE_DB_PASSWORD": "short1"}),
    ],
)
def secret_strength(d: Deployment) -> Iterator[Finding]:
    for key, value in d.env.values.items():
        if not SECRET_NAME.search(key) or not value or key == "KEY_VAULTS_SECRET":
            continue
        minimum = MIN_LENGTH.get(key, 16)
        if _PLACEHOLDER.search(value):
            yield Finding(f"{key} is a placeholder or well-known value", d.env.where(key))
        elif len(value) < minimum:
            yield Finding(f"{key} has {len(value)} characters, fewer than {minimum}", d.env.where(key))
        elif _entropy_bits(value) < 48:
            yield Finding(f"{key} is not random enough (~{_entropy_bits(value):.0f} bits)", d.env.where(key))


@GROUP.check(
    "ENV-KEY-VAULTS",
    title="KEY_VAULTS_SECRET is base64 of exactly 32 bytes",
    fix='set KEY_VAULTS_SECRET=$(openssl rand -base64 32); any other length fails with "Invalid key length"',
    faults=[
        SetEnv({"KEY_VAULTS_SECRET": base64.b64encode(b"k" * 16).decode()}),
        SetEnv({"KEY_VAULTS_SECRET": "not base64 at all!"}),
    ],
)
def key_vaults(d: Deployment) -> Iterator[Finding]:
    value = d.env.get("KEY_VAULTS_SECRET")
    if not value:
        return  # ENV-REQUIRED says so
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        yield Finding("KEY_VAULTS_SECRET is not valid base64", d.env.where("KEY_VAULTS_SECRET"))
        return
    if len(raw) != 32:
        yield Finding(f"KEY_VAULTS_SECRET decodes to {len(raw)} bytes, not 32", d.env.where("KEY_VAULTS_SECRET"))


@GROUP.check(
    "ENV-MINIO-CREDENTIALS",
    title="MinIO does not run with default credentials, and LobeChat does not use the root account",
    fix="set MINIO_ROOT_USER/MINIO_ROOT_PASSWORD to fresh values (never minioadmin) and give LobeChat its own "
    "S3_ACCESS_KEY_ID (minio-init creates it, limited to the bucket)",
    faults=[
        SetEnv({"MINIO_ROOT_USER": "minioadmin", "MINIO_ROOT_PASSWORD": "minioadmin"}),
        SetEnv({"S3_ACCESS_KEY_ID": "lobestack-root", "MINIO_ROOT_USER": "lobestack-root"}),
    ],
)
def minio_credentials(d: Deployment) -> Iterator[Finding]:
    user, password = d.env.get("MINIO_ROOT_USER"), d.env.get("MINIO_ROOT_PASSWORD")
    if user.lower() in ("minioadmin", "minio", "admin", "root"):
        yield Finding(f"MINIO_ROOT_USER is the default {user!r}", d.env.where("MINIO_ROOT_USER"))
    if password.lower() in ("minioadmin", "minio123", "password"):
        yield Finding("MINIO_ROOT_PASSWORD is a default value", d.env.where("MINIO_ROOT_PASSWORD"))
    if user and d.env.get("S3_ACCESS_KEY_ID") == user:
        yield Finding("S3_ACCESS_KEY_ID is the MinIO root user", d.env.where("S3_ACCESS_KEY_ID"))


@GROUP.check(
    "ENV-DEPRECATED-LOGTO",
    title="no deprecated LOGTO_CLIENT_ID / LOGTO_CLIENT_SECRET / LOGTO_ISSUER names",
    fix="rename them to AUTH_LOGTO_ID / AUTH_LOGTO_SECRET / AUTH_LOGTO_ISSUER",
    faults=[SetEnv({"LOGTO_CLIENT_ID": "abc"}), SetEnv({"LOGTO_ISSUER": "https://auth.example.com/oidc"})],
)
def deprecated_logto(d: Deployment) -> Iterator[Finding]:
    for old, new in (
        ("LOGTO_CLIENT_ID", "AUTH_LOGTO_ID"),
        ("LOGTO_CLIENT_SECRET", "AUTH_LOGTO_SECRET"),
        ("LOGTO_ISSUER", "AUTH_LOGTO_ISSUER"),
    ):
        if old in d.env.values:
            yield Finding(f"{old} is deprecated (LobeChat reads {new})", d.env.where(old))
    for s in (d.lobe,):
        if s is None:
            continue
        for old in ("LOGTO_CLIENT_ID", "LOGTO_CLIENT_SECRET", "LOGTO_ISSUER"):
            if old in s.environment:
                yield Finding(f"service {s.name} sets deprecated {old}", d.compose.where(s, "environment"))


@GROUP.check(
    "ENV-LOBE-2X-VARS",
    title="no LobeChat 2.x (Better Auth) variables next to a 1.x image",
    fix="remove AUTH_SECRET / JWKS_KEY / AUTH_SSO_PROVIDERS: the 1.x image reads NEXT_AUTH_SECRET and "
    "NEXT_AUTH_SSO_PROVIDERS (or move the whole deployment to 2.x and its new callback URL)",
    faults=[SetEnv({"AUTH_SSO_PROVIDERS": "logto"}), SetEnv({"JWKS_KEY": "{}"})],
)
def lobe_2x_vars(d: Deployment) -> Iterator[Finding]:
    for key in ("AUTH_SECRET", "JWKS_KEY", "AUTH_SSO_PROVIDERS"):
        if key in d.env.values:
            yield Finding(f"{key} is a LobeChat 2.x variable; the 1.x image ignores it", d.env.where(key))


@GROUP.check(
    "ENV-NEXTAUTH-PROVIDERS",
    title="NEXT_AUTH_SSO_PROVIDERS enables logto",
    fix="set NEXT_AUTH_SSO_PROVIDERS=logto",
    faults=[SetEnv({"NEXT_AUTH_SSO_PROVIDERS": "github"})],
)
def providers(d: Deployment) -> Iterator[Finding]:
    value = d.env.get("NEXT_AUTH_SSO_PROVIDERS")
    if value and "logto" not in [p.strip() for p in value.split(",")]:
        yield Finding(
            f"NEXT_AUTH_SSO_PROVIDERS={value!r} does not include logto", d.env.where("NEXT_AUTH_SSO_PROVIDERS")
        )


@GROUP.check(
    "ENV-S3-PATH-STYLE",
    title="S3 requests are path-style (MinIO behind one name)",
    fix="set S3_ENABLE_PATH_STYLE=1; virtual-host style sends uploads to <bucket>.<s3 host>, which nothing serves",
    faults=[
        SetEnv({"S3_ENABLE_PATH_STYLE": "0"}),
        Edit("docker-compose.yml", "S3_ENABLE_PATH_STYLE: ${S3_ENABLE_PATH_STYLE:-1}", 'S3_ENABLE_PATH_STYLE: "0"'),
    ],
)
def s3_path_style(d: Deployment) -> Iterator[Finding]:
    value = d.lobe.environment.get("S3_ENABLE_PATH_STYLE") if d.lobe else d.env.get("S3_ENABLE_PATH_STYLE")
    if value != "1":
        yield Finding(f"S3_ENABLE_PATH_STYLE is {value!r}, not 1", d.env.where("S3_ENABLE_PATH_STYLE"))


@GROUP.check(
    "ENV-URLS",
    title="public URLs are https origins without a trailing slash",
    fix="write them as https://host[:port] (AUTH_LOGTO_ISSUER and NEXTAUTH_URL add their path), no trailing '/'",
    faults=[
        SetEnv({"APP_URL": "http://lobe.example.com"}),
        SetEnv({"S3_ENDPOINT": "https://s3.example.com/"}),
        SetEnv({"AUTH_LOGTO_ISSUER": "https://auth.example.com/oidc/"}),
    ],
)
def urls(d: Deployment) -> Iterator[Finding]:
    for key in _URL_KEYS:
        value = d.env.get(key)
        if not value:
            continue
        if not value.startswith("https://"):
            yield Finding(f"{key}={value!r} is not https", d.env.where(key))
        elif value.endswith("/"):
            yield Finding(f"{key}={value!r} ends with '/'", d.env.where(key))
        elif d.origin(key) is None:
            yield Finding(f"{key}={value!r} is not a valid URL", d.env.where(key))


# What URL user info holds as it is (RFC 3986: unreserved, sub-delims and ':'). Compose builds DATABASE_URL and
# Logto's DB_URL by plain substitution, so anything else is read as URL syntax (`@ / ? #`) or percent-decoded
# (`%`): the database then sees another password than the one the URL sends, or no URL at all.
_USERINFO_SAFE = frozenset(string.ascii_letters + string.digits + "-._~!$&'()*+,;=:")
_SPLITS_IN_SHELL = re.compile(r"[\s*?\[]")
_SHELL_COMMANDS = re.compile(r"\|\||&&|;")
# Credentials minio/init.sh hands to mc that are not secret-named.
_CREDENTIALS = ("MINIO_ROOT_USER", "S3_ACCESS_KEY_ID")
_INIT_SCRIPT = "minio/init.sh"
_PIPED_ALIAS = (
    'printf \'%s\\n%s\\n\' "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" | mc alias set local http://minio:9000\n'
)


def _url_uses(d: Deployment, value: str) -> Iterator[str]:
    """The URLs of the services' environment that carry `value` in their user info."""
    for service in d.compose.services.values():
        for name, text in service.environment.items():
            scheme = text.find("://")
            at = text.find(value, scheme + 3) if scheme >= 0 else -1
            if at >= 0 and "@" in text[at + len(value) :]:
                yield f"{name} of service {service.name}"


def _script_uses(script: str, key: str) -> Iterator[tuple[int, str, bool]]:
    """(line, how, quoted) of each use of $key in a shell script: how is "mc" (an argument of mc), "mc stdin" (piped
    into mc by printf/echo) or "shell" (a word of another command); quoted: inside double quotes."""
    reference = re.compile(r"\$(?:\{" + key + r"\}|" + key + r"(?![A-Za-z0-9_]))")
    for number, line in enumerate(script.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        for command in _SHELL_COMMANDS.split(line):
            stages = command.split("|")
            for stage, text in enumerate(stages):
                for match in reference.finditer(text):
                    before = text[: match.start()]
                    if before.count("'") % 2:  # inside single quotes: not expanded
                        continue
                    words = text.split()
                    program = words[0] if words else ""
                    feeds_mc = stage + 1 < len(stages) and stages[stage + 1].split()[:1] == ["mc"]
                    how = (
                        "mc"
                        if program == "mc"
                        else "mc stdin"
                        if program in ("printf", "echo") and feeds_mc
                        else "shell"
                    )
                    yield number, how, bool(before.count('"') % 2)


@GROUP.check(
    "ENV-SECRET-SAFE",
    title="every secret and MinIO credential survives each place it goes: URL user info, mc, the shell, Compose",
    fix="use letters and digits only (what `lobestack init` generates; `openssl rand -hex 32` prints one); to keep "
    "a value, write `$$` for a literal `$` in .env and hand keys to mc on stdin as the bundle's minio/init.sh does",
    faults=[
        SetEnv({"LOBE_DB_PASSWORD": "Zx9@kQ2/mP7#vL4:wR8?"}),
        (
            Edit(
                _INIT_SCRIPT,
                _PIPED_ALIAS,
                'mc alias set local http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"\n',
            ),
            SetEnv({"MINIO_ROOT_PASSWORD": "-Xk2vQ9mPz4Lr7Ns1Wd8Tb"}),
        ),
        (
            Edit(_INIT_SCRIPT, '"$MINIO_ROOT_PASSWORD" | mc alias set', "$MINIO_ROOT_PASSWORD | mc alias set"),
            SetEnv({"MINIO_ROOT_PASSWORD": "Xk2v Q9mP z4Lr 7Ns1 Wd8T"}),
        ),
        SetEnv({"MINIO_ROOT_PASSWORD": '"Xk2vQ9mPz4\\nLr7Ns1Wd8Tb"'}, raw=True),
        SetEnv({"LOGTO_DB_PASSWORD": "Kq7mZ2vR$x9L4pN8wT3y"}, raw=True),
    ],
)
def secret_safe(d: Deployment) -> Iterator[Finding]:
    keys = [k for k in d.env.values if SECRET_NAME.search(k) or k in _CREDENTIALS]
    for key in keys:
        value, where = d.env.get(key), d.env.where(key)
        if not value:
            continue
        if not set(value) <= _USERINFO_SAFE:
            for use in _url_uses(d, value):
                yield Finding(
                    f"{key} breaks {use}: URL user info holds only letters, digits and -._~!$&'()*+,;=: as they "
                    "are; its other characters are read as URL syntax or percent-decoded",
                    where,
                )
        for line, how, quoted in _script_uses(d.init_script or "", key):
            at = f"{_INIT_SCRIPT}:{line}"
            if how == "mc" and value.startswith("-"):
                yield Finding(
                    f"{key} breaks mc at {at}: as an argument, a value that starts with '-' is an option", where
                )
            if how == "mc stdin" and ("\n" in value or "\r" in value):
                yield Finding(f"{key} breaks mc's standard input at {at}: a line break ends the key early", where)
            if not quoted and _SPLITS_IN_SHELL.search(value):
                yield Finding(
                    f"{key} breaks the shell at {at}: unquoted, its spaces or * ? [ split or expand it", where
                )
        if key in d.env.unset_references:
            yield Finding(
                f"{key} breaks Compose interpolation: a `$` in it starts a reference to a variable that is not set, "
                "and Compose puts nothing in its place",
                where,
            )
