"""Who is looking: the viewer's role and the teams whose person-level data they may see."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from config.display import config_for_display
from config.schema import Config, Role


@dataclass(frozen=True)
class Viewer:
    """The signed-in (or local) person and their scope; data loaders filter on `sees_people`."""

    email: str | None
    role: str  # "director" | "lead" | "member"
    # teams whose person-level data this viewer may see; empty = aggregates only
    people_teams: frozenset[str]

    def sees_people(self, team: str) -> bool:
        return team in self.people_teams


def _scope(config: Config, role: Role, lead_teams: frozenset[str]) -> frozenset[str]:
    """Teams whose people a role may see: nobody's while person-level views are off."""
    if not config.access.person_level or role == "member":
        return frozenset()
    if role == "director":
        return frozenset(config.team_names())
    return lead_teams & frozenset(config.team_names())


def _normal(email: str) -> str:
    # Addresses compare case-insensitively (as the org file's own identity checks do)
    return email.strip().casefold()


def led_teams(config: Config, email: str) -> frozenset[str]:
    """Teams whose `org.teams[].leads` name a person with this e-mail address."""
    wanted = _normal(email)
    people = {
        person.name
        for person in config.org.people
        if any(_normal(address) == wanted for address in person.emails)
    }
    return frozenset(team.name for team in config.org.teams if people & set(team.leads))


def viewer_for(config: Config, email: str | None) -> Viewer | None:
    """The viewer a signed-in e-mail address gets, or None for someone the org file doesn't know.

    The first `access.roles` rule whose address or glob matches gives the role. A team
    lead named in `org.teams[].leads` is a lead of those teams as well (added to a lead
    rule's teams; above a member rule), and a director stays a director.
    """
    if not email or not email.strip():
        return None
    address = _normal(email)
    rule = next(
        (r for r in config.access.roles if fnmatch.fnmatchcase(address, _normal(r.email))), None
    )
    leads = led_teams(config, address)
    if rule is not None and rule.role == "director":
        role: Role = "director"
        teams: frozenset[str] = frozenset()
    elif leads or (rule is not None and rule.role == "lead"):
        role = "lead"
        teams = leads | frozenset(rule.teams if rule is not None else ())
    elif rule is not None:
        role, teams = rule.role, frozenset()
    else:
        return None
    return Viewer(email=email.strip(), role=role, people_teams=_scope(config, role, teams))


def local_viewer(config: Config) -> Viewer:
    """The viewer when sign-in is off: whoever sits at this machine, as `access.local_role`."""
    role = config.access.local_role
    teams = _scope(config, role, frozenset(config.access.local_teams))
    return Viewer(email=None, role=role, people_teams=teams)


def config_for_viewer(config: Config, viewer: Viewer) -> dict[str, Any]:
    """The config a page may show this viewer: no secret values, and no one they may not see.

    People appear only if a team of theirs is in the viewer's scope; lead names likewise;
    the role rules (other people's addresses) only for a director.
    """
    shown = config_for_display(config)
    org = shown["org"]
    visible = [
        (person, shown_person)
        for person, shown_person in zip(config.org.people, org["people"], strict=True)
        if any(viewer.sees_people(m.team) for m in person.memberships)
    ]
    hidden = len(config.org.people) - len(visible)
    org["people"] = [shown_person for _, shown_person in visible]
    if hidden:
        org["people_not_shown"] = hidden
    for team in org["teams"]:
        if not viewer.sees_people(team["name"]):
            team["leads"] = f"{len(team['leads'])} (not shown)" if team["leads"] else []
    if viewer.role != "director":
        # other people's addresses: who is a director, who gets the report
        shown["access"]["roles"] = f"{len(config.access.roles)} rule(s) (shown to directors)"
        recipients = config.report.recipients
        shown["report"]["recipients"] = (
            f"{len(recipients)} (shown to directors)" if recipients else []
        )
    return shown


def scope_text(viewer: Viewer) -> str:
    """The viewer's scope in a few words, e.g. "lead; people of Infra, Research"."""
    if viewer.people_teams:
        return f"{viewer.role}; people of {', '.join(sorted(viewer.people_teams))}"
    return f"{viewer.role}; team aggregates only"


# --- the Streamlit part -----------------------------------------------------------------


def _plain(text: str) -> str:
    """`text` as literal Markdown: an address like a_b_c@x must not turn into italics or a link."""
    return re.sub(r"([\\`*_{}\[\]<>#|~$])", r"\\\1", text)


def current_viewer(config: Config) -> Viewer:
    """The viewer of this session; stops the page (after a clear message) for anyone else.

    Sign-in off: the local viewer. On: st.login with `access.provider`; a signed-in user
    whose address the org file doesn't know sees only a message and a sign-out button.
    """
    import streamlit as st

    if not config.access.sign_in:
        return local_viewer(config)

    user = st.user.to_dict()
    if not user.get("is_logged_in"):
        st.title("teamtide")
        st.info("Sign in to see your organisation's engineering metrics.")
        if st.button("Sign in", type="primary"):
            st.login(config.access.provider)
        st.stop()

    email = user.get("email")
    # An address the provider has not verified could be anyone's: never match it to a role
    # (some providers, Cognito for one, send the claim as the text "false"; others, Entra ID
    # for one, send none, which counts only where the org file trusts the provider)
    verified = user.get("email_verified")
    if verified is None:
        verified = config.access.trust_unverified_email
    unverified = verified is False or str(verified).strip().lower() == "false"
    viewer = None if unverified else viewer_for(config, email if isinstance(email, str) else None)
    if viewer is None:
        who = _plain(email) if isinstance(email, str) and email else "an account without an e-mail"
        reason = (
            "your identity provider has not verified that address"
            if unverified
            else "that address has no role in this organisation's teamtide"
        )
        st.error(
            f"You are signed in as {who}, but {reason}. Ask the person who runs teamtide "
            "to add you to `access.roles` in the org file."
        )
        if st.button("Sign out"):
            st.logout()
        st.stop()
    return viewer


def show_viewer(config: Config, viewer: Viewer) -> None:
    """Who the page is for, in the sidebar, with a sign-out button when signed in."""
    import streamlit as st

    who = viewer.email or "this machine (sign-in off)"
    st.sidebar.caption(f"Viewing as {_plain(who)}: {_plain(scope_text(viewer))}")
    if config.access.sign_in and st.sidebar.button("Sign out", key="teamtide-sign-out"):
        st.logout()
