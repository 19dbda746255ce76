"""Generates the sandbox's synthetic organisation from a seed and a scale, with planted ground truth.

The generator plans first and writes records second. The plan decides, for every
member and weekday, how many parallel "lanes" of work they carry (driven by a
data-science demand cycle of known period) and which work item runs in each lane
on which days, drawn from each team's target allocation. Jira issues, their
changelogs, comments and worklogs, and GitHub pull requests are then written so
that each item is in an `active` stage while assigned to its owner exactly on its
planned days (status changes at working hours in the org timezone; an item waits
`Blocked` over its owner's days off; linked pull requests are open inside the
item's active period). `sandbox.world.truth` turns the plan into the figures the
metrics must recover. `World.truth` holds: `plan` (`sandbox.world.truth.Plan`, from which
`truth_report` computes any window), `categories`, `teams`, `weeks` (Mondays),
`person_week_fte` (people x weeks x categories, people in `World.people` order),
`person_week_load`, `team_week_fte`, `team_week_unplanned`, `team_week_load`,
`team_week_state` and `team_baseline` (states over the weeks before the clock),
`demand` (`period_weeks`, `amplitude`, `phase_weeks`, `weekly` factor), `targets`
(the planned shares per team), `issue_category` and `issue_unplanned` (per issue,
in `World.issues` order) and `reorg` (median support first response and
resolution hours before and after the reorg, as seen at the clock).

Determinism: one `numpy.random.default_rng(seed)` feeds every draw, consumed in a
fixed program order; no global random state, no iteration over sets.
"""

from __future__ import annotations

import bisect
import datetime as dt
import gc
import heapq
import math
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo

import numpy as np

from sandbox.world import truth as truth_mod
from sandbox.world.model import (
    ChangeItem,
    Cluster,
    ClusterEvent,
    Comment,
    History,
    Issue,
    Membership,
    NodeGroupChange,
    Person,
    Pod,
    PullRequest,
    Repo,
    Review,
    Status,
    Team,
    Worklog,
    World,
)
from sandbox.world.truth import ALL_CATEGORIES, NO_WORK, TEAM_NAMES, Plan

ORG_TIMEZONE = "Europe/Dublin"
BOT_TIMEZONE = "America/Los_Angeles"
FUTURE_DAYS = 21  # generated past the clock, for tests that advance it
DEMAND_PERIOD_WEEKS = 8
DEMAND_AMPLITUDE = 0.6
REORG_NAME = "Squad split into Infra and Enablement"

HOUR = 3600
DAY = 86400
WORK_START = 9 * HOUR  # the working window, 09:00-18:00 org time, on weekdays
WORK_LEN = 9 * HOUR
UTC = dt.UTC
T = TypeVar("T")
ReviewState = Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"]

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
_STATUS_ID = {s.name: s.id for s in STATUSES}
TODO, PROGRESS, REVIEW, BLOCKED, DONE = (s.name for s in STATUSES)

PROJECTS = {"DS": "Data Science", "ENG": "Engineering", "OPS": "Operations"}
INFRA_REPOS = ("acme/infra-eks", "acme/infra-terraform")
CORE_REPOS = ("acme/model-serving", "acme/feature-store", "acme/pipelines")
DS_REPO = "acme/notebooks"
REPOS = (*CORE_REPOS[:2], *INFRA_REPOS, DS_REPO, CORE_REPOS[2])


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

FIRST_NAMES = (
    "Ada",
    "Aoife",
    "Ben",
    "Cara",
    "Cian",
    "Dara",
    "Dev",
    "Eimear",
    "Emma",
    "Finn",
    "Grace",
    "Hana",
    "Ian",
    "Isla",
    "Jack",
    "Jia",
    "Kai",
    "Kate",
    "Liam",
    "Lena",
    "Maya",
    "Niall",
    "Nora",
    "Omar",
    "Orla",
    "Pavel",
    "Priya",
    "Quinn",
    "Ravi",
    "Rosa",
    "Sean",
    "Sofia",
    "Tariq",
    "Tess",
    "Uma",
    "Victor",
    "Wen",
    "Xavier",
    "Yara",
    "Zoe",
    "Amir",
    "Bea",
    "Conor",
    "Dina",
    "Eoin",
    "Fatima",
    "Gus",
    "Hugo",
    "Ines",
    "Joel",
    "Kofi",
    "Lucia",
    "Mateo",
    "Nina",
    "Oscar",
    "Petra",
    "Rui",
    "Saoirse",
    "Tomas",
    "Vera",
    "Wiktor",
    "Yusuf",
    "Zara",
    "Aisling",
)
LAST_NAMES = (
    "Byrne",
    "Murphy",
    "Kelly",
    "Walsh",
    "Ryan",
    "Doyle",
    "Nolan",
    "Quinn",
    "Khan",
    "Patel",
    "Chen",
    "Garcia",
    "Novak",
    "Silva",
    "Rossi",
    "Muller",
    "Kowal",
    "Ahmed",
    "Okafor",
    "Tanaka",
    "Lopez",
    "Costa",
    "Moreau",
    "Nagy",
    "Berg",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kim",
    "Larsen",
    "Mendes",
    "Nair",
    "Olsen",
    "Park",
    "Reyes",
    "Sato",
    "Torres",
    "Varga",
    "Weber",
    "Young",
    "Zhou",
    "Adler",
    "Brennan",
    "Carroll",
    "Daly",
    "Egan",
    "Farrell",
    "Gallagher",
    "Hayes",
    "Keane",
    "Lynch",
    "Madden",
    "Nash",
    "Power",
    "Regan",
    "Sheehan",
    "Tobin",
    "Whelan",
    "Flynn",
    "Duffy",
    "Foley",
    "Healy",
    "Moran",
    "Burke",
)
JIRA_TIMEZONES = ("Europe/Dublin",) * 7 + ("UTC", "America/New_York", "Asia/Kolkata")

_VERBS = {
    INFRA: ("Add", "Upgrade", "Fix", "Tune", "Patch", "Migrate", "Resize", "Automate", "Monitor"),
    CORE: ("Add", "Refactor", "Speed up", "Test", "Document", "Harden", "Build", "Split", "Cache"),
    RESEARCH: ("Evaluate", "Tune", "Analyse", "Prototype", "Benchmark", "Write up", "Clean"),
    UNCAT: ("Review", "Clean up", "Rotate", "Hand over", "Audit"),
}
_OBJECTS = {
    INFRA: (
        "GPU node group",
        "EKS control plane",
        "cluster autoscaler",
        "node AMIs",
        "spot interruption handling",
        "namespace quotas",
        "Prometheus alerts",
        "Terraform state",
        "training node volumes",
        "cluster DNS",
        "ingress controller",
        "IAM roles for service accounts",
    ),
    CORE: (
        "feature loader retries",
        "batch inference API",
        "model registry client",
        "serving router",
        "embedding cache",
        "model image pipeline",
        "canary rollout",
        "feature backfill job",
        "schema validation",
        "request tracing",
        "drift monitor",
        "prediction logging",
    ),
    RESEARCH: (
        "vision baseline",
        "churn model",
        "demand forecast",
        "ranking features",
        "NLP classifier",
        "label noise",
        "experiment results",
        "holdout evaluation",
        "sampling strategy",
        "ablation study",
    ),
    UNCAT: ("on-call notes", "cost report", "stale dashboards", "on-call rota", "access review"),
}
_SUPPORT_SUMMARIES = (
    "Training job stuck pending on GPU",
    "Need access to the feature store",
    "Notebook kernel keeps dying",
    "Airflow DAG stuck in queued",
    "More GPU quota for our namespace",
    "Serving endpoint returns errors",
    "Help packaging a model for deployment",
    "Bucket permissions for experiment data",
    "Out of memory in training pod",
    "Slow data loading from the lake",
    "Pipeline failed overnight",
    "Cannot pull the base image",
)
_UNLINKED_TITLES = {
    INFRA: (
        "Bump EKS node AMI",
        "Tidy terraform outputs",
        "Raise autoscaler scan interval",
        "Pin provider versions",
        "Add node labels for GPU pools",
        "Tighten security groups",
    ),
    CORE: (
        "Tidy logging",
        "Refactor config loading",
        "Speed up unit tests",
        "Fix flaky integration test",
        "Update README",
        "Remove dead code",
    ),
}
_COMPONENTS = {
    INFRA: ("EKS", "Terraform", "Monitoring", "Networking"),
    SUPPORT: ("Notebooks", "Airflow", "GPU access", "Data access", "Model Serving"),
    CORE: ("Model Serving", "Feature Store", "Airflow", "CI"),
    RESEARCH: ("Vision", "NLP", "Forecasting"),
    UNCAT: ("On-call",),
}
_DEPENDENCIES = (
    "requests",
    "boto",
    "pydantic",
    "fastapi",
    "terraform aws provider",
    "numpy",
    "pandas",
)
_POD_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_MODELS = ("resnet", "bert", "forecaster", "ranker", "vit", "tabnet", "whisper")


