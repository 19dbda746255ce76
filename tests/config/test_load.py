"""The org file: the example loads, and every problem is reported at once with its key and line."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
import yaml
from pydantic import BaseModel

from config.checks import _is_model, _unwrap
from config.display import summary_text
from config.document import ConfigError, Problem, format_problems
from config.load import load_config, resolve_config_path
from config.schema import Config, Secret

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "teamtide.example.yaml"
DOCS = ROOT / "README.md"

# A valid org the cases below break one thing at a time.
ORG = """\
org:
  teams:
    - {name: Research, kind: research}
    - {name: Infra, kind: infra}
  people:
    - name: Ada Byrne
      emails: [ada@acme.example]
      jira: acc-ada
      github: adab
      memberships:
        - {team: Research, from: 2024-01-01, to: 2025-03-02}
        - {team: Infra, from: 2025-03-03}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "teamtide.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str, require_env: bool = False) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), require_env=require_env)
    return caught.value.problems


def line_of(text: str, marker: str = "#!") -> int:
    """1-based line of the first line holding `marker` (the cases mark the expected line `#!`)."""
    return next(i for i, line in enumerate(text.splitlines(), start=1) if marker in line)


def only(problems: list[Problem], key: str) -> Problem:
    found = [p for p in problems if p.key == key]
    assert len(found) == 1, f"expected one problem at {key}, got {problems}"
    return found[0]


# --- the example ------------------------------------------------------------------------


def test_the_example_file_is_valid_and_follows_the_design() -> None:
    config = load_config(EXAMPLE)

    assert config.database.url == "sqlite:///teamtide.db"
    assert [(t.name, t.kind) for t in config.org.teams] == [
        ("Research", "research"),
        ("Infra", "infra"),
        ("Enablement", "enablement"),
    ]
    assert config.org.reorgs[0].date == dt.date(2025, 3, 3)
    assert config.sources.jira is not None and config.sources.jira.token == "${JIRA_TOKEN}"
    assert config.sources.github is not None and config.sources.github.token == "${GITHUB_TOKEN}"
    assert config.report.smtp is not None and config.report.webhook_url is not None
    assert config.schedule.report.cron and config.support.sla_hours.first_response["default"]
    assert config.path == EXAMPLE


def test_the_example_loads_with_secrets_required_once_they_are_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = load_config(EXAMPLE)
    for _, secret in config.secrets():
        for name in secret.env_vars():
            monkeypatch.setenv(name, "x")
    assert load_config(EXAMPLE, require_env=True) == config


def test_the_example_explains_and_sets_every_top_level_section() -> None:
    lines = EXAMPLE.read_text().splitlines()
    for section, field in Config.model_fields.items():
        if field.exclude:
            continue
        at = lines.index(f"{section}:")
        assert lines[at - 1].startswith("#"), f"{section}: has no comment above it"


# --- each problem names its key and line ------------------------------------------------

