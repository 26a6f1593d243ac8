"""docs/checks.md, generated from the registry (never edited by hand; a test fails when it is stale)."""

from __future__ import annotations

from lobestack.checks.registry import LAYERS, all_checks, groups

_LAYER_TITLES = {
    "static": "Static layer: the deployment directory (tests/static/test_check_proofs.py edits a fresh rendering)",
    "stack": "Live layer: a running stack (tests/stack/test_live_proofs.py injects each fault into the running "
    "reference stack and restores it byte for byte)",
    "e2e": "Browser layer: flows in Chromium against a running stack (tests/stack/test_e2e_proofs.py injects each "
    "fault into the running reference stack; the flow must fail at the step named)",
    "host": "Host layer: the server itself (testinfra)",
    "gpu": "GPU layer: the server's NVIDIA GPU",
    "prod": "Production layer: the public deployment from outside",
}


def render_catalogue() -> str:
    checks = all_checks(layer=None)
    out = [
        "# Checks",
        "",
        "Generated from `src/lobestack/checks/` by `python -m lobestack catalogue`; do not edit by hand.",
        f"{len(checks)} checks. Each fails with its ID and the finding named (⇒ “…”) on every fault listed, and "
        "passes on a healthy deployment or stack. `needs`: what the target must offer, else the check is "
        "reported skipped with the reason.",
        "",
    ]
    for layer in LAYERS:
        layer_groups = groups(layer)
        if not layer_groups:
            continue
        out += [f"## {_LAYER_TITLES[layer]}", ""]
        for group in layer_groups:
            out += [f"### {group.title} (`{group.prefix}-`)", "", "| ID | checks that | fix | proven by |"]
            out.append("|---|---|---|---|")
            for c in sorted(group.checks, key=lambda c: c.id):
                proofs = "<br>".join(_cell(str(f)) for f in c.faults)
                needs = f" (needs: {', '.join(sorted(c.needs))})" if c.needs else ""
                out.append(f"| `{c.id}` | {_cell(c.title)}{needs} | {_cell(c.fix)} | {proofs} |")
            out.append("")
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "\\n")
