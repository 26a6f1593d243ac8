"""docs/checks.md, generated from the registry (never edited by hand; a test fails when it is stale)."""

from __future__ import annotations

from lobestack.checks.registry import GROUPS, all_checks

_GROUP_TITLES = {
    "compose": "Compose policy",
    "nginx": "Nginx policy",
    "env": "Env policy",
    "consistency": "Cross-file consistency",
    "stack": "Stack (live: against a running stack)",
}


def render_catalogue() -> str:
    checks = all_checks(layer=None)
    out = [
        "# Static checks",
        "",
        "Generated from `src/lobestack/checks/` by `python -m lobestack catalogue`; do not edit by hand.",
        f"{len(checks)} checks. Each fails with its ID on the faults listed and passes on a freshly rendered "
        "deployment (static: tests/static/test_check_proofs.py) or a healthy ephemeral stack (stack: "
        "tests/stack/test_live_proofs.py, faults injected into the running stack).",
        "",
    ]
    for group in GROUPS:
        out += [f"## {_GROUP_TITLES[group]}", "", "| ID | checks that | fix | proven by |", "|---|---|---|---|"]
        for c in (c for c in checks if c.group == group):
            proofs = "<br>".join(" + ".join(_cell(str(e)) for e in fault) for fault in c.faults)
            out.append(f"| `{c.id}` | {_cell(c.title)} | {_cell(c.fix)} | {proofs} |")
        out.append("")
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "\\n")
