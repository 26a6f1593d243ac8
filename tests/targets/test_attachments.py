"""The ephemeral stack on any Compose layout (targets/compose.py `attachments`): its own services join the networks
the deployment's services use, whatever they are called, or a network of their own; LobeChat and Logto, found by
image, get the public names pinned where the layout does not pin them; the images are swapped by role. The merged
files are a valid Compose project (`docker compose config`, which starts nothing)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from lobestack.deployment import load_deployment
from lobestack.targets.compose import OWN_NETWORK, PWNED_PASSWORDS_NAME, attachments

# Our bundle's names, as another layout calls them: network `backend`, services named by the people who run them.
RENAMES = [
    ("networks: [internal]", "networks: [backend]"),
    ("\n  internal: {}\n", "\n  backend: {}\n"),
    ("logto-db", "auth-postgres"),
    ("lobe-db", "lobe-postgres"),
    ("\n  logto:\n", "\n  auth:\n"),
    ("\n      logto:\n", "\n      auth:\n"),
    ("\n  lobe:\n", "\n  lobechat:\n"),
    ("\n  minio:\n", "\n  storage:\n"),
    ("\n      minio:\n", "\n      storage:\n"),
    ("\n  minio-init:\n", "\n  storage-init:\n"),
    ("\n      minio-init:\n", "\n      storage-init:\n"),
]


def foreign_layout(broken_dir: Path) -> Path:
    compose = broken_dir / "docker-compose.yml"
    text = compose.read_text()
    for old, new in RENAMES:
        assert old in text, old
        text = text.replace(old, new)
    compose.write_text(text)
    return broken_dir


def test_the_breached_password_service_joins_the_layouts_own_networks(broken_dir: Path) -> None:
    services, networks = attachments(load_deployment(foreign_layout(broken_dir)))
    assert services["pwned-passwords"] == {"networks": {"backend": {"aliases": [PWNED_PASSWORDS_NAME]}}}
    assert networks == {}
    assert "auth" not in services and "lobechat" not in services, "the layout pins the public names itself"


def test_names_pinned_only_where_the_layout_does_not(broken_dir: Path) -> None:
    compose = broken_dir / "docker-compose.yml"
    compose.write_text(compose.read_text().replace("    extra_hosts: *public-names\n", "", 1))
    services, _ = attachments(load_deployment(broken_dir))
    assert services["logto"] == {
        "extra_hosts": ["lobe.example.com:host-gateway", "auth.example.com:host-gateway", "s3.example.com:host-gateway"]
    }
    assert "lobe" not in services


def test_a_layout_on_the_default_network_or_none(broken_dir: Path) -> None:
    compose = broken_dir / "docker-compose.yml"
    text = compose.read_text().replace("    networks: [internal]\n", "").replace("networks:\n  internal: {}\n", "")
    compose.write_text(text)
    services, networks = attachments(load_deployment(broken_dir))
    assert services["pwned-passwords"]["networks"] == {"default": {"aliases": [PWNED_PASSWORDS_NAME]}}
    compose.write_text(text.replace("    init: true\n", "    init: true\n    network_mode: host\n"))
    services, networks = attachments(load_deployment(broken_dir))
    assert services["pwned-passwords"]["networks"] == {OWN_NETWORK: {"aliases": [PWNED_PASSWORDS_NAME]}}
    assert networks == {OWN_NETWORK: {}}


def test_the_gates_merged_files_are_a_valid_project_on_another_layout(
    docker_ready: None, broken_dir: Path, tmp_path: Path
) -> None:
    """What `tox -e smoke -- --deployment DIR` composes for a layout with other names, without starting it."""
    from lobestack.targets.compose import EphemeralStack
    from lobestack.targets.images import content_tags, specs_for

    source = foreign_layout(broken_dir)
    stack = EphemeralStack.create_from(source, tmp_path / "work", "standin", progress=lambda line: None)
    try:
        result = stack.compose_run("config", "--format", "json", check=False)
        assert result.returncode == 0, result.stderr
        project = json.loads(result.stdout)
    finally:
        shutil.rmtree(tmp_path / "work", ignore_errors=True)
    services = project["services"]
    pwned = services["pwned-passwords"]["networks"]
    assert set(pwned) == {"backend"} and pwned["backend"]["aliases"] == [PWNED_PASSWORDS_NAME]
    assert set(project["networks"]) == {"backend"}
    refs = content_tags(specs_for("standin"))
    by_role = {
        "lobechat": "lobestack/lobechat-standin:1",
        "auth": "lobestack/logto-standin:1",
        "storage": "lobestack/minio-standin:1",
        "storage-init": "lobestack/minio-standin:1",
        "auth-postgres": "lobestack/postgres-pgvector:17",
        "lobe-postgres": "lobestack/postgres-pgvector:17",
    }
    assert {name: services[name]["image"] for name in by_role} == {n: refs[tag] for n, tag in by_role.items()}
    for name in ("nginx", "pwned-passwords"):
        assert services[name]["labels"], f"{name} carries the run's labels"


def test_service_networks_follow_network_mode() -> None:
    from lobestack.targets.compose import service_networks

    assert service_networks({"network_mode": "host", "networks": ["x"]}) == []
    assert service_networks({}) == ["default"]
    assert service_networks({"networks": {"a": {}, "b": None}}) == ["a", "b"]
