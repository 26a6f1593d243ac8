"""Env policy: required values present, secrets strong and not placeholders, formats LobeChat and MinIO demand,
no deprecated or wrong-major variable names.

What is judged is what each container gets (its env_files, then `environment`, interpolated from `.env`), pointing
at the `.env` line when the value comes from there as it is, else at the line that sets it; `.env` itself is judged
for the keys the template requires and for names that must not be there."""

from __future__ import annotations

import base64
import binascii
import math
import re
import string
from collections import Counter
from collections.abc import Iterator

from lobestack.checks.faults import AddFile, Edit, SetEnv, fault, passes
from lobestack.checks.registry import Finding, Group
from lobestack.checks.static.applies import minio_of
from lobestack.deployment import Deployment
from lobestack.deployment.compose import Service
from lobestack.deployment.envfile import SECRET_NAME
from lobestack.deployment.known_values import known_value

GROUP = Group("ENV", layer="static", title="Env policy")

# What each role cannot start or sign in without, in its own container's environment (whatever .env calls them):
# LobeChat's database edition with NextAuth and Logto, and Logto behind a proxy. S3 keys where MinIO or another S3
# stores the files. Our bundle's .env names (APP_DOMAIN, LOBE_DB_PASSWORD, ...) are its compose file's to require,
# with `${VAR:?}`.
NEEDS = {
    "lobe": (
        "APP_URL",
        "NEXTAUTH_URL",
        "NEXT_AUTH_SECRET",
        "NEXT_AUTH_SSO_PROVIDERS",
        "AUTH_LOGTO_ID",
        "AUTH_LOGTO_SECRET",
        "AUTH_LOGTO_ISSUER",
        "KEY_VAULTS_SECRET",
        "DATABASE_URL",
        "S3_BUCKET",
        "S3_ENDPOINT",
        "S3_ACCESS_KEY_ID",
        "S3_SECRET_ACCESS_KEY",
    ),
    "logto": ("DB_URL", "ENDPOINT", "ADMIN_ENDPOINT"),
}
# Minimum length per secret; the rest of SECRET_NAME's matches need 16.
MIN_LENGTH = {"NEXT_AUTH_SECRET": 32, "S3_SECRET_ACCESS_KEY": 32, "AUTH_LOGTO_SECRET": 16}
_PLACEHOLDER = re.compile(
    r"change.?me|placeholder|example|your[-_ ]|^<.*>$|^x+$|^(password|passw0rd|secret|admin|root|test|minioadmin|"
    r"minio123|postgres|logto|lobe|default|12345678?9?0?)$",
    re.IGNORECASE,
)


def _entropy_bits(value: str) -> float:
    counts = Counter(value)
    per_char = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return per_char * len(value)


COMPOSE = "docker-compose.yml"


def _container_url_vars(d: Deployment) -> list[tuple[Service, str]]:
    return [(d.lobe, k) for k in _URL_KEYS_LOBE if d.lobe is not None] + [
        (d.logto, k) for k in _URL_KEYS_LOGTO if d.logto is not None
    ]


_URL_KEYS_LOBE = ("APP_URL", "NEXTAUTH_URL", "AUTH_LOGTO_ISSUER", "S3_ENDPOINT", "S3_PUBLIC_DOMAIN")
_URL_KEYS_LOGTO = ("ENDPOINT", "ADMIN_ENDPOINT")