class Draws:
    """Buffered draws from one generator: per-object code reads floats from a list, which is fast."""

    def __init__(self, rng: np.random.Generator, block: int = 1 << 16) -> None:
        self.rng, self.block = rng, block
        self._u: Iterator[float] = iter(())
        self._n: Iterator[float] = iter(())

    def u(self) -> float:
        try:
            return next(self._u)
        except StopIteration:
            self._u = iter(self.rng.random(self.block).tolist())
            return next(self._u)

    def normal(self) -> float:
        try:
            return next(self._n)
        except StopIteration:
            self._n = iter(self.rng.standard_normal(self.block).tolist())
            return next(self._n)

    def below(self, n: int) -> int:
        return min(int(self.u() * n), n - 1)

    def pick(self, seq: Sequence[T]) -> T:
        return seq[self.below(len(seq))]

    def chance(self, p: float) -> bool:
        return self.u() < p

    def poisson(self, lam: float) -> int:
        limit, k, prod = math.exp(-lam), 0, self.u()
        while prod > limit:
            k += 1
            prod *= self.u()
        return k

    def lognormal(self, median: float, sigma: float) -> float:
        return median * math.exp(sigma * self.normal())

    def hexid(self, digits: int) -> str:
        return "".join("0123456789abcdef"[self.below(16)] for _ in range(digits))