CASES = {
    "unknown-team-in-a-membership": (
        ORG + "        - {team: Platform, from: 2025-04-01}  #!\n",
        "org.people[0].memberships[2].team",
        "unknown team 'Platform'",
    ),
    "overlapping-memberships-in-one-team": (
        ORG.replace("{team: Infra, from: 2025-03-03}", "{team: Research, from: 2025-03-02}  #!"),
        "org.people[0].memberships[1]",
        "overlaps org.people[0].memberships[0]",
    ),
    "to-before-from": (
        ORG.replace(
            "{team: Infra, from: 2025-03-03}", "{team: Infra, from: 2025-03-03, to: 2025-01-01}  #!"
        ),
        "org.people[0].memberships[1].to",
        "before 'from'",
    ),
    "duplicate-team-name": (
        ORG.replace("    - {name: Infra, kind: infra}", "    - {name: Research, kind: infra}  #!"),
        "org.teams[1].name",
        "duplicate team name 'Research'",
    ),
    "duplicate-person-name": (
        ORG + "    - name: Ada Byrne  #!\n",
        "org.people[1].name",
        "duplicate person name 'Ada Byrne'",
    ),
    "same-jira-account-on-two-people": (
        ORG + "    - name: Bo Li\n      jira: acc-ada  #!\n",
        "org.people[1].jira",
        "Jira account 'acc-ada' is also claimed by 'Ada Byrne'",
    ),
    "same-github-login-in-another-case": (
        ORG + "    - name: Bo Li\n      github: AdaB  #!\n",
        "org.people[1].github",
        "GitHub login 'AdaB' is also claimed by 'Ada Byrne'",
    ),
    "same-email-on-two-people": (
        ORG
        + "    - name: Bo Li\n      emails:\n        - bo@acme.example\n        - Ada@acme.example  #!\n",
        "org.people[1].emails[1]",
        "e-mail 'Ada@acme.example' is also claimed by 'Ada Byrne'",
    ),
    "lead-who-is-not-a-person": (
        ORG.replace("{name: Infra, kind: infra}", "{name: Infra, kind: infra, leads: [Zed]}  #!"),
        "org.teams[1].leads[0]",
        "lead 'Zed' is not a person",
    ),
    "unknown-team-in-cluster-namespaces": (
        ORG
        + "sources:\n  cluster:\n    namespaces:\n      ds-*: Research\n      ml-*: Platform  #!\n",
        'sources.cluster.namespaces["ml-*"]',
        "unknown team 'Platform'",
    ),
    "unknown-stage-name": (
        ORG + "workflow:\n  stages:\n    Blocked: waiting\n    In Review: reviewing  #!\n",
        'workflow.stages["In Review"]',
        "'reviewing' is not one of 'todo', 'active', 'waiting' or 'done'",
    ),
    "unknown-field-in-a-rule": (
        ORG + "categories:\n  - name: Infra work\n    match:\n      jira_label: [infra]  #!\n",
        "categories[0].match.jira_label",
        "unknown key 'jira_label' (did you mean 'jira_labels'?)",
    ),
    "impossible-month": (
        ORG.replace("{team: Infra, from: 2025-03-03}", "{team: Infra, from: 2025-13-01}  #!"),
        "org.people[0].memberships[1].from",
        "'2025-13-01' is not a valid date: write YYYY-MM-DD",
    ),
    "date-not-in-iso-form": (
        ORG + "  reorgs:\n    - name: Split\n      date: 03/03/2025  #!\n",
        "org.reorgs[0].date",
        "'03/03/2025' is not a valid date",
    ),
    "bad-cron-expression": (
        ORG + "schedule:\n  report: {cron: '0 25 * * mon'}  #!\n",
        "schedule.report.cron",
        "bad cron expression '0 25 * * mon'",
    ),
    "cron-weekday-as-a-number": (
        ORG + "schedule:\n  report: {cron: '0 8 * * 1'}  #!\n",
        "schedule.report.cron",
        "write the day of week as names",
    ),
    "job-with-both-interval-and-cron": (
        ORG + "schedule:\n  jira: {every_minutes: 30, cron: '0 * * * *'}  #!\n",
        "schedule.jira",
        "set one of every_minutes or cron, not both",
    ),
    "job-with-neither-interval-nor-cron": (
        ORG + "schedule:\n  github:  #!\n    enabled: true\n",
        "schedule.github",
        "set one of every_minutes or cron (or enabled: false)",
    ),
    "missing-required-key-on-its-parent-line": (
        ORG + "sources:\n  jira:  #!\n    email: bot@acme.example\n",
        "sources.jira.url",
        "required key 'url' is missing",
    ),
    "wrong-kind-of-value": (
        ORG + "load:\n  flood_factor: lots  #!\n",
        "load.flood_factor",
        "must be a number",
    ),
    "duplicate-yaml-key": (
        ORG + "load:\n  flood_factor: 2\n  flood_factor: 3  #!\n",
        "load.flood_factor",
        "duplicate key",
    ),
    "env-reference-outside-a-secret-key": (
        ORG
        + "sources:\n  jira:\n    url: https://jira.example\n    jql: project = ${PROJECT}  #!\n",
        "sources.jira.jql",
        "${PROJECT} is not expanded here",
    ),
    "unknown-timezone": (
        ORG.replace("org:\n", "org:\n  timezone: Europe/Dublinn  #!\n"),
        "org.timezone",
        "unknown timezone",
    ),
    "unknown-role": (
        ORG + "access:\n  roles:\n    - {email: boss@acme.example, role: boss}  #!\n",
        "access.roles[0].role",
        "'boss' is not one of 'director', 'lead' or 'member'",
    ),
    "lead-rule-without-teams": (
        ORG + "access:\n  roles:\n    - {email: lead@acme.example, role: lead}  #!\n",
        "access.roles[0]",
        "role lead needs teams",
    ),
    "lead-rule-with-an-empty-team-list": (
        ORG + "access:\n  roles:\n    - email: lead@acme.example\n      role: lead\n"
        "      teams: []  #!\n",
        "access.roles[0].teams",
        "role lead needs teams",
    ),
    "unknown-team-in-a-lead-rule": (
        ORG + "access:\n  roles:\n    - email: lead@acme.example\n      role: lead\n"
        "      teams:\n        - Infra\n        - Platform  #!\n",
        "access.roles[0].teams[1]",
        "unknown team 'Platform' (teams: Research, Infra)",
    ),
    "teams-on-a-member-rule": (
        ORG + "access:\n  roles:\n    - email: '*@acme.example'\n      role: member\n"
        "      teams: [Infra]  #!\n",
        "access.roles[0].teams",
        "teams apply to role lead only (a member sees team aggregates only)",
    ),
    "teams-on-a-director-rule": (
        ORG
        + "access:\n  roles:\n    - {email: d@acme.example, role: director, teams: [Infra]}  #!\n",
        "access.roles[0].teams",
        "teams apply to role lead only (a director sees every team)",
    ),
    "local-lead-without-local-teams": (
        ORG + "access:\n  local_role: lead  #!\n",
        "access.local_role",
        "role lead needs local_teams",
    ),
    "unknown-team-in-local-teams": (
        ORG + "access:\n  local_role: lead\n  local_teams: [Infra, Ops]  #!\n",
        "access.local_teams[1]",
        "unknown team 'Ops'",
    ),
    "local-teams-on-a-local-director": (
        ORG + "access:\n  local_teams: [Infra]  #!\n",
        "access.local_teams",
        "local_teams apply to role lead only (a director sees every team)",
    ),
    "unknown-local-role": (
        ORG + "access:\n  local_role: admin  #!\n",
        "access.local_role",
        "'admin' is not one of 'director', 'lead' or 'member'",
    ),
    "provider-name-with-an-underscore": (
        ORG + "access:\n  provider: my_okta  #!\n",
        "access.provider",
        "st.login needs a name without underscores",
    ),
    "sign-in-with-no-one-given-a-role": (
        ORG + "access:\n  sign_in: true  #!\n",
        "access.sign_in",
        "sign-in is on but no one has a role",
    ),
    "misspelt-access-key": (
        ORG + "access:\n  person_levels: true  #!\n",
        "access.person_levels",
        "unknown key 'person_levels' (did you mean 'person_level'?)",
    ),
    "role-rule-without-an-email": (
        ORG + "access:\n  roles:\n    - {role: member}  #!\n",
        "access.roles[0].email",
        "required key 'email' is missing",
    ),
    "a-jira-filter-with-a-string-never-closed": (
        ORG + "sources:\n  jira:\n    url: https://acme.atlassian.net\n"
        "    jql: 'summary ~ \"law and order by night'  #!\n",
        "sources.jira.jql",
        'the string opened by " at character 11 is never closed',
    ),
    "a-database-teamtide-does-not-run-on": (
        ORG + "database:\n  url: mysql://teamtide:pw@db.example/teamtide  #!\n",
        "database.url",
        "teamtide runs on SQLite and PostgreSQL, not mysql",
    ),
}


