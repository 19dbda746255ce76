"""Typed settings from the org file (YAML): the one place every layer reads configuration from.

Key names follow the README's key reference ("Configuration: the org file"): they are a contract with other teams'
tools, so fields may be added but never renamed. Secrets stay `${ENV_VAR}` references
until the moment a collector needs them (`Secret.reveal`); from then on the process's
redactor (`config.redaction`) keeps them out of the database, logs and messages.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from config import redaction

TeamKind = Literal["research", "enablement", "infra", "other"]
Stage = Literal["todo", "active", "waiting", "done"]

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Strict(BaseModel):
    """Base for every section: unknown keys are errors, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Secret(str):
    """A config string that may hold `${ENV_VAR}` references, resolved only on `reveal()`."""

    def env_vars(self) -> list[str]:
        return ENV_REF.findall(self)

    def missing_env_vars(self) -> list[str]:
        return [name for name in self.env_vars() if name not in os.environ]

    def reveal(self) -> str:
        """The value, with its variables read from the environment.

        From now on the process's redactor masks it (and each variable's value) in
        every text it stores, logs or prints (`config.redaction`).
        """
        missing = self.missing_env_vars()
        if missing:
            raise KeyError(f"environment variable {missing[0]} is not set")
        value = ENV_REF.sub(lambda m: os.environ[m.group(1)], str(self))
        redaction.register(value, *(os.environ[name] for name in self.env_vars()))
        return value

    def __repr__(self) -> str:  # never print a value, only the reference
        return "Secret(***)" if not self.env_vars() else f"Secret({str(self)!r})"

    @classmethod
    def __get_pydantic_core_schema__(cls, _source: Any, _handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(cls, core_schema.str_schema())


class Membership(Strict):
    team: str
    from_: dt.date = Field(alias="from")
    to: dt.date | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def covers(self, day: dt.date) -> bool:
        return self.from_ <= day and (self.to is None or day <= self.to)


class Person(Strict):
    name: str
    emails: list[str] = []
    jira: str | None = None
    github: str | None = None
    aliases: list[str] = []
    memberships: list[Membership] = []


class Team(Strict):
    name: str
    kind: TeamKind = "other"
    leads: list[str] = []


class Reorg(Strict):
    date: dt.date
    name: str


class Org(Strict):
    timezone: str = "UTC"
    teams: list[Team] = []
    people: list[Person] = []
    reorgs: list[Reorg] = []

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown timezone {value!r} (use an IANA name such as Europe/Dublin)"
            ) from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Match(Strict):
    """Conditions of a rule: it matches when any condition matches (values are alternatives)."""

    jira_projects: list[str] = []
    jira_issue_types: list[str] = []
    jira_labels: list[str] = []
    jira_components: list[str] = []
    jira_epics: list[str] = []
    github_repos: list[str] = []  # globs, e.g. "acme/infra-*"
    github_labels: list[str] = []


class CategoryRule(Strict):
    name: str
    match: Match = Match()


class Workflow(Strict):
    stages: dict[str, Stage] = {}  # status name -> stage, overriding the status category


class RuleSection(Strict):
    match: Match = Match()


def _default_unplanned() -> RuleSection:
    return RuleSection(
        match=Match(jira_issue_types=["Bug", "Support Request"], jira_labels=["interrupt"])
    )


Hours = Annotated[float, Field(gt=0)]


class SlaHours(Strict):
    first_response: dict[str, Hours] = {"default": 24.0}  # by priority name, plus "default"
    resolution: dict[str, Hours] = {"default": 120.0}


class Support(Strict):
    match: Match = Match(jira_issue_types=["Support Request"])
    sla_hours: SlaHours = SlaHours()


class Load(Strict):
    flood_factor: float = Field(1.5, gt=0)
    drought_factor: float = Field(0.5, ge=0)


class Database(Strict):
    url: str = "sqlite:///teamtide.db"
    # what the dashboard and `teamtide metrics` read through, e.g. a read-only PostgreSQL role
    readonly_url: str | None = None

    @property
    def read_url(self) -> str:
        """The URL for readers: `readonly_url`, else `url` (opened read-only either way)."""
        return self.readonly_url or self.url

    @field_validator("url", "readonly_url")
    @classmethod
    def _parseable(cls, value: str | None) -> str | None:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        if value is None:
            return None
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            # SQLAlchemy's own message echoes the URL, password included: never show it
            raise ValueError(
                "not a database URL (expected e.g. sqlite:///teamtide.db or "
                "postgresql+psycopg://user@host/db)"
            ) from None
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(
                f"teamtide runs on SQLite and PostgreSQL, not {backend} "
                "(expected e.g. sqlite:///teamtide.db or postgresql+psycopg://user@host/db)"
            )
        return value


