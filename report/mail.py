"""The report as an e-mail: plain text and HTML alternatives, the charts as inline PNGs."""

from __future__ import annotations

import hashlib
import uuid
from email.message import EmailMessage
from email.utils import formatdate

from report.recipients import Recipient
from report.weekly import Rendered


def email_message(
    rendered: Rendered, to: Recipient, sender: str, dashboard_url: str | None, force: bool
) -> EmailMessage:
    """multipart/alternative: the plain text, then the HTML with its charts as inline (CID) PNGs."""
    message = EmailMessage()
    domain = sender.rpartition("@")[2] or "teamtide.invalid"
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = to.key
    message["Date"] = formatdate(localtime=False, usegmt=True)
    digest = hashlib.sha256(f"{rendered.period}\0{to.key.lower()}".encode()).hexdigest()[:16]
    # The same id on every retry of a week and recipient lets a mail system drop a
    # duplicate; a deliberate resend gets a new one.
    suffix = f".{uuid.uuid4().hex[:8]}" if force else ""
    message["Message-ID"] = f"<teamtide.{rendered.period}.{digest}{suffix}@{domain}>"
    message["X-Teamtide-Period"] = rendered.period
    message.set_content(rendered.text(to.first_team))
    cids = {name: f"{name}.{digest}@teamtide" for name in rendered.images.png}
    message.add_alternative(
        rendered.html(lambda name: f"cid:{cids[name]}", to.first_team, dashboard_url),
        subtype="html",
    )
    html_part = message.get_payload()[1]  # type: ignore[index]
    for name, png in rendered.images.png.items():
        html_part.add_related(
            png, "image", "png", cid=f"<{cids[name]}>", filename=f"{name}.png", disposition="inline"
        )
    return message
