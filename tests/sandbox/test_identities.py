"""The sandbox's identity truth: GitHub teams and members, Jira's user search, planted cases.

Spoken to through the real clients (PyGithub, `jira`), as discovery speaks to them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import jira
import pytest
from github import Auth, Github
from github.GithubException import GithubException
from typer.testing import CliRunner

from sandbox.cli import app as sandbox_cli
from sandbox.server import Sandbox
from sandbox.world.generate import generate
from sandbox.world.identities import build_identities, identity_truth
from sandbox.world.model import World

END = dt.date(2025, 6, 30)


@pytest.fixture(scope="module")
def world() -> World:
    return generate(1, "small", END)


@pytest.fixture(scope="module")
def served(world: World) -> Iterator[Sandbox]:
    with Sandbox(world) as running:
        yield running


def github(served: Sandbox, per_page: int = 30) -> Github:
    return Github(base_url=served.github_url, auth=Auth.Token("github-token"), per_page=per_page)


def jira_client(served: Sandbox) -> jira.JIRA:
    return jira.JIRA(
        served.jira_url,
        basic_auth=("teamtide-bot@acme.example", "jira-token"),
        options={"check_update": False},
        max_retries=0,
    )


def test_identities_are_their_own_stream_and_every_case_is_planted(world: World) -> None:
    again = build_identities(world)
    assert again == world.identities  # the same draws every time, from (seed, "identities")
    truth = identity_truth(world)
    for case, accounts in truth["cases"].items():
        assert accounts, case
    assert len(truth["cases"]["renamed_login"]) == 1
    assert len(truth["cases"]["lookalike"]) == 2
    assert {a["account"] for a in truth["apart"]} >= {"renovate[bot]", "acme-deploy"}
    # the pairs: every person with both accounts, the contractor and the renamed login included
    both = [p for p in world.people if not p.github_login.endswith("[bot]")]
    assert len(truth["pairs"]) == len(both) + 1


def test_github_lists_todays_teams_and_their_members_page_by_page(
    served: Sandbox, world: World
) -> None:
    org = github(served, per_page=2).get_organization("acme")
    teams = {t.name: t for t in org.get_teams()}
    assert set(teams) == {"Research", "Infra", "Enablement"}
    today = world.clock.date()
    for name, team in teams.items():
        want = {
            p.github_login
            for p in world.people
            if p.in_org_file
            and any(m.team == name and m.start <= today and m.end is None for m in p.memberships)
        }
        assert {m.login for m in team.get_members()} == want, name
    members = {m.login for m in org.get_members()}
    assert {"acme-deploy", *identity_truth(world)["cases"]["lookalike"]} <= members


def test_profiles_of_the_planted_accounts(served: Sandbox, world: World) -> None:
    client = github(served)
    renamed = next(e for e in world.identities.extras if e.case == "renamed")
    profile = client.get_user(renamed.github)
    assert (profile.name, profile.email) == (None, renamed.jira_email)
    lookalike = next(e for e in world.identities.extras if e.case == "lookalike")
    assert client.get_user(lookalike.github).name == lookalike.name


def test_the_token_scopes_header_and_a_missing_read_org(served: Sandbox) -> None:
    client = github(served)
    status, headers, _ = client.requester.requestJson("GET", "/user")
    assert status == 200 and headers["x-oauth-scopes"] == "repo, read:org, read:user"
    served.set_faults("github", oauth_scopes="repo")
    try:
        with pytest.raises(GithubException) as refused:
            list(client.get_organization("acme").get_teams())
        assert refused.value.status == 403
    finally:
        served.set_faults("github", oauth_scopes="repo read:org read:user")


def test_jira_user_search_hides_e_mails_as_profiles_ask(served: Sandbox, world: World) -> None:
    client = jira_client(served)
    hidden = world.identities.hidden_emails
    shown = next(p for p in world.people if p.in_org_file and p.jira_account_id not in hidden)
    secret = next(p for p in world.people if p.jira_account_id in hidden)
    [found] = client.search_users(query=shown.email)
    assert (found.accountId, found.emailAddress) == (shown.jira_account_id, shown.email)
    [found] = [u for u in client.search_users(query=secret.name) if u.displayName == secret.name]
    assert found.accountId == secret.jira_account_id
    assert not hasattr(found, "emailAddress")
    # issues render the same user the same way
    issue = next(i for i in world.issues if i.reporter == secret.jira_account_id)
    reporter = client.issue(issue.key, fields="reporter").raw["fields"]["reporter"]
    assert "emailAddress" not in reporter
    app = next(e for e in world.identities.extras if e.case == "jira_app")
    everyone = client._get_json("users/search", params={"maxResults": 1000})
    assert {"accountId": app.jira, "accountType": "app"}.items() <= next(
        u for u in everyone if u["accountId"] == app.jira
    ).items()


def test_sandbox_truth_identities_prints_the_pairs(world: World) -> None:
    result = CliRunner().invoke(
        sandbox_cli, ["truth", "--scale", "small", "--end", END.isoformat(), "--identities"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pairs"] == identity_truth(world)["pairs"]
