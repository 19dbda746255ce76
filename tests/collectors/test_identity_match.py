"""Matching one person's Jira and GitHub accounts: each rule on hand-made accounts."""

from __future__ import annotations

from collectors.identity_match import (
    Account,
    login_core,
    login_spellings,
    main_domain,
    match,
    normal_name,
)


def jira(ident: str, name: str, *emails: str, bot: bool = False) -> Account:
    return Account("jira", ident, [name], list(emails), bot=bot)


def gh(login: str, *names: str, emails: tuple[str, ...] = ()) -> Account:
    return Account("github", login, list(names), list(emails))


def pairs(found) -> dict[str, tuple[str, str]]:
    return {m.jira.id: (m.github.id, m.reason) for m in found.matches}


def test_names_and_logins_are_normalised() -> None:
    assert normal_name("  Séan  O'Brien ") == "sean obrien"
    assert login_core("eriksena-acme") == "eriksena"
    assert login_core("adaedev") == "adae"
    assert login_core("pflynn-ext") == "pflynn"
    assert login_core("aeriksenxx") == "aeriksen"
    assert login_spellings("Ada Eriksen") == {
        "adaeriksen",
        "aeriksen",
        "adae",
        "eriksena",
        "eriksenada",
        "adaeri",
    }


def test_an_e_mail_beats_a_name_and_each_match_says_why() -> None:
    found = match(
        [jira("j1", "Ada Eriksen", "ada@acme.example"), jira("j2", "Bo Lind")],
        [gh("ada-x", "A. E.", emails=("ADA@acme.example",)), gh("bolind", "Bo Lind")],
    )
    assert pairs(found) == {
        "j1": ("ada-x", "same e-mail ada@acme.example"),
        "j2": ("bolind", "same name 'bo lind'"),
    }
    assert found.jira_only == [] and found.github_only == []


def test_a_login_that_spells_the_name_matches_when_no_name_is_set() -> None:
    found = match([jira("j1", "Cian Ryan")], [gh("ryanc-acme")])
    assert pairs(found) == {"j1": ("ryanc-acme", "the GitHub login spells the Jira name ('ryanc')")}


def test_a_shared_name_is_not_a_match_unless_an_e_mail_decides() -> None:
    # two GitHub accounts named Cara Foley, one Jira Cara Foley with a hidden e-mail: no guess
    twins = [gh("cara-foley-sales", "Cara Foley"), gh("cara-f", "Cara Foley")]
    found = match([jira("j1", "Cara Foley")], twins)
    assert found.matches == [] and len(found.github_only) == 2
    # the real one's commit e-mail is Jira's: it is matched, the look-alike left alone
    real = gh("cara-f", "Cara Foley", emails=("cara.foley@acme.example",))
    found = match([jira("j1", "Cara Foley", "cara.foley@acme.example")], [twins[0], real])
    assert pairs(found) == {"j1": ("cara-f", "same e-mail cara.foley@acme.example")}
    assert [a.id for a in found.github_only] == ["cara-foley-sales"]


def test_two_jira_accounts_with_one_name_are_not_matched_by_that_name() -> None:
    found = match([jira("j1", "Bo Lind"), jira("j2", "Bo Lind")], [gh("bo-l", "Bo Lind")])
    assert found.matches == []


def test_bots_service_accounts_and_jira_apps_are_set_apart() -> None:
    found = match(
        [jira("app1", "Automation for Jira", bot=True), jira("j1", "Bo Lind")],
        [gh("renovate[bot]"), gh("acme-deploy", "Deploy Service Account"), gh("bolind", "Bo Lind")],
    )
    assert sorted(a.id for a in found.bots) == ["acme-deploy", "app1", "renovate[bot]"]
    assert pairs(found) == {"j1": ("bolind", "same name 'bo lind'")}


def test_the_organisations_domain_is_the_most_common_one() -> None:
    accounts = [jira("a", "A", "a@acme.example"), jira("b", "B", "b@acme.example")]
    accounts.append(jira("c", "C", "c@contractor.example"))
    assert main_domain(accounts) == "acme.example"
