"""The project documents itself: README.md and docs/*.md stay inside the repository and true to the code.

- Every relative link resolves to a file or folder of the repository (one git tracks, or
  a new one it does not ignore), and a link to a heading names a heading that exists.
- No link or path leaves the repository: no absolute path, no `../` that climbs out of
  the tree, nothing under a `shared/` folder beside it, no mention of a design document
  that users who clone the repository do not have. (Web addresses are not paths.)
- Every metric function that docs/metrics.md names (`metrics.module.function`) exists,
  and every section of definitions names at least one.

The checks are plain functions over a file's text, so the last tests can plant mistakes
and see each one caught.
"""

from __future__ import annotations

import importlib
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
METRICS_MD = ROOT / "docs" / "metrics.md"


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


# --- reading markdown ----------------------------------------------------------------------

FENCE = re.compile(r"^(```|~~~)")
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
WEB = ("http://", "https://", "mailto:")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    lines, fenced = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, line))
    return lines


def links(text: str) -> list[tuple[int, str]]:
    """(line number, target) of every inline and reference-style link outside code."""
    found = []
    for number, line in prose_lines(text):
        bare = INLINE_CODE.sub("``", line)
        found += [(number, m.group(1)) for m in LINK.finditer(bare)]
        found += [(number, m.group(1)) for m in REFERENCE.finditer(bare)]
    return found


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading anchor of a markdown text (repeated headings get -1, -2, ...)."""
    seen: dict[str, int] = {}
    found = set()
    for _, line in prose_lines(text):
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


@cache
def repository_paths() -> frozenset[str]:
    """Paths (files and their folders) relative to ROOT that belong to the repository."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout.decode()
        files = [f for f in listed.split("\0") if f and (ROOT / f).exists()]
    except (OSError, subprocess.SubprocessError):  # not a git checkout: what is on disk
        skip = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache"}
        files = [
            p.relative_to(ROOT).as_posix()
            for p in ROOT.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(ROOT).parts)
        ]
    paths = set(files)
    for f in files:
        parts = f.split("/")
        paths |= {"/".join(parts[:i]) for i in range(1, len(parts))}
    return frozenset(paths)


def inside(path: Path) -> str | None:
    """`path` relative to ROOT (posix, "" for ROOT), or None when it is outside the tree."""
    try:
        relative = path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return None
    return "" if relative == "." else relative


# --- the checks --------------------------------------------------------------------------


def link_problems(document: Path, text: str) -> list[str]:
    """Links of `text` (the content of `document`) that do not resolve inside the repository."""
    problems = []
    for number, target in links(text):
        where = f"{document.name}:{number}: {target}"
        if target.startswith(WEB):
            continue
        if SCHEME.match(target) or target.startswith(("/", "\\", "~")):
            problems.append(f"{where}: not a relative link into the repository")
            continue
        path_part, _, anchor = target.partition("#")
        resolved = document.parent / path_part if path_part else document
        relative = inside(resolved)
        if relative is None:
            problems.append(f"{where}: leaves the repository")
            continue
        if relative and relative not in repository_paths():
            problems.append(f"{where}: no such file in the repository")
            continue
        markdown = resolved.suffix == ".md" and resolved.is_file()
        if anchor and markdown and anchor not in anchors(resolved.read_text()):
            problems.append(f"{where}: no heading #{anchor} in {relative or 'it'}")
    return problems


CLIMB = re.compile(r"(?:^|(?<=[\s(`'\"<\[=]))((?:\.\./)+[^\s)`'\"<>\]]*)")
OUTSIDE = [
    (re.compile(r"DESIGN\.md", re.IGNORECASE), "names a design document outside the repository"),
    (re.compile(r"(?<![\w.-])shared/"), "points into `shared/`, which is not in the repository"),
    (re.compile(r"(?<![\w.~-])/work/"), "names an absolute path of the development machine"),
]


def leak_problems(document: Path, text: str) -> list[str]:
    """Links, paths and mentions in `text` that lead outside the repository (code blocks too)."""
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        for pattern, why in OUTSIDE:
            if pattern.search(line):
                problems.append(f"{document.name}:{number}: {why}: {line.strip()[:120]}")
        for match in CLIMB.finditer(line):
            if inside(document.parent / match.group(1)) is None:
                problems.append(
                    f"{document.name}:{number}: `{match.group(1)}` climbs out of the repository"
                )
    return problems