class JiraSource(Strict):
    url: str
    email: str | None = None  # Cloud: basic auth with e-mail + API token
    user: str | None = None  # Server/Data Center: user name (+ token/password)
    token: Secret | None = None
    jql: str = ""
    worklogs: bool = False
    overlap_minutes: int = Field(2, ge=0)
    page_size: int = Field(100, gt=0, le=5000)
    verify_ssl: bool = True

    @field_validator("token", mode="before")
    @classmethod
    def _secret(cls, value: Any) -> Any:
        return Secret(value) if isinstance(value, str) else value

    @field_validator("jql")
    @classmethod
    def _readable_jql(cls, value: str) -> str:
        from config.jql import split_order_by

        split_order_by(value)  # a string never closed: the collector could not bound it
        return value


APP_KEYS = ("app_id", "installation_id", "private_key")


class GithubSource(Strict):
    url: str = "https://api.github.com"
    api: Literal["graphql", "rest"] = "graphql"  # rest: for servers without GraphQL
    token: Secret | None = None
    # GitHub App sign-in, instead of a token: the App's id, its installation in the
    # organisation, and its private key (PEM, e.g. `${GITHUB_APP_PRIVATE_KEY}`, or a file path).
    app_id: int | None = Field(None, gt=0, validate_default=True)
    installation_id: int | None = Field(None, gt=0, validate_default=True)
    private_key: Secret | None = Field(None, validate_default=True)
    repos: list[str] = []
    orgs: list[str] = []
    issues: bool = False  # also collect GitHub issues as work items
    seconds_between_requests: float = Field(0.0, ge=0)  # PyGithub's own throttle, set deliberately
    per_page: int = Field(100, gt=0, le=100)
    verify_ssl: bool = True

    @field_validator("token", "private_key", mode="before")
    @classmethod
    def _secret(cls, value: Any) -> Any:
        return Secret(value) if isinstance(value, str) else value

    # Each App key is checked where it is (or would be) written, so the problem names it.
    @field_validator("app_id", "installation_id", "private_key", mode="after")
    @classmethod
    def _one_sign_in(cls, value: Any, info: ValidationInfo) -> Any:
        app = [info.data.get("app_id"), info.data.get("installation_id"), value]
        app = app[: APP_KEYS.index(info.field_name) + 1]
        if info.field_name == "app_id":
            if value is not None and info.data.get("token") is not None:
                raise ValueError("set token or a GitHub App (app_id...), not both")
        elif (value is None) != (app[0] is None):
            raise ValueError(
                f"set with app_id: a GitHub App needs {', '.join(APP_KEYS)}"
                if value is None
                else f"a GitHub App needs {', '.join(APP_KEYS)}: app_id is missing"
            )
        return value

    @property
    def app(self) -> bool:
        """Signs in as a GitHub App installation (not with a token)."""
        return self.app_id is not None


class ClusterSource(Strict):
    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False
    api_url: str | None = None
    token: Secret | None = None
    verify_ssl: bool = True
    namespaces: dict[str, str] = {}  # namespace glob -> team name
    node_group_label: str | None = None
    prometheus_url: str | None = None

    @field_validator("token", mode="before")
    @classmethod
    def _secret(cls, value: Any) -> Any:
        return Secret(value) if isinstance(value, str) else value


class Sources(Strict):
    jira: JiraSource | None = None
    github: GithubSource | None = None
    cluster: ClusterSource | None = None


class Job(Strict):
    """One scheduled job: an interval in minutes or a cron expression (org timezone)."""

    every_minutes: float | None = Field(None, gt=0)
    cron: str | None = None
    enabled: bool = True

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is not None:
            check_cron(value)
        return value

    @model_validator(mode="after")
    def _one_trigger(self) -> Job:
        if self.every_minutes is not None and self.cron is not None:
            raise ValueError("set one of every_minutes or cron, not both")
        if self.enabled and self.every_minutes is None and self.cron is None:
            raise ValueError("set one of every_minutes or cron (or enabled: false)")
        return self


