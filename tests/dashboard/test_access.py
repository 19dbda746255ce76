"""Who sees what: roles from the org file, person-level scope, the sign-in gate, shown config."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from config.display import config_display_text, config_for_display
from config.load import parse_config
from config.schema import Config
from dashboard.access import Viewer, config_for_viewer, local_viewer, viewer_for

# Three teams; Cai leads Research and Dee leads Infra through org.teams[].leads.
ORG = """\
org:
  teams:
    - {name: Research, kind: research, leads: [Cai Moreno]}
    - {name: Infra, kind: infra, leads: [Dee Okafor]}
    - {name: Enablement, kind: enablement}
  people:
    - name: Ada Byrne
      emails: [ada@acme.example]
      memberships: [{team: Infra, from: 2025-03-03}]
    - name: Cai Moreno
      emails: [Cai@Acme.example, cai.moreno@other.example]
      memberships: [{team: Research, from: 2024-01-01}]
    - name: Dee Okafor
      emails: [dee@acme.example]
      memberships: [{team: Infra, from: 2025-03-03}]
"""

ROLES = """\
  roles:
    - {email: dir@acme.example, role: director}
    - {email: Lead@ACME.example, role: lead, teams: [Enablement]}
    - {email: dee@acme.example, role: lead, teams: [Enablement]}
    - {email: "contractor-*@acme.example", role: member}
    - {email: "*@acme.example", role: member}
"""

ALL = frozenset({"Research", "Infra", "Enablement"})


def config(person_level: bool = True, extra: str = "", roles: str = ROLES) -> Config:
    access = f"access:\n  person_level: {str(person_level).lower()}\n{extra}" + roles
    return parse_config(ORG + access)


# --- viewer_for -------------------------------------------------------------------------


def test_a_director_sees_every_teams_people() -> None:
    assert viewer_for(config(), "dir@acme.example") == Viewer(
        email="dir@acme.example", role="director", people_teams=ALL
    )


def test_a_lead_rule_sees_only_its_teams_people() -> None:
    viewer = viewer_for(config(), "lead@acme.example")
    assert viewer is not None and viewer.role == "lead"
    assert viewer.people_teams == {"Enablement"}
    assert viewer.sees_people("Enablement") and not viewer.sees_people("Infra")


def test_a_member_never_sees_people() -> None:
    viewer = viewer_for(config(), "ada@acme.example")
    assert viewer == Viewer(email="ada@acme.example", role="member", people_teams=frozenset())
    assert not any(viewer.sees_people(team) for team in ALL)


def test_an_address_no_rule_matches_is_unknown() -> None:
    assert viewer_for(config(), "someone@elsewhere.example") is None
    assert viewer_for(config(), "dir@acme.example.evil.example") is None  # globs match whole
    assert viewer_for(config(), None) is None
    assert viewer_for(config(), "  ") is None


def test_addresses_and_rules_match_case_insensitively() -> None:
    # the rule says Lead@ACME.example; the provider may say LEAD@acme.EXAMPLE
    viewer = viewer_for(config(), " LEAD@acme.EXAMPLE ")
    assert viewer is not None and viewer.role == "lead" and viewer.email == "LEAD@acme.EXAMPLE"
    director = viewer_for(config(), "DIR@Acme.Example")
    assert director is not None and director.role == "director"


def test_the_first_matching_rule_wins() -> None:
    roles = (
        "  roles:\n"
        '    - {email: "*@acme.example", role: member}\n'
        "    - {email: dir@acme.example, role: director}\n"
    )
    viewer = viewer_for(config(roles=roles), "dir@acme.example")
    assert viewer is not None and viewer.role == "member"  # the glob came first


def test_globs_match_a_pattern_of_addresses() -> None:
    roles = "  roles:\n    - {email: 'ds-*@acme.example', role: lead, teams: [Research]}\n"
    viewer = viewer_for(config(roles=roles), "ds-lab@acme.example")
    assert viewer is not None and viewer.people_teams == {"Research"}
    assert viewer_for(config(roles=roles), "ops@acme.example") is None


def test_a_team_lead_in_the_org_file_is_a_lead_of_that_team_without_a_rule() -> None:
    # Cai matches only the member glob, but org.teams names Cai as Research's lead;
    # the second address (no rule matches it at all) is Cai's too
    for address in ("cai@acme.example", "CAI.MORENO@other.example"):
        viewer = viewer_for(config(), address)
        assert viewer is not None and viewer.role == "lead", address
        assert viewer.people_teams == {"Research"}


def test_a_team_lead_with_a_lead_rule_sees_both_sets_of_teams() -> None:
    # Dee leads Infra (org.teams) and the rule adds Enablement
    viewer = viewer_for(config(), "dee@acme.example")
    assert viewer is not None and viewer.people_teams == {"Infra", "Enablement"}


def test_a_director_who_also_leads_a_team_stays_a_director() -> None:
    roles = "  roles:\n    - {email: cai@acme.example, role: director}\n"
    viewer = viewer_for(config(roles=roles), "cai@acme.example")
    assert viewer is not None and viewer.role == "director" and viewer.people_teams == ALL


def test_with_person_level_off_every_role_sees_aggregates_only() -> None:
    cfg = config(person_level=False)
    for address, role in (
        ("dir@acme.example", "director"),
        ("lead@acme.example", "lead"),
        ("cai@acme.example", "lead"),
        ("ada@acme.example", "member"),
    ):
        viewer = viewer_for(cfg, address)
        assert viewer is not None and viewer.role == role
        assert viewer.people_teams == frozenset(), address


def test_the_default_config_shows_aggregates_only_to_the_local_viewer() -> None:
    cfg = parse_config(ORG)
    assert cfg.access.sign_in is False and cfg.access.person_level is False
    assert local_viewer(cfg) == Viewer(email=None, role="director", people_teams=frozenset())
    assert viewer_for(cfg, "dir@acme.example") is None  # no roles: nobody signs in


def test_the_local_viewer_follows_local_role_with_the_same_rules() -> None:
    assert local_viewer(config()).people_teams == ALL
    lead = local_viewer(config(extra="  local_role: lead\n  local_teams: [Infra]\n"))
    assert lead == Viewer(email=None, role="lead", people_teams=frozenset({"Infra"}))
    member = local_viewer(config(extra="  local_role: member\n"))
    assert member.role == "member" and member.people_teams == frozenset()


# --- what a page may show ---------------------------------------------------------------

SECRETS = """\
database:
  url: postgresql+psycopg://teamtide:pa55w0rd-in-url@db.example/teamtide
