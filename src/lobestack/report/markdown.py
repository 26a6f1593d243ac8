"""The run as Markdown: what CI shows on the run's page ($GITHUB_STEP_SUMMARY) and reports/<env>/summary.md."""

from __future__ import annotations

from lobestack.report.summary import Summary

_ICON = {"failed": "❌", "error": "💥", "warned": "⚠️", "accepted": "🟡", "skipped": "⏭️", "passed": "✅"}


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())[:300]


def render(summary: Summary, first_line: str) -> str:
    counts = summary.counts
    out = [f"## {first_line}", ""]
    shown = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    out.append(f"**{shown or 'nothing ran'}** in {summary.duration_s:.1f} s")
    if summary.requests:
        budget = summary.requests.get("budget")
        out.append(f"; {summary.requests.get('total', 0)} requests sent" + (f" (budget {budget})" if budget else ""))
    out.append("")
    if summary.addresses:
        out += ["Public names: " + ", ".join(f"`{a}`" for a in summary.addresses), ""]
    if summary.diff:
        diff = summary.diff
        out.append(
            f"### Since the previous run ({diff['previous']}): {len(diff['new'])} new, {len(diff['fixed'])} fixed, "
            f"{len(diff['still_failing'])} still failing"
        )
        out.append("")
        out += [f"- **new**: `{cid}`" for cid in diff["new"]]
        out += [f"- **fixed**: `{cid}`" for cid in diff["fixed"]]
        out += [f"- **still failing**: `{s['id']}` ({s['runs']} runs in a row)" for s in diff["still_failing"]]
        out.append("")
    notable = [c for c in summary.checks if c.outcome in ("failed", "error", "warned", "accepted")]
    if notable:
        out += ["| | check | what was seen | fix |", "|---|---|---|---|"]
        order = {"failed": 0, "error": 1, "warned": 2, "accepted": 3}
        for c in sorted(notable, key=lambda c: (order[c.outcome], c.id)):
            fix = c.fix if c.outcome in ("failed", "error", "warned") else ""
            out.append(f"| {_ICON[c.outcome]} {c.outcome} | `{c.id}` | {_cell(c.message)} | {_cell(fix)} |")
        out.append("")
    if summary.baseline:
        for kind in ("expired", "stale"):
            items = summary.baseline.get(kind) or []
            if items:
                out.append(f"**Baseline, {kind}:**")
                out += [f"- {_cell(e)}" for e in items]
                out.append("")
    return "\n".join(out).rstrip() + "\n"
