"""The generator's fixed settings: scales, the teams' planned allocation, item lengths, Jira statuses, projects and repositories.

Teams and categories are numbered as `sandbox.world.truth` lists them (`TEAM_NAMES`,
`ALL_CATEGORIES`); the generator plans with the numbers and names them when it writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.world.model import Status, Team

ORG_TIMEZONE = "Europe/Dublin"
BOT_TIMEZONE = "America/Los_Angeles"
FUTURE_DAYS = 21  # generated past the clock, for tests that advance it
DEMAND_PERIOD_WEEKS = 8
DEMAND_AMPLITUDE = 0.6
REORG_NAME = "Squad split into Infra and Enablement"

# Categories and teams by number, in the order of `truth.ALL_CATEGORIES` and `truth.TEAM_NAMES`.
INFRA, SUPPORT, CORE, RESEARCH, UNCAT = range(5)
RESEARCH_TEAM, SQUAD, INFRA_TEAM, ENABLEMENT = range(4)

# Share of weekdays per category (the last entry: no tracked work) for each team.
TARGETS: dict[int, tuple[float, ...]] = {
    RESEARCH_TEAM: (0.0, 0.0, 0.0, 0.90, 0.0, 0.10),
    SQUAD: (0.40, 0.25, 0.28, 0.0, 0.02, 0.05),
    INFRA_TEAM: (0.78, 0.05, 0.10, 0.0, 0.02, 0.05),
    ENABLEMENT: (0.15, 0.45, 0.35, 0.0, 0.0, 0.05),
}
LANE_MEAN = 2.5  # an engineer's parallel items in an average-demand week
# Item length in lane days: base + Poisson(lam); support requests are quicker after the reorg.
LENGTHS = {0: (1, 1.0), 2: (1, 1.3), 3: (2, 4.0), 4: (1, 0.3)}
SUPPORT_LENGTH = {False: (1, 0.9), True: (1, 0.6)}  # keyed by "after the reorg"
SUPPORT_WAIT_HOURS = {False: 30.0, True: 10.0}  # hours from request to work starting (median)
SUPPORT_REPLY_HOURS = {False: 12.5, True: 4.8}  # hours to an engineer's first reply (median)

STATUSES = (
    Status("10000", "To Do", "new"),
    Status("3", "In Progress", "indeterminate"),
    Status("10001", "In Review", "indeterminate"),
    Status("10002", "Blocked", "indeterminate"),
    Status("10003", "Done", "done"),
)
STATUS_ID = {s.name: s.id for s in STATUSES}
TODO, PROGRESS, REVIEW, BLOCKED, DONE = (s.name for s in STATUSES)

PROJECTS = {"DS": "Data Science", "ENG": "Engineering", "OPS": "Operations"}
INFRA_REPOS = ("acme/infra-eks", "acme/infra-terraform")
CORE_REPOS = ("acme/model-serving", "acme/feature-store", "acme/pipelines")
DS_REPO = "acme/notebooks"
REPOS = (*CORE_REPOS[:2], *INFRA_REPOS, DS_REPO, CORE_REPOS[2])

TEAMS = (
    Team("Research", "research"),
    Team("Squad", "other"),
    Team("Infra", "infra"),
    Team("Enablement", "enablement"),
)


@dataclass(frozen=True, slots=True)
class Scale:
    people: int
    weeks: int  # weeks of history before the clock
    engineer_share: float
    joiners: int
    leavers: int
    namespaces: int
    gpu_pods_per_ns_week: float
    cpu_pods_per_ns_week: float
    long_epics: int
    second_pr: float  # odds that an item with a pull request gets a second one


SCALES: dict[str, Scale] = {
    "tiny": Scale(10, 13, 0.4, 0, 0, 6, 10, 6, 1, 0.12),
    "small": Scale(30, 78, 0.4, 2, 1, 6, 10, 6, 3, 0.12),
    "medium": Scale(150, 156, 0.55, 8, 6, 12, 10, 5, 3, 0.12),
    "large": Scale(600, 156, 0.6, 30, 24, 50, 8, 4, 3, 0.35),
}