def check_cron(expr: str) -> None:
    """Raise ValueError unless `expr` is a 5-field crontab line APScheduler 3 reads as cron does."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expr, timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"bad cron expression {expr!r}: {exc}") from None
    # APScheduler 3 numbers weekdays from 0 = Monday, cron from 0 = Sunday: names are unambiguous
    if any(ch.isdigit() for ch in expr.split()[4]):
        raise ValueError(
            f"bad cron expression {expr!r}: write the day of week as names (mon-fri, sun), "
            "not numbers: APScheduler counts 0 as Monday where cron counts 0 as Sunday"
        )


class Schedule(Strict):
    jira: Job = Job(every_minutes=30)
    github: Job = Job(every_minutes=30)
    cluster: Job = Job(every_minutes=5)
    report: Job = Job(cron="0 8 * * mon")
    alerts: Job = Job(every_minutes=60)
    misfire_grace_seconds: int = Field(300, ge=1)


class Smtp(Strict):
    host: str
    port: int = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"
    user: Secret | None = None
    password: Secret | None = None
    sender: str = "teamtide@localhost"

    @field_validator("user", "password", mode="before")
    @classmethod
    def _secret(cls, value: Any) -> Any:
        return Secret(value) if isinstance(value, str) else value


class Report(Strict):
    recipients: list[str] = []
    per_team_lead: bool = False
    smtp: Smtp | None = None
    webhook_url: Secret | None = None
    dashboard_url: str | None = None

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _secret(cls, value: Any) -> Any:
        return Secret(value) if isinstance(value, str) else value


class Alerts(Strict):
    """Alerts between reports: to each team's leads (e-mail) and the report's webhook, once per event."""

    enabled: bool = False
    flood_probability: float = Field(
        0.7, gt=0, le=1
    )  # alert when the forecast's p_flood exceeds it
    within_weeks: int = Field(4, ge=1, le=12)  # ...in one of the next this many weeks
    sla_breach_rate: float | None = Field(
        0.25, ge=0, le=1
    )  # this week's share over the SLA; null: off


Role = Literal["director", "lead", "member"]


class RoleRule(Strict):
    """Who gets which role: the first rule whose e-mail (or glob) matches the signed-in address."""

    email: str  # an address or a glob such as "*@acme.example"; case-insensitive
    role: Role
    teams: list[str] = []  # only for role lead: the teams whose people they may see


class Access(Strict):
    """Who may see what: sign-in, roles, and whether person-level views exist at all."""

    sign_in: bool = False  # st.login (OpenID Connect), provider settings in .streamlit/secrets.toml
    provider: str | None = None  # the [auth.<provider>] section; None = the [auth] section itself
    person_level: bool = False  # off: everyone, directors included, sees team aggregates only
    local_role: Role = "director"  # the viewer's role when sign-in is off (127.0.0.1 only)
    local_teams: list[str] = []  # the local viewer's teams when local_role is lead
    roles: list[RoleRule] = []
    # A provider that sends no `email_verified` claim (Microsoft Entra ID) verifies no
    # address for us: its users get a role only when this says its addresses are trusted.
    trust_unverified_email: bool = False

    @field_validator("provider")
    @classmethod
    def _streamlit_provider_name(cls, value: str | None) -> str | None:
        # Streamlit's st.login rejects provider names with an underscore (its own limitation)
        if value is not None and (not value or "_" in value):
            raise ValueError(
                f"provider {value!r} can't be used: st.login needs a name without underscores"
            )
        return value


class Config(Strict):
    database: Database = Database()
    org: Org = Org()
    workflow: Workflow = Workflow()
    categories: list[CategoryRule] = []
    unplanned: RuleSection = Field(default_factory=_default_unplanned)
    support: Support = Support()
    load: Load = Load()
    sources: Sources = Sources()
    schedule: Schedule = Schedule()
    report: Report = Report()
    alerts: Alerts = Alerts()
    access: Access = Access()

    path: Path | None = Field(None, exclude=True)  # where it was read from, for messages

    def team_names(self) -> list[str]:
        return [team.name for team in self.org.teams]

    def staffed_teams(self, first: dt.date, last: dt.date) -> set[str]:
        """Teams with at least one member on some day of `first`..`last` (both inclusive)."""
        return {
            m.team
            for person in self.org.people
            for m in person.memberships
            if m.from_ <= last and (m.to is None or first <= m.to)
        }

    def secrets(self) -> list[tuple[str, Secret]]:
        """Every secret-bearing setting as (key path, reference): for checks and redaction."""
        found: list[tuple[str, Secret]] = []

        def walk(node: Any, path: str) -> None:
            if isinstance(node, Secret):
                found.append((path, node))
            elif isinstance(node, BaseModel):
                for name in type(node).model_fields:
                    walk(getattr(node, name), f"{path}.{name}" if path else name)

        walk(self, "")
        return found
