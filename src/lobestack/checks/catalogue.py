"""docs/checks.md, generated from the registry (never edited by hand; a test fails when it is stale)."""

from __future__ import annotations

from lobestack.checks.registry import GROUPS, all_checks

_GROUP_TITLES = {
    "compose": "Compose policy",
    "nginx": "Nginx policy",
    "env": "Env policy",
    "consistency": "Cross-file consistency",
}


def render_catalogue() -> str:
    checks = all_checks()
    out = [
        "# Static checks",
        "",
        "Generated from `src/lobestack/checks/` by `python -m lobestack catalogue`; do not edit by hand.",
        f"{len(checks)} checks. Each fails with its ID on the faults listed (tests/static/test_check_proofs.py) and "
        "passes on a freshly rendered deployment.",
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
