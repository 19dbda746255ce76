"""Reading the org file: YAML to a validated `Config`, or every problem at once with key and line.

Problems come from three places, all collected in one pass: YAML syntax, the pydantic
schema (`teamtide.config`) and cross-field checks the schema alone can't express (a
membership naming an unknown team, two people claiming one GitHub login...). Each is
reported with a key path (`org.people[3].memberships[0].team`) and its line in the file,
found by walking the composed YAML node tree. Cross-field checks read the raw data, so
they still run when the schema rejects something else in the file.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError
from yaml.constructor import SafeConstructor

from teamtide.config import _ENV_REF, Config, Secret

CONFIG_ENV_VAR = "TEAMTIDE_CONFIG"
DEFAULT_CONFIG_PATH = Path("teamtide.yaml")

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the org file: where (key path, 1-based line) and what."""

    key: str  # e.g. "org.people[3].memberships[0].team"; "" for the file as a whole
    line: int | None
    message: str


class ConfigError(Exception):
    """The org file can't be used; `problems` lists everything wrong with it, not just the first."""

    def __init__(self, problems: list[Problem], path: Path | str | None = None) -> None:
        self.problems = sorted(problems, key=_problem_order)
        self.path = path
        super().__init__(format_problems(self.problems, path))


def resolve_config_path(
    explicit: Path | str | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """The org file to read: `--config`, else `$TEAMTIDE_CONFIG`, else ./teamtide.yaml."""
    if explicit:
        return Path(explicit)
    from_env = (os.environ if environ is None else environ).get(CONFIG_ENV_VAR, "")
    return Path(from_env) if from_env else DEFAULT_CONFIG_PATH


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


def load_config(path: Path | str, *, require_env: bool = False) -> Config:
    """Read and validate the org file; raise `ConfigError` with every problem found.

    `require_env` also reports `${VAR}` references whose variable is not set: only
    commands that reach the sources need their secrets (check-config asks for it).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [Problem("", None, f"no org file here (set {CONFIG_ENV_VAR} or pass --config PATH)")],
            path,
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError([Problem("", None, f"can't read the org file: {reason}")], path) from None
    return parse_config(text, path, require_env=require_env)


def parse_config(text: str, path: Path | str | None = None, *, require_env: bool = False) -> Config:
    """`load_config` for text already in hand (`path` only labels messages and `Config.path`)."""
    doc = _Document.parse(text)
    if doc.root is None and doc.problems:  # a YAML error: there is nothing more to check
        raise ConfigError(doc.problems, path)
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        doc.report((), "the org file must be a mapping of sections (database:, org:, sources: ...)")
        raise ConfigError(doc.problems, path)

    if "path" in data:  # a field of Config for messages, not a key of the file
        doc.report(("path",), "unknown key 'path'")
    config: Config | None = None
    try:
        config = Config.model_validate({**data, "path": Path(path) if path is not None else None})
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(part for part in error["loc"] if part != "[key]")
            doc.report(loc, _schema_message(error, loc))
    _cross_checks(doc, data)
    _env_checks(doc, data, require_env)
    if doc.problems or config is None:
        raise ConfigError(_redacted(doc.problems, data), path)
    return config


# --- YAML with line numbers -------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves an impossible date (2025-13-01) as text for the schema to report."""

    def construct_yaml_timestamp(self, node: yaml.Node) -> Any:  # type: ignore[override]
        try:
            return SafeConstructor.construct_yaml_timestamp(self, node)
        except ValueError:
            return self.construct_scalar(node)  # type: ignore[arg-type]


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


class _Document:
    """The parsed file: its data, its node tree (for lines) and the problems found so far."""

    def __init__(self, data: Any, root: yaml.Node | None, problems: list[Problem]) -> None:
        self.data, self.root, self.problems = data, root, problems

    @classmethod
    def parse(cls, text: str) -> _Document:
        """The document, or one with only its YAML error; duplicate keys are problems too."""
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            # before construction: it flattens `<<` merges in place, where overriding is the point
            duplicates = _duplicate_keys(root)
            # merged keys then keep the lines where they were written
            data = loader.construct_document(root) if root is not None else None
        except yaml.YAMLError as exc:
            return cls(None, None, [_yaml_problem(exc)])
        finally:
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


def _yaml_problem(exc: yaml.YAMLError) -> Problem:
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


# --- schema errors ----------------------------------------------------------------------


def _schema_message(error: Mapping[str, Any], loc: Loc) -> str:
    """A pydantic error in the file's own words (what to write instead, not the library's jargon)."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "missing":
        return f"required key '{loc[-1]}' is missing"
    if kind == "extra_forbidden":
        return _unknown_key_message(loc)
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"expected a mapping (key: value pairs), got {_yaml_type(value)}"
    if kind == "list_type":
        return f"expected a list, got {_yaml_type(value)}"
    if kind.startswith(("date_", "datetime_")):
        detail = f" ({ctx['error']})" if "error" in ctx else ""
        return f"{_short(value)} is not a valid date: write YYYY-MM-DD{detail}"
    if kind == "literal_error":
        return f"{_short(value)} is not one of {ctx.get('expected', '')}"
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind in _PLAIN:
        return _PLAIN[kind]
    return re.sub(r"^Input should be ", "must be ", str(error["msg"]))


_PLAIN = {
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
}


def _unknown_key_message(loc: Loc) -> str:
    allowed = _allowed_keys(_annotation_at(Config, loc[:-1]))
    message = f"unknown key '{loc[-1]}'"
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    if close:
        message += f" (did you mean '{close[0]}'?)"
    if allowed:
        message += f"; allowed here: {', '.join(allowed)}"
    return message


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _yaml_type(value: Any) -> str:
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value}"


# --- walking the schema alongside raw data ----------------------------------------------


def _unwrap(annotation: Any) -> Any:
    """`X | None` -> X (the only unions the schema uses); anything else unchanged."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _field_annotation(model: type[BaseModel], key: str) -> Any:
    for name, field in model.model_fields.items():
        if key in (name, field.alias) and not field.exclude:
            return field.annotation
    return None


def _annotation_at(annotation: Any, loc: Loc) -> Any:
    """The declared type of the value at `loc` below `annotation`, or None when there is none."""
    for part in loc:
        annotation = _unwrap(annotation)
        origin = get_origin(annotation)
        if _is_model(annotation) and isinstance(part, str):
            annotation = _field_annotation(annotation, part)
        elif origin is list and isinstance(part, int):
            annotation = get_args(annotation)[0]
        elif origin is dict and isinstance(part, str):
            annotation = get_args(annotation)[1]
        else:
            return None
    return _unwrap(annotation)


def _allowed_keys(annotation: Any) -> list[str]:
    if not _is_model(annotation):
        return []
    return [
        field.alias or name for name, field in annotation.model_fields.items() if not field.exclude
    ]


def _strings(annotation: Any, value: Any, loc: Loc) -> Iterator[tuple[Loc, str, bool]]:
    """Every text value in the raw data with its loc and whether the schema reads it as a Secret."""
    annotation = _unwrap(annotation)
    if isinstance(value, str):
        yield loc, value, annotation is Secret
    elif isinstance(value, list):
        item = get_args(annotation)[0] if get_origin(annotation) is list else None
        for index, element in enumerate(value):
            yield from _strings(item, element, (*loc, index))
    elif isinstance(value, dict):
        for key, element in value.items():
            if _is_model(annotation):
                inner = _field_annotation(annotation, str(key))
            elif get_origin(annotation) is dict:
                inner = get_args(annotation)[1]
            else:
                inner = None
            yield from _strings(inner, element, (*loc, str(key)))


def _redacted(problems: list[Problem], data: dict[str, Any]) -> list[Problem]:
    """Problems with any secret written literally in the file masked, whatever produced them."""
    literals = sorted(
        {
            text
            for _, text, secret in _strings(Config, data, ())
            if secret and len(text) >= 4 and not _ENV_REF.fullmatch(text)
        },
        key=len,
        reverse=True,
    )
    if not literals:
        return problems
    out = []
    for problem in problems:
        message = problem.message
        for literal in literals:
            message = message.replace(literal, "***")
        out.append(Problem(problem.key, problem.line, message))
    return out


def _env_checks(doc: _Document, data: dict[str, Any], require_env: bool) -> None:
    """`${VAR}` is expanded only in secret fields; elsewhere it would be used literally."""
    for loc, text, secret in _strings(Config, data, ()):
        names = _ENV_REF.findall(text)
        if not names:
            continue
        if not secret:
            doc.report(
                loc,
                f"${{{names[0]}}} is not expanded here: environment references work only in "
                "secret keys (token, user, password, webhook_url)",
            )
        elif require_env:
            for name in names:
                if name not in os.environ:
                    doc.report(loc, f"environment variable {name} is not set")


# --- cross-field checks -----------------------------------------------------------------


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _entries(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """(index, item) of the mappings in a list; anything else is the schema's to report."""
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, dict)]


