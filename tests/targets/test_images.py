"""The reference image set is built from `standins/` of a source checkout; an installation without one (a wheel)
says so in one line, before anything is rendered or built."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    assert (images.standins_dir() / "docker-compose.reference.yml").is_file()


def test_standins_are_not_in_the_bundle() -> None:
    from lobestack.render.bundle import bundle_dir

    assert not (bundle_dir() / "reference").exists()
    assert (bundle_dir() / "ephemeral" / "docker-compose.ephemeral.yml").is_file()


def test_without_a_checkout_the_reference_set_is_bad_input(installed: Path) -> None:
    with pytest.raises(BadInput, match="built from a lobestack source checkout"):
        images.standins_dir()
    with pytest.raises(BadInput, match="built from a lobestack source checkout"):
        images.ensure_images()


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
    assert err.startswith("lobestack: error: the reference image set (--images reference) is built from")
