"""The gate's Compose reader against `docker compose config --format json` on generated projects (hypothesis): the
bundle's shape (services with images, environment, ports, volumes, env_file, profiles) written with anchors and
merge keys, `extends` (same file and another file), `include` (with its own .env), an override file, every
interpolation form and YAML 1.1/1.2 scalar traps — plus files Compose refuses. Both must agree on which projects are
invalid, and on every started service's image, environment, ports and volumes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from lobestack.deployment.compose import load_compose
from lobestack.deployment.envfile import parse_env_text
from lobestack.errors import BadInput


def _docker_compose() -> bool:
    try:
        return subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


pytestmark = pytest.mark.skipif(not _docker_compose(), reason="`docker compose` (v2) is not on this machine")
EXAMPLES = int(os.environ.get("LOBESTACK_DIFF_EXAMPLES", "30"))

DOTENV = "TAG=1.2\nAPP_URL=https://app.test\nEMPTY=\nSECRET='s3cr$t'\nNESTED=${TAG}-x\n"
VALUES = [
    "plain",
    "yes",
    "on",
    "0755",
    "1.0",
    "12:30",
    "true",
    "''",
    '"quoted ${TAG}"',
    "'single ${TAG}'",
    "$${TAG}",
    "${TAG}",
    "$TAG",
    "${APP_URL}/api/auth",
    "${NOPE:-dflt}",
    "${EMPTY:-dflt}",
    "${EMPTY-dflt}",
    "${TAG:+alt}",
    "${NOPE+alt}",
    "${NOPE:-${TAG}}",
    "x${TAG}y",
    "${SECRET}",
    "${NESTED}",
    "~",
]
PORTS = [
    '"127.0.0.1:18080:80"',
    '"18081:81"',
    '"82"',
    '"127.0.0.1:18082-18083:90-91"',
    '"18084:83/udp"',
    '{target: 84, published: "18085", host_ip: 127.0.0.1}',
    '"[::1]:18086:85"',
    "86",
]
VOLUMES = ["data:/data", "./conf:/conf:ro", "/srv/abs:/abs", "{type: bind, source: ./b, target: /b}", "cache:/cache:rw"]
KEYS = ["A", "B", "C", "D"]
# Mistakes Compose refuses (each placed into one service).
BREAKS = [
    "    image: busybox:2\n",  # a key written twice
    "    enviroment: {A: 1}\n",  # unknown key
    '    ports: ["abc"]\n',
    "    environment:\n      BAD: ${BROKEN\n",
    "    extends: nowhere\n",
    "    env_file: [missing.env]\n",
    "    environment:\n      REQ: ${NOPE:?set NOPE}\n",
]


@dataclass
class Project:
    files: dict[str, str] = field(default_factory=dict)
    broken: bool = False


@st.composite
def projects(draw: st.DrawFn) -> Project:
    p = Project()
    n = draw(st.integers(1, 3))
    names = ["web", "db", "job"][:n]
    use_anchor = draw(st.booleans())
    text = "name: diff\n"
    if use_anchor:
        text += "x-common: &common\n  image: busybox:${TAG}\n  environment:\n    COMMON: from-anchor\n"
    include = draw(st.booleans())
    if include:
        text += "include:\n  - path: sub/inc.yaml\n"
        p.files["sub/inc.yaml"] = "services:\n  side:\n    image: busybox:${SIDE:-d}\n    volumes: [./x:/x]\n"
        p.files["sub/.env"] = "SIDE=fromsub\n"
    text += "services:\n"
    break_at = draw(st.sampled_from([None, None, *range(n)]))
    for i, name in enumerate(names):
        text += f"  {name}:\n"
        if use_anchor and draw(st.booleans()):
            text += "    <<: *common\n"
        else:
            text += f"    image: busybox:{draw(st.sampled_from(['1', '${TAG}', '${NOPE:-3}']))}\n"
        if i > 0 and draw(st.integers(0, 3)) == 0:
            text += f"    extends: {names[0]}\n"
        elif draw(st.integers(0, 4)) == 0:
            text += "    extends:\n      file: base.yaml\n      service: base\n"
            p.files["base.yaml"] = (
                "services:\n  base:\n    image: busybox:0\n    environment:\n      BASE: b\n      A: from-base\n"
                '    ports: ["127.0.0.1:18090:70"]\n'
            )
        keys = draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=3))
        if keys:
            if draw(st.booleans()):
                text += "    environment:\n" + "".join(f"      {k}: {draw(st.sampled_from(VALUES))}\n" for k in keys)
            else:
                entries = []
                for k in keys:
                    value = draw(st.sampled_from(VALUES))
                    bare = draw(st.integers(0, 4)) == 0
                    entries.append(k if bare else f"{k}={value.strip(chr(34) + chr(39))}")
                text += "    environment:\n" + "".join(f'      - "{e}"\n' for e in entries)
        ports = draw(st.lists(st.sampled_from(PORTS), unique=True, max_size=2))
        if ports:
            text += "    ports:\n" + "".join(f"      - {port}\n" for port in ports)
        volumes = draw(st.lists(st.sampled_from(VOLUMES), unique=True, max_size=2))
        if volumes:
            text += "    volumes:\n" + "".join(f"      - {v}\n" for v in volumes)
        env_file = draw(st.sampled_from([None, None, "own", "optional"]))
        if env_file == "own":
            text += f"    env_file: {name}.env\n"
            p.files[f"{name}.env"] = f"A=from-file\nFILE_{name.upper()}=${{TAG}}\nB=${{A}}\n"
        elif env_file == "optional":
            text += "    env_file:\n      - path: nothing.env\n        required: false\n"
        if draw(st.integers(0, 3)) == 0:
            text += "    profiles: [extra]\n"
        if break_at == i:
            text += draw(st.sampled_from(BREAKS))
            p.broken = True
    text += "volumes:\n  data: {}\n  cache: {}\n"
    p.files["compose.yaml"] = text
    override = draw(st.sampled_from([None, "merge", "reset", "replace"]))
    if override == "merge":
        p.files["compose.override.yml"] = (
            f"services:\n  {names[0]}:\n    environment:\n      OVERRIDE: ${{TAG}}\n      A: overridden\n"
            '    ports:\n      - "127.0.0.1:18099:99"\n'
        )
    elif override == "reset":
        p.files["compose.override.yml"] = f"services:\n  {names[0]}:\n    ports: !reset []\n    volumes: !reset []\n"
    elif override == "replace":
        p.files["compose.override.yml"] = (
            f"services:\n  {names[0]}:\n    environment: !override\n      ONLY: ${{TAG:-x}}\n"
        )
    profiles = draw(st.sampled_from(["", "COMPOSE_PROFILES=extra\n"]))
    p.files[".env"] = DOTENV + profiles
    return p


def _docker_config(root: Path) -> dict[str, Any] | None:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/root")}
    result = subprocess.run(
        ["docker", "compose", "config", "--format", "json"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return json.loads(result.stdout) if result.returncode == 0 else None


def _ports(ports: list[dict[str, Any]]) -> list[tuple[str, int, str, str]]:
    return [
        (str(p.get("host_ip") or ""), int(p["target"]), str(p.get("published") or ""), str(p.get("protocol") or "tcp"))
        for p in ports or []
    ]


def _volumes(volumes: list[dict[str, Any]]) -> list[tuple[str, str, str, bool]]:
    return [(v["type"], str(v.get("source") or ""), v["target"], bool(v.get("read_only"))) for v in volumes or []]


def _ours(root: Path) -> dict[str, Any] | None:
    env_text = (root / ".env").read_text(encoding="utf-8")
    try:
        project = load_compose(root, parse_env_text(env_text, root / ".env"))
    except BadInput:
        return None
    if project.unresolved:  # a `${VAR:?}` without a value: the gate reports it, Compose refuses to go on
        return None
    out = {}
    for service in project.active():
        out[service.name] = {
            "image": service.image,
            "environment": {k: v.value for k, v in service.env.items()},
            "ports": _ports(service.spec.get("ports") or []),
            "volumes": _volumes(service.spec.get("volumes") or []),
        }
    return out


def _unescape(value: Any) -> Any:
    # `config` writes a file Compose can read back: a `$` of a value is written `$$`.
    return value.replace("$$", "$") if isinstance(value, str) else value


def _theirs(config: dict[str, Any]) -> dict[str, Any]:
    return {
        name: {
            "image": _unescape(s.get("image", "")),
            "environment": {k: _unescape(v) for k, v in (s.get("environment") or {}).items()},
            "ports": _ports(s.get("ports") or []),
            "volumes": _volumes(s.get("volumes") or []),
        }
        for name, s in config["services"].items()
    }


COUNTS = {"valid": 0, "invalid": 0}


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=os.environ.get("LOBESTACK_DIFF_RANDOM") is None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: each step runs docker compose
)
@given(projects())
def test_gate_reads_what_docker_compose_reads(project: Project) -> None:
    root = Path(tempfile.mkdtemp(prefix="lobestack-diff-compose-"))
    try:
        for name, text in project.files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
        theirs = _docker_config(root)
        ours = _ours(root)
        files = "\n".join(f"--- {n}\n{t}" for n, t in project.files.items())
        assert (theirs is None) == (ours is None), (
            f"validity differs: docker compose {'refuses' if theirs is None else 'accepts'}, the gate "
            f"{'refuses' if ours is None else 'accepts'}\n{files}"
        )
        COUNTS["invalid" if theirs is None else "valid"] += 1
        if theirs is not None:
            assert ours == _theirs(theirs), files
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_generated_projects_cover_both_outcomes() -> None:
    """Runs after the property (file order): the generator produced valid and invalid projects."""
    if sum(COUNTS.values()) == 0:
        pytest.skip("the property did not run (selected alone)")
    print(f"compose differential: {COUNTS}")
    assert COUNTS["valid"] and COUNTS["invalid"], COUNTS


def _compose_variants() -> list:
    from lobestack.checks import all_checks
    from lobestack.checks.faults import AddFile, Edit

    out = [pytest.param(None, id="healthy")]
    for check in all_checks():
        for kind, changes in (("fault", check.faults), ("pass", check.passes)):
            for i, change in enumerate(changes):
                # Edits of the Compose files (SetEnv-only variants change values hypothesis already interpolates).
                touches = [
                    s
                    for s in change.steps
                    if isinstance(s, Edit | AddFile) and not s.file.startswith(("nginx/", "minio/", ".env"))
                ]
                if touches:
                    out.append(pytest.param(change, id=f"{check.id}-{kind}{i}"))
    return out


@pytest.mark.parametrize("change", _compose_variants())
def test_every_static_variant_reads_as_docker_compose_reads_it(change, variants) -> None:
    """The bundle, and each fault and pass variant that edits its Compose files or .env: the gate's model of every
    service (all profiles) is what `docker compose --profile '*' config` makes of the same directory — the proofs
    break real Compose files, not files only the gate reads that way."""
    deployment = variants.of(change) if change is not None else None
    if deployment is None:
        from lobestack.deployment import load_deployment

        deployment = load_deployment(variants.healthy)
    root = deployment.root
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/root")}
    result = subprocess.run(
        ["docker", "compose", "--profile", "*", "config", "--format", "json"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    try:
        project = load_compose(root, deployment.env, profiles=["*"])
    except BadInput as exc:
        assert result.returncode != 0, f"the gate refuses it ({exc}); docker compose reads it"
        return
    if result.returncode != 0:
        assert project.unresolved, f"docker compose refuses it ({result.stderr.strip()}); the gate reads it"
        return
    assert not project.unresolved
    ours = {
        s.name: {
            "image": s.image,
            "environment": {k: v.value for k, v in s.env.items()},
            "ports": _ports(s.spec.get("ports") or []),
            "volumes": _volumes(s.spec.get("volumes") or []),
        }
        for s in project.services.values()
    }
    assert ours == _theirs(json.loads(result.stdout))