@pytest.mark.parametrize(("text", "key", "message"), CASES.values(), ids=CASES.keys())
def test_each_problem_names_its_key_and_line(
    tmp_path: Path, text: str, key: str, message: str
) -> None:
    problem = only(problems_of(tmp_path, text), key)
    assert message in problem.message
    assert problem.line == line_of(text)


def test_roles_and_team_leads_make_a_valid_access_section(tmp_path: Path) -> None:
    text = ORG.replace(
        "{name: Infra, kind: infra}", "{name: Infra, kind: infra, leads: [Ada Byrne]}"
    )
    text += (
        "access:\n  sign_in: true\n  provider: okta\n  person_level: true\n"
        "  local_role: lead\n  local_teams: [Research]\n  roles:\n"
        "    - {email: dir@acme.example, role: director}\n"
        "    - {email: lead@acme.example, role: lead, teams: [Infra, Research]}\n"
        '    - {email: "*@acme.example", role: member}\n'
    )
    access = load_config(write(tmp_path, text)).access
    assert access.sign_in and access.provider == "okta" and access.person_level
    assert [(r.email, r.role, r.teams) for r in access.roles] == [
        ("dir@acme.example", "director", []),
        ("lead@acme.example", "lead", ["Infra", "Research"]),
        ("*@acme.example", "member", []),
    ]
    # sign-in with team leads (and no rules) is enough: the leads can sign in
    leads_only = ORG.replace("{name: Infra, kind: infra}", "{name: Infra, leads: [Ada Byrne]}")
    assert load_config(write(tmp_path, leads_only + "access: {sign_in: true}\n")).access.sign_in


