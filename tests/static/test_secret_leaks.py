"""Secrets never leave (hypothesis): secrets full of `@ : / $ { } - # " '`, spaces and unicode in every secret
field of a rendered deployment, every static check broken by its faults, a malformed `.env` line around a
secret; the gate runs as a process, and no 6-character piece of any secret may appear in the terminal output,
junit.xml, report.html, summary.json or any other file of the report directory."""

from __future__ import annotations

import html
import json
import random
import re
import shutil
import string
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lobestack.checks import Check, all_checks
from lobestack.checks.registry import Fault, SetEnv
from lobestack.checks.runner import evaluate
from lobestack.deployment import load_deployment
from lobestack.deployment.envfile import SECRET_NAME
from lobestack.errors import EXIT_BAD_INPUT, BadInput
from lobestack.redaction import MIN_SECRET_LENGTH
from tests.conftest import GateRun, run_gate

AWKWARD = ["@", ":", "/", "$", "{", "}", "-", "#", '"', "'", " ", "é", "€", "ß", "日", "🔑"]
# Between any two awkward characters, two characters drawn from letters, digits and 1,000 CJK ideographs: every
# 6-character piece of a secret then holds at least 4 random characters, so that it cannot also be ordinary text
# of a report by chance (a false alarm), whatever the awkward characters are.
_FILLER = string.ascii_letters + string.digits + "".join(chr(c) for c in range(0x4E00, 0x4E00 + 1000))


@st.composite
def secrets_(draw: st.DrawFn) -> str:
    # Every awkward character in every secret, in an order hypothesis picks, with extra ones it may add.
    awkward = draw(st.permutations(AWKWARD)) + draw(st.lists(st.sampled_from(AWKWARD), max_size=8))
    rng = random.Random(draw(st.integers(0, 2**32)))
    return "".join(ch + rng.choice(_FILLER) + rng.choice(_FILLER) for ch in awkward)


def _secret_keys(healthy: Path) -> list[str]:
    env = load_deployment(healthy).env
    return sorted(k for k, v in env.values.items() if SECRET_NAME.search(k) and v)


def _fault_groups(healthy: Path, scratch: Path) -> list[list[tuple[Fault, ...]]]:
    """Every fault of every static check, packed into as few deployments as possible: a fault joins the first
    group where its edits still apply, no earlier fault set the same .env key, and every check of the group,
    its own included, still fails (faults can hide each other: an http APP_URL hides the app vhost)."""
    groups: list[tuple[Path, set[str], list[tuple[Check, tuple[Fault, ...]]]]] = []
    for n, (check, fault) in enumerate((c, f) for c in all_checks() for f in c.faults):
        keys = {k for edit in fault.steps if isinstance(edit, SetEnv) for k in edit.values}
        for root, taken, members in groups:
            if keys & taken:
                continue
            trial = scratch / f"trial{n}"
            shutil.copytree(root, trial)
            try:
                for edit in fault.steps:
                    edit.apply(trial)
            except AssertionError:  # a stale edit: an earlier fault of this group changed its text
                shutil.rmtree(trial)
                continue
            try:
                deployment = load_deployment(trial)
            except BadInput:  # two faults together make files Compose or Nginx refuse (a location written twice)
                shutil.rmtree(trial)
                continue
            # a check that no longer applies with both faults in (CheckSkipped) proves nothing here
            if not all(evaluate(c, deployment).findings for c, _ in [*members, (check, fault)]):
                shutil.rmtree(trial)
                continue
            shutil.rmtree(root)
            trial.rename(root)
            taken.update(keys)
            members.append((check, fault))
            break
        else:
            root = scratch / f"group{len(groups)}"
            shutil.copytree(healthy, root)
            for edit in fault.steps:
                edit.apply(root)
            groups.append((root, set(keys), [(check, fault)]))
    return [[fault for _, fault in members] for _, _, members in groups]


@pytest.fixture(scope="module")
def fault_groups(healthy_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[list[tuple[Fault, ...]]]:
    return _fault_groups(healthy_dir, tmp_path_factory.mktemp("packing"))


@pytest.fixture(scope="module")
def secret_keys(healthy_dir: Path) -> list[str]:
    keys = _secret_keys(healthy_dir)
    assert len(keys) >= 7, keys  # NEXT_AUTH/AUTH_LOGTO/KEY_VAULTS secrets, three passwords, the S3 secret key
    return keys


def _pieces(secret: str) -> set[str]:
    return {secret[i : i + MIN_SECRET_LENGTH] for i in range(len(secret) - MIN_SECRET_LENGTH + 1)}


def _readings(path: Path) -> Iterator[str]:
    """A report file as stored and as a reader sees it: entities and JSON escapes undone."""
    text = path.read_text(encoding="utf-8", errors="replace")
    yield text
    yield html.unescape(text)
    blobs = [text] if path.suffix == ".json" else []
    blobs += [html.unescape(b) for b in re.findall(r'data-jsonblob="([^"]*)"', text)]
    for blob in blobs:
        yield from _strings(json.loads(blob))


def _strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)


