"""`teamtide discover` end to end: read the sources, match identities, write the draft."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import yaml

from collectors.discovery import Note, discover, quiet
from collectors.draft import read_people_csv, render
from collectors.identity_match import match
from config.schema import Config


def write_draft(
    config: Config, current: Path, out: Path, people_csv: Path | None, note: Note = quiet
) -> str:
    """Write the draft to `out`; returns a one-paragraph summary for the terminal."""
    hr_rows = read_people_csv(people_csv) if people_csv else None
    started = time.monotonic()
    found = discover(config, note)
    matched = match(list(found.jira.values()), list(found.github.values()))
    document = yaml.safe_load(current.read_text(encoding="utf-8")) or {}
    text = render(document, found, matched, today=dt.datetime.now(dt.UTC).date(), hr_rows=hr_rows)
    out.write_text(text, encoding="utf-8")
    problems = "".join(f"\n  could not read: {p}" for p in found.problems)
    return (
        f"Wrote {out}: {len(matched.matches)} people matched across Jira and GitHub, "
        f"{len(matched.bots)} bots apart, {len(matched.jira_only) + len(matched.github_only)} "
        f"accounts unmatched, {len(found.teams)} teams ({found.requests} requests, "
        f"{time.monotonic() - started:.1f}s). Review it, then `teamtide check-config "
        f"--config {out}`.{problems}"
    )
