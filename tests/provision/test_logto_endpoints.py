"""The Logto endpoints lobestack calls are declared once (provision/logto.py ENDPOINTS); tests/standins/
test_logto.py requires the Logto stand-in to serve each of them. Here: no Logto path named in lobestack's code is
missing from that list (LobeChat's own /api/auth routes are not Logto's)."""

from __future__ import annotations

import re

from lobestack.provision.logto import ENDPOINTS
from tests.conftest import REPO

# a Logto path in a string literal: /oidc…, /api/… (not LobeChat's /api/auth/…), or the console's /console…
LOGTO_PATH = re.compile(r"""["'/}\d](/(?:oidc(?:/[\w./{}-]*)?|api/(?!auth\b)[\w./{}-]+))""")


def declared(path: str) -> bool:
    pattern = {re.sub(r"\{\w+\}", "{}", e.path) for e in ENDPOINTS.values()}
    normalised = re.sub(r"\{\w+\}", "{}", path.rstrip("/"))
    return normalised in pattern or any(p.startswith(normalised + "/") for p in pattern)


def test_every_logto_path_in_the_code_is_declared() -> None:
    sources = [*(REPO / "src" / "lobestack").rglob("*.py"), REPO / "compose" / "docker-compose.yml"]
    missing = set()
    for source in sources:
        if source.name == "logto.py" and source.parent.name == "provision":
            continue
        if source.name == "gpu.py" and source.parent.name == "probes":  # Ollama's /api/ps and /api/generate
            continue
        for path in LOGTO_PATH.findall(source.read_text(encoding="utf-8")):
            if not declared(path):
                missing.add(f"{source.relative_to(REPO)}: {path}")
    assert not missing, f"Logto paths the code calls but provision/logto.py ENDPOINTS does not declare: {missing}"


def test_the_list_holds_what_provisioning_and_the_checks_call() -> None:
    paths = {f"{e.method} {e.path}" for e in ENDPOINTS.values()}
    for needed in (
        "GET /oidc/.well-known/openid-configuration",
        "GET /oidc/jwks",
        "GET /oidc/auth",
        "POST /oidc/token",
        "PUT /api/experience",
        "GET /api/applications/{id}/secrets",
        "GET /api/roles",
        "PATCH /api/sign-in-exp",
    ):
        assert needed in paths
