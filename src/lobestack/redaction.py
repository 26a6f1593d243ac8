"""Secret values from the deployment never reach a log, report, trace or screenshot: they become `***`.

What is masked, for every secret registered (values shorter than MIN_SECRET_LENGTH are not: they would mask
ordinary words, and ENV-SECRET-STRENGTH flags them anyway):

- The whole value, as written or encoded: URL-encoded (`%XX` in either case, `+` or `%20` for a space: quote,
  quote_plus, encodeURIComponent and form encoding all fall under it), JSON-escaped (`\\"`, `\\uXXXX`, `\\/`),
  HTML-escaped (named and numeric entities), JSON inside HTML (pytest-html's data blob), and any mixture of these,
  character by character.
- The value in base64, standard or URL-safe, at any of the three byte alignments: the characters that depend on the
  secret's bytes alone are the same whatever comes before and after it, so the value alone, `base64(user:secret)`
  (HTTP Basic, for every user, the secret raw or URL-encoded as OAuth's client_secret_basic writes it) and any other
  base64 blob holding the secret are found, and the whole base64 word around them is masked.
- Parts of the raw value, where a parser or a cut makes them: runs of at least MIN_SECRET_LENGTH characters of the
  secret that begin or end at one of its ends or at one of the characters where URLs, shells and Compose split a
  value (`@ : / ? # $ {` space …). A password that an `@` split out of DATABASE_URL, the host and path after it, and a
  value that a message cut short (pytest shortens long values in the middle) are masked. A run from the middle of
  a segment (between two such characters) is not: nothing produces one, and masking every run of six characters
  ate ordinary words (a secret holding `Password` masked "Passwords" in prose). Nor is a part that is a word (lower
  case, capitalised or upper case letters: `secret` of `my<secret>pass`, a diceware word): masked, it would eat
  that word wherever it is written (`client_secret`); random letters are mixed case and stay masked. Encoded forms
  are masked whole: their syntax characters are escaped, so parsers do not split them.

What is never masked: identifiers. A raw match (a whole value or a part) is left alone when it lies inside a token
(a run of letters, digits and `_ . ~ / -`) that is an identifier, and it is not the whole of that token:
- an upper-case name or check ID (`AUTH_LOGTO_SECRET`, `ENV-SECRET-STRENGTH`): any part of it stays;
- a name the redactor was told is public (`keep`: the deployment's service names);
- a path (a token with a `/`): a match inside one of its components (between `/` and `.`) stays; one that is a
  whole component or spans a separator is masked (`/files/<secret>/x`).
A match that is the whole token is masked when it is a whole secret value (`SECRET=SECRET` masks the second one):
where a value and an identifier are the same text, the value wins. A part of a secret that is a whole identifier
token (an upper-case piece cut at `@`) stays, as the identifier. The cost, said plainly: a secret of upper-case
letters, digits, `_` and `-` only, glued without a separator to an upper-case name, is not masked there; random
secrets (`openssl rand`, what `lobestack init` writes) are lower-case or mixed and never match that way. Base64
matches are always masked: base64 of a secret is not part of an identifier but by a 2^-36 chance.

Placeholders and published example values (`YOUR_LOGTO_SECRET`, `changeme`, LobeChat's example secrets) are public:
the deployment does not register them (deployment/known_values.py), and ENV-SECRET-STRENGTH names them.

Matching is one compiled regular expression (the patterns of every secret folded into a prefix tree), run over the
text once, restarting one character after each match: the cost grows with the text and the matches, not with the
number of secrets and forms (about 0.1 s for 1 MB of log with eight secrets)."""

from __future__ import annotations

import base64
import functools
import html
import json
import os
import re
import string
import zipfile
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

MASK = "***"
# Values this short would mask ordinary words; a secret this short is flagged by ENV-SECRET-STRENGTH anyway.
MIN_SECRET_LENGTH = 6

