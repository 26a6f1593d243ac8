"""The baseline: findings the owner accepted for a while, each with a reason and an expiry date (the OpenID
conformance suite's expected-failures file, with dates). A matching finding is reported accepted (xfail, with the
reason) until its date, inclusive; from the next day it fails again and the report names the expired entry. An
entry that matched nothing in a run that judged its check is reported stale.

    accepted:
      - id: CERT-EXPIRY
        match: https://s3.example.com      # optional: a piece of the finding's text
        reason: renewed by the new ACME client on 2025-06-20
        expires: 2025-06-30

A malformed file is bad input: exit 4, one line naming the file and the line."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lobestack.errors import BadInput

KEYS = ("id", "match", "reason", "expires")
REQUIRED = ("id", "reason", "expires")


@dataclass(frozen=True)
class Entry:
    id: str
    reason: str
    expires: datetime.date
    match: str | None = None
    file: str = ""
    line: int = 0

    def matches(self, check_id: str, text: str) -> bool:
        return check_id == self.id and (self.match is None or self.match in text)

    def expired(self, today: datetime.date) -> bool:
        """Accepted through its `expires` day; expired from the day after."""
        return today > self.expires

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def describe(self) -> str:
        match = f" match {self.match!r}" if self.match is not None else ""
        return f"{self.id}{match} ({self.where}, expires {self.expires.isoformat()}): {self.reason}"


@dataclass
class Baseline:
    path: Path
    entries: list[Entry]
    used: set[Entry] = field(default_factory=set)
    judged: set[str] = field(default_factory=set)  # check IDs whose verdict this run could consult the baseline for
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def matching(self, check_id: str, text: str) -> list[Entry]:
        found = [e for e in self.entries if e.matches(check_id, text)]
        with self._lock:
            self.used.update(found)
        return found

    def mark_judged(self, check_id: str) -> None:
        with self._lock:
            self.judged.add(check_id)

    def stale(self) -> list[Entry]:
        """Entries of checks that ran this run and matched none of their findings."""
        return [e for e in self.entries if e.id in self.judged and e not in self.used]

    def expired(self, today: datetime.date) -> list[Entry]:
        return [e for e in self.entries if e.expired(today)]


def today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _scalar(node: yaml.Node, what: str, path: Path) -> str:
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise BadInput(f"{what}: expected a non-empty text", path, _line(node))
    return str(node.value)


def _date(node: yaml.Node, path: Path) -> datetime.date:
    text = node.value if isinstance(node, yaml.ScalarNode) else None
    try:
        if text is None or len(str(text)) != 10:
            raise ValueError
        return datetime.date.fromisoformat(str(text))
    except ValueError:
        raise BadInput(f"expires: expected a date YYYY-MM-DD, got {text!r}", path, _line(node)) from None


def parse_baseline(text: str, path: Path, known_ids: Iterable[str] | None = None) -> Baseline:
    known = set(known_ids) if known_ids is not None else None
    try:
        root = yaml.compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise BadInput(f"invalid YAML: {exc.problem or exc.context}", path, mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise BadInput(f"invalid YAML: {exc}", path) from None
    if root is None:
        return Baseline(path, [])
    if not isinstance(root, yaml.MappingNode):
        raise BadInput("expected a mapping with an `accepted:` list", path, _line(root))
    entries_node = None
    for key, value in root.value:
        if not isinstance(key, yaml.ScalarNode) or key.value != "accepted":
            raise BadInput(f"unknown key {getattr(key, 'value', key)!r} (expected `accepted:`)", path, _line(key))
        entries_node = value
    if entries_node is None or (isinstance(entries_node, yaml.ScalarNode) and entries_node.value in ("", "~", "null")):
        return Baseline(path, [])
    if not isinstance(entries_node, yaml.SequenceNode):
        raise BadInput("`accepted:` must be a list of entries", path, _line(entries_node))
    entries: list[Entry] = []
    seen: set[tuple[str, str | None]] = set()
    for item in entries_node.value:
        if not isinstance(item, yaml.MappingNode):
            raise BadInput("an entry must be a mapping with id, reason, expires (and match)", path, _line(item))
        fields: dict[str, yaml.Node] = {}
        for key, value in item.value:
            name = getattr(key, "value", None)
            if name not in KEYS:
                raise BadInput(f"unknown key {name!r} in an entry (one of {', '.join(KEYS)})", path, _line(key))
            if name in fields:
                raise BadInput(f"{name} given twice in one entry", path, _line(key))
            fields[name] = value
        missing = [k for k in REQUIRED if k not in fields]
        if missing:
            raise BadInput(f"entry without {', '.join(missing)}", path, _line(item))
        check_id = _scalar(fields["id"], "id", path)
        if known is not None and check_id not in known:
            raise BadInput(f"id {check_id!r} is no check of lobestack (see docs/checks.md)", path, _line(fields["id"]))
        match = _scalar(fields["match"], "match", path) if "match" in fields else None
        if (check_id, match) in seen:
            raise BadInput(f"a second entry for {check_id} with the same match", path, _line(item))
        seen.add((check_id, match))
        entries.append(
            Entry(
                id=check_id,
                reason=_scalar(fields["reason"], "reason", path),
                expires=_date(fields["expires"], path),
                match=match,
                file=str(path),
                line=_line(item),
            )
        )
    return Baseline(path, entries)


def load_baseline(path: Path, known_ids: Iterable[str] | None = None) -> Baseline:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput("file not found", path) from None
    except UnicodeDecodeError as exc:
        raise BadInput(f"not UTF-8 text (byte {exc.start})", path) from None
    return parse_baseline(text, path, known_ids)
