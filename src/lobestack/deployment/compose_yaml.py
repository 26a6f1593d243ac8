"""YAML as `docker compose` reads it (go-yaml v3), with the file and line of every key and list item.

Where Compose and PyYAML's defaults differ, this follows Compose:
- a key written twice in one mapping is an error (`mapping key "volumes" already defined at line 4`); a key that
  only arrives through a merge key (`<<: *anchor`) may be overridden;
- plain scalars resolve by YAML 1.2's core rules as go-yaml v3 applies them: `yes`/`no`/`on`/`off` and `12:30`
  stay strings, `0755` is octal, `0x1F` hex, `1_000` an integer; timestamps stay strings;
- keys must be strings;
- `!reset` and `!override` (Compose's merge tags) are kept as markers for the merge of several files.

The mapping and sequence types are plain dicts and lists that also carry the position of each entry."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lobestack.deployment.limits import MAX_NESTING, MAX_YAML_NODES
from lobestack.errors import BadInput


@dataclass(frozen=True)
class Where:
    """A position in a deployment file: its name relative to the deployment directory, and a 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class YMap(dict):
    """A mapping that remembers where it starts (`at`) and where each key was written (`pos`)."""

    __slots__ = ("at", "pos")

    def __init__(self, *args: Any, at: Where | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.at = at
        self.pos: dict[str, Where] = {}

    def where(self, key: str) -> Where | None:
        return self.pos.get(key, self.at)


class YSeq(list):
    """A sequence that remembers where it starts (`at`) and where each item was written (`pos`)."""

    __slots__ = ("at", "pos")

    def __init__(self, *args: Any, at: Where | None = None) -> None:
        super().__init__(*args)
        self.at = at
        self.pos: list[Where | None] = []

    def where(self, index: int) -> Where | None:
        return self.pos[index] if 0 <= index < len(self.pos) and self.pos[index] else self.at


class Reset:
    """`!reset`: the key is removed from what earlier files (or an extended service) defined."""

    def __repr__(self) -> str:
        return "!reset"


class Override:
    """`!override VALUE`: VALUE replaces what earlier files defined instead of being merged into it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_SPECIAL_FLOATS = {
    ".nan": math.nan,
    ".NaN": math.nan,
    ".NAN": math.nan,
    ".inf": math.inf,
    ".Inf": math.inf,
    ".INF": math.inf,
    "+.inf": math.inf,
    "+.Inf": math.inf,
    "+.INF": math.inf,
    "-.inf": -math.inf,
    "-.Inf": -math.inf,
    "-.INF": -math.inf,
}
_GO_INT = re.compile(r"^[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)$")
_TAG = "tag:yaml.org,2002:"
_PLAIN = "lobestack:plain"


def _go_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64) after go-yaml removed the underscores."""
    plain = text.replace("_", "")
    if not _GO_INT.match(plain):
        return None
    sign = -1 if plain.startswith("-") else 1
    digits = plain.lstrip("+-")
    if digits[:2] in ("0x", "0X"):
        value = int(digits[2:], 16)
    elif digits[:2] in ("0b", "0B"):
        value = int(digits[2:], 2)
    elif digits[:2] in ("0o", "0O"):
        value = int(digits[2:], 8)
    elif len(digits) > 1 and digits[0] == "0":
        value = int(digits[1:], 8)
    else:
        value = int(digits)
    value *= sign
    return value if -(2**63) <= value < 2**64 else None


def resolve_plain(text: str) -> Any:
    """The value of a plain (unquoted) scalar, as go-yaml v3 decodes it into an untyped value."""
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    if text and (text[0] in "+-.0123456789"):
        number = _go_int(text)
        if number is not None:
            return number
        plain = text.replace("_", "")
        if _FLOAT.match(plain):
            return float(plain)
    return text


def go_string(value: Any) -> str:
    """A scalar as Go's `fmt.Sprint` writes it (how Compose turns `KEY: 1.0` into the string "1")."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "<nil>"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "+Inf" if value > 0 else "-Inf"
        if value == int(value) and abs(value) < 1e21:
            return str(int(value)) if value != 0 or math.copysign(1, value) > 0 else "-0"
        text = repr(value)
        if "e" in text:
            mantissa, exponent = text.split("e")
            exp = int(exponent)
            if -4 <= exp < 21:
                return format(value, "f").rstrip("0").rstrip(".")
            return f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
        return text
    return str(value)


class ComposeYamlError(BadInput):
    """A file Compose would refuse to read as YAML."""


# Every alias is built again where it is used (each use keeps its own positions), so a document's cost is its size
# with aliases expanded: bounded, as are nesting and recursion ("billion laughs" is one line and exit 4). The bounds
# are those of every input (limits.py).
MAX_NODES = MAX_YAML_NODES
MAX_DEPTH = MAX_NESTING


class _Constructor:
    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name
        # Positions of `!reset` / `!override` markers by key path, for the merge of files.
        self.resets: list[tuple[str, ...]] = []
        self.nodes = 0

    def where(self, node: yaml.Node) -> Where:
        return Where(self.name, node.start_mark.line + 1)

    def fail(self, message: str, node: yaml.Node) -> ComposeYamlError:
        return ComposeYamlError(message, self.path, node.start_mark.line + 1)

    def build(self, node: yaml.Node, path: tuple[str, ...], active: set[int]) -> Any:
        if id(node) in active:
            raise self.fail("an alias refers to the node that contains it", node)
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(f"more than {MAX_NODES} YAML nodes with aliases expanded, the limit", node)
        if len(active) > MAX_DEPTH:
            raise self.fail(f"nesting deeper than {MAX_DEPTH} levels, the limit", node)
        tag = node.tag or ""
        if tag == "!reset":
            self.resets.append(path)
            return Reset()
        if tag == "!override":
            self.resets.append(path)
            node = _untagged(node)
            return Override(self.build(node, path, active))
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        active = active | {id(node)}
        if isinstance(node, yaml.SequenceNode):
            out = YSeq(at=self.where(node))
            for index, item in enumerate(node.value):
                out.append(self.build(item, (*path, str(index)), active))
                out.pos.append(self.where(item))
            return out
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path, active)
        raise self.fail(f"unsupported YAML node {type(node).__name__}", node)

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag or ""
        if tag == _PLAIN:
            return resolve_plain(node.value)
        if tag == f"{_TAG}int":
            number = _go_int(node.value)
            if number is None:
                raise self.fail(f"cannot decode {node.value!r} as an integer", node)
            return number
        if tag == f"{_TAG}bool":
            if node.value in _TRUE | _FALSE:
                return node.value in _TRUE
            raise self.fail(f"cannot decode {node.value!r} as a boolean", node)
        if tag == f"{_TAG}null":
            return None
        if tag == f"{_TAG}float":
            try:
                return float(node.value.replace("_", ""))
            except ValueError:
                raise self.fail(f"cannot decode {node.value!r} as a number", node) from None
        return node.value  # quoted scalars, !!str, and tags go-yaml does not resolve: the text

    def mapping(self, node: yaml.MappingNode, path: tuple[str, ...], active: set[int]) -> YMap:
        out = YMap(at=self.where(node))
        seen: dict[tuple[type, str], int] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                raw = (yaml.ScalarNode, key_node.value)
                line = key_node.start_mark.line + 1
                if raw in seen:
                    raise self.fail(f"mapping key {key_node.value!r} already defined at line {seen[raw]}", key_node)
                seen[raw] = line
            if _is_merge(key_node):
                merges.append(value_node)
                continue
            key = (
                self.build(key_node, path, active)
                if not isinstance(key_node, yaml.ScalarNode)
                else self.scalar(key_node)
            )
            if isinstance(key, list | dict):
                raise self.fail("a mapping key must be a plain value, not a list or mapping", key_node)
            if not isinstance(key, str):
                shown = ".".join(path) or "the top level"
                raise self.fail(f"non-string key in {shown}: {go_string(key)}", key_node)
            out[key] = self.build(value_node, (*path, key), active)
            out.pos[key] = self.where(key_node)
        # Merge keys: explicit keys win; of several merged mappings the first one wins.
        for merge in merges:
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise self.fail("map merge requires map or sequence of maps as the value", merge)
                merged = self.mapping(source, path, active | {id(node)})
                for key, value in merged.items():
                    if key not in out:
                        out[key] = value
                        out.pos[key] = merged.pos[key]
        return out


def _untagged(node: yaml.Node) -> yaml.Node:
    if isinstance(node, yaml.ScalarNode):
        tag = _PLAIN if node.style in (None, "") else f"{_TAG}str"
        return yaml.ScalarNode(tag, node.value, node.start_mark, node.end_mark, node.style)
    if isinstance(node, yaml.SequenceNode):
        return yaml.SequenceNode(f"{_TAG}seq", node.value, node.start_mark, node.end_mark, node.flow_style)
    return yaml.MappingNode(f"{_TAG}map", node.value, node.start_mark, node.end_mark, node.flow_style)


def _is_merge(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.value == "<<" and node.tag == _PLAIN


_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it


class _Composer(_Base):  # type: ignore[misc,valid-type]
    """PyYAML's composer (anchors, aliases, marks) with scalar resolution left to go-yaml's rules: every plain
    scalar without an explicit tag is tagged _PLAIN and resolved by resolve_plain()."""

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            return _PLAIN
        return super().resolve(kind, value, implicit)


@dataclass
class Document:
    data: Any
    resets: list[tuple[str, ...]]


def load_documents(text: str, path: Path, name: str) -> list[Document]:
    """Every YAML document of a Compose file, constructed as Compose reads it."""
    loader = _Composer(text)
    documents: list[Document] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            constructor = _Constructor(path, name)
            documents.append(Document(constructor.build(node, (), set()), constructor.resets))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        if "maximum nesting depth" in str(exc.problem):  # libyaml's own bound, far past ours: say ours
            raise ComposeYamlError(f"nesting deeper than {MAX_DEPTH} levels, the limit", path, line) from None
        raise ComposeYamlError(f"invalid YAML: {exc.problem or exc.context}", path, line) from None
    except RecursionError:  # PyYAML's pure-Python composer recurses per level (libyaml's does not)
        raise ComposeYamlError(f"nesting deeper than {MAX_DEPTH} levels, the limit", path) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (the reader has no line for it)
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        shown = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        raise ComposeYamlError(f"invalid YAML: character {shown} is not allowed", path, line) from None
    except yaml.YAMLError as exc:
        raise ComposeYamlError(f"invalid YAML: {type(exc).__name__}", path) from None
    finally:
        loader.dispose()
    return documents