def test_the_default_access_is_local_and_aggregates_only(tmp_path: Path) -> None:
    access = load_config(write(tmp_path, ORG)).access
    assert (access.sign_in, access.person_level, access.local_role) == (False, False, "director")
    assert access.roles == [] and access.provider is None
    summary = summary_text(load_config(write(tmp_path, ORG)), dt.date(2025, 6, 30))
    assert summary.splitlines()[-1] == (
        "access: no sign-in (127.0.0.1 only; the local viewer is director); "
        "team aggregates only; 0 role rules, 0 team leads"
    )


def test_a_yaml_syntax_error_gives_its_line(tmp_path: Path) -> None:
    text = ORG + "load:\n  flood_factor: 2\n   drought_factor: 0.5  #!\n"
    (problem,) = problems_of(tmp_path, text)
    assert problem.message.startswith("YAML syntax error")
    assert problem.line == line_of(text)


def test_a_missing_environment_variable_is_a_problem_only_when_secrets_are_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEAMTIDE_TEST_NO_SUCH_TOKEN", raising=False)
    text = ORG + (
        "sources:\n  github:\n    token: ${TEAMTIDE_TEST_NO_SUCH_TOKEN}  #!\n    repos: [acme/x]\n"
    )
    assert load_config(write(tmp_path, text)).sources.github is not None

    problem = only(problems_of(tmp_path, text, require_env=True), "sources.github.token")
    assert "TEAMTIDE_TEST_NO_SUCH_TOKEN is not set" in problem.message
    assert problem.line == line_of(text)

    monkeypatch.setenv("TEAMTIDE_TEST_NO_SUCH_TOKEN", "ghp_x")
    assert load_config(write(tmp_path, text), require_env=True).sources.github is not None