@GROUP.check(
    "ENV-REQUIRED",
    title="every `${VAR:?}` of the compose file has a value, and LobeChat and Logto get every variable they need",
    fix="set it where the service gets it (.env, its env_file or `environment`; see .env.example for its format); "
    "AUTH_LOGTO_ID/SECRET come from the Logto application for LobeChat (`lobestack provision`, or the Logto console)",
    faults=[
        fault(SetEnv({"AUTH_LOGTO_ID": ""}), expect="AUTH_LOGTO_ID is empty"),
        fault(SetEnv({"AUTH_LOGTO_ID": None}), expect="AUTH_LOGTO_ID is missing"),
        fault(
            Edit(COMPOSE, "${APP_DOMAIN:?set APP_DOMAIN in .env}", "${APP_HOSTNAME:?set APP_HOSTNAME in .env}"),
            expect="required variable APP_HOSTNAME is missing a value: set APP_HOSTNAME in .env",
        ),
        # the container's own environment, whatever .env holds
        fault(
            Edit(COMPOSE, "      ADMIN_ENDPOINT: ${LOGTO_ADMIN_ENDPOINT:?set LOGTO_ADMIN_ENDPOINT in .env}\n", ""),
            expect="service logto gets no ADMIN_ENDPOINT",
        ),
    ],
    passes=[
        passes(SetEnv({"S3_BUCKET": "lobe files"}), why="a value that needs quoting"),
        passes(SetEnv({"S3_BUCKET": None}), why="unset in .env: the compose file's default reaches the container"),
    ],
    impact="breaks",
)
def required(d: Deployment) -> Iterator[Finding]:
    for where, message in d.compose.unresolved:
        yield Finding(message, where)
    for role, keys in NEEDS.items():
        service = getattr(d, role)
        if service is None:
            continue  # COMPOSE-LOBE-1X / COMPOSE-LOGTO-START say there is none
        for key in keys:
            value = d.container_var(service, key)
            if value is None:
                yield Finding(f"service {service.name} gets no {key}", d.where_var(service, key))
                continue
            if value.value.strip():
                continue
            unset = [u for u in value.uses if u not in d.env.values]
            if unset:  # built from .env variables that are not there
                yield Finding(f"{key} is missing (.env has no {unset[0]})", d.env.where(unset[0]))
            else:
                yield Finding(f"{key} is empty (service {service.name})", d.where_var(service, key))


def _secrets(d: Deployment) -> list[tuple[str, str, str]]:
    """(name, value, where) of every secret: .env's, and those a container gets from elsewhere (a literal in the
    compose file, an env_file)."""
    out = [(k, v, d.env.where(k)) for k, v in d.env.values.items() if SECRET_NAME.search(k) and v]
    from_env = {v for _, v, _ in out}
    for s in d.compose.services.values():
        for key, value in s.env.items():
            if SECRET_NAME.search(key) and value.value and value.value not in from_env:
                out.append((f"{s.name} {key}", value.value, d.where_var(s, key)))
    return out


