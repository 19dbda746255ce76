"""Org files no person writes: refused with one problem, quickly, before anything walks them."""

from __future__ import annotations

import pytest

from config.document import MAX_DEPTH, MAX_VALUES, ConfigError
from config.load import parse_config

VALID = "database: {url: 'sqlite:///x.db'}\n"


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_config(text, "org.yaml")
    return [f"{p.line}: {p.message}" for p in raised.value.problems]


def test_an_alias_bomb_is_refused_by_what_it_would_expand_to() -> None:
    # nine lines, nine aliases each: 9^9 = 387,420,489 values once expanded
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{n}: &a{n} [{','.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
    assert problems(VALID + "\n".join(lines) + "\n") == [
        f"None: its aliases (*name) expand to more than {MAX_VALUES:,} values"
    ]


def test_aliases_a_person_would_write_are_fine() -> None:
    text = "defaults: &defaults {flood_factor: 2.0, drought_factor: 0.4}\nload: *defaults\n" + VALID
    with pytest.raises(ConfigError) as raised:  # `defaults` is not a key of the org file...
        parse_config(text)
    assert [p.key for p in raised.value.problems] == ["defaults"]  # ...but the alias worked


def test_a_nul_byte_is_a_problem_with_its_line() -> None:
    assert problems(VALID + "org:\n  timezone: UTC\x00\n") == [
        "3: character U+0000 is not allowed in YAML"
    ]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 5, 1000, 5000])
def test_nesting_past_the_limit_is_refused_however_deep(depth: int) -> None:
    assert problems(VALID + "org: " + "[" * depth + "]" * depth + "\n") == [
        f"None: nested deeper than {MAX_DEPTH} levels"
    ]


def test_a_recursive_alias_is_refused() -> None:
    assert problems(VALID + "org: &loop [*loop]\n") == [
        f"None: nested deeper than {MAX_DEPTH} levels"
    ]


def test_a_command_requires_only_the_secrets_of_the_sections_it_uses(monkeypatch) -> None:
    text = (
        VALID + "sources: {jira: {url: 'https://acme.atlassian.net', email: bot@acme.example, "
        "token: '${T_JIRA_TOKEN}', jql: 'project = DS'}}\n"
        "report: {recipients: [dir@acme.example], smtp: {host: smtp.acme.example, "
        "user: bot, password: '${T_SMTP_PASSWORD}'}}\n"
    )
    monkeypatch.setenv("T_JIRA_TOKEN", "x")
    monkeypatch.delenv("T_SMTP_PASSWORD", raising=False)
    parse_config(text, require_env=frozenset({"sources"}))  # a sync: the report's is not needed
    with pytest.raises(ConfigError) as raised:
        parse_config(text, require_env=True)  # check-config and the scheduler need all
    assert [p.message for p in raised.value.problems] == [
        "environment variable T_SMTP_PASSWORD is not set"
    ]
    with pytest.raises(ConfigError):
        parse_config(text, require_env=frozenset({"report"}))  # report --send
