"""Branch-level mutation of checks (test infrastructure, not shipped): each `yield Finding(...)` statement of a check is
one branch — one kind of problem the check claims to catch. A mutant is the check with one branch disabled (the
statement becomes `yield from ()`, so the function stays a generator). The mutant is killed when one of the
check's faults no longer produces the finding it names; a branch whose mutant survives every fault is a claim no
proof backs.

mutmut and cosmic-ray mutate every operator of a module and run a test command per mutant; this mutates exactly the
finding branches, compiles only the one function, and runs the check's own faults in-process on deployments loaded
once, so the whole static run takes about a second."""

from __future__ import annotations

import ast
import copy
import inspect
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lobestack.checks.registry import Check, Finding


@dataclass(frozen=True)
class Branch:
    check: str
    index: int  # the n-th `yield Finding(...)` of the check's function, in source order
    file: str
    line: int
    text: str  # the statement's source, on one line

    def __str__(self) -> str:
        return f"{self.check} branch {self.index} ({Path(self.file).name}:{self.line}): {self.text}"

    @property
    def literal(self) -> str:
        """The constant text of the finding's message (the parts of its f-string that are not expressions)."""
        return _literal_parts(self.text)


@cache
def _module_tree(filename: str) -> ast.Module:
    return ast.parse(Path(filename).read_text(encoding="utf-8"), filename)


def _function(check: Check) -> tuple[str, ast.FunctionDef]:
    filename = inspect.getsourcefile(check.run)
    if filename is None:
        raise ValueError(f"{check.id}: no source for {check.run!r}")
    for node in _module_tree(filename).body:
        if isinstance(node, ast.FunctionDef) and node.name == check.run.__name__:
            return filename, node
    raise ValueError(f"{check.id}: {check.run.__name__} is not a module-level function of {filename}")


def _is_finding_yield(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Yield)
        and isinstance(node.value.value, ast.Call)
        and isinstance(node.value.value.func, ast.Name)
        and node.value.value.func.id == Finding.__name__
    )


def _finding_yields(fn: ast.FunctionDef) -> list[ast.Expr]:
    found: list[ast.Expr] = []

    class Visitor(ast.NodeVisitor):
        def generic_visit(self, node: ast.AST) -> None:
            if _is_finding_yield(node):
                found.append(node)  # type: ignore[arg-type]
            super().generic_visit(node)

        def visit_FunctionDef(self, node: ast.FunctionDef) -> None:  # nested functions are not the check's branches
            if node is fn:
                self.generic_visit(node)

    Visitor().visit(fn)
    return found


def branches(check: Check) -> list[Branch]:
    filename, fn = _function(check)
    source = Path(filename).read_text(encoding="utf-8")
    return [
        Branch(check.id, i, filename, node.lineno, " ".join((ast.get_source_segment(source, node) or "").split()))
        for i, node in enumerate(_finding_yields(fn))
    ]


class _Disable(ast.NodeTransformer):
    def __init__(self, target: int) -> None:
        self.target = target
        self.seen = -1

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        if _is_finding_yield(node):
            self.seen += 1
            if self.seen == self.target:
                empty = ast.Expr(ast.YieldFrom(ast.Tuple([], ast.Load())))
                return ast.copy_location(empty, node)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return self.generic_visit(node)


def mutant(check: Check, branch: Branch) -> Callable[[Any], Iterable[Finding]]:
    """The check's function with `branch` disabled, compiled in its module's namespace."""
    filename, fn = _function(check)
    node = copy.deepcopy(fn)  # a private copy of the function alone, with its lines
    node.decorator_list = []
    transformer = _Disable(branch.index)
    transformer.visit(node)
    if transformer.seen < branch.index:
        raise ValueError(f"{branch}: not found again in its function")
    module = ast.Module(body=[node], type_ignores=[])
    ast.fix_missing_locations(module)
    namespace = dict(vars(sys.modules[check.run.__module__]))
    exec(compile(module, filename, "exec"), namespace)
    return namespace[node.name]


@dataclass(frozen=True)
class Verdict:
    branch: Branch
    killed_by: str | None  # the fault that noticed, or None: the branch survived