def test_every_problem_in_the_file_is_reported_at_once_in_file_order(tmp_path: Path) -> None:
    text = (
        ORG.replace("{team: Infra, from: 2025-03-03}", "{team: Infra, from: 2025-3-33}")
        + "        - {team: Ghost, from: 2025-04-01}\n"
        + "workflow:\n  stages: {Blocked: stuck}\n"
        + "schedule:\n  report: {cron: 'every monday'}\n"
        + "report:\n  smtp: {port: 25}\n"
    )
    problems = problems_of(tmp_path, text)

    assert [p.key for p in problems] == [
        "org.people[0].memberships[1].from",
        "org.people[0].memberships[2].team",
        "workflow.stages.Blocked",
        "schedule.report.cron",
        "report.smtp.host",
    ]
    assert [p.line for p in problems] == sorted(p.line or 0 for p in problems)
    path = tmp_path / "teamtide.yaml"
    printed = format_problems(problems, path).splitlines()
    assert len(printed) == len(problems)
    for line, problem in zip(printed, problems, strict=True):
        assert line == f"{path}:{problem.line}: {problem.key}: {problem.message}"


def test_a_missing_file_is_one_problem_that_says_how_to_point_at_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nowhere.yaml")
    (problem,) = caught.value.problems
    assert "TEAMTIDE_CONFIG" in problem.message and problem.line is None
    assert str(caught.value).startswith(str(tmp_path / "nowhere.yaml"))


def test_merge_keys_let_an_entry_override_what_it_inherits(tmp_path: Path) -> None:
    text = ORG.replace(
        "    - {name: Infra, kind: infra}",
        "    - &base {name: Infra, kind: infra}\n    - {<<: *base, name: Enablement, kind: enablement}",
    )
    config = load_config(write(tmp_path, text))
    assert [t.kind for t in config.org.teams] == ["research", "infra", "enablement"]


# --- secrets ----------------------------------------------------------------------------

LITERAL = "tok3n-written-in-the-file"


def test_a_literal_secret_never_appears_in_a_message_or_the_summary(tmp_path: Path) -> None:
    text = ORG.replace("org:\n", f"org:\n  timezone: {LITERAL}\n") + (
        "sources:\n"
        f"  jira: {{url: https://jira.example, token: {LITERAL}, tokn: 1}}\n"
        f"  github: {{token: [{LITERAL}]}}\n"
        f"report:\n  smtp: {{host: mail.example, password: {LITERAL}}}\n"
        f"  webhook_url: https://hooks.example/{LITERAL}\n"
    )
    problems = problems_of(tmp_path, text)
    assert {"org.timezone", "sources.jira.tokn", "sources.github.token"} <= {
        p.key for p in problems
    }
    assert LITERAL not in format_problems(problems)
    assert "***" in only(problems, "org.timezone").message  # pasted into the wrong key: masked

    valid = text.replace(f"  timezone: {LITERAL}\n", "").replace(", tokn: 1", "")
    valid = valid.replace(f"  github: {{token: [{LITERAL}]}}\n", "")
    config = load_config(write(tmp_path, valid))
    summary = summary_text(config, dt.date(2025, 6, 30))
    assert LITERAL not in summary and "token ***" in summary and "webhook ***" in summary
    assert LITERAL not in repr(config)


def test_a_yaml_error_on_a_secret_line_does_not_quote_the_line(tmp_path: Path) -> None:
    text = ORG + f"sources:\n  jira:\n    url: https://jira.example\n    token: {LITERAL}: x\n"
    (problem,) = problems_of(tmp_path, text)
    assert problem.line == line_of(text, LITERAL)
    assert LITERAL not in problem.message


def test_a_secret_reveals_its_environment_variable_only_when_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = Secret("${TEAMTIDE_TEST_SECRET}")
    monkeypatch.delenv("TEAMTIDE_TEST_SECRET", raising=False)
    assert secret.missing_env_vars() == ["TEAMTIDE_TEST_SECRET"]
    with pytest.raises(KeyError, match="TEAMTIDE_TEST_SECRET"):
        secret.reveal()

    monkeypatch.setenv("TEAMTIDE_TEST_SECRET", "s3cret")
    assert secret.reveal() == "s3cret"
    assert Secret("Bearer ${TEAMTIDE_TEST_SECRET}").reveal() == "Bearer s3cret"
    assert "s3cret" not in repr(secret)
    assert Secret("plain").reveal() == "plain" and "plain" not in repr(Secret("plain"))