class Calendar:
    """Org-timezone days as UTC epoch seconds, and a 'working time' axis that skips nights and weekends.

    Day 0 is a Monday; the calendar covers whole weeks. Working time counts seconds
    inside the 09:00-18:00 window of each weekday, so "n working hours later" and
    "a random moment during working hours between two instants" are one addition
    and one uniform draw.
    """

    def __init__(self, first_day: dt.date, days: int, tz: ZoneInfo) -> None:
        self.first_day, self.days, self.tz = first_day, days, tz
        starts = []
        for k in range(days + 1):
            d = first_day + dt.timedelta(days=k)
            starts.append(int(dt.datetime(d.year, d.month, d.day, tzinfo=tz).timestamp()))
        self.day_start = starts
        self.workdays = [k for k in range(days) if k % 7 < 5]
        self.wd_ord = [0] * (days + 1)
        n = 0
        for k in range(days):
            self.wd_ord[k] = n
            n += k % 7 < 5
        self.wd_ord[days] = n

    def date(self, day: int) -> dt.date:
        return self.first_day + dt.timedelta(days=day)

    def day_of(self, t: int) -> int:
        return min(max(bisect.bisect_right(self.day_start, t) - 1, 0), self.days - 1)

    def to_work(self, t: int) -> float:
        d = self.day_of(t)
        base = self.wd_ord[d] * WORK_LEN
        if d % 7 >= 5:
            return float(base)
        return base + min(max(t - self.day_start[d] - WORK_START, 0), WORK_LEN)

    def from_work(self, w: float) -> int:
        k = int(w // WORK_LEN)
        if k < 0:
            return self.day_start[self.workdays[0]] + WORK_START
        if k >= len(self.workdays):
            return self.day_start[self.workdays[-1]] + WORK_START + WORK_LEN
        return self.day_start[self.workdays[k]] + WORK_START + int(w - k * WORK_LEN)

    def between(self, d: Draws, lo: int, hi: int, n: int) -> list[int]:
        """n sorted moments strictly inside (lo, hi), during working hours when the span allows."""
        if n == 0:
            return []
        wl = self.to_work(lo) + 1
        span = self.to_work(hi) - wl - 1
        u, from_work = d.u, self.from_work
        if span > 2 * n:
            out = sorted([from_work(wl + u() * span) for _ in range(n)])
        else:
            width = max(hi - lo - 2, 0)
            out = sorted([lo + 1 + int(u() * width) for _ in range(n)])
        low = lo + 1
        for i in range(n):  # strictly increasing and inside the span
            t = min(max(out[i], low), hi - (n - i))
            out[i], low = t, t + 1
        return out


def _at(t: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(t, UTC)


@dataclass(slots=True)
class Staff:
    """A person as the planner sees them: employed days and team spans (day indices, inclusive)."""

    engineer: bool
    first: int
    last: int
    spans: list[tuple[int, int, int]] = field(default_factory=list)
    in_org: bool = True


@dataclass(slots=True)
class Work:
    """One planned unit of work: an item (or an unlinked pull request) in one lane of its owner."""

    owner: int
    category: int
    stretches: list[list[int]]  # [first day, last day, start s, end s]: active periods
    breaks: list[str]  # what separates stretch i from i+1: "blocked" or "reopened"
    open_end: bool  # still active at the end of the generated span
    as_pr: bool  # realised as an unlinked pull request instead of an issue
    thing: int
    issue: Issue | None = None


class _Builder:
    """Holds the shared state of one generation run; each method realises one part of the world."""

    def __init__(self, seed: int, scale: Scale, end: dt.date) -> None:
        self.seed, self.scale = seed, scale
        self.rng = np.random.default_rng(seed)
        self.d = Draws(self.rng)
        self.tz = ZoneInfo(ORG_TIMEZONE)
        start = end - dt.timedelta(days=7 * scale.weeks)
        self.first_day = start - dt.timedelta(days=start.weekday())
        self.horizon = (end + dt.timedelta(days=FUTURE_DAYS) - self.first_day).days
        self.cal = Calendar(self.first_day, -(-self.horizon // 7) * 7, self.tz)
        self.clock = dt.datetime(end.year, end.month, end.day, tzinfo=UTC)
        self.clock_s = int(self.clock.timestamp())
        self.end_s = self.clock_s + FUTURE_DAYS * DAY
        hist_weeks = (end - self.first_day).days // 7
        self.reorg_day = 7 * (hist_weeks // 2 + int(self.rng.integers(-1, 2)))
        self.weeks = self.cal.days // 7
        phase = float(self.rng.uniform(0, DEMAND_PERIOD_WEEKS))
        self.demand_phase = phase
        w = np.arange(self.weeks) + 0.5
        self.demand = 1 + DEMAND_AMPLITUDE * np.sin(2 * np.pi * (w + phase) / DEMAND_PERIOD_WEEKS)
        self.people: list[Person] = []
        self.staff: list[Staff] = []
        self.history_id = 10000
        self.comment_id = 10000
        self.worklog_id = 10000
        self.review_id = 1_800_000_000
        self._status_items: dict[tuple[str, str], ChangeItem] = {}
        self._assignee_items: dict[tuple[int, int], ChangeItem] = {}
        self._edit_items: dict[tuple[str, str], ChangeItem] = {}

    # ---- people -------------------------------------------------------------------------

    def build_people(self) -> None:
        s, days = self.scale, self.cal.days
        n_eng = max(2, round(s.people * s.engineer_share))
        roles = [True] * n_eng + [False] * (s.people - n_eng)
        order = self.rng.permutation(len(roles))
        engineer = [roles[i] for i in order]
        names = self.rng.choice(
            len(FIRST_NAMES) * len(LAST_NAMES), size=s.people + 1, replace=False
        )
        movers = self.rng.permutation(s.people)
        hist_weeks = (self.clock.date() - self.first_day).days // 7
        first = [0] * s.people
        last = [days - 1] * s.people
        for i in movers[: s.joiners]:
            first[i] = 7 * int(self.rng.integers(2, max(3, hist_weeks - 2)))
        for i in movers[s.joiners : s.joiners + s.leavers]:
            last[i] = 7 * int(self.rng.integers(3, max(4, hist_weeks - 1))) - 1
        engineers = [i for i in range(s.people) if engineer[i]]
        post = {}
        infra_count = max(1, round(0.45 * len(engineers)))
        for k, i in enumerate(self.rng.permutation(engineers).tolist()):
            post[i] = INFRA_TEAM if k < infra_count else ENABLEMENT
        logins: set[str] = set()
        self._mailboxes: set[str] = set()  # e-mail local parts taken: one person each
        for i in range(s.people):
            fn = FIRST_NAMES[names[i] // len(LAST_NAMES)]
            ln = LAST_NAMES[names[i] % len(LAST_NAMES)]
            staff = Staff(engineer[i], first[i], last[i])
            if not engineer[i]:
                staff.spans.append((first[i], last[i], RESEARCH_TEAM))
            elif first[i] < self.reorg_day:
                staff.spans.append((first[i], min(last[i], self.reorg_day - 1), SQUAD))
                if last[i] >= self.reorg_day:
                    staff.spans.append((self.reorg_day, last[i], post[i]))
            else:
                staff.spans.append((first[i], last[i], post[i]))
            self.staff.append(staff)
            self.people.append(self._person(fn, ln, staff, logins))
        # Identities nobody maps: a contractor (Jira and GitHub) and a dependency bot (GitHub).
        self.contractor = len(self.people)
        fn = FIRST_NAMES[names[-1] // len(LAST_NAMES)]
        ln = LAST_NAMES[names[-1] % len(LAST_NAMES)]
        self.people.append(
            Person(
                name=f"{fn} {ln}",
                email=f"{fn.lower()}.{ln.lower()}@contractor.example",
                jira_account_id=self._account_id(),
                github_login=f"{fn[0].lower()}{ln.lower()}-ext",
                in_org_file=False,
            )
        )
        third = days // 3
        self.staff.append(Staff(True, third, min(2 * third, self.horizon - 1), in_org=False))
        self.bot = len(self.people)
        self.people.append(
            Person(
                name="Renovate Bot",
                email="bot@renovateapp.com",
                jira_account_id=self._account_id(),
                github_login="renovate[bot]",
                in_org_file=False,
            )
        )
        self.staff.append(Staff(False, 0, -1, in_org=False))
        team = np.full((len(self.people), days), -1, dtype=np.int8)
        for p, st in enumerate(self.staff):
            for a, b, t in st.spans:
                team[p, a : b + 1] = t
        self.person_team = team
        self.team_rows = team.tolist()
        self._members_by_week()

    def _account_id(self) -> str:
        return self.d.hexid(24)

    def _person(self, fn: str, ln: str, staff: Staff, logins: set[str]) -> Person:
        d = self.d
        local = f"{fn.lower()}.{ln.lower()}" if d.chance(0.85) else f"{fn.lower()}{ln[0].lower()}"
        # Two people may shorten to one mailbox (Cian Ryan, Cian Roche: cianr); a real
        # org would number the second, and the org file refuses an e-mail on two people.
        mailbox, n = local, 1
        while mailbox in self._mailboxes:
            n += 1
            mailbox = f"{local}{n}"
        self._mailboxes.add(mailbox)
        local = mailbox
        style = d.below(5)
        login = (
            f"{fn.lower()}{ln.lower()}",
            f"{fn[0].lower()}{ln.lower()}",
            f"{fn.lower()}-{ln[:3].lower()}",
            f"{ln.lower()}{fn[0].lower()}-acme",
            local if "." not in local else f"{fn.lower()}{ln[0].lower()}dev",
        )[style]
        while login in logins:
            login += "x"
        logins.add(login)
        others = []
        if d.chance(0.3):
            others.append(
                f"{login}@users.noreply.github.com" if d.chance(0.5) else f"{local}@gmail.com"
            )
        memberships = [
            Membership(
                TEAM_NAMES[t],
                self.cal.date(a),
                None if b >= self.cal.days - 1 else self.cal.date(b),
            )
            for a, b, t in staff.spans
        ]
        return Person(
            name=f"{fn} {ln}",
            email=f"{local}@acme.example",
            jira_account_id=self._account_id(),
            github_login=login,
            jira_timezone=d.pick(JIRA_TIMEZONES),
            other_emails=others,
            memberships=memberships,
        )

    def _members_by_week(self) -> None:
        self.week_members: list[list[list[int]]] = [[] for _ in TEAM_NAMES]
        self.week_engineers: list[list[int]] = []
        for t in range(len(TEAM_NAMES)):
            for w in range(self.weeks):
                self.week_members[t].append(
                    np.flatnonzero(self.person_team[:, 7 * w] == t).tolist()
                )
        for w in range(self.weeks):
            self.week_engineers.append(
                [
                    p
                    for p, st in enumerate(self.staff)
                    if st.engineer and st.in_org and st.first <= 7 * w + 4 and st.last >= 7 * w
                ]
            )

    def member_at(self, team: int, day: int, exclude: int = -1) -> int | None:
        pool = self.week_members[team][min(day // 7, self.weeks - 1)]
        if (exclude >= 0 and len(pool) > 1) or (exclude < 0 and pool):
            while True:
                p = self.d.pick(pool)
                if p != exclude:
                    return p
        return None

    def engineer_at(self, day: int, exclude: int = -1) -> int | None:
        pool = self.week_engineers[min(day // 7, self.weeks - 1)]
        if len(pool) > 1 or (pool and pool[0] != exclude):
            while True:
                p = self.d.pick(pool)
                if p != exclude:
                    return p
        return None

    # ---- the plan -----------------------------------------------------------------------

    def plan_work(self) -> None:
        self.works: list[Work] = []
        cum = {t: _cumulative(_item_odds(t)) for t in TARGETS}
        for p, st in enumerate(self.staff):
            if p == self.bot:
                continue
            a, b = st.first, min(st.last, self.horizon - 1)
            if b < a:
                continue
            n = b - a + 1
            day = np.arange(a, b + 1)
            row = self.person_team[p, a : b + 1]
            none_share = np.array(
                [TARGETS[t][NO_WORK] if t >= 0 else 0.0 for t in range(4)] + [0.0]
            )
            off = self.rng.random(n) < none_share[row]
            week = day // 7
            if p == self.contractor:
                lanes = np.ones(self.weeks, dtype=np.int64)
            elif st.engineer:
                noise = np.exp(0.15 * self.rng.standard_normal(self.weeks))
                lanes = np.clip(np.rint(LANE_MEAN * self.demand * noise), 1, 6).astype(np.int64)
            else:
                lanes = 1 + (self.rng.random(self.weeks) < 0.3).astype(np.int64)
            count = np.where((day % 7 < 5) & ~off, lanes[week], 0)
            for lane in range(int(count.max(initial=0))):
                days = (np.flatnonzero(count > lane) + a).tolist()
                self._fill_lane(p, days, cum, still_employed=st.last >= self.horizon - 1)

    def _fill_lane(
        self, p: int, days: list[int], cum: dict[int, list[float]], still_employed: bool
    ) -> None:
        d, cal, teams = self.d, self.cal, self.team_rows[p]
        engineer = self.staff[p].engineer
        wd = cal.wd_ord
        prev: Work | None = None
        i = 0
        while i < len(days):
            if prev is not None and _reopenable(prev, days[i - 1], days[i], wd) and d.chance(0.04):
                want, j = 1 + d.poisson(0.4), i
                while j + 1 < len(days) and j - i + 1 < want and wd[days[j + 1]] - wd[days[j]] == 1:
                    j += 1
                prev.stretches.append(self._stretch(days[i], days[j]))
                prev.breaks.append("reopened")
                i = j + 1
                continue
            team = teams[days[i]]
            category = CORE if p == self.contractor else _pick_cum(d.u(), cum[team])
            want = self._length(category, days[i])
            j, stretches, breaks = i, [[days[i], days[i]]], []
            while j + 1 < len(days) and j - i + 1 < want:
                gap = wd[days[j + 1]] - wd[days[j]] - 1
                if gap == 0:
                    stretches[-1][1] = days[j + 1]
                elif gap <= 2 and d.chance(0.7):
                    stretches.append([days[j + 1], days[j + 1]])
                    breaks.append("blocked")
                else:
                    break
                j += 1
            open_end = (
                j + 1 == len(days)
                and j - i + 1 < want
                and still_employed
                and self.horizon - 1 - days[j] <= 3
            )
            work = Work(
                owner=p,
                category=category,
                stretches=[self._stretch(x, y, category == SUPPORT) for x, y in stretches],
                breaks=breaks,
                open_end=open_end,
                as_pr=engineer
                and category in (INFRA, CORE)
                and len(stretches) == 1
                and not open_end
                and p != self.contractor
                and d.chance(0.06),
                thing=len(self.works),
            )
            self.works.append(work)
            prev = work
            i = j + 1

    def _stretch(self, a: int, b: int, support: bool = False) -> list[int]:
        ds, u = self.cal.day_start, self.d.u
        if not support:
            return [a, b, ds[a] + WORK_START + int(u() * 5400), ds[b] + 16 * HOUR + int(u() * 7200)]
        # a support request is picked up at any time of day and closed as soon as it is solved
        begin = ds[a] + WORK_START + int(u() * 5 * HOUR)
        return [a, b, begin, max(ds[b] + 12 * HOUR + int(u() * 6 * HOUR), begin + HOUR)]

    def _length(self, category: int, day: int) -> int:
        base, lam = (
            SUPPORT_LENGTH[day >= self.reorg_day] if category == SUPPORT else LENGTHS[category]
        )
        return base + self.d.poisson(lam)

    # ---- Jira ---------------------------------------------------------------------------

    def status_item(self, frm: str, to: str) -> ChangeItem:
        key = (frm, to)
        item = self._status_items.get(key)
        if item is None:
            item = ChangeItem("status", _STATUS_ID[frm], frm, _STATUS_ID[to], to)
            self._status_items[key] = item
        return item

    def assignee_item(self, frm: int | None, to: int | None) -> ChangeItem:
        key = (-1 if frm is None else frm, -1 if to is None else to)
        item = self._assignee_items.get(key)
        if item is None:
            a = None if frm is None else self.people[frm]
            b = None if to is None else self.people[to]
            item = ChangeItem(
                "assignee",
                a.jira_account_id if a else None,
                a.name if a else None,
                b.jira_account_id if b else None,
                b.name if b else None,
            )
            self._assignee_items[key] = item
        return item

    def build_issues(self) -> None:
        self.records: list[
            tuple[int, int, Issue, int, bool]
        ] = []  # created, order, issue, category, unplanned
        self.support_rows: list[
            tuple[Issue, int, int, int]
        ] = []  # issue, created, first response, done
        self.build_epics()
        for work in self.works:
            if not work.as_pr:
                self.lane_issue(work)
        lane_items = len(self.records)
        self.side_issues(lane_items)
        self.link_children()
        self.records.sort(key=lambda r: (r[0], r[1]))
        numbers = dict.fromkeys(PROJECTS, 0)
        for n, (_, _, issue, _, _) in enumerate(self.records):
            numbers[issue.project] += 1
            issue.id = str(10000 + n)
            issue.key = f"{issue.project}-{numbers[issue.project]}"
        for child, epic in self.epic_links:
            child.epic_key = child.parent_key = epic.key
        malformed = self.rng.random(len(self.records)) < 0.002
        malformed[int(self.rng.integers(len(self.records)))] = True
        for (_, _, issue, _, _), bad in zip(self.records, malformed.tolist(), strict=True):
            issue.malformed = bad

    def _shape(self, category: int) -> tuple[str, str, list[str], list[str]]:
        """Project, issue type, labels and components that the org file's rules classify as `category`."""
        d = self.d
        comps = _COMPONENTS[category]
        if category == INFRA:
            project = "OPS" if d.chance(0.1) else "ENG"
            kind = d.pick(("Task", "Task", "Task", "Story", "Story", "Bug"))
            mark = d.below(3)
            labels = ["infra"] if mark != 1 else []
            components = ["EKS"] if mark != 0 else [d.pick(comps[1:])]
            if d.chance(0.15):
                labels.append("interrupt")
            return project, kind, labels, components
        if category == SUPPORT:
            return "DS", "Support Request", d.pick(([], ["gpu"], ["access"], [])), [d.pick(comps)]
        if category == CORE:
            labels = d.pick(([], [], ["tech-debt"], ["api"]))
            if d.chance(0.1):
                labels = [*labels, "interrupt"]
            return (
                "ENG",
                d.pick(("Story", "Story", "Story", "Task", "Task", "Bug")),
                labels,
                [d.pick(comps)],
            )
        if category == RESEARCH:
            return "DS", d.pick(("Story", "Story", "Task")), [], [d.pick(comps)]
        return "OPS", "Task", [d.pick(("oncall", "toil"))], [d.pick(comps)]

    def _summary(self, category: int) -> str:
        d = self.d
        if category == SUPPORT:
            return d.pick(_SUPPORT_SUMMARIES)
        return f"{d.pick(_VERBS[category])} {d.pick(_OBJECTS[category])}"

    def _priority(self, category: int) -> str:
        u = self.d.u()
        if category == SUPPORT:
            return (
                "Highest" if u < 0.08 else "High" if u < 0.33 else "Medium" if u < 0.88 else "Low"
            )
        return "Highest" if u < 0.03 else "High" if u < 0.2 else "Medium" if u < 0.9 else "Low"

    def _new_issue(self, category: int, created: int, reporter: int, assignee: int | None) -> Issue:
        project, kind, labels, components = self._shape(category)
        issue = Issue(
            id="",
            key="",
            project=project,
            issue_type=kind,
            summary=self._summary(category),
            priority=self._priority(category),
            created=_at(created),
            reporter=self.people[reporter].jira_account_id,
            initial_status=TODO,
            initial_assignee=None if assignee is None else self.people[assignee].jira_account_id,
            labels=labels,
            components=components,
        )
        if project == "ENG" and kind != "Epic":
            issue.story_points = float(self.d.pick((1, 2, 3, 3, 5, 5, 8)))
        return issue

    def _finish(
        self,
        issue: Issue,
        created: int,
        rows: list[tuple[int, int, list[ChangeItem]]],
        category: int,
    ) -> None:
        rows.sort(key=lambda r: r[0])
        people = self.people
        histories = []
        for t, author, items in rows:
            self.history_id += 1
            histories.append(
                History(str(self.history_id), _at(t), people[author].jira_account_id, items)
            )
        issue.histories = histories
        self.records.append((created, len(self.records), issue, category, _unplanned(issue)))

    def _comment(self, issue: Issue, t: int, author: int, body: str) -> None:
        self.comment_id += 1
        issue.comments.append(
            Comment(str(self.comment_id), _at(t), self.people[author].jira_account_id, body)
        )

    def lane_issue(self, work: Work) -> None:
        d, cal = self.d, self.cal
        owner, category = work.owner, work.category
        first = work.stretches[0]
        s0 = first[2]
        support = category == SUPPORT
        after = first[0] >= self.reorg_day
        if support:
            wait = d.lognormal(SUPPORT_WAIT_HOURS[after], 0.9) * HOUR
            # filed by someone in Research on the day it was filed (joiners, leavers)
            requested = cal.day_of(max(s0 - int(wait), cal.day_start[0]))
            reporter = self.member_at(RESEARCH_TEAM, requested)
            reporter = self.member_at(RESEARCH_TEAM, first[0]) if reporter is None else reporter
            reporter = owner if reporter is None else reporter
        elif category == RESEARCH:
            reporter = (
                owner
                if d.chance(0.7)
                else (self.member_at(RESEARCH_TEAM, first[0], owner) or owner)
            )
            wait = d.lognormal(2 * WORK_LEN, 1.0)
        else:
            reporter = owner if d.chance(0.5) else (self.engineer_at(first[0], owner) or owner)
            wait = d.lognormal(2 * WORK_LEN, 1.0)
        created = s0 - int(wait) if support else cal.from_work(cal.to_work(s0) - wait)
        created = max(min(created, s0 - 600), cal.day_start[0] + 8 * HOUR)
        if created >= s0:
            created = s0 - 60
        assigned_at_creation = not support and d.chance(0.6)
        issue = self._new_issue(
            category, created, reporter, owner if assigned_at_creation else None
        )
        work.issue = issue
        if issue.project == "ENG":
            issue.sprint = f"ENG Sprint {first[0] // 14 + 1}"
        rows: list[tuple[int, int, list[ChangeItem]]] = []
        if not assigned_at_creation:
            t1, t2 = cal.between(d, created, s0, 2)
            if support and d.chance(0.2):
                other = self.engineer_at(first[0], owner)
                if other is not None:
                    rows.append((t1, other, [self.assignee_item(None, other)]))
                    rows.append((t2, other, [self.assignee_item(other, owner)]))
                else:
                    rows.append((t2, owner, [self.assignee_item(None, owner)]))
            else:
                rows.append((t2, owner if support else reporter, [self.assignee_item(None, owner)]))
        if support:
            self._support_talk(issue, work, created, s0, reporter, after)
        status = TODO
        last_t = created
        final = len(work.stretches) - 1
        for k, (_a, _b, s, e) in enumerate(work.stretches):
            rows.append((s, owner, [self.status_item(status, PROGRESS)]))
            status = PROGRESS
            loops = d.poisson(0.9)
            closing = k < final or not work.open_end
            blocked_next = k < final and work.breaks[k] == "blocked"
            to_review = closing and not blocked_next and d.chance(0.8)
            stamps = cal.between(d, s, e, 2 * loops + (1 if to_review else 0))
            for x in range(loops):
                rows.append((stamps[2 * x], owner, [self.status_item(PROGRESS, REVIEW)]))
                rows.append((stamps[2 * x + 1], owner, [self.status_item(REVIEW, PROGRESS)]))
            if to_review:
                rows.append((stamps[-1], owner, [self.status_item(PROGRESS, REVIEW)]))
                status = REVIEW
            if not closing:
                last_t = s
                break
            target = BLOCKED if blocked_next else DONE
            rows.append((e, owner, [self.status_item(status, target)]))
            status, last_t = target, e
        self._decorate(issue, work, created, last_t, rows, reporter)
        if support:
            first_response = _first_response(
                issue, rows, self.people[reporter].jira_account_id, self.people
            )
            done = -1 if work.open_end else work.stretches[-1][3]
            if done >= 0 and d.chance(0.3):
                thanks = done + int(d.lognormal(3 * HOUR, 1.0))
                if thanks < self.end_s:
                    self._comment(issue, thanks, reporter, "Thanks, that works now.")
            self.support_rows.append((issue, created, first_response, done))
        issue.comments.sort(key=lambda c: c.at)
        self._finish(issue, created, rows, category)

    def _support_talk(
        self, issue: Issue, work: Work, created: int, s0: int, reporter: int, after: bool
    ) -> None:
        """The requester's follow-up and, when it comes before work starts, an engineer's first reply."""
        d = self.d
        follow_up = created + int(d.lognormal(0.5 * HOUR, 0.8))
        if d.chance(0.5) and follow_up < self.end_s:
            self._comment(issue, follow_up, reporter, "Adding the logs from the failed run.")
        reply = created + int(d.lognormal(SUPPORT_REPLY_HOURS[after], 0.8) * HOUR)
        if reply < s0:
            self._comment(issue, reply, work.owner, "Looking into it.")

    def _decorate(
        self,
        issue: Issue,
        work: Work,
        created: int,
        last_t: int,
        rows: list[tuple[int, int, list[ChangeItem]]],
        reporter: int,
    ) -> None:
        """Edits that move no status, comments and worklogs: the texture of a real changelog."""
        d, cal, owner = self.d, self.cal, work.owner
        edits = d.poisson(5.0)
        if edits and last_t > created + 2:
            for t in cal.between(d, created, last_t, edits):
                who = owner if d.chance(0.6) else reporter
                rows.append((t, who, [self._edit(issue)]))
        notes = d.poisson(0.6)
        if notes and last_t > created + 2:
            for t in cal.between(d, created, last_t, notes):
                who = owner if d.chance(0.5) else reporter
                self._comment(issue, t, who, "Progress update.")
        if issue.project != "DS" and d.chance(0.15):
            _, _, s, e = work.stretches[-1]
            for t in cal.between(d, s, e, 1 + d.below(3)):
                self.worklog_id += 1
                issue.worklogs.append(
                    Worklog(
                        str(self.worklog_id),
                        _at(t),
                        self.people[owner].jira_account_id,
                        1800 * (1 + d.below(8)),
                    )
                )

    def _edit(self, issue: Issue) -> ChangeItem:
        """A field edit that moves no status (shared objects: ChangeItem is immutable)."""
        u = self.d.u()
        if issue.sprint and u < 0.25:
            key = ("Sprint", issue.sprint)
        elif issue.story_points is not None and u < 0.4:
            key = ("Story Points", str(issue.story_points))
        elif u < 0.7:
            key = ("Rank", "Ranked higher")
        else:
            key = ("description", issue.summary)
        item = self._edit_items.get(key)
        if item is None:
            field, to = key
            before = None
            if field == "Sprint":
                before = f"ENG Sprint {max(int(to.rsplit(' ', 1)[1]) - 1, 1)}"
            elif field == "Story Points":
                before = "3"
            item = self._edit_items[key] = ChangeItem(field, None, before, None, to)
        return item

    def side_issues(self, lane_items: int) -> None:
        """Items that never become active: won't-do, cancelled support requests, untouched backlog."""
        d, cal = self.d, self.cal
        total_work = cal.wd_ord[self.horizon] * WORK_LEN
        for _ in range(max(2, round(0.05 * lane_items))):
            created = cal.from_work(d.u() * total_work)
            day = cal.day_of(created)
            category = d.pick((INFRA, CORE, CORE, RESEARCH, SUPPORT))
            if category in (RESEARCH, SUPPORT):
                reporter = self.member_at(RESEARCH_TEAM, day)
            else:
                reporter = self.engineer_at(day)
            closer = self.engineer_at(day, reporter if reporter is not None else -1)
            if reporter is None or closer is None:
                continue
            assignee = closer if category != SUPPORT and d.chance(0.5) else None
            issue = self._new_issue(category, created, reporter, assignee)
            rows: list[tuple[int, int, list[ChangeItem]]] = []
            closed = cal.from_work(cal.to_work(created) + d.lognormal(1.5 * WORK_LEN, 1.0))
            done = -1
            if closed < self.end_s:
                if d.chance(0.5) and closed - created > 600:
                    self._comment(
                        issue, closed - 300, closer, "Closing: won't do, covered elsewhere."
                    )
                rows.append((closed, closer, [self.status_item(TODO, DONE)]))
                done = closed
            if category == SUPPORT:
                account = self.people[reporter].jira_account_id
                first_response = _first_response(issue, rows, account, self.people)
                self.support_rows.append((issue, created, first_response, done))
            self._finish(issue, created, rows, category)
        for _ in range(max(1, round(0.03 * lane_items))):
            created = cal.from_work((0.6 + 0.4 * d.u()) * total_work)
            day = cal.day_of(created)
            reporter = self.engineer_at(day)
            if reporter is None:
                continue
            category = d.pick((INFRA, CORE))
            issue = self._new_issue(
                category, created, reporter, reporter if d.chance(0.3) else None
            )
            self._finish(issue, created, [], category)

    def build_epics(self) -> None:
        """Long-lived, unassigned epics (they never count as anyone's active work) with children."""
        d, cal = self.d, self.cal
        self.epic_links: list[tuple[Issue, Issue]] = []
        self.epics_by_week: dict[str, list[list[Issue]]] = {
            p: [[] for _ in range(self.weeks)] for p in ("ENG", "DS")
        }
        total_work = cal.wd_ord[self.horizon] * WORK_LEN
        n = max(2, round(self.scale.weeks * self.scale.people / 400))
        plans: list[tuple[str, int, int, int]] = []
        for k in range(self.scale.long_epics):
            created = cal.day_start[k] + WORK_START + 1800
            plans.append(
                ("ENG", created, min(created + 26 * 7 * DAY, self.end_s + DAY), 110 + d.poisson(15))
            )
        for project in ("ENG", "DS"):
            for _ in range(n):
                created = cal.from_work(d.u() * total_work * 0.95)
                life = int((6 + d.u() * 10) * 7 * DAY)
                plans.append((project, created, created + life, d.poisson(life / (7 * DAY))))
        for project, created, done, edits in plans:
            category = (INFRA if d.chance(0.4) else CORE) if project == "ENG" else RESEARCH
            lead = (
                self.engineer_at(cal.day_of(created))
                if project == "ENG"
                else self.member_at(RESEARCH_TEAM, cal.day_of(created))
            )
            if lead is None:
                continue
            issue = Issue(
                id="",
                key="",
                project=project,
                issue_type="Epic",
                summary=f"{self._summary(category)} programme",
                priority="Medium",
                created=_at(created),
                reporter=self.people[lead].jira_account_id,
                initial_status=TODO,
                initial_assignee=None,
                labels=["infra"] if category == INFRA else [],
                components=[],
            )
            start = cal.from_work(cal.to_work(created) + 2 * WORK_LEN)
            rows: list[tuple[int, int, list[ChangeItem]]] = [
                (start, lead, [self.status_item(TODO, PROGRESS)])
            ]
            finished = done < self.end_s
            if finished:
                rows.append((done, lead, [self.status_item(PROGRESS, DONE)]))
            hi = (
                min(done if finished else self.end_s, self.clock_s - HOUR)
                if edits >= 100
                else (done if finished else self.end_s)
            )
            if edits and hi > start + 2 * edits:
                for t in cal.between(d, start, hi, edits):
                    rows.append((t, lead, [self._edit(issue)]))
            self._finish(issue, created, rows, category)
            last_week = min(cal.day_of(done) // 7, self.weeks - 1)
            for w in range(cal.day_of(created) // 7, last_week + 1):
                self.epics_by_week[project][w].append(issue)

    def link_children(self) -> None:
        for work in self.works:
            issue = work.issue
            if issue is None or issue.issue_type == "Support Request" or issue.project == "OPS":
                continue
            if not self.d.chance(0.45):
                continue
            w = min(work.stretches[0][0] // 7, self.weeks - 1)
            pool = self.epics_by_week[issue.project][w]
            if pool:
                self.epic_links.append((issue, self.d.pick(pool)))

    # ---- GitHub -------------------------------------------------------------------------

    def build_pulls(self) -> None:
        d = self.d
        self.pull_rows: list[tuple[int, int, PullRequest]] = []
        odds = {INFRA: 0.75, CORE: 0.85, SUPPORT: 0.3, UNCAT: 0.05, RESEARCH: 0.2}
        for work in self.works:
            if work.as_pr:
                self._unlinked_pull(work)
            elif work.issue is not None and d.chance(odds[work.category]):
                for _ in range(2 if d.chance(self.scale.second_pr) else 1):
                    self._linked_pull(work)
        self._bot_pulls()
        self.pull_rows.sort(key=lambda r: (r[0], r[1]))
        numbers = dict.fromkeys(REPOS, 0)
        pulls = []
        for n, (_, _, pr) in enumerate(self.pull_rows):
            numbers[pr.repo] += 1
            pr.number = numbers[pr.repo]
            pr.id = 1_400_000_000 + n
            pulls.append(pr)
        malformed = self.rng.random(len(pulls)) < 0.002
        malformed[int(self.rng.integers(len(pulls)))] = True
        for pr, bad in zip(pulls, malformed.tolist(), strict=True):
            pr.malformed = bad
        self.pulls = pulls

    def _repo(self, category: int, engineer: bool) -> str:
        d = self.d
        if not engineer:
            return DS_REPO
        if category == INFRA:
            return d.pick(INFRA_REPOS)
        if category == SUPPORT:
            return d.pick((*CORE_REPOS, DS_REPO))
        return d.pick(CORE_REPOS)

    def _linked_pull(self, work: Work) -> None:
        d = self.d
        issue = work.issue
        assert issue is not None
        a, _, s, e = work.stretches[-1]
        author = work.owner
        repo = self._repo(work.category, self.staff[author].engineer)
        slug = _slug(issue.summary)
        style = d.u()
        if style < 0.7:
            title = f"{issue.key} {issue.summary}"
        elif style < 0.85:
            title = f"[{issue.key}] {issue.summary}"
        else:
            title = issue.summary
        branch = f"{issue.key.lower()}-{slug}" if d.chance(0.8) else f"feature/{issue.key}-{slug}"
        body = d.pick((f"Implements {issue.key}.", f"Closes {issue.key}", ""))
        open_end = work.open_end
        if not open_end and d.chance(0.03):
            outcome = "draft"
        elif not open_end and d.chance(0.07):
            outcome = "closed"
        else:
            outcome = "open" if open_end else "merged"
        self._pull(repo, author, title, branch, body, s, e, outcome, d.chance(0.25), a)

    def _unlinked_pull(self, work: Work) -> None:
        d = self.d
        a, _, s, e = work.stretches[0]
        title = d.pick(_UNLINKED_TITLES[work.category])
        repo = self._repo(work.category, True)
        outcome = "closed" if d.chance(0.1) else "merged"
        self._pull(repo, work.owner, title, _slug(title), "", s, e, outcome, False, a, exact=True)

    def _pull(
        self,
        repo: str,
        author: int,
        title: str,
        branch: str,
        body: str,
        s: int,
        e: int,
        outcome: str,
        draft: bool,
        day: int,
        exact: bool = False,
    ) -> None:
        """A pull request whose non-draft open period lies inside [s, e] (or is exactly it)."""
        d, cal = self.d, self.cal
        kind = d.u()
        pattern = (
            "none"
            if kind < 0.12
            else "author"
            if kind < 0.2
            else "approve"
            if kind < 0.65
            else "rounds"
        )
        if outcome == "draft":
            pattern, draft = "none", True
        n_reviews = {
            "none": 0,
            "author": 1,
            "approve": 1 + (d.chance(0.3)),
            "rounds": 3 + d.below(3),
        }[pattern]
        stamps = cal.between(d, s, e, n_reviews + 3)
        if exact:
            created, finish = s, e
            ready = None
            review_times = stamps[1 : 1 + n_reviews]
        else:
            created, ready, finish = stamps[0], stamps[1], stamps[-1]
            review_times = stamps[2 : 2 + n_reviews]
            if not draft or outcome == "draft":
                ready = None
        login = self.people[author].github_login
        reviewer = self._reviewer(author, day)
        reviews: list[Review] = []
        if pattern != "none":
            states: list[tuple[ReviewState, str]]
            if pattern == "author" or reviewer is None:
                states = [("COMMENTED", login)]
            elif pattern == "approve":
                states = [("COMMENTED", login), ("APPROVED", reviewer)][-n_reviews:]
            else:
                states = [("CHANGES_REQUESTED", reviewer), ("COMMENTED", login)]
                while len(states) < n_reviews - 1:
                    states.append(
                        ("CHANGES_REQUESTED", reviewer) if d.chance(0.3) else ("COMMENTED", login)
                    )
                states.append(
                    ("APPROVED", reviewer) if outcome != "closed" else ("COMMENTED", reviewer)
                )
            for (state, user), t in zip(states, review_times, strict=False):
                self.review_id += 1
                reviews.append(Review(self.review_id, user, state, _at(t)))
        pr = PullRequest(
            repo=repo,
            number=0,
            id=0,
            title=title,
            branch=branch,
            author=login,
            created=_at(created),
            draft_until=_at(ready) if ready is not None else None,
            still_draft=outcome == "draft",
            merged_at=_at(finish) if outcome == "merged" else None,
            closed_at=_at(finish) if outcome in ("merged", "closed") else None,
            additions=int(d.lognormal(60, 1.2)) + 1,
            deletions=int(d.lognormal(20, 1.2)),
            reviews=reviews,
            body=body,
        )
        self.pull_rows.append((created, len(self.pull_rows), pr))

    def _reviewer(self, author: int, day: int) -> str | None:
        team = self.team_rows[author][day] if 0 <= day < self.cal.days else -1
        p = self.member_at(team, day, author) if team >= 0 else None
        if p is None:
            p = self.engineer_at(day, author)
        return None if p is None else self.people[p].github_login

    def _bot_pulls(self) -> None:
        d, cal = self.d, self.cal
        login = self.people[self.bot].github_login
        for repo in REPOS:
            for w in range(self.weeks):
                if not d.chance(0.5):
                    continue
                day = 7 * w + d.below(5)
                if day >= self.horizon:
                    continue
                created = cal.day_start[day] + WORK_START + d.below(WORK_LEN)
                finish = cal.from_work(cal.to_work(created) + d.lognormal(WORK_LEN, 1.0))
                if finish >= self.end_s:
                    continue
                merged = d.chance(0.8)
                dep = d.pick(_DEPENDENCIES)
                reviews = []
                reviewer = self.engineer_at(day)
                if merged and reviewer is not None:
                    self.review_id += 1
                    t = created + (finish - created) // 2
                    reviews.append(
                        Review(
                            self.review_id, self.people[reviewer].github_login, "APPROVED", _at(t)
                        )
                    )
                pr = PullRequest(
                    repo=repo,
                    number=0,
                    id=0,
                    title=f"Update dependency {dep} to v{1 + d.below(4)}.{d.below(30)}.{d.below(10)}",
                    branch=f"renovate/{_slug(dep)}",
                    author=login,
                    created=_at(created),
                    merged_at=_at(finish) if merged else None,
                    closed_at=_at(finish),
                    additions=1 + d.below(20),
                    deletions=1 + d.below(20),
                    labels=["dependencies"],
                    reviews=reviews,
                    body="This PR updates a dependency.",
                )
                self.pull_rows.append((created, len(self.pull_rows), pr))

    # ---- Kubernetes ---------------------------------------------------------------------

    def build_cluster(self) -> Cluster:
        return _ClusterBuilder(self).build()

    # ---- truth --------------------------------------------------------------------------

    def plan(self) -> Plan:
        rows = []
        for work in self.works:
            unplanned = work.issue is not None and _unplanned(work.issue)
            final = len(work.stretches) - 1
            for k, (_a, _b, s, e) in enumerate(work.stretches):
                end = self.end_s if work.open_end and k == final else e
                rows.append(
                    (work.owner, s, end, work.thing, work.category, unplanned, not work.as_pr)
                )
        arr = np.array(rows, dtype=np.int64).reshape(-1, 7)
        segments = {
            "person": arr[:, 0].astype(np.int32),
            "start": arr[:, 1],
            "end": arr[:, 2],
            "thing": arr[:, 3],
            "category": arr[:, 4].astype(np.int8),
            "unplanned": arr[:, 5].astype(bool),
            "item": arr[:, 6].astype(bool),
        }
        support = np.array(
            [(c, fr, done) for _, c, fr, done in self.support_rows], dtype=np.int64
        ).reshape(-1, 3)
        return Plan(
            first_day=self.first_day,
            day_start=np.array(self.cal.day_start, dtype=np.int64),
            person_team=self.person_team,
            segments=segments,
            support={
                "created": support[:, 0],
                "first_response": support[:, 1],
                "done": support[:, 2],
            },
            reorg_day=self.reorg_day,
        )


class _ClusterBuilder:
    """The data scientists' EKS cluster: namespaces, two node groups, pods and the events they cause.

    GPU training pods arrive with the demand cycle; a small autoscaler simulation adds
    a GPU node when a pod waits (TriggeredScaleUp, RegisteredNode) up to the group's
    maximum, so pods pend (FailedScheduling) when demand outruns capacity, and removes
    nodes that stay idle (RemovingNode).
    """

    def __init__(self, g: _Builder) -> None:
        self.g, self.d, self.cal = g, g.d, g.cal
        self.events: list[tuple[int, str, str, str, str, str, str]] = []
        self.nodes = 0

    def namespaces(self) -> dict[str, str]:
        n = self.g.scale.namespaces
        base = {
            "ds-vision": "Research",
            "ds-nlp": "Research",
            "ds-forecasting": "Research",
            "infra-monitoring": "Infra",
            "platform-tools": "Enablement",
            "scratch": "",
        }
        extra_infra = ("infra-logging", "infra-ingress", "infra-autoscaler", "infra-secrets")
        extra_platform = (
            "platform-airflow",
            "platform-mlflow",
            "platform-argo",
            "platform-jupyterhub",
        )
        extra_ds = ("ds-recsys", "ds-churn", "ds-pricing", "ds-fraud", "ds-search", "ds-speech")
        candidates = [
            name
            for trio in zip(extra_infra, extra_ds, extra_platform, strict=False)
            for name in trio
        ]
        candidates += extra_ds[len(extra_infra) :] + tuple(
            f"ds-project-{k:02d}" for k in range(1, n)
        )
        out = dict(base)
        for name in candidates[: max(n - len(base), 0)]:
            out[name] = (
                "Infra"
                if name.startswith("infra-")
                else "Enablement"
                if name.startswith("platform-")
                else "Research"
            )
        return out

    def node_name(self) -> str:
        self.nodes += 1
        k = self.nodes * 7919 + self.g.seed % 1000
        return f"ip-10-0-{k // 250 % 250 + 1}-{k % 250 + 1}.eu-west-1.compute.internal"

    def build(self) -> Cluster:
        g, d = self.g, self.d
        namespaces = self.namespaces()
        names = list(namespaces)
        ds = [ns for ns in names if ns.startswith("ds-")]
        start = g.cal.day_start[0]
        changes: list[NodeGroupChange] = []
        cpu_nodes = [(self.node_name(), start) for _ in range(2 + len(names) // 8)]
        changes.append(NodeGroupChange(_at(start), "cpu-general", "m5.2xlarge", len(cpu_nodes), 0))
        for w in range(4, g.weeks, 4):
            t = g.cal.day_start[7 * w] + 10 * HOUR
            if t < g.end_s and d.chance(0.3):
                node = self.node_name()
                cpu_nodes.append((node, t))
                changes.append(
                    NodeGroupChange(_at(t), "cpu-general", "m5.2xlarge", len(cpu_nodes), 0)
                )
                self.event(
                    t,
                    "default",
                    "Node",
                    node,
                    "RegisteredNode",
                    f"Node {node} event: Registered Node {node} in Controller",
                )
        self.cpu_times = [t for _, t in cpu_nodes]
        self.cpu_names = [n for n, _ in cpu_nodes]
        pods = self.gpu_pods(ds, changes) + self.cpu_pods(names, namespaces)
        pods.sort(key=lambda p: (p.created, p.namespace, p.name))
        changes.sort(key=lambda c: (c.at, c.node_group))
        self.events.sort()
        uids = self.g.rng.integers(0, 1 << 62, size=(len(self.events), 2)).tolist()
        events = [
            ClusterEvent(
                uid=_uuid(hi, lo),
                at=_at(t),
                namespace=ns,
                kind=kind,
                name=name,
                reason=reason,
                message=msg,
                type=typ,
            )
            for (t, ns, kind, name, reason, msg, typ), (hi, lo) in zip(
                self.events, uids, strict=True
            )
        ]
        return Cluster(namespaces=namespaces, node_groups=changes, pods=pods, events=events)

    def event(
        self, t: int, ns: str, kind: str, name: str, reason: str, msg: str, typ: str = "Normal"
    ) -> None:
        self.events.append((t, ns, kind, name, reason, msg, typ))

    def cpu_count(self, t: int) -> int:
        return bisect.bisect_right(self.cpu_times, t)

    def arrivals(self, namespaces: list[str], rate: float, seasonal: bool) -> list[tuple[int, int]]:
        g, cal = self.g, self.cal
        weeks = np.arange(g.weeks)
        lam = rate * (g.demand if seasonal else np.ones(g.weeks))
        counts = g.rng.poisson(np.tile(lam, len(namespaces)))
        ns_index = np.repeat(np.repeat(np.arange(len(namespaces)), g.weeks), counts)
        week = np.repeat(np.tile(weeks, len(namespaces)), counts)
        pos = g.rng.random(len(week))
        work0 = np.array([cal.wd_ord[7 * w] for w in range(g.weeks)]) * WORK_LEN
        w = work0[week] + pos * 5 * WORK_LEN
        out = []
        for wt, ns in zip(w.tolist(), ns_index.tolist(), strict=True):
            t = cal.from_work(wt)
            if t < g.end_s:
                out.append((t, ns))
        out.sort()
        return out

    def gpu_pods(self, ds: list[str], changes: list[NodeGroupChange]) -> list[Pod]:
        g, d = self.g, self.d
        arrivals = self.arrivals(ds, g.scale.gpu_pods_per_ns_week, seasonal=True)
        concurrency = len(ds) * g.scale.gpu_pods_per_ns_week * 6 / 168
        max_nodes = max(2, math.ceil(1.3 * concurrency))
        group = f"eks-gpu-a10-{g.first_day:%Y%m%d}"
        start = g.cal.day_start[0]
        free: dict[str, int] = {}
        for _ in range(1):
            free[self.node_name()] = start
        nodes, booting = 1, 0
        changes.append(NodeGroupChange(_at(start), "gpu-a10", "g5.2xlarge", nodes, 1))
        heap: list[tuple[int, int, str]] = []  # (time, kind 0 done / 1 ready / 2 idle check, node)
        pending: deque[int] = deque()
        pods: list[Pod] = []
        meta: list[tuple[int, bool]] = []  # duration, killed by OOM
        for t, ns in arrivals:
            name = f"train-{d.pick(_MODELS)}-{_pod_suffix(len(pods) + 1)}"
            pods.append(
                Pod(
                    ds[ns],
                    name,
                    _at(t),
                    None,
                    None,
                    float(4 + d.below(4)),
                    (16 + 4 * d.below(4)) << 30,
                    1,
                )
            )
            meta.append((int(d.lognormal(4 * HOUR, 0.9)), d.chance(0.04)))

        def schedule(now: int) -> None:
            while free and pending:
                i = pending.popleft()
                node, _ = free.popitem()
                pod = pods[i]
                begin = now + 2 + d.below(20)
                pod.scheduled, pod.node, pod.node_group = _at(begin), node, "gpu-a10"
                duration, oom = meta[i]
                if oom:
                    duration = int(duration * (0.1 + 0.5 * d.u()))
                finish = begin + duration
                if finish < g.end_s:
                    heapq.heappush(heap, (finish, 0, node))
                    pod.ended = _at(finish)
                    pod.termination_reason = "OOMKilled" if oom else "Completed"
                    if oom:
                        self.event(
                            finish,
                            "default",
                            "Node",
                            node,
                            "OOMKilling",
                            f"Memory cgroup out of memory: Killed process {1000 + d.below(60000)} (python) "
                            f"total-vm:{30_000_000 + d.below(9_000_000)}kB, anon-rss:{28_000_000 + d.below(4_000_000)}kB, "
                            "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:61000kB oom_score_adj:999",
                            "Warning",
                        )
                else:
                    heapq.heappush(heap, (g.end_s + 1, 0, node))

        k = 0
        while k < len(arrivals) or heap:
            ta = arrivals[k][0] if k < len(arrivals) else None
            if heap and (ta is None or heap[0][0] <= ta):
                t, kind, node = heapq.heappop(heap)
                if t >= g.end_s:
                    break
                if kind == 0:
                    free[node] = t
                    schedule(t)
                    if node in free and nodes > 1:
                        heapq.heappush(heap, (t + 600, 2, node))
                elif kind == 1:
                    nodes, booting = nodes + 1, booting - 1
                    free[node] = t
                    changes.append(NodeGroupChange(_at(t), "gpu-a10", "g5.2xlarge", nodes, 1))
                    self.event(
                        t,
                        "default",
                        "Node",
                        node,
                        "RegisteredNode",
                        f"Node {node} event: Registered Node {node} in Controller",
                    )
                    schedule(t)
                elif node in free and free[node] <= t - 600 and not pending and nodes > 1:
                    del free[node]
                    nodes -= 1
                    changes.append(NodeGroupChange(_at(t), "gpu-a10", "g5.2xlarge", nodes, 1))
                    self.event(
                        t,
                        "default",
                        "Node",
                        node,
                        "RemovingNode",
                        f"Node {node} event: Removing Node {node} from Controller",
                    )
                continue
            assert ta is not None
            pending.append(k)
            pod = pods[k]
            k += 1
            if free and len(pending) == 1:
                schedule(ta)
                continue
            total = self.cpu_count(ta) + nodes
            self.event(
                ta + 1,
                pod.namespace,
                "Pod",
                pod.name,
                "FailedScheduling",
                f"0/{total} nodes are available: {total} Insufficient nvidia.com/gpu. preemption: 0/{total} nodes "
                f"are available: {total} No preemption victims found for incoming pod.",
                "Warning",
            )
            if nodes + booting < max_nodes:
                booting += 1
                self.event(
                    ta + 12,
                    pod.namespace,
                    "Pod",
                    pod.name,
                    "TriggeredScaleUp",
                    f"pod triggered scale-up: [{{{group} {nodes + booting - 1}->{nodes + booting} (max: {max_nodes})}}]",
                )
                heapq.heappush(heap, (ta + 180 + d.below(120), 1, self.node_name()))
        return pods

    def cpu_pods(self, names: list[str], namespaces: dict[str, str]) -> list[Pod]:
        g, d = self.g, self.d
        pods: list[Pod] = []
        arrivals = self.arrivals(names, g.scale.cpu_pods_per_ns_week, seasonal=False)
        for t, ns_index in arrivals:
            ns = names[ns_index]
            infra = ns.startswith(("infra-", "platform-"))
            prefix = (
                d.pick(("prometheus", "grafana", "airflow-worker", "argo-server"))
                if infra
                else d.pick(("job", "notebook", "etl"))
            )
            pod = Pod(
                ns,
                f"{prefix}-{_pod_suffix(10_000_000 + len(pods))}",
                _at(t),
                None,
                None,
                0.5 * (1 + d.below(6)),
                (1 + d.below(12)) << 30,
                0,
            )
            begin = t + 2 + d.below(15)
            node = self.cpu_names[d.below(max(self.cpu_count(begin), 1))]
            pod.scheduled, pod.node, pod.node_group = _at(begin), node, "cpu-general"
            finish = begin + int(d.lognormal((48 if infra else 1.5) * HOUR, 1.0))
            u = d.u()
            if finish < g.end_s:
                pod.ended = _at(finish)
                if u < 0.03:
                    pod.termination_reason = "OOMKilled"
                    self.event(
                        finish,
                        "default",
                        "Node",
                        node,
                        "OOMKilling",
                        f"Memory cgroup out of memory: Killed process {1000 + d.below(60000)} (python) "
                        "total-vm:9000000kB, anon-rss:8100000kB, file-rss:0kB, shmem-rss:0kB, UID:0 "
                        "pgtables:17000kB oom_score_adj:999",
                        "Warning",
                    )
                elif u < 0.045:
                    pod.termination_reason = "Evicted"
                    used = (pod.memory >> 10) + 524288 + d.below(4_000_000)
                    self.event(
                        finish,
                        ns,
                        "Pod",
                        pod.name,
                        "Evicted",
                        f"The node was low on resource: memory. Threshold quantity: 100Mi, available: "
                        f"{50000 + d.below(50000)}Ki. Container main was using {used}Ki, request is "
                        f"{pod.memory >> 30}Gi, has larger consumption of its request. ",
                        "Warning",
                    )
                elif u < 0.06:
                    pod.termination_reason = "Error"
                else:
                    pod.termination_reason = "Completed"
            pods.append(pod)
        return pods


def _item_odds(team: int) -> list[float]:
    """Odds of each category per new item, so that days (item count x length) meet the team's target."""
    odds = []
    for c, share in enumerate(TARGETS[team][:NO_WORK]):
        base, lam = SUPPORT_LENGTH[team != SQUAD] if c == SUPPORT else LENGTHS.get(c, (1, 0.0))
        odds.append(share / (base + lam))
    return odds


def _cumulative(weights: Sequence[float]) -> list[float]:
    total = sum(weights)
    out, acc = [], 0.0
    for w in weights:
        acc += w / total
        out.append(acc)
    return out


def _pick_cum(u: float, cum: list[float]) -> int:
    for i, c in enumerate(cum):
        if u < c:
            return i
    return len(cum) - 1


def _reopenable(work: Work, last_day: int, next_day: int, wd: list[int]) -> bool:
    return (
        work.category != SUPPORT
        and not work.as_pr
        and not work.open_end
        and not work.breaks
        and work.stretches[-1][1] == last_day
        and wd[next_day] - wd[last_day] == 1
    )


def _slug(text: str) -> str:
    words = "".join(c.lower() if c.isalnum() else " " for c in text).split()
    return "-".join(words[:5])


def _pod_suffix(n: int) -> str:
    k = n * 2654435761 % (27**5)
    out = []
    for _ in range(5):
        k, r = divmod(k, 27)
        out.append(_POD_ALPHABET[r])
    return "".join(out)


def _uuid(hi: int, lo: int) -> str:
    h = f"{hi:016x}{lo:016x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:32]}"


def generate(seed: int, scale: str = "tiny", end: dt.date | None = None) -> World:
    """A whole synthetic organisation, identical for the same (seed, scale, end).

    `end` (default: today, UTC) is the clock's date: the servers start at `end` 00:00
    UTC and the world runs 21 days further so tests can advance the clock.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}")
    end = end or dt.datetime.now(UTC).date()
    # Millions of small acyclic objects: the cyclic collector would rescan them again and
    # again for nothing (about a third of the run time at `large`).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _generate(seed, scale, end)
    finally:
        if collecting:
            gc.enable()


def _generate(seed: int, scale: str, end: dt.date) -> World:
    g = _Builder(seed, SCALES[scale], end)
    g.build_people()
    g.plan_work()
    g.build_issues()
    g.build_pulls()
    cluster = g.build_cluster()
    plan = g.plan()
    last_day = end - dt.timedelta(days=1)
    truth = truth_mod.planted(plan, g.end_s, last_day)
    reorg_s = int(plan.day_start[g.reorg_day])
    truth.update(
        plan=plan,
        demand={
            "period_weeks": DEMAND_PERIOD_WEEKS,
            "amplitude": DEMAND_AMPLITUDE,
            "phase_weeks": g.demand_phase,
            "weekly": g.demand,
        },
        targets={
            TEAM_NAMES[t]: dict(zip(ALL_CATEGORIES, v, strict=True)) for t, v in TARGETS.items()
        },
        issue_category=np.array([r[3] for r in g.records], dtype=np.int8),
        issue_unplanned=np.array([r[4] for r in g.records], dtype=bool),
        reorg=_reorg_medians(plan, reorg_s, g.clock_s),
    )
    issues = [r[2] for r in g.records]
    return World(
        seed=seed,
        scale=scale,
        start=_at(g.cal.day_start[0]),
        clock=g.clock,
        end=_at(g.end_s),
        timezone=ORG_TIMEZONE,
        teams=[
            Team("Research", "research"),
            Team("Squad", "other"),
            Team("Infra", "infra"),
            Team("Enablement", "enablement"),
        ],
        people=g.people,
        reorg_date=g.cal.date(g.reorg_day),
        reorg_name=REORG_NAME,
        statuses=list(STATUSES),
        projects=dict(PROJECTS),
        issues=issues,
        repos=[
            Repo(name, 7_000_000 + k, f"{name.split('/')[1]} repository")
            for k, name in enumerate(REPOS)
        ],
        pulls=g.pulls,
        cluster=cluster,
        truth=truth,
        bot_timezone=BOT_TIMEZONE,
    )


def _reorg_medians(plan: Plan, reorg_s: int, clock_s: int) -> dict[str, dict[str, float | None]]:
    """Median support first response and resolution (hours) before and after the reorg, as seen at the clock."""
    lo = int(plan.day_start[0])
    before = truth_mod.support_samples(plan, lo, reorg_s, clock_s)
    after = truth_mod.support_samples(plan, reorg_s, clock_s, clock_s)
    out: dict[str, dict[str, float | None]] = {}
    for k, name in enumerate(("first_response_median_hours", "resolution_median_hours")):
        out[name] = {
            "before": float(np.median(before[k])) if len(before[k]) else None,
            "after": float(np.median(after[k])) if len(after[k]) else None,
        }
    return out


def _unplanned(issue: Issue) -> bool:
    """The org file's `unplanned` rule (see `sandbox.orgfile`)."""
    return issue.issue_type in ("Bug", "Support Request") or "interrupt" in issue.labels


def _first_response(
    issue: Issue, rows: list[tuple[int, int, list[ChangeItem]]], reporter: str, people: list[Person]
) -> int:
    """DESIGN.md: the earliest comment or status change by someone other than the reporter (-1: none)."""
    times = [
        t
        for t, author, items in rows
        if items[0].field == "status" and people[author].jira_account_id != reporter
    ]
    times += [int(c.at.timestamp()) for c in issue.comments if c.author != reporter]
    return min(times, default=-1)