# Where URLs (RFC 3986 delimiters), shells, Compose interpolation and dotenv split or end a value.
CUT_CHARACTERS = frozenset(" \t\r\n:/?#[]@!$&'()*+,;=\"\\%{}<>|^`")
# What identifiers are made of: names, check IDs, service names, paths.
_TOKEN = frozenset(string.ascii_letters + string.digits + "_.~/-")
# Upper-case names and check IDs (checks/registry.py's `_ID`, and environment variable names).
NAME_SHAPE = re.compile(r"[A-Z0-9_]*[A-Z][A-Z0-9_]*(?:-[A-Z0-9_]+)*")
# A word as people write one: a part of a secret that reads so is not masked (random letters are mixed case).
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+")
_BASE64 = frozenset(string.ascii_letters + string.digits + "+/_-")
_COMPONENT = re.compile(r"[^/.]+")


@functools.cache
def _char_forms(c: str) -> list[str]:
    """Every way the encodings above write one character, longest first (an atomic group tries them in order)."""
    if c.isascii() and c.isalnum():
        return [c]
    utf8 = c.encode()
    forms = {c, "".join(f"%{b:02X}" for b in utf8), "".join(f"%{b:02x}" for b in utf8)}
    if c == " ":
        forms.add("+")
    if c == "/":
        forms.add("\\/")
    units = c.encode("utf-16-be")
    for hexes in ("{:04x}", "{:04X}"):
        forms.add("".join("\\u" + hexes.format(int.from_bytes(units[i : i + 2])) for i in range(0, len(units), 2)))
    as_json = {json.dumps(c)[1:-1], json.dumps(c, ensure_ascii=False)[1:-1]}
    forms |= as_json
    for text in as_json | {c}:
        forms.add(html.escape(text, quote=True))
        forms.add(html.escape(text, quote=True).replace("&#x27;", "&#39;").replace("&quot;", "&#34;"))
    forms |= {f"&#{ord(c)};", f"&#x{ord(c):x};", f"&#x{ord(c):X};"}
    return sorted(forms, key=lambda f: (-len(f), f))


@functools.cache
def _unit(c: str) -> str:
    forms = _char_forms(c)
    return re.escape(c) if len(forms) == 1 else "(?>" + "|".join(map(re.escape, forms)) + ")"


