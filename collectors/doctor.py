"""`teamtide doctor`: every configured connection checked end to end, one line each with the fix.

Each check asks the source what the collectors will ask of it, as cheaply as it can
(a list of one, a count, a header), and says in one line what to change when the
answer is not what a sync needs. Nothing is written anywhere.
"""

from __future__ import annotations

import datetime as dt
import json
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy import Engine

from collectors.cluster import KubeApi
from collectors.cluster_parse import PROMETHEUS_QUERIES
from collectors.github import GithubApi, Repositories
from collectors.github_estimate import first_sync_estimate
from collectors.jira import JiraApi
from collectors.retry import RetryPolicy
from config.schema import Config
from db.migrate import current_revision, head_revision

GITHUB_SCOPES = {"repo": "read private repositories", "read:org": "list organisation teams"}
JIRA_PERMISSIONS = ("BROWSE_PROJECTS",)
CLUSTER_LISTS = ("namespaces", "pods", "nodes", "events")
NO_RETRY = RetryPolicy(attempts=1)
PULLS_PER_REQUEST = 100
# what a first REST sync asks per pull request (reviews and its timeline): measured
# 9,076 requests for 4,587 pull requests on the `small` sandbox
REQUESTS_PER_PULL = 2


@dataclass
class Check:
    source: str
    check: str
    ok: bool
    detail: str
    fix: str = ""


def rest_first_sync(pulls: int, remaining: int, limit: int, reset_seconds: float) -> str:
    """How long a first REST sync takes under the rate limit seen now (`api: rest` only).

    GraphQL syncs (the default) are estimated by the collector's own
    `collectors.github_estimate`, from the points its queries cost.
    """
    needed = pulls // PULLS_PER_REQUEST + 1 + pulls * REQUESTS_PER_PULL
    if needed <= remaining:
        return f"about {needed} requests: within the {remaining} left this hour"
    windows = (needed - remaining) / max(1, limit)
    hours = reset_seconds / 3600 + windows
    return f"about {needed} requests: ~{hours:.1f} h under a limit of {limit} an hour"


def _run(source: str, check: str, fix: str, probe: Callable[[], tuple[bool, str]]) -> Check:
    try:
        ok, detail = probe()
    except Exception as exc:  # every failure is one line of the report, never a traceback
        return Check(source, check, False, _short(exc), fix)
    return Check(source, check, ok, detail, "" if ok else fix)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    body = getattr(exc, "body", None)
    if getattr(exc, "status", None) and isinstance(body, (str, bytes)):
        try:
            text = f"HTTP {exc.status}: {json.loads(body).get('message', '')}"  # type: ignore[attr-defined]
        except (ValueError, AttributeError):
            text = f"HTTP {exc.status}"  # type: ignore[attr-defined]
    if isinstance(exc, ssl.SSLError) or "CERTIFICATE_VERIFY" in text:
        return f"TLS: {text[:200]}"
    return text[:240]


def jira_checks(config: Config) -> list[Check]:
    source = config.sources.jira
    if source is None:
        return []
    api = JiraApi(source, {}, retry=NO_RETRY, timeout=15)
    fix_auth = "check sources.jira url, email (or user) and the token's variable"

    def myself() -> tuple[bool, str]:
        me = api.request("GET", "myself") or {}
        return True, f"signed in as {me.get('displayName') or me.get('accountId') or 'someone'}"

    out = [_run("jira", "reachable and authenticated", fix_auth, myself)]
    if not out[0].ok:
        return out

    def permissions() -> tuple[bool, str]:
        wanted = ",".join(JIRA_PERMISSIONS)
        got = api.request("GET", "mypermissions", params={"permissions": wanted}) or {}
        perms = got.get("permissions") or {}
        missing = [p for p in JIRA_PERMISSIONS if not (perms.get(p) or {}).get("havePermission")]
        return not missing, f"missing {', '.join(missing)}" if missing else "may browse projects"

    def jql() -> tuple[bool, str]:
        if not source.jql.strip():
            return False, "no JQL: every issue the account sees would be read"
        if api.cloud:
            body = api.request("POST", "search/approximate-count", body={"jql": source.jql})
            count = int((body or {}).get("count") or 0)
        else:
            params = {"jql": source.jql, "maxResults": 0, "fields": "id"}
            count = int((api.request("GET", "search", params=params) or {}).get("total") or 0)
        return count > 0, f"the JQL matches {count} issues"

    out.append(
        _run("jira", "project permissions", "grant the account Browse projects", permissions)
    )
    out.append(_run("jira", "JQL matches issues", "widen sources.jira.jql", jql))
    return out