_DATE = TypeAdapter(dt.date)


def _as_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    try:
        return _DATE.validate_python(value)
    except ValidationError:
        return None


def _cross_checks(doc: _Document, data: dict[str, Any]) -> None:
    org = _mapping(data.get("org"))
    teams = _entries(org.get("teams"))
    people = _entries(org.get("people"))
    team_names = _unique_names(doc, teams, ("org", "teams"), "team")
    person_names = _unique_names(doc, people, ("org", "people"), "person")

    for t, team in teams:
        leads = team.get("leads")
        for k, lead in enumerate(leads if isinstance(leads, list) else []):
            if isinstance(lead, str) and lead not in person_names:
                doc.report(
                    ("org", "teams", t, "leads", k), f"lead {lead!r} is not a person in org.people"
                )

    for p, person in people:
        _check_memberships(doc, p, person, team_names)
    _check_identities(doc, people)

    _check_access(doc, _mapping(data.get("access")), team_names, teams)

    namespaces = _mapping(_mapping(_mapping(data.get("sources")).get("cluster")).get("namespaces"))
    for glob, team in namespaces.items():
        if isinstance(team, str) and team not in team_names:
            doc.report(
                ("sources", "cluster", "namespaces", str(glob)),
                f"unknown team {team!r}{_known(team_names)}",
            )