@GROUP.check(
    "ENV-SECRET-STRENGTH",
    title="secrets are long, random, not placeholders and not the values LobeChat's and Logto's examples publish "
    "(.env's, and those a container gets from elsewhere)",
    fix="regenerate it (`openssl rand -hex 32`: letters and digits, safe everywhere), or re-run "
    "`lobestack init --force` and keep the values you need",
    faults=[
        fault(
            SetEnv({"LOGTO_DB_PASSWORD": "changeme"}),
            expect="LOGTO_DB_PASSWORD is a placeholder or well-known default (changeme)",
        ),
        fault(
            SetEnv({"AUTH_LOGTO_SECRET": "YOUR_LOGTO_SECRET"}),
            expect="AUTH_LOGTO_SECRET is a placeholder copied from LobeChat's .env.example (YOUR_LOGTO_SECRET)",
        ),
        fault(
            SetEnv({"KEY_VAULTS_SECRET": "Kix2wcUONd4CX51E/ZPAd36BqM4wzJgKjPtz2sGztqQ="}),
            expect="KEY_VAULTS_SECRET is a placeholder copied from LobeChat's .env.example "
            "(Kix2wcUONd4CX51E/ZPAd36BqM4wzJgKjPtz2sGztqQ=)",
        ),
        fault(
            SetEnv({"LOBE_DB_PASSWORD": "my-example-password-Zx9kQ2mP7"}),
            expect="LOBE_DB_PASSWORD is a placeholder or well-known value",
        ),
        fault(SetEnv({"NEXT_AUTH_SECRET": "a" * 40}), expect="NEXT_AUTH_SECRET is not random enough"),
        fault(SetEnv({"LOBE_DB_PASSWORD": "short1"}), expect="LOBE_DB_PASSWORD has 6 characters, fewer than 16"),
        fault(
            Edit(
                COMPOSE,
                "POSTGRES_PASSWORD: ${LOGTO_DB_PASSWORD:?set LOGTO_DB_PASSWORD in .env}",
                "POSTGRES_PASSWORD: postgres",
            ),
            expect="logto-db POSTGRES_PASSWORD is a placeholder or well-known default (postgres)",
        ),
    ],
    passes=[
        passes(
            SetEnv({"LOGTO_DB_PASSWORD": "Qm9vdHN0cmFwLXNlY3JldC0xMjM0NTY3OA"}),
            why="a long random value with mixed case and digits",
        ),
        passes(
            SetEnv({"KEY_VAULTS_SECRET": base64.b64encode(b"Y" * 32).decode()}),
            why="KEY_VAULTS_SECRET is judged by ENV-KEY-VAULTS, and here only for being public",
        ),
    ],
    impact="exposure",
)
def secret_strength(d: Deployment) -> Iterator[Finding]:
    for key, value, where in _secrets(d):
        name = key.rsplit(" ", 1)[-1]
        known = known_value(value)
        if known is not None:  # public: shown, since it is not masked (deployment/known_values.py)
            yield Finding(f"{key} is {known.describe()}", where)
            continue
        if name == "KEY_VAULTS_SECRET":
            continue
        minimum = MIN_LENGTH.get(name, 16)
        if _PLACEHOLDER.search(value):
            yield Finding(f"{key} is a placeholder or well-known value", where)
        elif len(value) < minimum:
            yield Finding(f"{key} has {len(value)} characters, fewer than {minimum}", where)
        elif _entropy_bits(value) < 48:
            yield Finding(f"{key} is not random enough (~{_entropy_bits(value):.0f} bits)", where)


@GROUP.check(
    "ENV-KEY-VAULTS",
    title="LobeChat's KEY_VAULTS_SECRET is base64 of exactly 32 bytes",
    fix='set KEY_VAULTS_SECRET=$(openssl rand -base64 32); any other length fails with "Invalid key length"',
    faults=[
        fault(
            SetEnv({"KEY_VAULTS_SECRET": base64.b64encode(b"k" * 16).decode()}),
            expect="KEY_VAULTS_SECRET decodes to 16 bytes, not 32",
        ),
        fault(SetEnv({"KEY_VAULTS_SECRET": "not base64 at all!"}), expect="KEY_VAULTS_SECRET is not valid base64"),
    ],
    passes=[
        passes(
            Edit(
                COMPOSE,
                "KEY_VAULTS_SECRET: ${KEY_VAULTS_SECRET:?set KEY_VAULTS_SECRET in .env}",
                "KEY_VAULTS_SECRET: ${VAULT_KEY}",
            ),
            SetEnv({"VAULT_KEY": base64.b64encode(b"v" * 32).decode()}),
            why="the container's value comes from another .env name",
        )
    ],
    impact="breaks",
)
def key_vaults(d: Deployment) -> Iterator[Finding]:
    value = d.app_env("KEY_VAULTS_SECRET")
    if not value:
        return  # ENV-REQUIRED says so
    where = d.where_var(d.lobe, "KEY_VAULTS_SECRET")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        yield Finding("KEY_VAULTS_SECRET is not valid base64", where)
        return
    if len(raw) != 32:
        yield Finding(f"KEY_VAULTS_SECRET decodes to {len(raw)} bytes, not 32", where)


