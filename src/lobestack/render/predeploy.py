"""The pre-deploy gate's copy of a user's deployment directory: what the ephemeral stack runs instead of a fresh
rendering of the bundle. Its compose file, Nginx sites and image pins are kept; what only belongs to production is
replaced:

- every secret of its .env is replaced by a fresh one (and any other value that embeds one of them is rewritten),
  so the user's production secrets are never used by, nor copied into, the ephemeral stack;
- its certificates: one per `ssl_certificate` of its Nginx sites, issued by the run's CA for the server_names that
  use it, at the path Nginx reads in the stack's container; the run's CA is the deployment's extra CA;
- its Nginx `listen` directives: each port on the stack's listen addresses (loopback and Docker's gateway, where
  the containers' extra_hosts send the public names), as `render_ephemeral(listen_addresses=…)` renders the bundle.

Limits: site configs that `include` files outside nginx/, or certificate paths built from variables, are not
rewritten (the stack's `nginx -t` then says so)."""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path

from lobestack.deployment import Deployment, load_deployment
from lobestack.deployment.envfile import SECRET_NAME, format_env_line
from lobestack.errors import BadInput
from lobestack.pki import CertificateAuthority
from lobestack.render import secrets as fresh

MAX_COPY_BYTES = 20 * 1024 * 1024  # a deployment directory is configuration; data directories are not copied
NEVER_COPIED = re.compile(r"^\.env($|\.)")  # .env and its backups (.env.bak-…): production secrets
_LISTEN = re.compile(r"^(?P<indent>\s*)listen\s+(?P<args>[^;]+);(?P<rest>.*)$")
_DROP_PARAMS = {"ipv6only=on", "ipv6only=off"}


def _copy_tree(source: Path, out: Path) -> None:
    total = 0
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if any(NEVER_COPIED.match(part) for part in rel.parts) or rel.parts[0] in (".git", "reports", "certs"):
            continue
        if path.is_dir():
            continue
        total += path.stat().st_size
        if total > MAX_COPY_BYTES:
            raise BadInput(
                f"more than {MAX_COPY_BYTES // 2**20} MiB of files: keep data out of the deployment directory", source
            )
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, out / rel)


def fresh_env(source: Deployment, project_name: str) -> tuple[str, dict[str, str]]:
    """The copy's .env text: the user's keys in order, every secret fresh; and old secret -> new, to rewrite."""
    generated = fresh.generate()
    generated["AUTH_LOGTO_ID"] = secrets.token_hex(11)[:21]
    generated["AUTH_LOGTO_SECRET"] = secrets.token_urlsafe(24)
    overrides = {"COMPOSE_PROJECT_NAME": project_name, "EXTRA_CA_FILE": "./ca/extra-ca.pem"}
    values: dict[str, str] = {}
    replaced: dict[str, str] = {}
    for key, value in source.env.values.items():
        if key in overrides:
            values[key] = overrides[key]
        elif key in generated or SECRET_NAME.search(key):
            values[key] = generated.get(key) or secrets.token_urlsafe(24)
            if value:
                replaced[value] = values[key]
        else:
            values[key] = value
    for key, value in {**generated, **overrides}.items():
        values.setdefault(key, value)
    # A value that embeds a secret (a URL with a password in it) gets the fresh one.
    for key, value in values.items():
        for old, new in replaced.items():
            if len(old) >= 6 and old in value and key not in generated:
                values[key] = value = value.replace(old, new)
    lines = ["# lobestack pre-deploy gate: the deployment's keys, every secret fresh (never the production ones)"]
    lines += [format_env_line(k, v) for k, v in values.items()]
    return "\n".join(lines) + "\n", replaced


def _listen_lines(indent: str, args: str, addresses: tuple[str, ...]) -> list[str]:
    first, *params = args.split()
    if first.isdigit():
        port = first
    else:
        port = first.rsplit(":", 1)[1] if ":" in first and first.rsplit(":", 1)[1].isdigit() else "80"
    params = [p for p in params if p not in _DROP_PARAMS]
    tail = (" " + " ".join(params)) if params else ""
    return [f"{indent}listen {address}:{port}{tail};" for address in addresses]


def rewrite_listens(text: str, addresses: tuple[str, ...]) -> str:
    """Every `listen` on the stack's addresses; the IPv4 and IPv6 lines of one port become one set."""
    out: list[str] = []
    block: set[str] = set()
    for line in text.splitlines():
        match = _LISTEN.match(line)
        if not match:
            block = set()
            out.append(line)
            continue
        for new in _listen_lines(match.group("indent"), match.group("args"), addresses):
            if new not in block:
                block.add(new)
                out.append(new + match.group("rest"))
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def issue_certificates(source: Deployment, ca: CertificateAuthority, cert_root: Path, cert_dir_in_nginx: str):
    """One certificate per certificate path of the sites, for the server_names that use it: {old path: new path}."""
    names_of: dict[tuple[str, str], list[str]] = {}
    for server in source.nginx.servers:
        cert, key = server.first("ssl_certificate"), server.first("ssl_certificate_key")
        if cert is None or key is None:
            continue
        names = names_of.setdefault((cert.args[0], key.args[0]), [])
        names += [n for n in server.names if n not in names and n not in ("", "_") and not n.startswith("~")]
    paths: dict[str, str] = {}
    for index, ((cert, key), names) in enumerate(sorted(names_of.items())):
        if not names:
            continue
        folder = re.sub(r"[^A-Za-z0-9._-]", "_", Path(cert).parent.name) or f"cert{index}"
        if any(p.startswith(f"{cert_dir_in_nginx}/{folder}/") for p in paths.values()):
            folder = f"{folder}-{index}"
        ca.issue(cert_root / folder, names[0], sans=names)
        paths[cert] = f"{cert_dir_in_nginx}/{folder}/fullchain.pem"
        paths[key] = f"{cert_dir_in_nginx}/{folder}/privkey.pem"
    return paths


def copy_deployment(
    source_dir: Path,
    out: Path,
    *,
    ca: CertificateAuthority,
    listen_addresses: tuple[str, ...],
    cert_dir_in_nginx: str,
    project_name: str,
) -> Deployment:
    """Write the copy of `source_dir` to `out` (see the module's doc) and return the source's model."""
    source = load_deployment(source_dir)
    if out.exists():
        raise BadInput("exists already", out)
    out.mkdir(parents=True)
    _copy_tree(source_dir, out)
    env_text, _ = fresh_env(source, project_name)
    (out / ".env").write_text(env_text, encoding="utf-8")
    (out / ".env").chmod(0o600)
    paths = issue_certificates(source, ca, out / "certs", cert_dir_in_nginx)
    for site in sorted((out / "nginx").glob("*.conf")):
        text = site.read_text(encoding="utf-8")
        for old, new in sorted(paths.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(old, new)
        site.write_text(rewrite_listens(text, listen_addresses), encoding="utf-8")
    (out / "ca").mkdir(exist_ok=True)
    from cryptography.hazmat.primitives import serialization

    (out / "ca" / "extra-ca.pem").write_bytes(ca.cert.public_bytes(serialization.Encoding.PEM))
    return source