def _check_access(
    doc: _Document,
    access: dict[str, Any],
    team_names: Mapping[str, int],
    teams: list[tuple[int, dict[str, Any]]],
) -> None:
    """Only a lead names teams, and they exist: a typo must neither widen nor empty a scope."""

    def check_teams(owner: Loc, teams_loc: Loc, role: Any, named: Any) -> None:
        listed = named if isinstance(named, list) else []
        teams_key = teams_loc[-1]
        if role == "lead" and not listed:
            doc.report(
                teams_loc if named is not None else owner,
                f"role lead needs {teams_key}: list the teams whose people this lead may see, "
                f"e.g. {teams_key}: [Infra]",
            )
        elif role in ("director", "member") and listed:
            sees = "every team" if role == "director" else "team aggregates only"
            doc.report(
                teams_loc,
                f"{teams_key} apply to role lead only (a {role} sees {sees}): remove them or "
                "make the role lead",
            )
        for k, team in enumerate(listed):
            if isinstance(team, str) and team not in team_names:
                doc.report((*teams_loc, k), f"unknown team {team!r}{_known(team_names)}")

    for r, rule in _entries(access.get("roles")):
        loc: Loc = ("access", "roles", r)
        check_teams(loc, (*loc, "teams"), rule.get("role"), rule.get("teams"))
    check_teams(
        ("access", "local_role"),
        ("access", "local_teams"),
        access.get("local_role", "director"),
        access.get("local_teams"),
    )

    has_leads = any(isinstance(team.get("leads"), list) and team["leads"] for _, team in teams)
    if access.get("sign_in") is True and not access.get("roles") and not has_leads:
        doc.report(
            ("access", "sign_in"),
            "sign-in is on but no one has a role: add access.roles (or org.teams[].leads), "
            "or every signed-in user is turned away",
        )


def _known(names: Mapping[str, Any]) -> str:
    return f" (teams: {', '.join(names)})" if names else " (org.teams is empty)"


def _unique_names(
    doc: _Document, entries: list[tuple[int, dict[str, Any]]], where: Loc, what: str
) -> dict[str, int]:
    """name -> index of its first entry; reports the later duplicates."""
    first: dict[str, int] = {}
    for index, entry in entries:
        name = entry.get("name")
        if not isinstance(name, str):
            continue
        if name in first:
            other = (*where, first[name])
            doc.report(
                (*where, index, "name"),
                f"duplicate {what} name {name!r} (also {key_path(other)}, line {doc.line(other)})",
            )
        else:
            first[name] = index
    return first