@GROUP.check(
    "ENV-MINIO-CREDENTIALS",
    title="MinIO does not run with default credentials, and LobeChat does not use the root account",
    fix="set MINIO_ROOT_USER/MINIO_ROOT_PASSWORD to fresh values (never minioadmin) and give LobeChat its own "
    "S3_ACCESS_KEY_ID (minio-init creates it, limited to the bucket)",
    faults=[
        fault(SetEnv({"MINIO_ROOT_USER": "minioadmin"}), expect="MINIO_ROOT_USER is the default 'minioadmin'"),
        fault(SetEnv({"MINIO_ROOT_PASSWORD": "minioadmin"}), expect="MINIO_ROOT_PASSWORD is a default value"),
        fault(
            SetEnv({"S3_ACCESS_KEY_ID": "lobestack-root", "MINIO_ROOT_USER": "lobestack-root"}),
            expect="S3_ACCESS_KEY_ID is the MinIO root user",
        ),
    ],
    passes=[passes(SetEnv({"MINIO_ROOT_USER": "minio-admin-7f3k"}), why="a non-default user name")],
    impact="exposure",
)
def minio_credentials(d: Deployment) -> Iterator[Finding]:
    user, password = d.s3_env("MINIO_ROOT_USER"), d.s3_env("MINIO_ROOT_PASSWORD")
    if user.lower() in ("minioadmin", "minio", "admin", "root"):
        yield Finding(f"MINIO_ROOT_USER is the default {user!r}", d.where_var(d.minio, "MINIO_ROOT_USER"))
    if password.lower() in ("minioadmin", "minio123", "password"):
        yield Finding("MINIO_ROOT_PASSWORD is a default value", d.where_var(d.minio, "MINIO_ROOT_PASSWORD"))
    if user and d.app_env("S3_ACCESS_KEY_ID") == user:
        yield Finding("S3_ACCESS_KEY_ID is the MinIO root user", d.where_var(d.lobe, "S3_ACCESS_KEY_ID"))


