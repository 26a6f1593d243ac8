"""docs/checks.md, generated from the registry (never edited by hand; a test fails when it is stale)."""

from __future__ import annotations

from lobestack.checks.registry import LAYERS, all_checks, groups

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


def render_catalogue() -> str:
    checks = all_checks(layer=None)
    out = [
        "# Checks",
        "",
        "Generated from `src/lobestack/checks/` by `python -m lobestack catalogue`; do not edit by hand.",
        f"{len(checks)} checks. Each fails with its ID and the finding named (⇒ “…”) on every fault listed, and "
        "passes on a healthy deployment or stack and on every variant listed under “passes on”. `needs`: what the "
        "target must offer, else the check is reported skipped with the reason.",
        "",
    ]
    for layer in LAYERS:
        layer_groups = groups(layer)
        if not layer_groups:
            continue
        out += [f"## {_LAYER_TITLES[layer]}", ""]
        for group in layer_groups:
            passing = any(c.passes for c in group.checks)
            header = "| ID | checks that | fix | proven by |" + (" passes on |" if passing else "")
            out += [f"### {group.title} (`{group.prefix}-`)", "", header]
            out.append("|---|---|---|---|" + ("---|" if passing else ""))
            for c in sorted(group.checks, key=lambda c: c.id):
                proofs = "<br>".join(_cell(str(f)) for f in c.faults)
                needs = f" (needs: {', '.join(sorted(c.needs))})" if c.needs else ""
                row = f"| `{c.id}` | {_cell(c.title)}{needs} | {_cell(c.fix)} | {proofs} |"
                if passing:
                    row += " " + "<br>".join(_cell(str(p)) for p in c.passes) + " |"
                out.append(row)
            out.append("")
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "\\n")
