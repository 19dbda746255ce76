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
LANE_MEAN = 2.5  # an engineer's parallel items in an average-demand week, in the Squad
# The categories whose requests each engineering team serves: the Squad all of them; after
# the split Infra the infrastructure requests and Enablement the rest (the planner's routes).
# A team's share of the engineering demand is the Squad's planned share of those
# categories, and its engineers' lanes follow that demand (`plan.team_lane_factor`).
SERVES: dict[int, tuple[int, ...]] = {
    SQUAD: (INFRA, SUPPORT, CORE, UNCAT),
    INFRA_TEAM: (INFRA,),
    ENABLEMENT: (SUPPORT, CORE, UNCAT),
}
INFRA_HEADCOUNT = 0.5  # share of the Squad's engineers who go to Infra at the split
# Item length in lane days: base + Poisson(lam), the same before and after the reorg.
LENGTHS = {INFRA: (1, 1.0), SUPPORT: (1, 0.3), CORE: (1, 1.3), RESEARCH: (2, 4.0), UNCAT: (1, 0.3)}
# Support times follow the serving team's attention (its share of lane-days on requests),
# by one rule before and after the reorg: the median wait from request to work starting,
# and to an engineer's first reply, is these hours divided by the attention (the Squad,
# about a quarter of its time on requests: about 40 h and 12.5 h; Enablement, about half:
# about 21 h and 7 h). Below a quarter the rota floor of `issues.MIN_ATTENTION` holds, so
# Infra's few requests are taken up about as fast as the Squad's.
SUPPORT_WAIT_HOURS = 10.4
SUPPORT_WAIT_SIGMA = 0.45  # of the wait's lognormal: teams take requests up at a steady pace
SUPPORT_REPLY_HOURS = 3.25

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