# --- summary and path -------------------------------------------------------------------


def test_the_summary_counts_each_teams_members_on_the_day(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ORG))

    def members(day: dt.date) -> dict[str, tuple[str, int]]:
        rows = re.findall(r"^  (\w+)\s+(\w+)\s+(\d+)$", summary_text(config, day), re.M)
        return {name: (kind, int(n)) for name, kind, n in rows}

    # Ada moved from Research to Infra on 2025-03-03 (inclusive dates)
    assert members(dt.date(2025, 3, 2)) == {"Research": ("research", 1), "Infra": ("infra", 0)}
    assert members(dt.date(2025, 3, 3)) == {"Research": ("research", 0), "Infra": ("infra", 1)}
    summary = summary_text(config, dt.date(2023, 1, 1))
    assert "2 teams, 1 person" in summary
    assert "people without a team on 2023-01-01: Ada Byrne" in summary
    assert "jira     not configured" in summary


def test_the_config_path_comes_from_the_option_then_the_environment_then_the_default() -> None:
    assert resolve_config_path("a.yaml", {"TEAMTIDE_CONFIG": "b.yaml"}) == Path("a.yaml")
    assert resolve_config_path(None, {"TEAMTIDE_CONFIG": "b.yaml"}) == Path("b.yaml")
    assert resolve_config_path(None, {"TEAMTIDE_CONFIG": ""}) == Path("teamtide.yaml")
    assert resolve_config_path(None, {}) == Path("teamtide.yaml")


# --- the reference documents every key --------------------------------------------------


def model_paths(model: type[BaseModel], path: str = "") -> dict[str, type[BaseModel]]:
    """Every section of the org file (`org.people[].memberships[]`) and the model that reads it."""
    found = {path: model}
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        key = f"{path}.{field.alias or name}" if path else field.alias or name
        annotation = _unwrap(field.annotation)
        if get_origin(annotation) is list and _is_model(_unwrap(get_args(annotation)[0])):
            found |= model_paths(_unwrap(get_args(annotation)[0]), key + "[]")
        elif _is_model(annotation):
            found |= model_paths(annotation, key)
    return found


def documented_sections() -> dict[str, dict[str, list[str]]]:
    """section path -> key -> its table cells, read from the README."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: list[str] = []
    for line in DOCS.read_text().splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
            current = [""] if heading == "Top level" else re.findall(r"`([^`]+)`", heading)
            for path in current:
                sections.setdefault(path, {})
        elif line.startswith("| `") and current:
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            for path in current:
                sections[path][cells[0].strip("`")] = cells
    return sections


def test_every_key_of_every_section_is_documented_with_its_default() -> None:
    sections = documented_sections()
    for path, model in model_paths(Config).items():
        assert path in sections, (
            f"the README has no configuration section for `{path or 'top level'}`"
        )
        for name, field in model.model_fields.items():
            if field.exclude:
                continue
            key = field.alias or name
            assert key in sections[path], f"`{path}.{key}` is not documented"
            cells = sections[path][key]
            assert len(cells) == 4 and all(cells), f"`{path}.{key}` needs type, default, meaning"
            documented = cells[2]
            if field.is_required():
                assert documented == "required", f"`{path}.{key}` is required"
                continue
            assert documented_default(documented) == expected_default(
                field.get_default(call_default_factory=True)
            ), f"`{path}.{key}`: documented default {documented} differs from the code"


def documented_default(cell: str) -> Any:
    code = re.fullmatch(r"`(.+)`", cell)
    assert code, f"a default is written as code: {cell}"
    return yaml.safe_load(code.group(1))


def expected_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_defaults=True, mode="json")
    return value