def run(check: Check, subjects: list[tuple[str, str, Any]]) -> Iterator[Verdict]:
    """Mutate each branch of `check`; `subjects` are (fault, expected phrase, the deployment with the fault in)."""
    for branch in branches(check):
        fn = mutant(check, branch)
        killed = None
        for label, expect, subject in subjects:
            try:
                findings = [str(f) for f in fn(subject)]
            except Exception as exc:  # a crash is noticed too: the proof would fail
                killed = f"{label} (raised {type(exc).__name__})"
                break
            if not any(expect in f for f in findings):
                killed = label
                break
        yield Verdict(branch, killed)


_FORMATTED = re.compile(r"\{[^{}]*\}")


def _literal_parts(statement: str) -> str:
    """The constant text of the first string argument of a `yield Finding(...)` statement (f-string fields dropped)."""
    try:
        call = ast.parse(statement.removeprefix("yield ").strip()).body[0].value  # type: ignore[attr-defined]
    except SyntaxError:
        return ""
    if not isinstance(call, ast.Call) or not call.args:
        return ""
    first = call.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    if isinstance(first, ast.JoinedStr):
        return "\0".join(v.value for v in first.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return ""


def phrase_reaches(branch: Branch, expect: str) -> bool:
    """Whether an expected phrase can come from this branch's message: a constant piece of the message contains the
    phrase, or the phrase contains a piece. An estimate, for checks whose faults cannot be replayed here (the live
    layer)."""
    pieces = [p.strip() for p in branch.literal.split("\0") if p.strip()]
    return any(expect in p or p in expect for p in pieces)


@dataclass
class Result:
    layer: str
    check: str
    verdicts: list[Verdict]
    seconds: float


@dataclass
class LiveReport:
    """Live checks: branches, and those an expected phrase of some fault can come from (an estimate)."""

    checks: int
    branches: int
    reached: int
    unreached: list[str]


RESULTS: list[Result | LiveReport] = []
# Live checks, where their proofs run against the reference stack: check id -> indexes of the branches a fault killed.
LIVE_KILLED: dict[str, set[int]] = {}
LIVE_ERRORS: list[str] = []


def note_live(check: Check, fault: Any, subject: Any) -> None:
    """While `fault` is injected into `subject` (a running stack), run each mutant of `check` once and remember which
    branches the fault kills. Report-only: a failure here never fails the proof it runs beside."""
    try:
        verdicts = list(run(check, [(str(fault), fault.expect or "", subject)]))
    except Exception as exc:
        LIVE_ERRORS.append(f"{check.id}: {type(exc).__name__}: {exc}")
        return
    LIVE_KILLED.setdefault(check.id, set()).update(v.branch.index for v in verdicts if v.killed_by is not None)


def live_report(checks: list[Check]) -> LiveReport:
    total, reached, unreached = 0, 0, []
    for check in checks:
        for branch in branches(check):
            total += 1
            if any(f.expect and phrase_reaches(branch, f.expect) for f in check.faults):
                reached += 1
            else:
                unreached.append(str(branch))
    return LiveReport(len(checks), total, reached, unreached)


def summary_lines() -> list[str]:
    static = [r for r in RESULTS if isinstance(r, Result)]
    lines = []
    if static:
        verdicts = [v for r in static for v in r.verdicts]
        survived = [v for v in verdicts if v.killed_by is None]
        seconds = sum(r.seconds for r in static)
        lines.append(
            f"mutation (static): {len(verdicts)} finding branches in {len(static)} checks, {len(survived)} survived, "
            f"{seconds:.2f} s"
        )
        lines += [f"  survived: {v.branch}" for v in survived]
    if LIVE_KILLED:
        from lobestack.checks import all_checks

        live = {c.id: c for c in all_checks("stack")}
        total = sum(len(branches(live[cid])) for cid in LIVE_KILLED if cid in live)
        killed = sum(len(k) for k in LIVE_KILLED.values())
        lines.append(
            f"mutation (live, against the reference stack): {killed} of {total} finding branches of "
            f"{len(LIVE_KILLED)} checks killed by their faults (report only)"
        )
        for cid, indexes in sorted(LIVE_KILLED.items()):
            for branch in branches(live[cid]):
                if branch.index not in indexes:
                    lines.append(f"  not killed: {branch}")
        lines += [f"  mutation error: {e}" for e in LIVE_ERRORS]
    for r in RESULTS:
        if isinstance(r, LiveReport):
            lines.append(
                f"mutation (live, counted): {r.branches} finding branches in {r.checks} checks; {r.reached} can "
                f"produce a fault's expected phrase, {len(r.unreached)} cannot (their proofs run in tests/stack)"
            )
    return lines