def _check_memberships(
    doc: _Document, p: int, person: dict[str, Any], team_names: Mapping[str, int]
) -> None:
    spans: list[tuple[int, str, dt.date, dt.date | None]] = []
    for m, membership in _entries(person.get("memberships")):
        loc = ("org", "people", p, "memberships", m)
        team = membership.get("team")
        if isinstance(team, str) and team not in team_names:
            doc.report((*loc, "team"), f"unknown team {team!r}{_known(team_names)}")
        start, end = _as_date(membership.get("from")), _as_date(membership.get("to"))
        if start is None or (membership.get("to") is not None and end is None):
            continue  # a malformed date is the schema's problem, already reported
        if end is not None and end < start:
            doc.report((*loc, "to"), f"'to' ({end}) is before 'from' ({start})")
            continue
        if isinstance(team, str):
            spans.append((m, team, start, end))

    for i, (m, team, start, end) in enumerate(spans):
        for other, other_team, other_start, other_end in spans[:i]:
            # dates are inclusive: ending on the 2nd and starting on the 2nd overlap by a day
            if (
                team == other_team
                and start <= (other_end or dt.date.max)
                and other_start <= (end or dt.date.max)
            ):
                other_loc = ("org", "people", p, "memberships", other)
                doc.report(
                    ("org", "people", p, "memberships", m),
                    f"overlaps {key_path(other_loc)} (line {doc.line(other_loc)}): both put "
                    f"this person in {team} on {max(start, other_start)} (dates are inclusive: "
                    "start the next membership the day after the previous `to`)",
                )
                break


def _check_identities(doc: _Document, people: list[tuple[int, dict[str, Any]]]) -> None:
    """One Jira account, GitHub login, e-mail or alias maps to one person, or activity is misfiled."""
    owner: dict[tuple[str, str], int] = {}
    by_index = dict(people)
    labels = {
        "jira": "Jira account",
        "github": "GitHub login",
        "emails": "e-mail",
        "aliases": "alias",
    }

    def claim(kind: str, value: Any, p: int, loc: Loc) -> None:
        if not isinstance(value, str):
            return
        # GitHub logins and e-mail addresses are case-insensitive at the source
        norm = value.casefold() if kind in {"github", "emails"} else value
        first = owner.setdefault((kind, norm), p)
        if first != p:
            other = ("org", "people", first)
            doc.report(
                loc,
                f"{labels[kind]} {value!r} is also claimed by {by_index[first].get('name')!r} "
                f"({key_path(other)}, line {doc.line(other)})",
            )

    for p, person in people:
        for kind in ("jira", "github"):
            claim(kind, person.get(kind), p, ("org", "people", p, kind))
        for kind in ("emails", "aliases"):
            values = person.get(kind)
            for k, value in enumerate(values if isinstance(values, list) else []):
                claim(kind, value, p, ("org", "people", p, kind, k))


# --- the check-config summary -----------------------------------------------------------


def show_secret(secret: Secret | None) -> str:
    """A secret as it may be printed: its `${VAR}` reference, never a literal value."""
    if secret is None:
        return "none"
    if _ENV_REF.fullmatch(secret):
        return str(secret)
    names = secret.env_vars()
    return "***" + (f" (uses {', '.join('${' + n + '}' for n in names)})" if names else "")


def config_for_display(config: Config) -> dict[str, Any]:
    """The whole config as plain data a page may show: secrets as `show_secret`, no DB password.

    Built from the validated model (not the raw file), so every key appears with its value
    or default, and a secret reaches the output only through `show_secret`.
    """

    def walk(node: Any) -> Any:
        if isinstance(node, Secret):
            return show_secret(node)
        if isinstance(node, BaseModel):
            return {
                field.alias or name: walk(getattr(node, name))
                for name, field in type(node).model_fields.items()
                if not field.exclude
            }
        if isinstance(node, dict):
            return {str(key): walk(value) for key, value in node.items()}
        if isinstance(node, list | tuple):
            return [walk(value) for value in node]
        if isinstance(node, dt.date):
            return node.isoformat()
        return node

    shown = walk(config)
    shown["database"]["url"] = _redact_url(config.database.url)
    if config.database.readonly_url:
        shown["database"]["readonly_url"] = _redact_url(config.database.readonly_url)
    return shown


def config_display_text(config: Config) -> str:
    """`config_for_display` as YAML, in the file's own key order, for a config page."""
    return yaml.safe_dump(config_for_display(config), sort_keys=False, allow_unicode=True)