def github_checks(config: Config) -> list[Check]:
    source = config.sources.github
    if source is None:
        return []
    api = GithubApi(source, retry=NO_RETRY, timeout=15)
    state: dict[str, Any] = {}

    def user() -> tuple[bool, str]:
        if source.app_id is not None:  # an installation is no user: GET /user answers 403
            api.get("/rate_limit")
            state["scoped"] = False
            return (
                True,
                f"signed in as GitHub App {source.app_id}, installation {source.installation_id}",
            )
        headers, me = api.get("/user")
        scopes = headers.get("x-oauth-scopes")
        state["scoped"] = scopes is not None
        got = {s.strip() for s in (scopes or "").split(",") if s.strip()}
        missing = [
            s
            for s in GITHUB_SCOPES
            if s not in got and not (s == "read:org" and "admin:org" in got)
        ]
        state["missing"] = len(missing)
        state["missing_text"] = ", ".join(f"{s} ({GITHUB_SCOPES[s]})" for s in missing)
        return True, f"signed in as {me.get('login')}"

    out = [
        _run("github", "reachable and authenticated", "check sources.github url and token", user)
    ]
    if not out[0].ok:
        return out

    def scopes() -> tuple[bool, str]:
        if not state.get("scoped"):
            return True, "a fine-grained or App token: no X-OAuth-Scopes to read"
        if state["missing"]:
            return False, f"the token lacks {state['missing_text']}"
        return True, "repo, read:org"

    out.append(_run("github", "token scopes", "add the missing scopes to the token", scopes))

    def teams() -> tuple[bool, str]:
        orgs = list(source.orgs) or sorted({r.split("/")[0] for r in source.repos})
        for org in orgs:
            api.get(f"/orgs/{org}/teams", {"per_page": 1})
        return True, f"may list the teams of {', '.join(orgs)} (teamtide discover)"

    fix_teams = "give the token read:org (an App or fine-grained token: Members, read)"
    out.append(_run("github", "organisation teams readable", fix_teams, teams))

    def repos() -> tuple[bool, str]:
        names = [n for n in Repositories(api, source).names() if not n.endswith("/*")]
        pulls = 0
        for name in names:
            headers, _ = api.get(f"/repos/{name}/pulls", {"state": "all", "per_page": 1})
            last = (headers.get("link") or "").rsplit("page=", 1)
            pulls += int(last[1].split(">")[0]) if len(last) == 2 else 1
        state["pulls"] = pulls
        return bool(names), f"{len(names)} repositories visible, about {pulls} pull requests"

    out.append(
        _run("github", "repositories visible", "list them in sources.github repos or orgs", repos)
    )

    def rate() -> tuple[bool, str]:
        if source.api == "graphql":
            return True, first_sync_estimate(config, api).sentence()
        _, body = api.get("/rate_limit")
        core = (body.get("resources") or {}).get("core") or body.get("rate") or {}
        reset = float(core.get("reset", 0)) - dt.datetime.now(dt.UTC).timestamp()
        guess = rest_first_sync(
            state.get("pulls", 0), int(core.get("remaining", 0)), int(core.get("limit", 0)), reset
        )
        return True, f"{core.get('remaining')} of {core.get('limit')} requests left; {guess}"

    out.append(_run("github", "first sync under the rate limit", "", rate))
    return out


def cluster_checks(config: Config) -> list[Check]:
    source = config.sources.cluster
    if source is None:
        return []
    out = []
    if source.api_url or source.kubeconfig or source.in_cluster:
        api = KubeApi(source, retry=NO_RETRY, timeout=15)
        try:
            for what in CLUSTER_LISTS:
                method = getattr(api.core, KubeApi.LISTS[what])

                def probe(
                    method: Callable[..., object] = method, what: str = what
                ) -> tuple[bool, str]:
                    method(limit=1, _request_timeout=15)
                    return True, f"may list {what}"

                fix = f"give the cluster role list on {what}"
                out.append(_run("cluster", f"list {what}", fix, probe))
        finally:
            api.close()
    if source.prometheus_url:
        url = source.prometheus_url.rstrip("/")

        def prometheus() -> tuple[bool, str]:
            query = next(iter(PROMETHEUS_QUERIES.values()))
            answer = requests.get(f"{url}/api/v1/query", params={"query": query}, timeout=15)
            body = answer.json() if "json" in answer.headers.get("content-type", "") else {}
            if answer.status_code != 200 or body.get("status") != "success":
                return False, f"{url} answered HTTP {answer.status_code}, not Prometheus' API"
            return True, f"answers the collector's queries ({len(body['data']['result'])} series)"

        out.append(
            _run(
                "cluster", "Prometheus answers", "check sources.cluster.prometheus_url", prometheus
            )
        )
    return out


def database_check(engine: Engine) -> Check:
    def probe() -> tuple[bool, str]:
        current, head = current_revision(engine), head_revision()
        if current == head:
            return True, f"schema at revision {head}"
        return False, f"schema at revision {current or 'none'}, teamtide needs {head}"

    return _run("database", "schema version", "run `teamtide init`", probe)


def delivery_checks(config: Config) -> list[Check]:
    """SMTP login and the webhook: only asked for (`--send-test`), since they deliver."""
    report, out = config.report, []
    if report.smtp is not None:
        smtp = report.smtp

        def login() -> tuple[bool, str]:
            kind = smtplib.SMTP_SSL if smtp.security == "ssl" else smtplib.SMTP
            with kind(smtp.host, smtp.port, timeout=15) as server:
                if smtp.security == "starttls":
                    server.starttls()
                if smtp.user is not None and smtp.password is not None:
                    server.login(smtp.user.reveal(), smtp.password.reveal())
            return True, f"{smtp.host}:{smtp.port} accepts the login"

        out.append(_run("report", "SMTP login", "check report.smtp host, port and login", login))
    if report.webhook_url is not None:
        hook = report.webhook_url

        def post() -> tuple[bool, str]:
            answer = requests.post(
                hook.reveal(), json={"text": "teamtide doctor: a test"}, timeout=15
            )
            return answer.status_code < 300, f"the webhook answered HTTP {answer.status_code}"

        out.append(_run("report", "webhook", "check report.webhook_url", post))
    return out


def run_checks(config: Config, engine: Engine, *, send_test: bool = False) -> list[Check]:
    checks = [database_check(engine)]
    checks += jira_checks(config) + github_checks(config) + cluster_checks(config)
    if send_test:
        checks += delivery_checks(config)
    return checks
