"""Who gets the weekly report: team leads (their own team first), the recipients, the webhook."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from config.schema import Config

# the logger this was written to before the report was split into modules: the
# scheduler's log lines (and any filter on them) stay as they were
log = logging.getLogger("report.delivery")

WEBHOOK = "webhook"  # the ledger's name for the webhook: its URL is a secret, never stored


@dataclass(frozen=True)
class Recipient:
    key: str  # report_deliveries.recipient: an e-mail address, or WEBHOOK
    kind: Literal["email", "webhook"]
    first_team: str | None = None  # a team lead's own team, shown first


def recipients(config: Config) -> list[Recipient]:
    """Team leads first (their team on top, with `per_team_lead`), then the recipients, then the webhook."""
    out: list[Recipient] = []
    seen: set[str] = set()
    if config.report.per_team_lead:
        for team, addresses in team_leads(config).items():
            for address in addresses:
                if address.lower() not in seen:
                    seen.add(address.lower())
                    out.append(Recipient(address, "email", team))
    for address in config.report.recipients:
        if address.lower() not in seen:
            seen.add(address.lower())
            out.append(Recipient(address, "email"))
    if config.report.webhook_url:
        out.append(Recipient(WEBHOOK, "webhook"))
    return out


def team_leads(config: Config) -> dict[str, list[str]]:
    """Each team's leads' e-mail addresses (`org.teams[].leads`: a name or an address)."""
    people = {p.name: p for p in config.org.people}
    out: dict[str, list[str]] = {}
    for team in config.org.teams:
        addresses = out.setdefault(team.name, [])
        for lead in team.leads:
            person = people.get(lead)
            address = (
                lead if "@" in lead else (person.emails[0] if person and person.emails else None)
            )
            if address is None:
                log.warning("team %s: lead %r has no e-mail in the org file", team.name, lead)
            elif address not in addresses:
                addresses.append(address)
    return out