def _base64_cores(value: str) -> set[str]:
    """The base64 characters that depend on `value`'s bytes alone, at each alignment and in both alphabets."""
    cores = set()
    for data in {value.encode(), _url_quoted(value).encode()}:
        for shift in range(3):
            encoded = base64.b64encode(bytes(shift) + data).decode()
            first = -(-shift * 8 // 6)  # the first character with no bit of the bytes before
            last = (shift + len(data)) * 8 // 6  # past the last character with no bit of the bytes after
            core = encoded[first:last]
            if len(core) >= MIN_SECRET_LENGTH:
                cores.add(core)
                cores.add(core.translate(_URLSAFE))
    return cores


_URLSAFE = str.maketrans("+/", "-_")


def _url_quoted(value: str) -> str:
    return quote(value, safe="")


def _raw_pieces(value: str) -> set[tuple[str, int]]:
    """(text, offset) of the MIN_SECRET_LENGTH-character runs of `value` that start or end at one of its ends or at
    a character where parsers cut it: a part that a parser or a cut leaves holds one of them at its start or end."""
    size = len(value)
    cuts = [i for i, c in enumerate(value) if c in CUT_CHARACTERS]
    starts = {0, *(i + 1 for i in cuts)}
    ends = {size, *cuts}
    offsets = {a for a in starts if a + MIN_SECRET_LENGTH <= size}
    offsets |= {b - MIN_SECRET_LENGTH for b in ends if b >= MIN_SECRET_LENGTH}
    return {(value[a : a + MIN_SECRET_LENGTH], a) for a in offsets}


class Redactor:
    def __init__(self, secrets: Iterable[str] = (), *, keep: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._keep: set[str] = set()  # public names that a part of a secret must not mask
        self._pieces: dict[str, set[tuple[str, int]]] = {}  # raw piece -> (secret, offset in it)
        self._base64: set[str] = set()
        self._patterns: set[str] = set()  # whole values, pieces and base64 cores: each character in all its forms
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)
        self.keep(keep)

    def add(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            if not secret or len(secret) < MIN_SECRET_LENGTH or secret in self._secrets:
                continue
            self._secrets.add(secret)
            self._patterns.add(secret)
            for piece, offset in _raw_pieces(secret):
                self._pieces.setdefault(piece, set()).add((secret, offset))
                self._patterns.add(piece)
            for core in _base64_cores(secret):
                self._base64.add(core)
                self._patterns.add(core)
            self._pattern = None

    def keep(self, names: Iterable[str]) -> None:
        """Public names (service names) that stay readable when a part of a secret is the same text."""
        self._keep.update(n for n in names if n)

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def _compiled(self) -> re.Pattern[str]:
        if self._pattern is None:
            self._pattern = re.compile(_trie(self._patterns))
        return self._pattern

    def __call__(self, text: str) -> str:
        if not self._secrets or not text or len(text) < MIN_SECRET_LENGTH:
            return text
        spans: list[tuple[int, int]] = []
        pattern = self._compiled()
        at = 0
        masked_to = 0  # the furthest end of a masked span so far
        while match := pattern.search(text, at):
            # The next search starts one character on, not after the match: a match that starts inside this one
            # (another secret, a longer encoded form) must not be hidden by it.
            at = match.start() + 1
            start, end = match.span()
            if end <= masked_to:
                continue  # inside a masked span: nothing to add (and a secret repeated a thousand times stays cheap)
            found = match.group()
            if found in self._base64:
                span: tuple[int, int] | None = _base64_word(text, start, end)
            else:
                if found in self._pieces:
                    start, end, whole = self._extend(text, start, end, found)
                    whole = whole or text[start:end] in self._secrets
                else:
                    whole = True  # only whole values match without being a piece or a base64 core
                span = self._outside_identifiers(text, start, end, whole)
            if span is not None:
                # Matches come in order of their start, and every span starts at or before its match: a later match
                # that ends by the furthest end so far lies inside a span already masked.
                spans.append(span)
                masked_to = max(masked_to, span[1])
        if not spans:
            return text
        out: list[str] = []
        kept = 0  # text[kept:] is not yet copied to out
        for start, end in sorted(spans):
            if start > kept or not out:
                out.append(text[kept:start])
                out.append(MASK)
            kept = max(kept, end)
        out.append(text[kept:])
        return "".join(out)

    def _extend(self, text: str, start: int, end: int, piece: str) -> tuple[int, int, bool]:
        """The longest run of text around a piece that is a run of one secret; and whether it is that secret whole."""
        best = (start, end, False)
        for secret, offset in self._pieces[piece]:
            left, right = start, end
            at = offset
            while left > 0 and at > 0 and text[left - 1] == secret[at - 1]:
                left, at = left - 1, at - 1
            after = offset + (end - start)
            while right < len(text) and after < len(secret) and text[right] == secret[after]:
                right, after = right + 1, after + 1
            whole = at == 0 and after == len(secret)
            if right - left > best[1] - best[0] or (whole and right - left == best[1] - best[0]):
                best = (left, right, whole)
        return best

    def _outside_identifiers(self, text: str, start: int, end: int, whole: bool) -> tuple[int, int] | None:
        """What of a raw match to mask, by the module's rules: nothing when it is (a part of) an identifier; else the
        match less an end that cuts into an identifier, when what is left still has MIN_SECRET_LENGTH characters."""
        if not whole and _WORD.fullmatch(text, start, end):
            return None  # a part that is a word: a word of prose, or of a name, far more often than a secret's
        left, right = _token_at(text, start), _token_at(text, end - 1)
        if left == right and left is not None:  # within one token
            if left == (start, end):
                return None if not whole and self._protected(text, left, left, False) else (start, end)
            return None if self._protected(text, left, (start, end), whole) else (start, end)
        # An end that cuts into a token: trimmed where that token is protected (a path only where the cut falls inside
        # one of its components).
        if left is not None and left[0] < start and self._protected(text, left, (start, left[1]), True):
            start = left[1]
        if right is not None and end < right[1] and self._protected(text, right, (right[0], end), True):
            end = right[0]
        if end - start < MIN_SECRET_LENGTH or (not whole and _WORD.fullmatch(text, start, end)):
            return None
        return start, end

    def _protected(self, text: str, token: tuple[int, int], part: tuple[int, int], whole: bool) -> bool:
        """Whether `part` of the token text[token] is an identifier, or a part of one, that stays readable; `whole`:
        the part is a whole secret value."""
        name = text[token[0] : token[1]]
        if NAME_SHAPE.fullmatch(name) or name in self._keep:
            return True
        if "/" in name and part != token:
            inside = (part[0] - token[0], part[1] - token[0])
            # A whole secret that is a whole component is a value in a path (`/files/<secret>/x`); a part of one is
            # a name that happens to be in it.
            return any(
                c.start() <= inside[0] and inside[1] <= c.end() and not (whole and c.span() == inside)
                for c in _COMPONENT.finditer(name)
            )
        return False

    def scrub_file(self, path: Path) -> bool:
        """Mask secrets in a text file, or in the text members of a zip (a Playwright trace), in place; True when
        something was masked."""
        if path.suffix == ".zip":
            return _scrub_zip(self, path)
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            return False
        clean = self(text)
        if clean != text:
            path.write_text(clean, encoding="utf-8")
            return True
        return False


def _scrub_zip(redact: Redactor, path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [(info, archive.read(info)) for info in archive.infolist()]
    except (zipfile.BadZipFile, OSError, EOFError):
        return False
    changed = False
    scrubbed = []
    for info, data in members:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:  # a screenshot, a font: no text to mask
            scrubbed.append((info, data))
            continue
        clean = redact(text)
        changed |= clean != text
        scrubbed.append((info, clean.encode("utf-8")))
    if changed:
        partial = path.with_name(path.name + ".partial")
        with zipfile.ZipFile(partial, "w") as archive:
            for info, data in scrubbed:
                archive.writestr(info, data)
        os.replace(partial, path)
    return changed


def _token_at(text: str, at: int) -> tuple[int, int] | None:
    """The run of identifier characters around text[at], when it is one. A run longer than _LONGEST_TOKEN is no
    identifier (and a secret repeated without separators costs no scan of the whole run per copy)."""
    if text[at] not in _TOKEN:
        return None
    right = _RUN.match(text, at, at + _LONGEST_TOKEN + 1).end()  # type: ignore[union-attr]  # `*` always matches
    left = _RUN_TO_END.search(text, max(0, at - _LONGEST_TOKEN - 1), at).start()  # type: ignore[union-attr]
    if right - left > _LONGEST_TOKEN:
        return None
    while right > at + 1 and text[right - 1] == ".":  # a full stop after a name ends the sentence, not the name
        right -= 1
    return left, right


_RUN = re.compile(r"[A-Za-z0-9_.~/-]*")
_RUN_TO_END = re.compile(r"[A-Za-z0-9_.~/-]*\Z")
_LONGEST_TOKEN = 512


def _base64_word(text: str, start: int, end: int) -> tuple[int, int]:
    """The whole base64 word around a match: its other characters hold bits of the secret, or of what it is
    encoded with (a Basic header's user)."""
    while start > 0 and text[start - 1] in _BASE64:
        start -= 1
    while end < len(text) and text[end] in _BASE64:
        end += 1
    while end < len(text) and text[end] == "=":
        end += 1
    return start, end


def _trie(patterns: Iterable[str]) -> str:
    """One regular expression for a set of patterns, each character matched in every form it may be written in
    (`_unit`), folded into a prefix tree: each position of the text is tried against the patterns' common prefixes
    once, not against every pattern, and a pattern that is a prefix of another is an optional tail, so the longer
    one wins (a piece and the whole value that start at the same place)."""
    root: dict[str, dict] = {}
    for pattern in patterns:
        # Each form of the first character begins a branch of its own: with a literal at the start of every branch,
        # the regex engine skips, in C, the positions where no pattern can begin.
        for first in _char_forms(pattern[0]):
            node = root.setdefault(re.escape(first), {})
            for c in pattern[1:]:
                node = node.setdefault(_unit(c), {})
            node[_END] = {}
    return _alternatives(root)


_END = ""  # the key that marks where a pattern ends (no one-character regex is empty)


def _alternatives(node: dict[str, dict]) -> str:
    # Chains of single children are written flat: only branch points nest, so long secrets stay shallow.
    branches = []
    for unit, child in node.items():
        if unit == _END:
            continue
        chain = [unit]
        while len(child) == 1 and _END not in child:
            ((unit, child),) = child.items()
            chain.append(unit)
        branches.append("".join(chain) + _alternatives(child))
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if _END in node else body
