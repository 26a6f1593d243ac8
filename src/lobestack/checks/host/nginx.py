"""Nginx where it runs: on the host (the bundle's way: its site files installed into the host's Nginx), or as the
stack's own `nginx` container (the ephemeral stack, or users who run Nginx in Compose) — the project's `nginx`
service when there is one, else the host's nginx. Commands run there (`docker exec`, or on the host), so
certificate paths are judged as Nginx itself sees them."""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Iterator

from cryptography import x509

from lobestack.checks.faults import Certificate, Edit, Recorded, SiteEdit, Stop, fault
from lobestack.checks.registry import Finding, Group
from lobestack.probes.host import HostFacts, HostProbeError

GROUP = Group(
    "HOST-NGINX", layer="host", title="Nginx (on the host, or the stack's `nginx` container)", impact="breaks"
)
APP_CERT = "ssl_certificate /etc/lobestack/certs/lobe.test/fullchain.pem;"


@GROUP.check(
    "HOST-NGINX-CONFIG",
    title="`nginx -t` passes where Nginx runs",
    fix="fix the file and line `nginx -t` names, run `nginx -t` again, then reload (`nginx -s reload`); a failing "
    "configuration stops the next reload or restart",
    faults=[
        fault(
            SiteEdit("app.conf", "proxy_buffering off;", "proxy_buffering sometimes;", reload=False),
            expect="`nginx -t` fails (Nginx in container lobestack-ephemeral-",
        ),
        fault(Recorded("nginx-host-broken"), expect="`nginx -t` fails (Nginx on the host)"),
    ],
)
def config(facts: HostFacts) -> Iterator[Finding]:
    answer = facts.nginx_test()
    if not answer.ok:
        errors = [line for line in answer.stderr.splitlines() if "[emerg]" in line or "[crit]" in line]
        yield Finding(f"`nginx -t` fails ({facts.nginx().describe()}): {(errors or [answer.why()])[0].strip()}")


@GROUP.check(
    "HOST-NGINX-RUNNING",
    title="Nginx is running: a live master process behind its pid file (or the `nginx` container runs)",
    fix="start it: `systemctl start nginx` (or `docker compose up -d nginx`), after `nginx -t` passes",
    faults=[
        fault(Stop("nginx"), expect="Nginx is not running: container lobestack-ephemeral-"),
        fault(Recorded("nginx-host-stopped"), expect="Nginx is not running (Nginx on the host)"),
    ],
)
def running(facts: HostFacts) -> Iterator[Finding]:
    facts.nginx_master()  # no answer is its HostProbeError: the check's finding (Check.findings)
    yield from ()


def _first_difference(loaded: str, wanted: str) -> str:
    for line in difflib.unified_diff(loaded.splitlines(), wanted.splitlines(), lineterm="", n=0):
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---")):
            return line
    return "(whitespace at the end)"


@GROUP.check(
    "HOST-NGINX-SITES",
    title="the site files Nginx loads are the deployment's: each DIR/nginx/*.conf is loaded with the same content",
    fix="install the deployment's site files (`cp DIR/nginx/*.conf /etc/nginx/conf.d/`), `nginx -t`, then reload",
    faults=[
        fault(
            Edit("nginx/app.conf", "client_max_body_size 100m;", "client_max_body_size 200m;"),
            expect="Nginx loads /etc/nginx/conf.d/app.conf, which differs from the deployment's app.conf "
            "(first difference: -    client_max_body_size 100m;",
        ),
    ],
)
def sites(facts: HostFacts) -> Iterator[Finding]:
    loaded = facts.nginx_files()
    for relative in facts.deployment.nginx.files:  # relative to the deployment directory: nginx/app.conf
        wanted = (facts.deployment.root / relative).read_text(encoding="utf-8")
        name = relative.rsplit("/", 1)[-1]
        if any(content.rstrip("\n") == wanted.rstrip("\n") for content in loaded.values()):
            continue
        same_name = [path for path in loaded if path.rsplit("/", 1)[-1] == name]
        if same_name:
            path = same_name[0]
            yield Finding(
                f"Nginx loads {path}, which differs from the deployment's {name} "
                f"(first difference: {_first_difference(loaded[path], wanted)[:160]})"
            )
        else:
            yield Finding(f"the deployment's {name} is not among the files Nginx loads ({len(loaded)} files)")


def _certificate_paths(facts: HostFacts) -> tuple[list[str], list[str]]:
    certs: dict[str, None] = {}
    keys: dict[str, None] = {}
    for server in facts.deployment.nginx.servers:
        for d in server.get("ssl_certificate"):
            certs[d.args[0]] = None
        for d in server.get("ssl_certificate_key"):
            keys[d.args[0]] = None
    return list(certs), list(keys)


@GROUP.check(
    "HOST-NGINX-CERTS",
    title="the certificate and key files the site files name exist, are readable where Nginx runs, and the "
    "certificates stay valid at least --min-cert-days",
    fix="renew or install the certificate (`certbot renew`, or copy fullchain.pem/privkey.pem to the path the site "
    "names), then `nginx -t` and reload",
    faults=[
        fault(
            SiteEdit("app.conf", APP_CERT, APP_CERT.replace("lobe.test", "missing.test"), reload=False),
            expect="/etc/lobestack/certs/missing.test/fullchain.pem does not exist",
        ),
        fault(Certificate("lobe.test", "expires-in:5"), expect="expires in 5 days"),
    ],
)
def certificates(facts: HostFacts) -> Iterator[Finding]:
    cert_paths, key_paths = _certificate_paths(facts)
    where = facts.nginx().describe()
    now = datetime.datetime.now(datetime.UTC)
    for path in cert_paths + key_paths:
        try:
            state = facts.file_state(path)
        except HostProbeError as exc:
            yield Finding(str(exc))
            continue
        if state == "missing":
            yield Finding(f"{path} does not exist ({where})")
        elif state == "unreadable":
            yield Finding(f"{path} is not readable ({where}; Nginx's master reads it as root: run with --sudo)")
        elif path in cert_paths:
            answer = facts.read_in_nginx(path)
            try:
                cert = x509.load_pem_x509_certificate(answer.stdout.encode())
            except ValueError:
                yield Finding(f"{path} is not a PEM certificate ({where})")
                continue
            left = cert.not_valid_after_utc - now
            if left.total_seconds() <= 0:
                yield Finding(f"{path} expired on {cert.not_valid_after_utc:%Y-%m-%d}")
            elif left.days < facts.context.min_cert_days:
                yield Finding(
                    f"{path} expires in {left.days} days ({cert.not_valid_after_utc:%Y-%m-%d}), "
                    f"less than --min-cert-days {facts.context.min_cert_days}"
                )