@GROUP.check(
    "ENV-DEPRECATED-LOGTO",
    title="no deprecated LOGTO_CLIENT_ID / LOGTO_CLIENT_SECRET / LOGTO_ISSUER names",
    fix="rename them to AUTH_LOGTO_ID / AUTH_LOGTO_SECRET / AUTH_LOGTO_ISSUER",
    faults=[
        fault(SetEnv({"LOGTO_CLIENT_ID": "abc"}), expect="LOGTO_CLIENT_ID is deprecated"),
        fault(SetEnv({"LOGTO_ISSUER": "https://auth.example.com/oidc"}), expect="LOGTO_ISSUER is deprecated"),
        fault(
            Edit(COMPOSE, "      AUTH_LOGTO_ID: ${AUTH_LOGTO_ID}\n", "      LOGTO_CLIENT_ID: ${AUTH_LOGTO_ID}\n"),
            expect="service lobe sets deprecated LOGTO_CLIENT_ID",
        ),
    ],
    passes=[passes(SetEnv({"LOGTO_DB_POOL": "10"}), why="another LOGTO_ name")],
    impact="advice",
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
                yield Finding(f"service {s.name} sets deprecated {old}", d.where_var(s, old))


@GROUP.check(
    "ENV-LOBE-2X-VARS",
    title="no LobeChat 2.x (Better Auth) variables next to a 1.x image, in .env or in LobeChat's container",
    fix="remove AUTH_SECRET / JWKS_KEY / AUTH_SSO_PROVIDERS: the 1.x image reads NEXT_AUTH_SECRET and "
    "NEXT_AUTH_SSO_PROVIDERS (or move the whole deployment to 2.x and its new callback URL)",
    faults=[
        fault(SetEnv({"AUTH_SSO_PROVIDERS": "logto"}), expect="AUTH_SSO_PROVIDERS is a LobeChat 2.x variable"),
        fault(SetEnv({"JWKS_KEY": "{}"}), expect="JWKS_KEY is a LobeChat 2.x variable"),
        fault(
            AddFile("lobe.env", "AUTH_SECRET=8e1c6a2f0b9d4e7a5c3b1f0e9d8c7b6a\n"),
            Edit(
                COMPOSE,
                "    image: lobehub/lobe-chat-database:v1.143.3\n",
                "    image: lobehub/lobe-chat-database:v1.143.3\n    env_file: [lobe.env]\n",
            ),
            expect="AUTH_SECRET is a LobeChat 2.x variable",
        ),
    ],
    passes=[passes(SetEnv({"AUTH_LOGTO_SCOPE": "openid"}), why="a 1.x AUTH_ name")],
    impact="advice",
)
def lobe_2x_vars(d: Deployment) -> Iterator[Finding]:
    container = d.lobe.env if d.lobe is not None else {}
    for key in ("AUTH_SECRET", "JWKS_KEY", "AUTH_SSO_PROVIDERS"):
        if key in d.env.values or key in container:
            where = d.env.where(key) if key in d.env.values else d.where_var(d.lobe, key)
            yield Finding(f"{key} is a LobeChat 2.x variable; the 1.x image ignores it", where)


@GROUP.check(
    "ENV-NEXTAUTH-PROVIDERS",
    title="LobeChat's NEXT_AUTH_SSO_PROVIDERS enables logto",
    fix="set NEXT_AUTH_SSO_PROVIDERS=logto",
    faults=[
        fault(SetEnv({"NEXT_AUTH_SSO_PROVIDERS": "github"}), expect="NEXT_AUTH_SSO_PROVIDERS='github' does not"),
        fault(
            Edit(
                COMPOSE, "NEXT_AUTH_SSO_PROVIDERS: ${NEXT_AUTH_SSO_PROVIDERS:-logto}", "NEXT_AUTH_SSO_PROVIDERS: github"
            ),
            expect="NEXT_AUTH_SSO_PROVIDERS='github' does not include logto",
        ),
    ],
    passes=[
        passes(SetEnv({"NEXT_AUTH_SSO_PROVIDERS": None}), why="unset in .env: the compose default logto applies"),
        passes(SetEnv({"NEXT_AUTH_SSO_PROVIDERS": "github, logto"}), why="a list with logto"),
    ],
    impact="breaks",
)
def providers(d: Deployment) -> Iterator[Finding]:
    value = d.app_env("NEXT_AUTH_SSO_PROVIDERS")
    if value and "logto" not in [p.strip() for p in value.split(",")]:
        yield Finding(
            f"NEXT_AUTH_SSO_PROVIDERS={value!r} does not include logto", d.where_var(d.lobe, "NEXT_AUTH_SSO_PROVIDERS")
        )


@GROUP.check(
    "ENV-S3-PATH-STYLE",
    title="with MinIO, LobeChat's S3 requests are path-style (MinIO behind one name)",
    fix="set S3_ENABLE_PATH_STYLE=1; virtual-host style sends uploads to <bucket>.<s3 host>, which nothing serves",
    faults=[
        fault(SetEnv({"S3_ENABLE_PATH_STYLE": "0"}), expect="S3_ENABLE_PATH_STYLE is '0', not 1"),
        fault(
            Edit(COMPOSE, "S3_ENABLE_PATH_STYLE: ${S3_ENABLE_PATH_STYLE:-1}", 'S3_ENABLE_PATH_STYLE: "0"'),
            expect="S3_ENABLE_PATH_STYLE is '0', not 1",
        ),
    ],
    passes=[passes(SetEnv({"S3_ENABLE_PATH_STYLE": None}), why="unset in .env: the compose default 1 applies")],
    impact="breaks",
)
def s3_path_style(d: Deployment) -> Iterator[Finding]:
    minio_of(d)  # AWS and most hosted S3 want virtual-host style: only MinIO behind one name needs path style
    value = d.app_env("S3_ENABLE_PATH_STYLE") if d.lobe else d.env.get("S3_ENABLE_PATH_STYLE")
    if value != "1":
        yield Finding(f"S3_ENABLE_PATH_STYLE is {value!r}, not 1", d.where_var(d.lobe, "S3_ENABLE_PATH_STYLE"))


@GROUP.check(
    "ENV-URLS",
    title="the public URLs LobeChat and Logto get are https origins without a trailing slash",
    fix="write them as https://host[:port] (AUTH_LOGTO_ISSUER and NEXTAUTH_URL add their path), no trailing '/'",
    faults=[
        fault(SetEnv({"APP_URL": "http://lobe.example.com"}), expect="APP_URL='http://lobe.example.com' is not https"),
        fault(SetEnv({"S3_ENDPOINT": "https://s3.example.com/"}), expect="S3_ENDPOINT='https://s3.example.com/' ends"),
        fault(
            SetEnv({"AUTH_LOGTO_ISSUER": "https://auth.example.com/oidc/"}),
            expect="AUTH_LOGTO_ISSUER='https://auth.example.com/oidc/' ends with '/'",
        ),
        fault(SetEnv({"LOGTO_ENDPOINT": "https://auth.example.com:port"}), expect="is not a valid URL"),
    ],
    passes=[
        passes(
            SetEnv({"LOGTO_ADMIN_ENDPOINT": "https://admin.example.com"}),
            why="an admin origin on its own name",
        )
    ],
    impact="breaks",
)
def urls(d: Deployment) -> Iterator[Finding]:
    for service, key in _container_url_vars(d):
        value = service.environment.get(key, "")
        if not value:
            continue
        source = d.source_of(service, key)
        where = d.where_var(service, key)
        if not value.startswith("https://"):
            yield Finding(f"{key}={value!r} is not https{source}", where)
        elif value.endswith("/"):
            yield Finding(f"{key}={value!r} ends with '/'{source}", where)
        elif d.origin_of(service, key) is None:
            yield Finding(f"{key}={value!r} is not a valid URL{source}", where)


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
        fault(
            SetEnv({"LOBE_DB_PASSWORD": "Zx9@kQ2/mP7#vL4:wR8?"}),
            expect="LOBE_DB_PASSWORD breaks DATABASE_URL of service",
        ),
        fault(
            Edit(
                _INIT_SCRIPT,
                _PIPED_ALIAS,
                'mc alias set local http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"\n',
            ),
            SetEnv({"MINIO_ROOT_PASSWORD": "-Xk2vQ9mPz4Lr7Ns1Wd8Tb"}),
            expect="MINIO_ROOT_PASSWORD breaks mc at minio/init.sh:",
        ),
        fault(
            Edit(_INIT_SCRIPT, '"$MINIO_ROOT_PASSWORD" | mc alias set', "$MINIO_ROOT_PASSWORD | mc alias set"),
            SetEnv({"MINIO_ROOT_PASSWORD": "Xk2v Q9mP z4Lr 7Ns1 Wd8T"}),
            expect="MINIO_ROOT_PASSWORD breaks the shell at minio/init.sh:",
        ),
        fault(
            SetEnv({"MINIO_ROOT_PASSWORD": '"Xk2vQ9mPz4\\nLr7Ns1Wd8Tb"'}, raw=True),
            expect="MINIO_ROOT_PASSWORD breaks mc's standard input at minio/init.sh:",
        ),
        fault(
            SetEnv({"LOGTO_DB_PASSWORD": "Kq7mZ2vR$x9L4pN8wT3y"}, raw=True),
            expect="LOGTO_DB_PASSWORD breaks Compose interpolation",
        ),
    ],
    passes=[
        passes(
            SetEnv({"LOBE_DB_PASSWORD": "Zx9-kQ2.mP7_vL4~wR8!"}),
            why="URL user info holds unreserved characters and sub-delims as they are",
        ),
        passes(
            SetEnv({"MINIO_ROOT_PASSWORD": "-Xk2vQ9mPz4Lr7Ns1Wd8Tb"}),
            why="a leading '-' is no option on mc's standard input, as the bundle's minio/init.sh hands it",
        ),
        passes(
            SetEnv({"LOGTO_DB_PASSWORD": "Kq7mZ2vR$$x9L4pN8wT3y"}, raw=True),
            why="`$$` in .env is a literal `$`, and `$` is safe in URL user info",
        ),
    ],
    impact="breaks",
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
