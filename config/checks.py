"""Checks of the org file beyond YAML syntax: schema errors in plain words, `${VAR}` use, and
cross-field checks the schema alone can't express (a membership naming an unknown team, two
people claiming one GitHub login...). Cross-field checks read the raw data, so they still
run when the schema rejects something else in the file.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import types
from collections.abc import Iterator, Mapping
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from config.document import Document, Loc, Problem, key_path
from config.schema import ENV_REF, Config, Secret

# --- schema errors ----------------------------------------------------------------------


def schema_message(error: Mapping[str, Any], loc: Loc) -> str:
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


def redacted(problems: list[Problem], data: dict[str, Any]) -> list[Problem]:
    """Problems with any secret written literally in the file masked, whatever produced them."""
    literals = sorted(
        {
            text
            for _, text, secret in _strings(Config, data, ())
            if secret and len(text) >= 4 and not ENV_REF.fullmatch(text)
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


RequireEnv = bool | frozenset[str]


def env_checks(doc: Document, data: dict[str, Any], require_env: RequireEnv) -> None:
    """`${VAR}` is expanded only in secret fields; elsewhere it would be used literally.

    `require_env`: also report unset variables, in every section (True) or in the named
    top-level sections only (a sync needs the sources' tokens, not the report's SMTP).
    """
    for loc, text, secret in _strings(Config, data, ()):
        names = ENV_REF.findall(text)
        if not names:
            continue
        if not secret:
            doc.report(
                loc,
                f"${{{names[0]}}} is not expanded here: environment references work only in "
                "secret keys (token, user, password, private_key, webhook_url)",
            )
        elif require_env is True or (require_env and loc[0] in require_env):
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


def cross_checks(doc: Document, data: dict[str, Any]) -> None:
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
    doc: Document,
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
    doc: Document, entries: list[tuple[int, dict[str, Any]]], where: Loc, what: str
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
    doc: Document, p: int, person: dict[str, Any], team_names: Mapping[str, int]
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


def _check_identities(doc: Document, people: list[tuple[int, dict[str, Any]]]) -> None:
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