def summary_text(config: Config, today: dt.date | None = None) -> str:
    """What `check-config` prints for a valid file: enough to see the file says what you meant."""
    today = today or dt.datetime.now(config.org.tz).date()
    org = config.org
    members = {team.name: 0 for team in org.teams}
    teamless = []
    for person in org.people:
        current = {m.team for m in person.memberships if m.covers(today)}
        for team in current:
            members[team] = members.get(team, 0) + 1
        if not current:
            teamless.append(person.name)

    head = f"{config.path}: valid" if config.path else "valid"
    lines = [
        head,
        f"org: {_count(len(org.teams), 'team')}, {_count(len(org.people), 'person', 'people')}, "
        f"{_count(len(org.reorgs), 'reorg')}; timezone {org.timezone}",
    ]
    if org.teams:
        lines.append(f"teams (members on {today}):")
        width = max(len(team.name) for team in org.teams)
        for team in org.teams:
            lines.append(f"  {team.name:<{width}}  {team.kind:<10}  {members[team.name]:>3}")
    if teamless:
        lines.append(f"people without a team on {today}: {', '.join(teamless)}")
    lines.append("sources:")
    lines.extend(f"  {line}" for line in _sources(config))
    lines.append(f"schedule: {_schedule(config)}")
    lines.append(f"database: {_redact_url(config.database.url)}")
    if config.database.readonly_url:
        lines.append(f"dashboard reads: {_redact_url(config.database.readonly_url)}")
    for reorg in org.reorgs:
        lines.append(f"reorg: {reorg.date} {reorg.name}")
    names = [rule.name for rule in config.categories]
    lines.append(
        f"categories (first match wins): {', '.join(names) if names else 'none'}; else uncategorized"
    )
    lines.append(f"report: {_report(config)}")
    lines.append(f"access: {_access(config)}")
    return "\n".join(lines)


def _access(config: Config) -> str:
    access = config.access
    if access.sign_in:
        via = f"provider {access.provider}" if access.provider else "the [auth] provider"
        who = f"sign-in with {via}"
    else:
        scope = f" of {', '.join(access.local_teams)}" if access.local_teams else ""
        who = f"no sign-in (127.0.0.1 only; the local viewer is {access.local_role}{scope})"
    people = "person-level views on" if access.person_level else "team aggregates only"
    leads = sum(len(team.leads) for team in config.org.teams)
    return (
        f"{who}; {people}; {_count(len(access.roles), 'role rule')}, {_count(leads, 'team lead')}"
    )


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _sources(config: Config) -> list[str]:
    jira, github, cluster = config.sources.jira, config.sources.github, config.sources.cluster
    lines = []
    if jira:
        who = f", as {jira.email or jira.user}" if jira.email or jira.user else ""
        lines.append(f"jira     {jira.url}{who}, token {show_secret(jira.token)}")
    else:
        lines.append("jira     not configured")
    if github:
        lines.append(
            f"github   {github.url}, {_count(len(github.repos), 'repo')}, "
            f"{_count(len(github.orgs), 'org')}, token {show_secret(github.token)}"
        )
    else:
        lines.append("github   not configured")
    if cluster:
        if cluster.in_cluster:
            where = "in-cluster"
        elif cluster.api_url:
            where = f"{cluster.api_url}, token {show_secret(cluster.token)}"
        else:
            where = f"kubeconfig context {cluster.context or '(current)'}"
        lines.append(f"cluster  {where}, {_count(len(cluster.namespaces), 'namespace rule')}")
    else:
        lines.append("cluster  not configured")
    return lines


def _schedule(config: Config) -> str:
    schedule = config.schedule
    jobs = {"jira": schedule.jira, "github": schedule.github, "cluster": schedule.cluster}
    jobs["report"] = schedule.report
    parts = []
    for name, job in jobs.items():
        when = f"every {job.every_minutes:g} min" if job.every_minutes else f"cron {job.cron!r}"
        parts.append(f"{name} {when}" + ("" if job.enabled else " (disabled)"))
    return ", ".join(parts)


def _report(config: Config) -> str:
    report = config.report
    routes = []
    if report.smtp:
        routes.append(
            f"e-mail via {report.smtp.host}:{report.smtp.port} to "
            f"{_count(len(report.recipients), 'recipient')}"
            + (" and each team's leads" if report.per_team_lead else "")
        )
    if report.webhook_url:
        routes.append(f"webhook {show_secret(report.webhook_url)}")
    return ", ".join(routes) if routes else "not delivered (no smtp or webhook_url)"


def _redact_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