FUNCTION = re.compile(r"`(metrics(?:\.[A-Za-z_]\w*)+)`")


def named_functions(text: str) -> list[str]:
    return list(dict.fromkeys(FUNCTION.findall(text)))


def missing_function(dotted: str) -> str | None:
    """Why `dotted` (module path, then attributes) is not a callable of ours, or None."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            target = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return f"{dotted}: {module_name} has no {'.'.join(parts[cut:])}"
            target = getattr(target, attribute)
        return None if callable(target) else f"{dotted}: not a function"
    return f"{dotted}: no such module"


def sections(text: str, level: str = "## ") -> dict[str, str]:
    """Heading -> body of each section of that level (code blocks are not headings)."""
    found: dict[str, list[str]] = {}
    current = None
    for _, line in prose_lines(text):
        if line.startswith(level):
            current = line[len(level) :].strip()
            found[current] = []
        elif current is not None:
            found[current].append(line)
    return {heading: "\n".join(body) for heading, body in found.items()}


# --- the tests ---------------------------------------------------------------------------


def test_the_documents_are_there() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in documents()}
    assert {"README.md", "docs/architecture.md", "docs/metrics.md"} <= names


@pytest.mark.parametrize("document", documents(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves_inside_the_repository(document: Path) -> None:
    assert link_problems(document, document.read_text()) == []


@pytest.mark.parametrize("document", documents(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_link_or_path_leaves_the_repository(document: Path) -> None:
    assert leak_problems(document, document.read_text()) == []


def test_every_metric_function_named_in_metrics_md_exists() -> None:
    named = named_functions(METRICS_MD.read_text())
    assert len(named) >= 40, f"only {len(named)} functions named: is the naming convention kept?"
    assert [why for why in map(missing_function, named) if why] == []


def test_every_definition_names_the_function_that_computes_it() -> None:
    found = sections(METRICS_MD.read_text())
    assert len(found) >= 10
    silent = [h for h, body in found.items() if h != "Open points" and not FUNCTION.search(body)]
    assert silent == []


# --- the checks catch what they are for ----------------------------------------------------

PLANTED = {
    "a design document beside the repository": "See [the design](../shared/DESIGN.md).",
    "a file that does not exist": "See [metrics](docs/no-such-page.md).",
    "a heading that does not exist": "See [load](docs/metrics.md#no-such-heading).",
    "a link that climbs out": "See [passwords](../../etc/passwd).",
    "an absolute link": "See [passwords](/etc/passwd).",
    "a file link": "See [x](file:///etc/passwd).",
}


@pytest.mark.parametrize("planted", PLANTED.values(), ids=list(PLANTED))
def test_a_planted_bad_link_is_caught(planted: str) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text() + "\n" + planted + "\n"
    assert link_problems(readme, text) or leak_problems(readme, text), planted


@pytest.mark.parametrize(
    "planted",
    [
        "the metrics defined in DESIGN.md",
        "recordings in `/work/shared/realdata/github`",
        "run `../shared/realdata/fetch.sh`",
        "`shared/realdata`, beside the repository",
    ],
)
def test_a_planted_path_outside_the_repository_is_caught(planted: str) -> None:
    doc = ROOT / "docs" / "metrics.md"
    assert leak_problems(doc, planted) != []


def test_links_into_the_repository_pass() -> None:
    doc = ROOT / "docs" / "architecture.md"
    good = (
        "[a](../metrics/load.py) [b](metrics.md#stages) [c](../README.md) [d](../db/) "
        "[e](#layers-one-package-per-layer-imports-go-one-way) [f](https://example.org/x)"
    )
    assert link_problems(doc, good) == []
    assert leak_problems(doc, good) == []


def test_a_planted_unknown_function_is_caught() -> None:
    text = "Code: `metrics.load.states`, `metrics.load.no_such_function`, `metrics.nowhere.f`."
    named = named_functions(text)
    assert named == ["metrics.load.states", "metrics.load.no_such_function", "metrics.nowhere.f"]
    assert [missing_function(n) is not None for n in named] == [False, True, True]


def test_the_slugs_are_githubs() -> None:
    assert slug("Work allocation (person-day attribution)") == (
        "work-allocation-person-day-attribution"
    )
    assert slug("Cycle time, lead time and `skipped_start`") == (
        "cycle-time-lead-time-and-skipped_start"
    )
    assert slug("Configuration: the org file") == "configuration-the-org-file"
