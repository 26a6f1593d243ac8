"""The Compose reader on the constructs `docker compose config` resolves: what each service's container gets, and
the file and line every value came from. (tests/differential/ compares it with the real tool on generated files.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from lobestack.deployment.compose import load_compose, parse_ports
from lobestack.deployment.compose_yaml import go_string, resolve_plain
from lobestack.deployment.envfile import parse_env_text
from lobestack.errors import BadInput


def project(root: Path, files: dict[str, str], env: str = "", **kwargs):
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (root / ".env").write_text(env, encoding="utf-8")
    return load_compose(root, parse_env_text(env, root / ".env"), **kwargs)


def test_extends_include_env_file_override_and_profiles(tmp_path: Path) -> None:
    p = project(
        tmp_path,
        {
            "compose.yaml": "include:\n  - path: sub/inc.yaml\nservices:\n  web:\n    extends:\n      file: base.yaml\n"
            "      service: base\n    image: busybox:${TAG}\n    env_file: [web.env]\n    environment:\n"
            "      FROM_ENV: ${APP}\n      OVERRIDDEN: compose\n      BARE:\n"
            '    ports: !override ["127.0.0.1:8080:80"]\n  job:\n    image: busybox:1\n    profiles: [tools]\n',
            "base.yaml": "services:\n  base:\n    image: busybox:0\n    environment:\n      BASE_ONLY: b\n"
            '      OVERRIDDEN: base\n    ports: ["80:80"]\n    volumes: ["./data:/data"]\n',
            "web.env": "OVERRIDDEN=envfile\nFILE_ONLY=${TAG}\n",
            "sub/inc.yaml": 'services:\n  side:\n    image: busybox:${SIDE_TAG:-2}\n    volumes: ["./x:/x"]\n',
            "sub/.env": "SIDE_TAG=3\n",
            "compose.override.yml": "services:\n  web:\n    environment:\n      OVERRIDE_FILE: yes\n",
        },
        env="TAG=1.36\nAPP=https://app.example.com\n",
    )
    web = p.services["web"]
    assert web.image == "busybox:1.36"
    assert web.environment == {
        "BASE_ONLY": "b",
        "FILE_ONLY": "1.36",
        "FROM_ENV": "https://app.example.com",
        "OVERRIDDEN": "compose",
        "OVERRIDE_FILE": "yes",
    }
    assert {k: str(v.where) for k, v in web.env.items()} == {
        "OVERRIDDEN": "compose.yaml:12",
        "FILE_ONLY": "web.env:2",
        "BASE_ONLY": "base.yaml:5",
        "BARE": "compose.yaml:13",
        "FROM_ENV": "compose.yaml:11",
        "OVERRIDE_FILE": "compose.override.yml:4",
    }
    assert web.env["FROM_ENV"].uses == ("APP",)
    assert [(b.host_ip, b.host_port, b.container_port) for b in web.ports] == [("127.0.0.1", 8080, 80)]
    assert [str(m) for m in web.mounts] == [f"{tmp_path}/data:/data"]
    assert p.services["side"].image == "busybox:3"
    assert [m.source for m in p.services["side"].mounts] == [f"{tmp_path}/sub/x"]
    assert not p.services["job"].active and web.active
    assert p.files[0] == "compose.yaml" and "sub/inc.yaml" in p.files


def test_anchors_and_merge_keys_keep_the_line_of_the_anchor(tmp_path: Path) -> None:
    p = project(
        tmp_path,
        {
            "docker-compose.yml": "x-env: &env\n  A: from-anchor\n  B: anchor\nservices:\n  s:\n    image: a:1\n"
            "    environment:\n      <<: *env\n      B: explicit\n"
        },
    )
    env = p.services["s"].env
    assert (env["A"].value, str(env["A"].where)) == ("from-anchor", "docker-compose.yml:2")
    assert (env["B"].value, str(env["B"].where)) == ("explicit", "docker-compose.yml:9")


def test_precedence_shell_over_env_file_over_defaults(tmp_path: Path) -> None:
    files = {
        "compose.yaml": "services:\n  s:\n    image: a:1\n    environment:\n"
        "      X: ${X:-default}\n      Y: ${Y-unset}\n"
    }
    assert project(tmp_path, files).services["s"].environment == {"X": "default", "Y": "unset"}
    assert project(tmp_path, files, env="X=\nY=\n").services["s"].environment == {"X": "default", "Y": ""}
    shell = project(tmp_path, files, env="X=dotenv\n", environ={"X": "shell"})
    assert shell.services["s"].environment["X"] == "shell"


def test_compose_file_and_profiles_from_dotenv(tmp_path: Path) -> None:
    files = {
        "one.yml": "services:\n  a:\n    image: a:1\n  b:\n    image: b:1\n    profiles: [extra]\n",
        "compose.yaml": "services:\n  never:\n    image: n:1\n",
    }
    p = project(tmp_path, files, env="COMPOSE_FILE=one.yml\nCOMPOSE_PROFILES=extra\n")
    assert set(p.services) == {"a", "b"} and p.services["b"].active


def test_default_file_preference(tmp_path: Path) -> None:
    p = project(
        tmp_path,
        {
            "compose.yaml": "services:\n  new:\n    image: a:1\n",
            "docker-compose.yml": "services:\n  old:\n    image: a:1\n",
        },
    )
    assert set(p.services) == {"new"}


@pytest.mark.parametrize(
    ("files", "where", "reason"),
    [
        (
            {"compose.yaml": "services:\n  s:\n    image: a:1\n    volumes: [x:/x]\n    volumes: [y:/y]\n"},
            "compose.yaml:5",
            "mapping key 'volumes' already defined at line 4",
        ),
        (
            {"compose.yaml": "services:\n  s:\n    image: a:1\n    enviroment: {A: 1}\n"},
            "compose.yaml:4",
            "services.s.enviroment: is not a key Compose knows here",
        ),
        (
            {"compose.yaml": "services:\n  s:\n    image: a:1\n    ports: [abc]\n"},
            "compose.yaml:4",
            "invalid containerPort",
        ),
        (
            {"compose.yaml": "services:\n  s:\n    extends: {service: nope}\n    image: a:1\n"},
            "compose.yaml:3",
            "service 'nope' not found",
        ),
        (
            {"compose.yaml": "services:\n  s:\n    image: a:1\n    depends_on: [db]\n"},
            "compose.yaml:4",
            "depends on undefined service 'db'",
        ),
        (
            {"compose.yaml": "services:\n  s:\n    image: a:1\n    env_file: missing.env\n"},
            "compose.yaml:4",
            "env file missing.env not found",
        ),
        (
            {
                "compose.yaml": "include: [other.yaml]\nservices:\n  s:\n    image: a:1\n",
                "other.yaml": "services:\n  s:\n    image: b:1\n",
            },
            "compose.yaml:3",
            "services.s conflicts with imported resource",
        ),
    ],
)
def test_what_compose_refuses_is_bad_input_with_file_and_line(
    tmp_path: Path, files: dict[str, str], where: str, reason: str
) -> None:
    with pytest.raises(BadInput) as err:
        project(tmp_path, files)
    assert f"{tmp_path / where.split(':')[0]}:{where.split(':')[1]}: " in str(err.value)
    assert reason in str(err.value)


def test_required_variable_without_value_is_collected_not_raised(tmp_path: Path) -> None:
    p = project(tmp_path, {"compose.yaml": "services:\n  s:\n    image: a:1\n    environment:\n      A: ${A:?set A}\n"})
    assert p.unresolved == [("compose.yaml:5", "required variable A is missing a value: set A")]


@pytest.mark.parametrize(
    ("text", "value"),
    [("yes", "yes"), ("on", "on"), ("12:30", "12:30"), ("0755", 493), ("0x1F", 31), ("1_000", 1000), ("1.0", 1.0)],
)
def test_scalars_resolve_as_go_yaml_does(text: str, value: object) -> None:
    assert resolve_plain(text) == value


@pytest.mark.parametrize(("value", "text"), [(True, "true"), (1.0, "1"), (1.5, "1.5"), (1e21, "1e+21"), (493, "493")])
def test_values_print_as_go_does(value: object, text: str) -> None:
    assert go_string(value) == text


def test_port_ranges_expand_like_docker() -> None:
    assert [
        (p.get("host_ip"), p["target"], p.get("published")) for p in parse_ports("127.0.0.1:8000-8001:9000-9001")
    ] == [
        ("127.0.0.1", 9000, "8000"),
        ("127.0.0.1", 9001, "8001"),
    ]
    assert parse_ports("8000-8010:80")[0]["published"] == "8000-8010"
    with pytest.raises(ValueError, match="invalid ranges"):
        parse_ports("8000-8001:80-82")


def test_alias_expansion_and_nesting_are_bounded(tmp_path: Path) -> None:
    laughs = "x-a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in "bcdefgh":
        previous = chr(ord(level) - 1)
        laughs += f"x-{level}: &{level} [" + ", ".join([f"*{previous}"] * 10) + "]\n"
    laughs += "services:\n  s:\n    image: a:1\n"
    with pytest.raises(BadInput, match="YAML nodes with aliases expanded"):
        project(tmp_path, {"compose.yaml": laughs})
    deep = "services:\n  s:\n    image: a:1\nx-deep: " + "[" * 150 + "]" * 150 + "\n"
    with pytest.raises(BadInput, match="nesting deeper than"):
        project(tmp_path, {"compose.yaml": deep})
