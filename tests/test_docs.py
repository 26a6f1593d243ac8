"""The docs state no count by hand that the code does not back: every "N checks", "N groups", "N flows" and
"N finding branches" in README.md, docs/*.md and upstream/*/README.md is compared with the registry
(lobestack.checks.registry) and tests/mutation.py's branch count; and every relative link points at a file (and a
heading there, where it names one)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from lobestack.checks.registry import LAYERS, all_checks, groups
from tests.conftest import REPO
from tests.mutation import branches

# docs/checks.md is generated from the registry and compared by tests/static/test_catalogue.py.
DOCS = sorted(
    p
    for p in [REPO / "README.md", *(REPO / "docs").glob("*.md"), *(REPO / "upstream").glob("*/README.md")]
    if p.name != "checks.md"
)

# A count names its layer ("44 static checks"), or stands in that layer's own page (docs/static.md: "44 checks").
QUALIFIERS = {"static": "static", "live": "stack", "stack": "stack", "browser": "e2e", "e2e": "e2e", "host": "host"}
QUALIFIERS |= {"GPU": "gpu", "gpu": "gpu", "prod": "prod"}
PAGE_LAYER = {f"{layer}.md": layer for layer in LAYERS}
COUNT = re.compile(
    r"(?<![\d.,])(\d+) (?:(" + "|".join(QUALIFIERS) + r") )?(checks|groups|flows|finding branches)\b",
)
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")


@cache
def actual(layer: str, what: str) -> int:
    if what == "groups":
        return len(groups(layer))
    if what == "finding branches":
        return sum(len(branches(c)) for c in all_checks(layer))
    return len(all_checks(layer))


def counts(path: Path) -> list[tuple[int, str, str, str | None]]:
    """(line, the phrase, its noun, the layer it counts; None where the phrase names no layer and its page is none)."""
    found = []
    text = path.read_text(encoding="utf-8")
    for m in COUNT.finditer(text):
        qualifier, noun = m.group(2), m.group(3)
        layer = "e2e" if noun == "flows" else QUALIFIERS.get(qualifier or "", PAGE_LAYER.get(path.name))
        if path.parent.name != "docs" and qualifier is None and noun != "flows":
            layer = None
        found.append((text.count("\n", 0, m.start()) + 1, m.group(0), noun, layer))
    return found


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_stated_counts_match_the_registry(path: Path) -> None:
    wrong = []
    for line, phrase, noun, layer in counts(path):
        where = f"{path.relative_to(REPO)}:{line}: {phrase!r}"
        if layer is None:
            wrong.append(f"{where} names no layer (write e.g. '44 static checks')")
        elif int(phrase.split()[0]) != (n := actual(layer, noun)):
            wrong.append(f"{where}: the {layer} layer has {n} {noun}")
    assert not wrong, "\n".join(wrong)


def test_layer_pages_state_their_counts() -> None:
    """Each layer's page says how many checks it has, so a count is there to be tested."""
    for page, layer in PAGE_LAYER.items():
        path = REPO / "docs" / page
        assert path.is_file(), f"docs/{page} is missing"
        assert any(c[3] == layer and c[2] in ("checks", "flows") for c in counts(path)), f"docs/{page}: no count"


def test_count_phrases_are_found() -> None:
    """The pattern reads the phrases the docs use, and not version numbers that end in a number."""
    sample = "runs 44 checks in 4 groups; 28 live checks; 3 flows; 95 finding branches; Logto 1.37.1 checks; 1,5 checks"
    assert [m.group(0) for m in COUNT.finditer(sample)] == [
        "44 checks",
        "4 groups",
        "28 live checks",
        "3 flows",
        "95 finding branches",
    ]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#+ (.*)$", text, re.M)}


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_point_at_files(path: Path) -> None:
    text = CODE.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))
    broken = []
    for m in LINK.finditer(text):
        target = m.group(1)
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.relative_to(REPO)}")
    assert not broken, f"{path.relative_to(REPO)}: " + "; ".join(broken)
