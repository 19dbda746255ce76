"""The org file for people to read: secrets masked, the database password hidden, a summary."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from pydantic import BaseModel

from config.schema import ENV_REF, Config, Secret


def show_secret(secret: Secret | None) -> str:
    """A secret as it may be printed: its `${VAR}` reference, never a literal value."""
    if secret is None:
        return "none"
    if ENV_REF.fullmatch(secret):
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
    shown["database"]["url"] = redact_url(config.database.url)
    if config.database.readonly_url:
        shown["database"]["readonly_url"] = redact_url(config.database.readonly_url)
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
    lines.append(f"database: {redact_url(config.database.url)}")
    if config.database.readonly_url:
        lines.append(f"dashboard reads: {redact_url(config.database.readonly_url)}")
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


def redact_url(url: str) -> str:
    """A database URL with its password hidden, for messages and logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
