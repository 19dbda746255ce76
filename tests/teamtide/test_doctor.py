"""`teamtide doctor` names every planted fault with its fix, and exits 0 only when all is well.

The sandbox plants the faults: a token without `read:org` (GitHub's X-OAuth-Scopes), a
cluster role that may not list namespaces (a 403), and org files written for the test
with a JQL that matches nothing and a Prometheus URL that is not Prometheus. The
database check runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from db.migrate import head_revision, upgrade
from db.session import make_engine
from sandbox.stack import SandboxStack
from sandbox.world.generate import generate
from teamtide.cli import app
from tests.report.conftest import SmtpServer, Webhook, smtp_auth, webhook
from tests.report.helpers import SMTP_PASSWORD, SMTP_USER

runner = CliRunner()
__all__ = ["smtp_auth", "webhook"]  # fixtures shared with the report tests
END = dt.date(2025, 6, 30)


@pytest.fixture(scope="module")
def stack() -> Iterator[SandboxStack]:
    running = SandboxStack(generate(1, "tiny", END), prometheus=False).start()
    yield running
    running.stop()


@pytest.fixture
def org_file(stack: SandboxStack, db_url: str, tmp_path: Path) -> Path:
    engine = make_engine(db_url)
    upgrade(engine)
    engine.dispose()
    return stack.write_config(tmp_path / "teamtide.yaml", db_url)


def doctor(path: Path) -> tuple[int, dict[tuple[str, str], dict[str, Any]]]:
    result = runner.invoke(app, ["-c", str(path), "doctor", "--format", "json"])
    rows = json.loads(result.stdout)
    return result.exit_code, {(r["source"], r["check"]): r for r in rows}


def rewrite(path: Path, change: Any) -> None:
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def test_all_well_exits_0_with_every_check_passed(org_file: Path) -> None:
    code, rows = doctor(org_file)
    assert code == 0, rows
    assert all(r["ok"] for r in rows.values())
    assert rows[("database", "schema version")]["detail"] == f"schema at revision {head_revision()}"
    assert "matches 557 issues" in rows[("jira", "JQL matches issues")]["detail"]
    assert rows[("github", "repositories visible")]["detail"].startswith("6 repositories")
    assert {("cluster", f"list {w}") for w in ("namespaces", "pods", "nodes", "events")} <= set(
        rows
    )


def test_a_github_app_is_checked_without_asking_for_a_user(
    stack: SandboxStack, db_url: str, tmp_path: Path
) -> None:
    """An installation token is nobody: GitHub answers GET /user with 403 and sends no scopes."""
    engine = make_engine(db_url)
    upgrade(engine)
    engine.dispose()
    path = stack.write_config(tmp_path / "teamtide.yaml", db_url, github_app=True)
    code, rows = doctor(path)
    assert code == 0, rows
    signed_in = rows[("github", "reachable and authenticated")]["detail"]
    assert signed_in.startswith("signed in as GitHub App ") and "installation" in signed_in
    assert "no X-OAuth-Scopes" in rows[("github", "token scopes")]["detail"]
    assert rows[("github", "repositories visible")]["detail"].startswith("6 repositories")


def test_planted_faults_are_each_named_with_their_fix(stack: SandboxStack, org_file: Path) -> None:
    def faulty(doc: dict[str, Any]) -> None:
        doc["sources"]["jira"]["jql"] = "project = DS AND created > 2099-01-01"
        doc["sources"]["cluster"]["prometheus_url"] = doc["sources"]["github"]["url"]

    rewrite(org_file, faulty)
    stack.state.set_faults("github", oauth_scopes="repo")
    stack.state.set_faults("kube", forbid="namespaces")
    try:
        code, rows = doctor(org_file)
    finally:
        stack.state.set_faults("github", oauth_scopes="repo read:org read:user")
        stack.state.set_faults("kube", forbid="")
    assert code == 1
    failed = {key: r for key, r in rows.items() if not r["ok"]}
    assert set(failed) == {
        ("github", "token scopes"),
        ("github", "organisation teams readable"),
        ("jira", "JQL matches issues"),
        ("cluster", "list namespaces"),
        ("cluster", "Prometheus answers"),
    }
    assert "read:org" in failed["github", "token scopes"]["detail"]
    assert "403" in failed["github", "organisation teams readable"]["detail"]
    assert failed["jira", "JQL matches issues"]["detail"] == "the JQL matches 0 issues"
    assert "403" in failed["cluster", "list namespaces"]["detail"]
    assert failed["cluster", "list namespaces"]["fix"] == "give the cluster role list on namespaces"
    assert "not Prometheus" in failed["cluster", "Prometheus answers"]["detail"]
    assert all(r["fix"] for r in failed.values())


def test_a_database_behind_the_schema_is_named(
    stack: SandboxStack, db_url: str, tmp_path: Path
) -> None:
    path = stack.write_config(tmp_path / "teamtide.yaml", db_url)  # never migrated
    code, rows = doctor(path)
    assert code == 1
    check = rows["database", "schema version"]
    assert not check["ok"] and check["fix"] == "run `teamtide init`"
    assert check["detail"] == f"schema at revision none, teamtide needs {head_revision()}"


def test_on_jira_server_the_jql_count_is_the_classic_searchs_total(tmp_path: Path) -> None:
    world = generate(1, "tiny", END)
    with SandboxStack(world, jira_cloud=False, prometheus=False) as server:
        db_url = f"sqlite:///{tmp_path / 't.db'}"
        engine = make_engine(db_url)
        upgrade(engine)
        engine.dispose()
        path = server.write_config(tmp_path / "teamtide.yaml", db_url)
        code, rows = doctor(path)
    assert code == 0, rows
    assert rows["jira", "JQL matches issues"]["detail"] == "the JQL matches 557 issues"


PASSWORD_VAR, HOOK_VAR = "TEAMTIDE_DOCTOR_SMTP_PASSWORD", "TEAMTIDE_DOCTOR_WEBHOOK"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_send_test_logs_in_to_smtp_and_posts_to_the_webhook_and_names_a_refusal(
    org_file: Path, smtp_auth: SmtpServer, webhook: Webhook
) -> None:
    def deliver(doc: dict[str, Any]) -> None:
        doc.setdefault("report", {})["smtp"] = {
            "host": smtp_auth.host, "port": smtp_auth.port, "security": "none",
            "user": SMTP_USER, "password": "${" + PASSWORD_VAR + "}",
        }  # fmt: skip
        doc["report"]["webhook_url"] = "${" + HOOK_VAR + "}"

    rewrite(org_file, deliver)
    args = ["-c", str(org_file), "doctor", "--send-test", "--format", "json"]
    env = {PASSWORD_VAR: SMTP_PASSWORD, HOOK_VAR: webhook.url}
    done = runner.invoke(app, args, env=env)
    rows = {(r["source"], r["check"]): r for r in json.loads(done.stdout)}
    assert done.exit_code == 0, rows
    assert rows[("report", "SMTP login")]["ok"] and rows[("report", "webhook")]["ok"]
    assert webhook.posts == [{"text": "teamtide doctor: a test"}]  # one post, nothing else
    assert smtp_auth.box.messages == []  # a login, not a message

    # a password the server refuses and a webhook that answers 503: both named, exit 1
    webhook.fail_next = 1
    done = runner.invoke(app, args, env={**env, PASSWORD_VAR: "not-the-password"})
    rows = {(r["source"], r["check"]): r for r in json.loads(done.stdout)}
    assert done.exit_code == 1
    smtp_row, hook_row = rows[("report", "SMTP login")], rows[("report", "webhook")]
    assert not smtp_row["ok"] and "report.smtp" in smtp_row["fix"]
    assert not hook_row["ok"] and "503" in hook_row["detail"]
    assert "not-the-password" not in done.stdout + done.stderr
    assert str(webhook.port) not in hook_row["detail"]  # the webhook URL is a secret
