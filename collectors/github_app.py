"""How the GitHub collector signs in: a token, or a GitHub App installation (GitHub's advice).

An App signs a short JWT with its private key and exchanges it for an installation token
(`POST /app/installations/{id}/access_tokens`), which expires after an hour. PyGithub's
`AppInstallationAuth` does the exchange, and asks again whenever the token it holds is
within 20 seconds of its `expires_at` (read on every request, in `token`), so a sync
that outlives a token goes on with the next. The key and every token issued join the
process's redactor before they are used: neither can reach a log, a page or the database.
"""

from __future__ import annotations

from pathlib import Path

import github

from config import redaction
from config.schema import GithubSource, Secret

PEM_START = "-----BEGIN"


class InstallationAuth(github.Auth.AppInstallationAuth):
    """PyGithub's installation sign-in, each token it is issued masked from then on."""

    @property
    def token(self) -> str:
        value = super().token
        redaction.register(value)
        return value


def private_key(secret: Secret) -> str:
    """The App's PEM private key: the value itself, or the file it names. A ValueError if neither."""
    value = secret.reveal()
    if PEM_START not in value:
        try:
            value = Path(value).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(
                f"sources.github.private_key: cannot read the key file ({exc.strerror})"
            ) from None
        redaction.register(value.strip())
    return value


def sign_in(source: GithubSource) -> github.Auth.Auth | None:
    """The PyGithub auth for the org file's `sources.github`: App, token, or none."""
    if source.app_id is not None and source.installation_id is not None and source.private_key:
        app = github.Auth.AppAuth(source.app_id, private_key(source.private_key))
        try:
            app.create_jwt()  # a key that cannot sign is said now, not on the first request
        except Exception:  # PyJWT's and cryptography's errors: the key's, whatever they are
            raise ValueError("sources.github.private_key cannot sign: not a private key") from None
        return InstallationAuth(app, source.installation_id)
    token = source.token.reveal() if source.token is not None else None
    return github.Auth.Token(token) if token else None
