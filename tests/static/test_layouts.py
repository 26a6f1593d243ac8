"""Golden expectations on deployments lobestack did not render (tests/data/layouts/<name>/): LobeChat's published
Logto example, the seed guide's layout and hand-written variants. Each layout's expected.yaml says, the way KICS
keeps positive and negative expected results, which checks must fire (with a phrase of each finding: the layout's
real problems), which must stay silent (skipped or passed; "*" is every check not named: a new false alarm fails
here), which must judge it and pass (`judged`: not skipped), and which must say they do not apply (skipped, with
a phrase of the reason); `nginx_conf` is the nginx.conf
the layout's Nginx is read from (--nginx-conf), else nginx/. The gate's model and checks run in-process, as
`pytest suites/static` runs them, and must stay well under a second per layout."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from lobestack.checks import all_checks
from lobestack.checks.runner import Outcome, evaluate
from lobestack.deployment import load_deployment
from lobestack.errors import EXIT_BAD_INPUT, EXIT_CHECK_FAILED
from tests.conftest import run_gate

LAYOUTS = Path(__file__).resolve().parents[1] / "data" / "layouts"
NAMES = sorted(p.name for p in LAYOUTS.iterdir() if (p / "expected.yaml").is_file())
# In-process: the model read and every static check, per layout (the gate's own start-up is not counted).
BUDGET_S = 0.5


def expected(name: str) -> dict:
    return yaml.safe_load((LAYOUTS / name / "expected.yaml").read_text(encoding="utf-8")) or {}


def verdicts(name: str) -> tuple[dict[str, Outcome], float]:
    spec = expected(name)
    root = LAYOUTS / name
    t0 = time.perf_counter()
    conf = spec.get("nginx_conf")
    deployment = load_deployment(root, nginx_conf=root / conf if conf else None)
    outcomes = {c.id: evaluate(c, deployment) for c in all_checks("static")}
    return outcomes, time.perf_counter() - t0


def _shown(outcome: Outcome) -> str:
    if outcome.error:
        return outcome.error
    if outcome.skipped:
        return outcome.skipped
    return "; ".join(str(f) for f in outcome.findings) or "(passed)"


def test_the_corpus_is_there() -> None:
    assert len(NAMES) >= 8, NAMES
    assert {"lobechat-logto-example", "seed-guide"} <= set(NAMES)
    for name in NAMES:
        spec = expected(name)
        known = {c.id for c in all_checks("static")}
        fire, skipped = set(spec.get("fire") or {}), set(spec.get("skipped") or {})
        silent = set() if spec.get("silent") == "*" else set(spec.get("silent") or [])
        listed = fire | silent | skipped | set(spec.get("judged") or [])
        assert listed <= known, f"{name}: unknown check IDs {sorted(listed - known)}"
        assert not fire & silent and not fire & skipped, name


@pytest.mark.parametrize("name", NAMES)
def test_layout_matches_its_golden_expectations(name: str) -> None:
    spec = expected(name)
    outcomes, elapsed = verdicts(name)
    problems: list[str] = []
    for cid, outcome in outcomes.items():
        if outcome.error:
            problems.append(f"{cid} crashed: {outcome.error.splitlines()[0]}")
    for cid, phrases in (spec.get("fire") or {}).items():
        outcome = outcomes[cid]
        text = "\n".join(str(f) for f in outcome.findings)
        if not outcome.findings:
            problems.append(f"{cid} must fire, got: {_shown(outcome)}")
        for phrase in phrases or []:
            if phrase not in text:
                problems.append(f"{cid} must say {phrase!r}, got: {_shown(outcome)}")
    silent = spec.get("silent") or []
    if silent == "*":  # every check the file does not name
        silent = [
            cid for cid in outcomes if cid not in (spec.get("fire") or {}) and cid not in (spec.get("skipped") or {})
        ]
    for cid in silent:
        if outcomes[cid].findings:
            problems.append(f"{cid} must not fire (a false alarm), got: {_shown(outcomes[cid])}")
    for cid in spec.get("judged") or []:  # applies here, and passes
        if outcomes[cid].skipped or outcomes[cid].findings:
            problems.append(f"{cid} must judge this layout and pass, got: {_shown(outcomes[cid])}")
    for cid, phrase in (spec.get("skipped") or {}).items():
        outcome = outcomes[cid]
        if outcome.skipped is None or phrase not in outcome.skipped:
            problems.append(f"{cid} must be skipped saying {phrase!r}, got: {_shown(outcome)}")
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)
    assert elapsed < BUDGET_S, f"{name}: the gate took {elapsed:.3f} s in-process"


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("lobechat-logto-example", "[XREF-SERVER-NAMES] skipped: no Nginx config read"),
        (
            "caddy-front",
            "[NGINX-HSTS] skipped: the proxy in front is Caddy (service caddy), which the gate does not read",
        ),
        ("seed-guide", "[XREF-SERVER-NAMES] breaks: docker-compose.yml:76: APP_URL https://lobe.prometheusags.ai"),
    ],
)
def test_the_gate_gives_a_verdict_on_a_foreign_layout_never_a_refusal(name: str, says: str, tmp_path: Path) -> None:
    """As users run it: findings (exit 1), each skip with its reason, and no refusal (exit 4) for a missing nginx/."""
    conf = expected(name).get("nginx_conf")
    extra = ["-rs", *(["--nginx-conf", str(LAYOUTS / name / conf)] if conf else [])]
    result = run_gate(LAYOUTS / name, tmp_path, *extra)
    assert result.returncode == EXIT_CHECK_FAILED, result.output[-3000:]
    assert says in result.stdout, result.stdout[-3000:]


def test_nginx_conf_without_a_deployment_is_a_usage_error(tmp_path: Path) -> None:
    conf = LAYOUTS / "seed-guide" / "etc" / "nginx" / "nginx.conf"
    result = run_gate(None, tmp_path, "--nginx-conf", str(conf))
    assert result.returncode == EXIT_BAD_INPUT
    assert "--nginx-conf reads the Nginx of a deployment: give its directory with --deployment DIR" in result.output
