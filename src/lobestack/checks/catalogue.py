"""docs/checks.md, generated from the registry (never edited by hand; a test fails when it is stale)."""

from __future__ import annotations

from lobestack.checks.faults import Recorded
from lobestack.checks.registry import IMPACT_MEANING, IMPACTS, LAYERS, Check, all_checks, groups

_LAYER_TITLES = {
    "static": "Static layer: the deployment directory (tests/static/test_check_proofs.py edits a fresh rendering)",
    "stack": "Live layer: a running stack (tests/stack/test_live_proofs.py injects each fault into the running "
    "reference stack and restores it byte for byte)",
    "e2e": "Browser layer: flows in Chromium against a running stack (tests/stack/test_e2e_proofs.py injects each "
    "fault into the running reference stack; the flow must fail at the step named)",
    "host": "Host layer: the server itself through testinfra (tests/host/test_host_proofs.py injects each live fault "
    "into the reference stack on the CI machine; `a host recorded as` faults run on tests/data/hosts/)",
    "gpu": "GPU layer: the server's NVIDIA GPU (proven on recorded hosts, tests/data/hosts/, with their sources)",
    "prod": "Production layer: the public deployment from outside (tests/stack/test_prod_proofs.py injects each "
    "fault into a reference stack seen as production: names pinned, the run's CA, Docker's gateway as the public "
    "address)",
}
# The tests that prove each layer's checks on their faults (parametrized by check ID), as lobestack's own checkout
# runs them; a host check's faults recorded from real hosts run in their own module.
_PROOF_TESTS = {
    "static": "tests/static/test_check_proofs.py",
    "stack": "tests/stack/test_live_proofs.py",
    "e2e": "tests/stack/test_e2e_proofs.py",
    "host": "tests/host/test_host_proofs.py",
    "gpu": "tests/host/test_recorded_proofs.py",
    "prod": "tests/stack/test_prod_proofs.py",
}
_RECORDED_PROOFS = "tests/host/test_recorded_proofs.py"


def proof_command(check: Check) -> str:
    """The command that runs a check's proofs: its faults, its healthy and pass variants."""
    recorded = [any(isinstance(step, Recorded) for step in f.steps) for f in check.faults]
    files = [_PROOF_TESTS[check.layer]]
    if check.layer == "host" and any(recorded):
        files = ([files[0]] if not all(recorded) else []) + [_RECORDED_PROOFS]
    return f"python -m pytest {' '.join(files)} -k {check.id}"


def render_catalogue() -> str:
    checks = all_checks(layer=None)
    impacts = [c.impact for c in checks]
    out = [
        "# Checks",
        "",
        "Generated from `src/lobestack/checks/` by `python -m lobestack catalogue`; do not edit by hand.",
        f"{len(checks)} checks. Each fails with its ID and the finding named (⇒ “…”) on every fault listed, and "
        "passes on a healthy deployment or stack and on every variant listed under “passes on”; the command under "
        "its faults runs those proofs in lobestack's checkout. `needs`: what the target must offer, else the check "
        "is reported skipped with the reason.",
        "",
        "Impact, what a check's findings cost ("
        + ", ".join(f"{impacts.count(i)} {i}" for i in reversed(IMPACTS))
        + "): "
        + "; ".join(f"**{i}**: {IMPACT_MEANING[i]}" for i in reversed(IMPACTS))
        + ". A finding may name its own impact where one check finds problems of different kinds. "
        "`--fail-on LEVEL` fails the run on findings at LEVEL or above (default advice: every finding fails); the "
        "others are reported as warnings.",
        "",
    ]
    for layer in LAYERS:
        layer_groups = groups(layer)
        if not layer_groups:
            continue
        out += [f"## {_LAYER_TITLES[layer]}", ""]
        for group in layer_groups:
            passing = any(c.passes for c in group.checks)
            header = "| ID | impact | checks that | fix | proven by |" + (" passes on |" if passing else "")
            out += [f"### {group.title} (`{group.prefix}-`)", "", header]
            out.append("|---|---|---|---|---|" + ("---|" if passing else ""))
            for c in sorted(group.checks, key=lambda c: c.id):
                proofs = "<br>".join([*(_cell(str(f)) for f in c.faults), f"`{proof_command(c)}`"])
                needs = f" (needs: {', '.join(sorted(c.needs))})" if c.needs else ""
                row = f"| `{c.id}` | {c.impact} | {_cell(c.title)}{needs} | {_cell(c.fix)} | {proofs} |"
                if passing:
                    row += " " + "<br>".join(_cell(str(p)) for p in c.passes) + " |"
                out.append(row)
            out.append("")
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "\\n")
