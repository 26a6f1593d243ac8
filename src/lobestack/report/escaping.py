"""Text from servers and files, made safe to show: where findings become report text (report/verdict.py) and where
they become Markdown (report/markdown.py). Findings quote what a server answered or a file holds, and neither may
drive the reader's terminal (ANSI and OSC escapes: clear the screen, print a fake "passed", set the window title),
forge a line of the report (a CR or LF in a value), inject Markdown or HTML into CI's job page (a `<script>`, an
`<img onerror>`), or fill every report with megabytes (a 5 MB S3 error code).

- Control characters (C0, DEL, C1), Unicode line and paragraph separators and bidirectional overrides are shown
  escaped (`\\x1b`, `\\r`, `\\u202e`), never raw. A line feed is kept only as a continuation of the same finding;
  `shown` marks every continuation line, so that nothing from a server starts a line of its own.
- Each line is cut at LINE_LIMIT characters and the text at LINES_LIMIT lines, saying so and how much was cut."""

from __future__ import annotations

import re
import unicodedata

LINE_LIMIT = 300  # characters of one line of a finding (a URL, an error body's first line, a log line)
LINES_LIMIT = 60  # lines of one finding (LobeChat's [auth][details] JSON is kept whole up to 40 lines)
CONTINUATION = "  | "  # starts every further line of one finding: it cannot pass for a line of its own

# Bidirectional overrides and isolates reorder what the reader sees (the "Trojan Source" characters).
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def _escaped(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI


def one_line(text: str, limit: int = LINE_LIMIT) -> str:
    """One line of untrusted text: every control character escaped (line feeds too), cut at `limit` characters."""
    if any(_unsafe(c) for c in text):
        text = "".join(_escaped(c) if _unsafe(c) else c for c in text)
    if len(text) > limit:
        text = f"{text[:limit]}… (cut, {len(text) - limit} more characters)"
    return text


def controls(text: str) -> str:
    """Text whose line breaks are its own (a traceback, captured output): every other control character escaped."""
    if not any(_unsafe(c) and c != "\n" for c in text):
        return text
    return "".join(_escaped(c) if _unsafe(c) and c != "\n" else c for c in text)


def lines(text: str) -> list[str]:
    """Untrusted text as lines to show: each line escaped and cut (one_line), at most LINES_LIMIT of them."""
    split = text.split("\n")
    kept = [one_line(line) for line in split[:LINES_LIMIT]]
    if len(split) > LINES_LIMIT:
        kept.append(f"… (cut, {len(split) - LINES_LIMIT} more lines)")
    return kept


def shown(text: str) -> str:
    """Untrusted text as one finding's report text: escaped and cut; each further line starts with CONTINUATION."""
    return ("\n" + CONTINUATION).join(lines(text))


# Markdown: what could start a link, an image, emphasis, code, a table cell, math, a mention or raw HTML inline;
# and at the start of a line (or of a list item) a list, a heading, a rule or a quote.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]()!~|$@{}#])")
_BLOCK_MARK = re.compile(r"^([-+=])")
_ORDERED_MARK = re.compile(r"^(\d+)([.)])")
_CODE = re.compile(r"(`+)(.+?)\1")


def _inline(text: str) -> str:
    text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", one_line(text, limit=len(text) + 1))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown(text: str) -> str:
    """Untrusted text as inline Markdown that shows the text, nothing else, wherever it is put in a line:
    punctuation escaped, `<` `>` `&` as entities (never HTML), control characters escaped, one line."""
    text = _inline(text.lstrip(" "))
    return _ORDERED_MARK.sub(r"\1\\\2", _BLOCK_MARK.sub(r"\\\1", text))


def markdown_own(text: str) -> str:
    """Our own text (a check's title or fix) as inline Markdown: its `code` spans kept as code, the rest escaped."""
    out: list[str] = []
    kept = 0
    for match in _CODE.finditer(text):
        out.append(_inline(text[kept : match.start()]) if kept else markdown(text[: match.start()]))
        out.append(code(match.group(2)))
        kept = match.end()
    out.append(_inline(text[kept:]) if kept else markdown(text))
    return "".join(out)


def code(text: str) -> str:
    """Untrusted text as a Markdown code span: shown literally (no Markdown, no HTML), one line."""
    text = one_line(text, limit=len(text) + 1)
    if not text:
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    # CommonMark strips one space from each end when both ends have one (a backtick there needs one too).
    edges = text[0] + text[-1]
    pad = " " if "`" in edges or (edges == "  " and text.strip(" ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def fenced(text: str) -> str:
    """Untrusted multi-line text as a Markdown fenced code block (shown literally), escaped and cut."""
    body = "\n".join(lines(text))
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", body)), default=0) + 1)
    return f"{fence}text\n{body}\n{fence}"
