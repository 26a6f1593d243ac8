"""The Compose reader's guards: duplicate keys and shapes refused as Compose refuses them, with file and line;
merges and aliases still read."""

from __future__ import annotations

from pathlib import Path

import pytest

from lobestack.deployment.compose import load_compose
from lobestack.deployment.envfile import parse_env_text
from lobestack.errors import BadInput

ENV = parse_env_text("PASS=s3cr3t-value\n", Path(".env"))


def _load(tmp_path: Path, text: str):
    path = tmp_path / "docker-compose.yml"
    path.write_text(text)
    return load_compose(tmp_path, ENV)


def test_anchors_aliases_and_merges_are_read(tmp_path: Path) -> None:
    compose = _load(
        tmp_path,
        "x-env: &env {A: '1', B: '2'}\nx-hosts: &hosts [a:host-gateway]\n"
        "services:\n  s:\n    image: x:1\n    environment:\n      <<: *env\n      B: '3'\n    extra_hosts: *hosts\n",
    )
    service = compose.services["s"]
    assert service.environment == {"A": "1", "B": "3"}
    assert service.extra_hosts == ["a:host-gateway"]


def test_plain_values_read_as_compose_reads_them(tmp_path: Path) -> None:
    """YAML 1.2 as go-yaml v3 reads it: `restart: no` is the string "no", not a boolean; a quoted `1.0` is a string."""
    compose = _load(tmp_path, "services:\n  s:\n    image: '1.0'\n    restart: no\n    command: [\"5\"]\n")
    assert compose.services["s"].image == "1.0"
    assert compose.services["s"].restart == "no"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("services:\n  s:\n    image: x:1\n  s:\n    image: y:1\n", 4, "mapping key 's' already defined at line 2"),
        ("services:\n  s:\n    image: x:1\n    image: y:1\n", 4, "mapping key 'image' already defined at line 3"),
        ("services: {}\n? [a]\n: b\n", 2, "a mapping key must be a plain value"),
        (
            "services:\n  s:\n    image: x:1\n    environment:\n      PASSWORD: 'ab${'\n",
            5,
            "services.s.environment.PASSWORD: unterminated '${'",
        ),
        ("services:\n  s:\n    ports:\n      - target: '80x'\n", 4, "services.s.ports.[].target: failed to cast"),
        ("services:\n  s:\n    ports:\n      - [80]\n", 4, "services.s.ports.0: must be a number"),
        ("services:\n  s:\n    environment: [1]\n", 3, "services.s.environment.0: must be a string"),
        ("services:\n  s:\n    depends_on: [{a: 1}]\n", 3, "services.s.depends_on.0: must be a string"),
        ("services:\n  s:\n    volumes: [1]\n", 3, "services.s.volumes.0: must be a string"),
        ("services:\n  s:\n    image: [a]\n", 3, "services.s.image: must be a string"),
        ("services:\n  s:\n    image: 1.0\n", 3, "services.s.image: must be a string"),
    ],
)
def test_refused_with_file_and_line(tmp_path: Path, text: str, line: int, reason: str) -> None:
    with pytest.raises(BadInput) as err:
        _load(tmp_path, text)
    assert str(err.value).startswith(f"{tmp_path / 'docker-compose.yml'}:{line}: {reason}")
