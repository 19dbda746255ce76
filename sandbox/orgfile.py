"""The org file (README: "Configuration: the org file") that describes a generated sandbox world to teamtide.

Its category rules are the ones the generator plants its work against: each
generated item matches the rule of its planned category first, so the allocation
teamtide computes from this file recovers `World.truth`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from sandbox.http import SandboxState
from sandbox.world.model import Person, World

CATEGORY_RULES: list[dict[str, Any]] = [
    {
        "name": "Infrastructure",
        "match": {
            "jira_labels": ["infra"],
            "jira_components": ["EKS"],
            "github_repos": ["acme/infra-*"],
        },
    },
    {"name": "DS support", "match": {"jira_issue_types": ["Support Request"]}},
    {"name": "Core development", "match": {"jira_projects": ["ENG"], "github_repos": ["acme/*"]}},
    {"name": "Research", "match": {"jira_projects": ["DS"]}},
]
NAMESPACE_TEAMS = {"ds-*": "Research", "infra-*": "Infra", "platform-*": "Enablement"}
SLA_HOURS = {
    "first_response": {"Highest": 4, "High": 8, "default": 24},
    "resolution": {"Highest": 24, "High": 72, "default": 120},
}


def sandbox_tokens() -> dict[str, str]:
    """The fake services' default tokens (not secrets: the sandbox only listens on loopback)."""
    tokens = next(f for f in dataclasses.fields(SandboxState) if f.name == "tokens")
    return dict(tokens.default_factory())  # type: ignore[misc]


def org_file(
    world: World,
    *,
    jira_url: str,
    github_url: str,
    kube: dict[str, Any] | None = None,
    prometheus_url: str | None = None,
    database_url: str = "sqlite:///teamtide.db",
    access: dict[str, Any] | None = None,
    github_app: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A complete org file for `world` whose sources point at the sandbox servers.

    People with `in_org_file=False` (the contractor, the bot) are left out on
    purpose: teamtide must report their identities as unmapped. `kube` is copied
    into `sources.cluster` (for example `{"api_url": ..., "token": ...}`) and the
    namespace patterns are added; without it there is no cluster source. `access`, when
    given, is written as the `access` section (the demo shows person-level views).
    `github_app` (`app_id`, `installation_id`, `private_key`: the PEM file's path), when
    given, replaces the GitHub token: teamtide signs in as the sandbox's GitHub App.
    """
    tokens = sandbox_tokens()
    sources: dict[str, Any] = {
        "jira": {
            "url": jira_url,
            "email": world.bot_email,
            "token": tokens["jira"],
            "jql": f"project in ({', '.join(world.projects)})",
        },
        "github": {
            "url": github_url,
            **(dict(github_app) if github_app else {"token": tokens["github"]}),
            "repos": [r.full_name for r in world.repos],
            "orgs": [],
        },
    }
    if kube is not None or prometheus_url is not None:
        sources["cluster"] = {
            **(kube or {}),
            "namespaces": dict(NAMESPACE_TEAMS),
            "prometheus_url": prometheus_url,
        }
    return {
        "database": {"url": database_url},
        "org": {
            "timezone": world.timezone,
            "teams": [{"name": t.name, "kind": t.kind} for t in world.teams],
            "people": [_person(p) for p in world.people if p.in_org_file],
            "reorgs": [{"date": world.reorg_date, "name": world.reorg_name}],
        },
        "workflow": {"stages": {"Blocked": "waiting"}},
        "categories": [dict(rule, match=dict(rule["match"])) for rule in CATEGORY_RULES],
        "unplanned": {
            "match": {"jira_issue_types": ["Bug", "Support Request"], "jira_labels": ["interrupt"]}
        },
        "support": {
            "match": {"jira_issue_types": ["Support Request"]},
            "sla_hours": {k: dict(v) for k, v in SLA_HOURS.items()},
        },
        "load": {"flood_factor": 1.5, "drought_factor": 0.5},
        "sources": sources,
        **({"access": access} if access is not None else {}),
    }


def _person(person: Person) -> dict[str, Any]:
    memberships = []
    for m in person.memberships:
        entry: dict[str, Any] = {"team": m.team, "from": m.start}
        if m.end is not None:
            entry["to"] = m.end
        memberships.append(entry)
    return {
        "name": person.name,
        "emails": [person.email, *person.other_emails],
        "jira": person.jira_account_id,
        "github": person.github_login,
        "memberships": memberships,
    }


def write_org_file(path: str | Path, world: World, **kwargs: Any) -> Path:
    """Write `org_file(world, **kwargs)` as YAML; returns the path."""
    path = Path(path)
    path.write_text(yaml.safe_dump(org_file(world, **kwargs), sort_keys=False, allow_unicode=True))
    return path
