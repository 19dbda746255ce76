"""The org file as parsed YAML: its data, its node tree (for lines) and the problems found.

Every problem carries a key path (`org.people[3].memberships[0].team`) and its line in the
file, found by walking the composed YAML node tree, so a message names where to look.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the org file: where (key path, 1-based line) and what."""

    key: str  # e.g. "org.people[3].memberships[0].team"; "" for the file as a whole
    line: int | None
    message: str

    def __post_init__(self) -> None:
        # one problem, one line: a key or value quoted from the file may hold a line break
        # (or another control character); it is shown escaped, as \n
        object.__setattr__(self, "message", one_line(self.message))


def one_line(text: str) -> str:
    """`text` with every character that is not printable (line breaks, tabs...) escaped."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


class ConfigError(Exception):
    """The org file can't be used; `problems` lists everything wrong with it, not just the first."""

    def __init__(self, problems: list[Problem], path: Path | str | None = None) -> None:
        self.problems = sorted(problems, key=_problem_order)
        self.path = path
        super().__init__(format_problems(self.problems, path))


def format_problems(problems: list[Problem], path: Path | str | None = None) -> str:
    """`path:line: key: message`, one per line, in file order (what editors and CI link to)."""
    lines = []
    for problem in sorted(problems, key=_problem_order):
        where = [str(path)] if path is not None else []
        if problem.line is not None:
            where.append(str(problem.line))
        head = ":".join(where)
        parts = [part for part in (head, problem.key) if part]
        lines.append(": ".join([*parts, problem.message]))
    return "\n".join(lines)


def _problem_order(problem: Problem) -> tuple[int, str]:
    return (problem.line or 0, problem.key)


# libyaml's parser when PyYAML was built with it: a 600-person org file parses in 0.1 s
# instead of 1.3 s, which every command and every new dashboard process paid.
_SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[misc,valid-type]
    """SafeLoader that leaves an impossible date (2025-13-01) as text for the schema to report."""

    def construct_yaml_timestamp(self, node: yaml.Node) -> Any:  # type: ignore[override]
        try:
            return SafeConstructor.construct_yaml_timestamp(self, node)
        except ValueError:
            return self.construct_scalar(node)  # type: ignore[arg-type]


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


# Limits no org file comes near (600 people are about 20,000 values, 10 levels deep).
MAX_CHARS = 5_000_000
MAX_DEPTH = 40
MAX_VALUES = 500_000


def _too_deep() -> Problem:
    return Problem("", None, f"nested deeper than {MAX_DEPTH} levels")


class Document:
    """The parsed file: its data, its node tree (for lines) and the problems found so far."""

    def __init__(self, data: Any, root: yaml.Node | None, problems: list[Problem]) -> None:
        self.data, self.root, self.problems = data, root, problems

    @classmethod
    def parse(cls, text: str) -> Document:
        """The document, or one with only its YAML error; duplicate keys are problems too.

        A file past the limits no org file comes near (size, nesting, what its aliases
        expand to) is refused before anything walks it: a nine-line alias bomb would
        otherwise expand to billions of values in every later step.
        """
        if len(text) > MAX_CHARS:
            return cls(None, None, [Problem("", None, f"larger than {MAX_CHARS:,} characters")])
        loader: _Loader | None = None
        try:
            loader = _Loader(text)
            root = loader.get_single_node()
            too_big = _beyond_limits(root)
            if too_big:
                return cls(None, None, [too_big])
            # before construction: it flattens `<<` merges in place, where overriding is the point
            duplicates = _duplicate_keys(root)
            # merged keys then keep the lines where they were written
            data = loader.construct_document(root) if root is not None else None
        except RecursionError:
            return cls(None, None, [_too_deep()])
        except yaml.YAMLError as exc:
            if "maximum nesting depth" in str(exc):  # libyaml's own limit, past ours
                return cls(None, None, [_too_deep()])
            return cls(None, None, [_yaml_problem(exc, text)])
        finally:
            if loader is not None:
                loader.dispose()
        return cls(data, root, duplicates)

    def line(self, loc: Loc) -> int:
        """Line of the key at `loc`, or of the deepest mapping or item that exists on the way."""
        node, line = self.root, 1 if self.root is None else self.root.start_mark.line + 1
        for part in loc:
            found = _child(node, part)
            if found is None:
                break
            line, node = found
        return line

    def report(self, loc: Loc, message: str) -> None:
        self.problems.append(Problem(key_path(loc), self.line(loc), message))


def _child(node: yaml.Node | None, part: str | int) -> tuple[int, yaml.Node] | None:
    """(line, node) of one step down the tree: a mapping key or a sequence index."""
    if isinstance(node, yaml.MappingNode):
        for key, value in reversed(node.value):  # the last duplicate is the one YAML keeps
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key.start_mark.line + 1, value
    elif (
        isinstance(node, yaml.SequenceNode)
        and isinstance(part, int)
        and 0 <= part < len(node.value)
    ):
        item = node.value[part]
        return item.start_mark.line + 1, item
    return None


def _beyond_limits(root: yaml.Node | None) -> Problem | None:
    """A problem when the node tree nests deeper than MAX_DEPTH or its aliases expand it
    past MAX_VALUES values (each shared node counted once per use, computed once)."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise RecursionError
        if id(node) not in sizes:
            if isinstance(node, yaml.MappingNode):
                children = [child for pair in node.value for child in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = node.value
            else:
                children = []
            sizes[id(node)] = 1 + sum(size(child, depth + 1) for child in children)
        return sizes[id(node)]

    if root is not None and size(root, 0) > MAX_VALUES:
        return Problem("", None, f"its aliases (*name) expand to more than {MAX_VALUES:,} values")
    return None


def _yaml_problem(exc: yaml.YAMLError, text: str) -> Problem:
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        return Problem("", line, f"character U+{exc.character:04X} is not allowed in YAML")
    # PyYAML's str() quotes the offending line, which may hold a token: use only its parts
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or "invalid YAML"
        if exc.context:
            context_line = exc.context_mark.line + 1 if exc.context_mark else None
            what += f" ({exc.context}" + (f" at line {context_line})" if context_line else ")")
        return Problem("", mark.line + 1 if mark else None, f"YAML syntax error: {what}")
    return Problem("", None, "YAML syntax error")


def key_path(loc: Loc) -> str:
    """`org.people[3].memberships[0].team`; keys that aren't plain words in quotes: `stages["In Review"]`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


def _duplicate_keys(root: yaml.Node | None) -> list[Problem]:
    """YAML silently keeps the last of two equal keys: a pasted block would override quietly."""
    problems: list[Problem] = []

    def walk(node: yaml.Node | None, loc: Loc, seen: set[int]) -> None:
        if node is None or id(node) in seen:  # anchors make the tree a graph
            return
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                    continue
                line = key.start_mark.line + 1
                if key.value in first:
                    problems.append(
                        Problem(
                            key_path((*loc, key.value)),
                            line,
                            f"duplicate key (first on line {first[key.value]}); only the last "
                            "would count",
                        )
                    )
                first.setdefault(key.value, line)
                walk(value, (*loc, key.value), seen)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*loc, index), seen)

    walk(root, (), set())
    return problems
