"""The built image sets come from `standins/` and `upstream/` of a source checkout; an installation without one (a
wheel) says so in one line, before anything is rendered or built. Each set's overlay names exactly its images; the
reference set's LobeChat is the real one, built from its npm package; a build shows its progress, and a failed or
overlong one says why."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
import yaml

from lobestack import cli
from lobestack.errors import EXIT_BAD_INPUT, BadInput
from lobestack.targets import images
from tests.conftest import REPO


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """images.py as a wheel installs it: site-packages/lobestack/targets/images.py, no standins/ around."""
    fake = tmp_path / "site-packages" / "lobestack" / "targets" / "images.py"
    fake.parent.mkdir(parents=True)
    monkeypatch.setattr(images, "__file__", str(fake))
    return tmp_path


def test_standins_dir_is_the_checkouts() -> None:
    assert images.standins_dir() == REPO / "standins"
    assert images.checkout_dir("upstream") == REPO / "upstream"
    assert (images.standins_dir() / "docker-compose.reference.yml").is_file()


def test_standins_are_not_in_the_bundle() -> None:
    from lobestack.render.bundle import bundle_dir

    assert not (bundle_dir() / "reference").exists()
    assert (bundle_dir() / "ephemeral" / "docker-compose.ephemeral.yml").is_file()


def test_without_a_checkout_the_reference_set_is_bad_input(installed: Path) -> None:
    with pytest.raises(BadInput, match="built from a lobestack source checkout"):
        images.standins_dir()
    with pytest.raises(BadInput, match="built from a lobestack source checkout"):
        images.ensure_images(images.STANDIN_IMAGES)


def test_reference_stack_fails_before_rendering_without_a_checkout(installed: Path, tmp_path: Path) -> None:
    from lobestack.targets.compose import EphemeralStack

    workdir = tmp_path / "work"
    with pytest.raises(BadInput, match="built from a lobestack source checkout"):
        EphemeralStack.create(workdir, "reference")
    assert not workdir.exists()


def test_cli_images_says_it_in_one_line(installed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["images"]) == EXIT_BAD_INPUT
    out, err = capsys.readouterr()
    assert (out, err.count("\n")) == ("", 1)
    assert err.startswith("lobestack: error: the locally built image sets (--images reference|standin) are built from")


@pytest.mark.parametrize("image_set", sorted(images.BUILT_SETS))
def test_each_sets_overlay_names_exactly_its_images(image_set: str) -> None:
    from lobestack.targets.compose import overlay_name

    overlay = yaml.safe_load((images.standins_dir() / overlay_name(image_set)).read_text())["services"]
    assert {entry["image"] for entry in overlay.values()} == {spec.tag for spec in images.specs_for(image_set)}


def test_reference_runs_the_real_lobechat_and_standin_the_stand_in() -> None:
    lobe = {
        name: yaml.safe_load((images.standins_dir() / f"docker-compose.{name}.yml").read_text())["services"]["lobe"]
        for name in images.BUILT_SETS
    }
    assert lobe == {
        "reference": {"image": "lobestack/lobechat:1.143.3"},
        "standin": {"image": "lobestack/lobechat-standin:1"},
    }
    assert images.LOBECHAT.context() == REPO / "upstream" / "lobechat"
    dockerfile = (images.LOBECHAT.context() / "Dockerfile").read_text()
    # the package, checked against the registry's integrity of @lobehub/chat@1.143.3, and labelled as a local build
    assert (
        "LOBECHAT_SHA512=Uil/m4srhejYYgMh7LmOn087GbESdhYO50T669Kuzawp7l5uZg/VeF2Mje4Xi73oKO37hcJY1EtwSIr6ilTYzg=="
        in dockerfile
    )
    assert 'org.lobestack.standin="false"' in dockerfile
    assert 'org.lobestack.built-from="npm:@lobehub/chat@1.143.3"' in dockerfile
    assert 'ENTRYPOINT ["/bin/node"]' in dockerfile and 'CMD ["/app/startServer.js"]' in dockerfile
    assert images.LOBECHAT.long and not images.LOBECHAT_STANDIN.long


def test_reference_runs_the_real_logto_and_standin_the_stand_in() -> None:
    logto = {
        name: yaml.safe_load((images.standins_dir() / f"docker-compose.{name}.yml").read_text())["services"]["logto"]
        for name in images.BUILT_SETS
    }
    assert logto == {
        "reference": {"image": "lobestack/logto:1.37.1"},
        "standin": {"image": "lobestack/logto-standin:1"},
    }
    assert images.LOGTO.context() == REPO / "upstream" / "logto"
    dockerfile = (images.LOGTO.context() / "Dockerfile").read_text()
    # the sources no registry serves, pinned by sha256 in the spec and checked again in the build
    for name, sha256 in images.LOGTO.sources:
        assert name in dockerfile and sha256 in dockerfile
    assert 'org.lobestack.standin="false"' in dockerfile
    assert 'ENTRYPOINT ["npm", "run"]' in dockerfile and 'CMD ["start"]' in dockerfile
    # the two big builds come last, one after the other
    assert images.BUILT_SETS["reference"][-2:] == (images.LOGTO, images.LOBECHAT)
    assert images.LOGTO.long


def test_an_upstream_source_is_found_checked_and_refused_when_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOBESTACK_UPSTREAM_SOURCES", str(tmp_path))
    name, sha256 = images.LOGTO.sources[0]
    with pytest.raises(BadInput, match=f"is built from {name}, which is not in"):
        images.upstream_source(images.LOGTO, name, sha256)
    (tmp_path / "logto").mkdir()
    (tmp_path / "logto" / name).write_bytes(b"not the release")
    with pytest.raises(BadInput, match=f"is not the pinned {sha256}"):
        images.upstream_source(images.LOGTO, name, sha256)


def test_the_sources_count_by_their_pinned_hash_not_as_files(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    plain = images.context_hash(tmp_path, {"A": "1"}, frozenset({"big.tar.xz"}))
    (tmp_path / "big.tar.xz").write_bytes(b"copied in for the build")
    assert images.context_hash(tmp_path, {"A": "1"}, frozenset({"big.tar.xz"})) == plain
    assert images.context_hash(tmp_path, {"A": "1"}) != plain


def test_postgres_and_nginx_build_from_trixie() -> None:
    assert images.POSTGRES.trixie and images.NGINX.trixie and not images.LOGTO.trixie
    assert images.POSTGRES.base("lobestack/bookworm-base:1") == images.TRIXIE_BASE
    assert images.LOGTO.base("lobestack/bookworm-base:1") == "lobestack/bookworm-base:1"


def test_every_set_is_described_and_the_standin_set_says_it_is_the_fast_one() -> None:
    assert set(images.SET_DESCRIPTIONS) == set(images.IMAGE_SETS)
    assert images.SET_DESCRIPTIONS["standin"].startswith("the FAST set: STAND-INS for LobeChat")
    assert "REAL LobeChat" in images.SET_DESCRIPTIONS["reference"]
    assert "REAL Logto" in images.SET_DESCRIPTIONS["reference"]


def test_unknown_set_is_bad_input() -> None:
    with pytest.raises(BadInput, match="unknown image set 'official' to build"):
        images.specs_for("official")


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `docker` on PATH: `build` runs $FAKE_BUILD (a shell snippet); `image inspect` finds only `base`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "docker"
    script.write_text(
        '#!/bin/sh\ncase "$1 $2" in\n  "image inspect") [ "$3" = base ] && exit 0; exit 1 ;;\n'
        '  build*) eval "$FAKE_BUILD" ;;\n  *) exit 0 ;;\nesac\n'
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM base\n")
    monkeypatch.setattr(images.ImageSpec, "context", lambda spec: context)
    return context


def test_a_long_build_shows_its_steps_and_a_failed_one_its_tail(
    fake_docker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "FAKE_BUILD", 'echo "Step 1/2 : FROM base"; echo "Step 2/2 : RUN next build"; echo "boom: heap"; exit 1'
    )
    spec = images.ImageSpec("x", "lobestack/x:1", timeout_s=images.LONG_BUILD_S)
    said: list[str] = []
    with pytest.raises(images.ImageBuildError, match=r"(?s)building lobestack/x:1 from .* failed:.*boom: heap"):
        images.ensure_images((spec,), base_image="base", extra_ca=None, progress=said.append)
    assert "    Step 2/2 : RUN next build" in said
    assert not (fake_docker / "extra-ca.pem").exists()  # the CA copy never stays in the context


def test_a_quick_build_is_quiet_and_says_its_time_and_memory(
    fake_docker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_BUILD", 'echo "Step 1/1 : FROM base"')
    timings: dict[str, images.BuildTiming] = {}
    said: list[str] = []
    built = images.ensure_images(
        (images.ImageSpec("x", "lobestack/x:1"),), base_image="base", progress=said.append, timings=timings
    )
    assert built == ["lobestack/x:1"]
    assert not [line for line in said if "Step" in line]
    assert re.search(r"built in \d+\.\d s, host memory in use peaked \d+\.\d GiB$", said[-1]), said
    assert timings["lobestack/x:1"].peak_gib > 0


def test_an_overlong_build_is_stopped_and_says_so(fake_docker: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_BUILD", "sleep 30")
    spec = images.ImageSpec("x", "lobestack/x:1", timeout_s=1)
    t0 = time.monotonic()
    with pytest.raises(images.ImageBuildError, match="building lobestack/x:1 took over 1 s"):
        images.ensure_images((spec,), base_image="base", progress=lambda line: None)
    assert time.monotonic() - t0 < 10


@pytest.mark.parametrize("image_set", ["reference", "standin"])
def test_cli_images_builds_the_set_asked_for_and_says_which(
    image_set: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[tuple[images.ImageSpec, ...]] = []

    def fake_ensure(specs: tuple[images.ImageSpec, ...], **options: object) -> list[str]:
        asked.append(specs)
        return [specs[-1].tag]

    monkeypatch.setattr(images, "ensure_images", fake_ensure)
    assert cli.main(["images", "--images", image_set]) == 0
    out = capsys.readouterr().out.splitlines()
    assert asked == [images.BUILT_SETS[image_set]]
    assert out[0] == f"lobestack images: the {image_set} set ({images.SET_DESCRIPTIONS[image_set]})"
    assert re.fullmatch(r"lobestack images: 1 built, in \d+\.\d s", out[-1]), out


def _docker_with_tags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tags: list[str]) -> None:
    """A `docker` whose `image inspect --format {{json .RepoTags}}` knows only `tags` (one image each), as Docker
    answers: a line per image found, exit 1 when one is missing."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    known = " ".join(tags)
    (bin_dir / "docker").write_text(
        '#!/bin/sh\nshift 4\nrc=0\nfor ref in "$@"; do\n  case " ' + known + ' " in\n'
        '    *" $ref "*) printf \'["%s"]\\n\' "$ref" ;;\n    *) rc=1 ;;\n  esac\ndone\nexit $rc\n'
    )
    (bin_dir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")


def test_the_official_sets_first_line_says_where_its_images_come_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refs = images.official_images(None)
    assert "svhd/logto:1.37.1" in refs and "lobehub/lobe-chat-database:v1.143.3" in refs
    assert "ollama/ollama:0.6.8" not in refs  # the gpu profile is not started
    assert "nginx:1.27.5-bookworm" in refs  # the ephemeral overlay's Nginx in front
    _docker_with_tags(tmp_path, monkeypatch, refs[:2])
    said = images.official_origin(refs)
    assert said == f"2 present locally under their official names; pulled: {', '.join(refs[2:])}"
    assert images.official_origin(refs[:2]) == "all 2 present locally under their official names"
    assert images.official_origin(refs[2:]) == f"all {len(refs) - 2} pulled from their registries"
