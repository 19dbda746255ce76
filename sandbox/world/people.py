"""The organisation's people: who is employed when, in which team, under which names and accounts.

Everyone is in one team a day: the data scientists in Research, the engineers in the
Squad until the reorg and in Infra or Enablement after it; some join or leave on the
way. Two identities nobody maps follow them: a contractor (Jira and GitHub) and a
dependency bot (GitHub only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sandbox.world.context import Context
from sandbox.world.draws import Draws
from sandbox.world.model import Membership, Person
from sandbox.world.settings import ENABLEMENT, INFRA_HEADCOUNT, INFRA_TEAM, RESEARCH_TEAM, SQUAD
from sandbox.world.truth import TEAM_NAMES
from sandbox.world.vocabulary import FIRST_NAMES, JIRA_TIMEZONES, LAST_NAMES


@dataclass(slots=True)
class Staff:
    """A person as the planner sees them: employed days and team spans (day indices, inclusive)."""

    engineer: bool
    first: int
    last: int
    spans: list[tuple[int, int, int]] = field(default_factory=list)
    in_org: bool = True


@dataclass(slots=True)
class Org:
    """The people (`people[i]` is `staff[i]`) and who is in which team when, to draw colleagues from."""

    d: Draws
    weeks: int
    people: list[Person]
    staff: list[Staff]
    contractor: int  # index of the contractor: in Jira and GitHub, not in the org file
    bot: int  # index of the dependency bot: GitHub only
    person_team: np.ndarray  # people x days: the team number, -1 outside every team
    team_rows: list[list[int]]  # the same as lists, for per-day reads
    week_members: list[list[list[int]]]  # team -> week -> people in it on the week's Monday
    week_engineers: list[list[int]]  # week -> engineers of the org employed that week

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


def build_people(ctx: Context) -> Org:
    s, days, rng, d = ctx.scale, ctx.cal.days, ctx.rng, ctx.d
    n_eng = max(2, round(s.people * s.engineer_share))
    roles = [True] * n_eng + [False] * (s.people - n_eng)
    order = rng.permutation(len(roles))
    engineer = [roles[i] for i in order]
    names = rng.choice(len(FIRST_NAMES) * len(LAST_NAMES), size=s.people + 1, replace=False)
    movers = rng.permutation(s.people)
    hist_weeks = (ctx.clock.date() - ctx.first_day).days // 7
    first = [0] * s.people
    last = [days - 1] * s.people
    for i in movers[: s.joiners]:
        first[i] = 7 * int(rng.integers(2, max(3, hist_weeks - 2)))
    for i in movers[s.joiners : s.joiners + s.leavers]:
        last[i] = 7 * int(rng.integers(3, max(4, hist_weeks - 1))) - 1
    engineers = [i for i in range(s.people) if engineer[i]]
    post = {}
    infra_count = max(1, round(INFRA_HEADCOUNT * len(engineers)))
    for k, i in enumerate(rng.permutation(engineers).tolist()):
        post[i] = INFRA_TEAM if k < infra_count else ENABLEMENT
    people: list[Person] = []
    staff: list[Staff] = []
    logins: set[str] = set()
    mailboxes: set[str] = set()  # e-mail local parts taken: one person each
    for i in range(s.people):
        fn = FIRST_NAMES[names[i] // len(LAST_NAMES)]
        ln = LAST_NAMES[names[i] % len(LAST_NAMES)]
        member = Staff(engineer[i], first[i], last[i])
        if not engineer[i]:
            member.spans.append((first[i], last[i], RESEARCH_TEAM))
        elif first[i] < ctx.reorg_day:
            member.spans.append((first[i], min(last[i], ctx.reorg_day - 1), SQUAD))
            if last[i] >= ctx.reorg_day:
                member.spans.append((ctx.reorg_day, last[i], post[i]))
        else:
            member.spans.append((first[i], last[i], post[i]))
        staff.append(member)
        people.append(_person(ctx, fn, ln, member, logins, mailboxes))
    # Identities nobody maps: a contractor (Jira and GitHub) and a dependency bot (GitHub).
    contractor = len(people)
    fn = FIRST_NAMES[names[-1] // len(LAST_NAMES)]
    ln = LAST_NAMES[names[-1] % len(LAST_NAMES)]
    people.append(
        Person(
            name=f"{fn} {ln}",
            email=f"{fn.lower()}.{ln.lower()}@contractor.example",
            jira_account_id=_account_id(d),
            github_login=f"{fn[0].lower()}{ln.lower()}-ext",
            in_org_file=False,
        )
    )
    third = days // 3
    staff.append(Staff(True, third, min(2 * third, ctx.horizon - 1), in_org=False))
    bot = len(people)
    people.append(
        Person(
            name="Renovate Bot",
            email="bot@renovateapp.com",
            jira_account_id=_account_id(d),
            github_login="renovate[bot]",
            in_org_file=False,
        )
    )
    staff.append(Staff(False, 0, -1, in_org=False))
    team = np.full((len(people), days), -1, dtype=np.int8)
    for p, member in enumerate(staff):
        for a, b, t in member.spans:
            team[p, a : b + 1] = t
    week_members, week_engineers = _members_by_week(staff, team, ctx.weeks)
    return Org(
        d=d,
        weeks=ctx.weeks,
        people=people,
        staff=staff,
        contractor=contractor,
        bot=bot,
        person_team=team,
        team_rows=team.tolist(),
        week_members=week_members,
        week_engineers=week_engineers,
    )


def _account_id(d: Draws) -> str:
    return d.hexid(24)


def _person(
    ctx: Context, fn: str, ln: str, staff: Staff, logins: set[str], mailboxes: set[str]
) -> Person:
    d = ctx.d
    local = f"{fn.lower()}.{ln.lower()}" if d.chance(0.85) else f"{fn.lower()}{ln[0].lower()}"
    # Two people may shorten to one mailbox (Cian Ryan, Cian Roche: cianr); a real
    # org would number the second, and the org file refuses an e-mail on two people.
    mailbox, n = local, 1
    while mailbox in mailboxes:
        n += 1
        mailbox = f"{local}{n}"
    mailboxes.add(mailbox)
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
            ctx.cal.date(a),
            None if b >= ctx.cal.days - 1 else ctx.cal.date(b),
        )
        for a, b, t in staff.spans
    ]
    return Person(
        name=f"{fn} {ln}",
        email=f"{local}@acme.example",
        jira_account_id=_account_id(d),
        github_login=login,
        jira_timezone=d.pick(JIRA_TIMEZONES),
        other_emails=others,
        memberships=memberships,
    )


def _members_by_week(
    staff: list[Staff], person_team: np.ndarray, weeks: int
) -> tuple[list[list[list[int]]], list[list[int]]]:
    week_members: list[list[list[int]]] = [[] for _ in TEAM_NAMES]
    for t in range(len(TEAM_NAMES)):
        for w in range(weeks):
            week_members[t].append(np.flatnonzero(person_team[:, 7 * w] == t).tolist())
    week_engineers = [
        [
            p
            for p, member in enumerate(staff)
            if member.engineer
            and member.in_org
            and member.first <= 7 * w + 4
            and member.last >= 7 * w
        ]
        for w in range(weeks)
    ]
    return week_members, week_engineers