def _leaks(run: GateRun, report_dir: Path, secrets: dict[str, str]) -> list[str]:
    """Where a piece of which secret was found, never the piece itself (it would leak into this test's report)."""
    places = {"terminal": [run.output]}
    for path in sorted(p for p in report_dir.rglob("*") if p.is_file()):
        places[path.name] = list(_readings(path))
    found = []
    for key, secret in secrets.items():
        pieces = _pieces(secret)
        for place, texts in places.items():
            if any(piece in text for text in texts for piece in pieces):
                found.append(f"{key} in {place}")
    return found


def _malformed_line(key: str, secret: str, unterminated: bool) -> str:
    if unterminated:  # a double quote that never closes (the last line of the file)
        return f'{key}="{secret.replace(chr(34), "")}'
    # a `${` that never closes, after the secret; unquoted, without what would end or quote the value early
    plain = re.sub(r"[${}#\"' ]", "", secret)
    return f"{key}=x{plain}${{"


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_piece_of_a_secret_leaves(
    data: st.DataObject,
    healthy_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    fault_groups: list[list[tuple[Fault, ...]]],
    secret_keys: list[str],
) -> None:
    generated = {key: data.draw(secrets_(), label=key) for key in secret_keys}
    scratch = tmp_path_factory.mktemp("leaks")
    jobs: list[tuple[Path, Path, dict[str, str]]] = []  # (deployment, report dir, secrets still in it)
    for n, faults in enumerate(fault_groups):
        root = scratch / f"group{n}"
        shutil.copytree(healthy_dir, root)
        SetEnv(dict(generated)).apply(root)
        for fault in faults:
            for edit in fault.steps:
                edit.apply(root)
        overwritten = {k for fault in faults for edit in fault.steps if isinstance(edit, SetEnv) for k in edit.values}
        jobs.append((root, scratch / f"reports{n}", {k: v for k, v in generated.items() if k not in overwritten}))
    # One more deployment whose .env does not parse, at a secret.
    bad_key = data.draw(st.sampled_from(secret_keys), label="malformed key")
    unterminated = data.draw(st.booleans(), label="unterminated quote (else a bad ${)")
    root = scratch / "malformed"
    shutil.copytree(healthy_dir, root)
    SetEnv({**generated, bad_key: None}).apply(root)
    with (root / ".env").open("a", encoding="utf-8") as env:
        env.write(_malformed_line(bad_key, generated[bad_key], unterminated))
    jobs.append((root, scratch / "reports-malformed", generated))

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        runs = list(pool.map(lambda job: run_gate(job[0], job[1]), jobs))

    failed: set[str] = set()
    for (_, report_dir, secrets), run in zip(jobs, runs, strict=True):
        leaks = _leaks(run, report_dir, secrets)
        assert not leaks, f"pieces of secrets left: {leaks}"
        if (report_dir / "summary.json").is_file() and run.returncode != EXIT_BAD_INPUT:
            summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
            failed |= {c["id"] for c in summary["checks"] if c["outcome"] == "failed"}
    unbroken = sorted({c.id for c in all_checks()} - failed)
    assert not unbroken, f"checks no fault broke: {unbroken}"
    malformed = runs[-1]
    assert malformed.returncode == EXIT_BAD_INPUT, malformed.output[-2000:]
    assert len(malformed.error_lines) == 1 and f"{bad_key}" in malformed.error_lines[0]


def test_the_leak_finder_sees_pieces_in_every_form(tmp_path: Path) -> None:
    """The property above is only as good as its finder: a piece of a secret is found raw, HTML-escaped, and
    JSON-escaped inside pytest-html's data blob."""
    secret = '@僖償:且俔/凙冥$僿"倯'
    piece = secret[4:10]
    clean = GateRun(0, "all good", "", 0.1, 40.0)
    assert _leaks(GateRun(0, f"x {piece} y", "", 0.1, 40.0), tmp_path, {"K": secret}) == ["K in terminal"]
    (tmp_path / "junit.xml").write_text(f"<f message={html.escape(secret[6:14], quote=True)!r}/>", encoding="utf-8")
    blob = html.escape(json.dumps({"log": secret[7:]}), quote=True)  # ensure_ascii: \\uXXXX escapes
    (tmp_path / "report.html").write_text(f'<div data-jsonblob="{blob}"></div>', encoding="utf-8")
    assert _leaks(clean, tmp_path, {"K": secret}) == ["K in junit.xml", "K in report.html"]
    assert _leaks(clean, tmp_path, {"K": "0123456789"}) == []