sources:
  jira: {url: https://jira.example, token: literal-jira-token-value}
  github: {token: "${GITHUB_TOKEN}"}
report:
  smtp: {host: mail.example, user: "${SMTP_USER}", password: "literal-smtp-password"}
  webhook_url: "https://hooks.example/${HOOK_ID}"
"""


def test_the_config_for_a_page_shows_references_never_values() -> None:
    cfg = parse_config(ORG + SECRETS)
    shown = config_for_display(cfg)
    text = config_display_text(cfg)

    for value in ("literal-jira-token-value", "literal-smtp-password", "pa55w0rd-in-url"):
        assert value not in text and value not in repr(shown)
    assert shown["sources"]["jira"]["token"] == "***"
    assert shown["sources"]["github"]["token"] == "${GITHUB_TOKEN}"
    assert shown["report"]["smtp"]["user"] == "${SMTP_USER}"
    assert shown["report"]["smtp"]["password"] == "***"
    assert shown["report"]["webhook_url"] == "*** (uses ${HOOK_ID})"
    assert shown["database"]["url"] == "postgresql+psycopg://teamtide:***@db.example/teamtide"
    # every section is there, in the file's order, and the YAML reads back as the same data
    assert list(shown)[:3] == ["database", "org", "workflow"] and "access" in shown
    assert yaml.safe_load(text) == shown


def test_the_config_a_viewer_sees_names_only_the_people_in_their_scope() -> None:
    cfg = parse_config(ORG + SECRETS + "access:\n  person_level: true\n" + ROLES)

    director = config_for_viewer(cfg, viewer_for(cfg, "dir@acme.example"))  # type: ignore[arg-type]
    assert [p["name"] for p in director["org"]["people"]] == [
        "Ada Byrne",
        "Cai Moreno",
        "Dee Okafor",
    ]
    assert len(director["access"]["roles"]) == 5

    lead = viewer_for(cfg, "cai@acme.example")
    assert lead is not None
    shown = config_for_viewer(cfg, lead)
    text = yaml.safe_dump(shown)
    assert [p["name"] for p in shown["org"]["people"]] == ["Cai Moreno"]
    assert shown["org"]["people_not_shown"] == 2
    assert "Ada" not in text and "Dee" not in text and "dir@acme.example" not in text
    assert "literal-jira-token-value" not in text

    member = config_for_viewer(cfg, viewer_for(cfg, "ada@acme.example"))  # type: ignore[arg-type]
    assert member["access"]["roles"] == "5 rule(s) (shown to directors)"
    text = yaml.safe_dump(member)
    for name in ("Ada", "Cai", "Dee", "@acme.example"):
        assert name not in text, name
    assert member["org"]["people"] == [] and member["org"]["people_not_shown"] == 3


# --- the sign-in gate in a running app (AppTest) ----------------------------------------

PROBE = """\
import streamlit as st

from dashboard.access import current_viewer, show_viewer
from config.load import load_config

config = load_config({path!r})
viewer = current_viewer(config)
show_viewer(config, viewer)
st.markdown(f"viewer: {{viewer.role}} {{viewer.email}} {{sorted(viewer.people_teams)}}")
"""


def make_probe(tmp_path: Path, access: str) -> AppTest:
    org = tmp_path / "teamtide.yaml"
    org.write_text(ORG + access + ROLES)
    script = tmp_path / "probe.py"
    script.write_text(PROBE.format(path=str(org)))
    return AppTest.from_file(str(script), default_timeout=30)


@pytest.fixture
def probe(tmp_path: Path) -> AppTest:
    return make_probe(tmp_path, "access:\n  sign_in: true\n  person_level: true\n")


def test_with_sign_in_off_the_local_viewer_is_used_whatever_st_user_claims(
    tmp_path: Path,
) -> None:
    local = make_probe(tmp_path, "access:\n  person_level: true\n  local_role: member\n")
    local.user = {"is_logged_in": True, "email": "dir@acme.example"}
    local.run()
    assert not local.exception and not local.error
    assert [m.value for m in local.markdown] == ["viewer: member None []"]
    assert [c.value for c in local.sidebar.caption] == [
        "Viewing as this machine (sign-in off): member; team aggregates only"
    ]
    assert not local.button  # nothing to sign out of


def test_a_signed_in_lead_resolves_to_their_teams(probe: AppTest) -> None:
    probe.user = {
        "is_logged_in": True,
        "email": "dee@acme.example",
        "email_verified": True,
        "name": "Dee",
    }
    probe.run()
    assert not probe.exception and not probe.error
    assert [m.value for m in probe.markdown] == [
        "viewer: lead dee@acme.example ['Enablement', 'Infra']"
    ]
    assert [c.value for c in probe.sidebar.caption] == [
        "Viewing as dee@acme.example: lead; people of Enablement, Infra"
    ]
    assert [b.label for b in probe.sidebar.button] == ["Sign out"]


def test_an_unknown_address_sees_only_the_message(probe: AppTest) -> None:
    probe.user = {
        "is_logged_in": True,
        "email": "mallory@elsewhere.example",
        "email_verified": True,
    }
    probe.run()
    assert not probe.exception
    (error,) = probe.error
    assert "mallory@elsewhere.example" in error.value and "access.roles" in error.value
    assert not [m for m in probe.markdown if "viewer:" in m.value]  # the page stopped
    assert [b.label for b in probe.button] == ["Sign out"]


def test_an_unknown_address_is_shown_as_text_not_markup(probe: AppTest) -> None:
    probe.user = {"is_logged_in": True, "email": "<b>x_y</b>@elsewhere.example"}
    probe.run()
    (error,) = probe.error
    assert r"\<b\>x\_y\</b\>@elsewhere.example" in error.value


@pytest.mark.parametrize("claim", [False, "false", "False"])
def test_an_unverified_address_is_turned_away_even_if_a_rule_matches(
    probe: AppTest, claim: object
) -> None:
    probe.user = {"is_logged_in": True, "email": "dir@acme.example", "email_verified": claim}
    probe.run()
    (error,) = probe.error
    assert "not verified" in error.value
    assert not [m for m in probe.markdown if "viewer:" in m.value]


def test_an_address_without_a_verified_claim_is_turned_away_by_default(probe: AppTest) -> None:
    # Microsoft Entra ID sends no email_verified claim: it vouches for no address
    probe.user = {"is_logged_in": True, "email": "dir@acme.example"}
    probe.run()
    (error,) = probe.error
    assert "not verified" in error.value
    assert not [m for m in probe.markdown if "viewer:" in m.value]


def test_a_provider_the_org_file_trusts_needs_no_verified_claim(tmp_path: Path) -> None:
    trusted = make_probe(
        tmp_path, "access:\n  sign_in: true\n  person_level: true\n  trust_unverified_email: true\n"
    )
    trusted.user = {"is_logged_in": True, "email": "dir@acme.example"}
    trusted.run()
    assert not trusted.error
    assert next(m.value for m in trusted.markdown).startswith("viewer: director dir@acme.example")
    # an explicit "false" is still refused, trusted or not
    trusted.user = {"is_logged_in": True, "email": "dir@acme.example", "email_verified": "false"}
    trusted.run()
    (error,) = trusted.error
    assert "not verified" in error.value


def test_a_verified_address_claim_lets_the_rule_apply(probe: AppTest) -> None:
    probe.user = {"is_logged_in": True, "email": "dir@acme.example", "email_verified": "true"}
    probe.run()
    assert not probe.error
    assert [m.value for m in probe.markdown] == [
        "viewer: director dir@acme.example ['Enablement', 'Infra', 'Research']"
    ]


def test_a_visitor_who_has_not_signed_in_gets_only_the_sign_in_button(probe: AppTest) -> None:
    # AppTest's default user carries an e-mail but no is_logged_in: that is not a sign-in
    probe.run()
    assert not probe.exception and not probe.error
    assert [b.label for b in probe.button] == ["Sign in"]
    assert not [m for m in probe.markdown if "viewer:" in m.value]

    probe.user = {"is_logged_in": False}
    probe.run()
    assert [b.label for b in probe.button] == ["Sign in"]
    assert not [m for m in probe.markdown if "viewer:" in m.value]
