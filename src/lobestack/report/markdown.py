"""The run as Markdown: what CI shows on the run's page ($GITHUB_STEP_SUMMARY, GitLab's job page) and
reports/<env>/summary.md.

Each check that did not pass gets a heading with its impact and title, then each finding on its own line (impact,
file:line or URL, the text whole) and the fix once. A check with many findings shows the first FINDINGS_SHOWN and
folds the rest in `<details>`. Checks come worst first: failures before warnings and accepted findings, then by
impact, then by ID (the order of the terminal and report.html). Everything a server or file put in a finding is
escaped (report/escaping.py): Markdown and HTML show as text, never as markup."""

from __future__ import annotations

from lobestack.checks.registry import IMPACT_MEANING, IMPACTS
from lobestack.report import escaping
from lobestack.report.escaping import code, markdown, markdown_own
from lobestack.report.summary import CheckResult, Summary

_ICON = {"failed": "❌", "error": "💥", "warned": "⚠️", "accepted": "🟡", "skipped": "⏭️", "passed": "✅"}
_ORDER = {"failed": 0, "error": 1, "warned": 2, "accepted": 3}
_STATUS = {"fails": "", "warning": " (warning)", "accepted": " (accepted)"}
FINDINGS_SHOWN = 5  # findings of one check shown before the rest are folded


def _rank(impact: str) -> int:
    return IMPACTS.index(impact) if impact in IMPACTS else len(IMPACTS)  # a test that is not a check: first


def _finding(finding: dict[str, str]) -> str:
    text = "<br>".join(markdown(line) for line in finding["message"].split("\n"))
    where = f" {code(finding['where'])}" if finding.get("where") else ""
    accepted = f" — {markdown(finding['note'])}" if finding.get("status") == "accepted" and finding.get("note") else ""
    return f"- **{markdown(finding['impact'])}**{_STATUS.get(finding.get('status', ''), '')}{where} {text}{accepted}"


def _check(c: CheckResult) -> list[str]:
    impact = f" ({c.impact})" if c.impact else ""
    title = f" — {markdown_own(c.title)}" if c.title and c.title != c.id else ""
    out = [f"#### {_ICON[c.outcome]} {c.outcome} · {code(c.id)}{impact}{title}", ""]
    if c.findings:
        lines = [_finding(f) for f in c.findings]
        out += lines[:FINDINGS_SHOWN]
        if len(lines) > FINDINGS_SHOWN:
            more = len(lines) - FINDINGS_SHOWN
            out += ["", f"<details><summary>{more} more finding{'s' if more > 1 else ''}</summary>", ""]
            out += lines[FINDINGS_SHOWN:]
            out += ["", "</details>"]
    elif c.message:
        # No findings to list (the check itself failed, or a test that is not a check): its message, folded when
        # it runs over lines (a traceback).
        lines = escaping.lines(c.message)
        if len(lines) == 1:
            out.append(f"- {markdown(lines[0])}")
        else:
            out += [
                f"<details><summary>{markdown(lines[0])}</summary>",
                "",
                escaping.fenced(c.message),
                "",
                "</details>",
            ]
    if c.fix and c.outcome in ("failed", "error", "warned"):
        out += ["", f"**Fix:** {markdown_own(c.fix)}"]
    out.append("")
    return out


def render(summary: Summary, first_line: str) -> str:
    counts = summary.counts
    out = [f"## {markdown(first_line)}", ""]
    shown = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    headline = f"**{shown or 'nothing ran'}** in {summary.duration_s:.1f} s"
    if summary.requests:
        budget = summary.requests.get("budget")
        headline += f"; {summary.requests.get('total', 0)} requests sent" + (f" (budget {budget})" if budget else "")
    out += [headline, ""]
    impacts = [f["impact"] for c in summary.checks for f in c.findings]
    if impacts:
        found = ", ".join(f"{impacts.count(i)} {i}" for i in reversed(IMPACTS) if impacts.count(i))
        levels = [i for i in reversed(IMPACTS) if _rank(i) >= _rank(summary.fail_on)]
        fails_on = "every finding" if len(levels) == len(IMPACTS) else " and ".join(levels) + " findings"
        out += [
            f"Findings: {found}. The run fails on {fails_on} (`--fail-on {summary.fail_on}`); the others are "
            "warnings. " + "; ".join(f"**{i}**: {IMPACT_MEANING[i]}" for i in reversed(IMPACTS)) + ".",
            "",
        ]
    if summary.addresses:
        out += ["Public names: " + ", ".join(code(a) for a in summary.addresses), ""]
    if summary.diff:
        diff = summary.diff
        out.append(
            f"### Since the previous run ({markdown(str(diff['previous']))}): {len(diff['new'])} new, "
            f"{len(diff['fixed'])} fixed, {len(diff['still_failing'])} still failing"
        )
        out.append("")
        out += [f"- **new**: {code(cid)}" for cid in diff["new"]]
        out += [f"- **fixed**: {code(cid)}" for cid in diff["fixed"]]
        out += [f"- **still failing**: {code(s['id'])} ({s['runs']} runs in a row)" for s in diff["still_failing"]]
        out.append("")
    notable = [c for c in summary.checks if c.outcome in _ORDER]
    if notable:
        out += ["### Findings", ""]
        for c in sorted(notable, key=lambda c: (_ORDER[c.outcome], -_rank(c.impact), c.id)):
            out += _check(c)
    if summary.baseline:
        for kind in ("expired", "stale"):
            items = summary.baseline.get(kind) or []
            if items:
                out.append(f"**Baseline, {kind}:**")
                out += [f"- {markdown(escaping.one_line(e))}" for e in items]
                out.append("")
    return "\n".join(out).rstrip() + "\n"
