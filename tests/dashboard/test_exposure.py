"""What a page shows when things are broken: never the org file, the database URL or an
exception, since a visitor may not have signed in yet."""

from __future__ import annotations

from pathlib import Path

from tests.dashboard.helpers import everything_shown, recording_media_files

PASSWORD = "s3cr3t-pw-7781"
PERSON, EMAIL = "Ada Quietname", "ada.quietname@acme.example"


def shown(run_page, config: Path, page: str) -> str:
    with recording_media_files() as made:
        at = run_page(config, page)
        text = " ".join(t for _, t in everything_shown(at, made[-1]).texts)
    assert not at.exception, [e.message for e in at.exception]
    return text


def test_an_unreachable_database_is_named_in_the_log_and_its_url_on_no_page(
    run_page, tmp_path: Path
) -> None:
    config = tmp_path / "org.yaml"
    # port 1 on this machine: nothing listens there
    config.write_text(
        f"database: {{url: 'postgresql+psycopg://teamtide:{PASSWORD}@127.0.0.1:1/teamtide'}}\n"
        "org: {teams: [{name: Infra}]}\n"
    )
    for page in ("app", "overview", "health"):
        text = shown(run_page, config, page)
        assert "cannot read its database" in text, page
        assert PASSWORD not in text and "127.0.0.1:1" not in text and "teamtide@" not in text


def test_a_broken_org_file_shows_no_part_of_itself(run_page, tmp_path: Path) -> None:
    config = tmp_path / "org.yaml"
    config.write_text(
        "database: {url: 'sqlite:///x.db'}\n"
        "org:\n"
        "  teams: [{name: Infra}]\n"
        f"  people: [{{name: {PERSON}, emails: [{EMAIL}], memberships: [{{team: Nope, from: 2025-01-01}}]}}]\n"
    )
    text = shown(run_page, config, "app")
    assert "cannot read its org file" in text
    for secret in (PERSON, EMAIL, "Nope", str(config), "memberships"):
        assert secret not in text
