"""GitHub App sign-in against the sandbox: JWTs checked GitHub's way, installation tokens that expire."""

from __future__ import annotations

import calendar
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth, Github, GithubIntegration

from sandbox.github.apps import GitHubApp, app_of, app_rate_limit
from sandbox.server import Sandbox
from sandbox.stack import SandboxStack
from sandbox.world.generate import generate

TOKEN = "github-token"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(generate(1, "tiny")) as served:
        yield served


@pytest.fixture
def app(sandbox: Sandbox) -> GitHubApp:
    return app_of(sandbox.state)


def signed(app: GitHubApp, key: Any = None, **claims: Any) -> str:
    now = int(time.time())
    payload = {"iat": now - 60, "exp": now + 300, "iss": str(app.app_id), **claims}
    return jwt.encode(payload, key or app.private_pem(), algorithm="RS256")


def exchange(sandbox: Sandbox, app: GitHubApp, token: str, installation: int = 0) -> Any:
    return requests.post(
        f"{sandbox.github_url}/app/installations/{installation or app.installation_id}/access_tokens",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def test_pygithub_signs_in_as_the_app_and_reads_rest_and_graphql(
    sandbox: Sandbox, app: GitHubApp
) -> None:
    pem = app.private_pem().decode()
    integration = GithubIntegration(base_url=sandbox.github_url, auth=Auth.AppAuth(app.app_id, pem))
    assert integration.get_app().slug == "teamtide-sandbox"
    assert [i.id for i in integration.get_installations()] == [app.installation_id]
    auth = Auth.AppAuth(app.app_id, pem).get_installation_auth(app.installation_id)
    gh = Github(base_url=sandbox.github_url, auth=auth, retry=None)
    repo = sandbox.state.world.repos[0].full_name
    assert gh.get_repo(repo).full_name == repo
    headers, data = gh.requester.graphql_query("{ rateLimit { limit used } }", {})
    people = sum(1 for p in sandbox.state.world.people if p.github_login)
    limit = app_rate_limit(len(sandbox.state.world.repos), people)
    assert data == {"data": {"rateLimit": {"limit": limit, "used": 1}}}
    forbidden = requests.post(
        f"{sandbox.github_url}/graphql",
        json={"query": "{ viewer { login } }"},
        headers={"Authorization": f"token {auth.token}"},
        timeout=10,
    ).json()  # an installation is no user: GitHub refuses `viewer`
    assert forbidden["data"] is None
    assert forbidden["errors"][0]["type"] == "FORBIDDEN"
    # the installation has budgets of its own: the personal token's are untouched
    assert headers["x-ratelimit-limit"] == str(limit)
    mine = requests.get(
        f"{sandbox.github_url}/rate_limit", headers={"Authorization": f"token {TOKEN}"}, timeout=10
    ).json()["resources"]
    assert mine["core"]["used"] == 0 and mine["graphql"]["used"] == 0


def test_the_token_answer_has_githubs_shape_and_an_hour_to_live(
    sandbox: Sandbox, app: GitHubApp
) -> None:
    before = time.time()
    answer = exchange(sandbox, app, signed(app))
    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == {"token", "expires_at", "permissions", "repository_selection"}
    assert body["token"].startswith("ghs_") and body["repository_selection"] == "all"
    assert body["permissions"]["pull_requests"] == "read"
    expires = calendar.timegm(time.strptime(body["expires_at"], "%Y-%m-%dT%H:%M:%SZ"))
    assert before + 3600 - 2 <= expires <= time.time() + 3600


def test_an_installation_limit_follows_githubs_formula() -> None:
    # 5,000 + 50 per repository over 20 + 50 per member over 20, at most 12,500
    assert app_rate_limit(6, 30) == 5000 + 50 * 10
    assert app_rate_limit(25, 10) == 5000 + 50 * 5
    assert app_rate_limit(40, 600) == 12_500


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("another key", "A JSON web token could not be decoded"),
        ("another app", "A JSON web token could not be decoded"),
        ("not a jwt", "A JSON web token could not be decoded"),
        (
            "expired",
            "'Expiration time' claim ('exp') must be a numeric value representing the future "
            "time at which the assertion expires",
        ),
        ("an hour ahead", "'Expiration time' claim ('exp') is too far in the future"),
        (
            "issued later",
            "'Issued at' claim ('iat') must be an Integer representing the time that the "
            "assertion was issued",
        ),
    ],
)
def test_a_jwt_github_would_refuse_is_refused_with_its_words(
    sandbox: Sandbox, app: GitHubApp, case: str, message: str
) -> None:
    now = int(time.time())
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    token = {
        "another key": lambda: signed(app, other_pem),
        "another app": lambda: signed(app, iss=str(app.app_id + 1)),
        "not a jwt": lambda: "not.a.jwt",
        "expired": lambda: signed(app, iat=now - 700, exp=now - 60),
        "an hour ahead": lambda: signed(app, exp=now + 3600),
        "issued later": lambda: signed(app, iat=now + 600),
    }[case]()
    answer = exchange(sandbox, app, token)
    assert answer.status_code == 401
    assert answer.json() == {
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": "401",
    }
    assert not app.tokens


def test_another_installation_is_not_found(sandbox: Sandbox, app: GitHubApp) -> None:
    assert exchange(sandbox, app, signed(app), app.installation_id + 1).status_code == 404


def test_an_installation_token_stops_working_when_it_expires(
    sandbox: Sandbox, app: GitHubApp
) -> None:
    app.token_seconds = 1.5
    token = exchange(sandbox, app, signed(app)).json()["token"]
    headers = {"Authorization": f"token {token}"}
    repo = sandbox.state.world.repos[0].full_name
    assert requests.get(f"{sandbox.github_url}/repos/{repo}", headers=headers).status_code == 200
    query = {"query": "{ viewer { login } }"}
    graphql = f"{sandbox.github_url}/graphql"
    assert requests.post(graphql, json=query, headers=headers).status_code == 200
    time.sleep(1.7)
    expired = requests.get(f"{sandbox.github_url}/repos/{repo}", headers=headers)
    assert expired.status_code == 401 and expired.json()["message"] == "Bad credentials"
    assert requests.post(graphql, json=query, headers=headers).status_code == 401
    # a JWT is not a token for the API itself
    jwt_headers = {"Authorization": f"Bearer {signed(app)}"}
    assert (
        requests.get(f"{sandbox.github_url}/repos/{repo}", headers=jwt_headers).status_code == 401
    )


def test_write_config_keeps_the_token_and_writes_the_apps_key_beside(tmp_path: Path) -> None:
    stack = SandboxStack(generate(1, "tiny"))
    app = app_of(stack.state)
    written = stack.write_config(tmp_path / "org.yaml", "sqlite:///x.db")
    github = yaml.safe_load(written.read_text())["sources"]["github"]
    assert github["token"] == TOKEN and "app_id" not in github
    key_file = tmp_path / "org.github-app.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_bytes() == app.private_pem()

    written = stack.write_config(tmp_path / "org.yaml", "sqlite:///x.db", github_app=True)
    github = yaml.safe_load(written.read_text())["sources"]["github"]
    assert "token" not in github
    assert (github["app_id"], github["installation_id"]) == (app.app_id, app.installation_id)
    assert github["private_key"] == str(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
