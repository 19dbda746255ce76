"""GitHub App sign-in: the App's key pair, its JWTs checked GitHub's way, installation tokens.

An App signs a short JWT (RS256, `iss` = the App's id, `iat`, `exp` at most ten minutes
ahead) with its private key and trades it at `POST /app/installations/{id}/access_tokens`
for an installation token that works like a personal token for an hour. The sandbox
makes one App with one installation in the world's organisation; its key pair is made
at start (`sandbox serve --write-config` writes the private key beside the org file).
Times are the wall clock's: PyGithub renews a token against it, and signs its JWTs with it.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.github.formats import Json, iso_time, node_id, stable_id
from sandbox.http import SandboxState

EXTRA = "github_app"
JWT_MAX_SECONDS = 600  # GitHub: `exp` no more than 10 minutes into the future
CLOCK_SKEW = 60  # GitHub's advice: `iat` 60 seconds in the past, for drifting clocks
TOKEN_SECONDS = 3600.0
PERMISSIONS = {
    "contents": "read",
    "issues": "read",
    "metadata": "read",
    "members": "read",
    "pull_requests": "read",
}
UNDECODABLE = "A JSON web token could not be decoded"
EXPIRED = (
    "'Expiration time' claim ('exp') must be a numeric value representing the future time "
    "at which the assertion expires"
)
TOO_LATE = "'Expiration time' claim ('exp') is too far in the future"
BAD_IAT = (
    "'Issued at' claim ('iat') must be an Integer representing the time that the assertion "
    "was issued"
)


class Refused(Exception):
    """A JWT GitHub would refuse; the message is GitHub's."""


@dataclass
class GitHubApp:
    app_id: int
    installation_id: int
    slug: str
    owner: str
    private_key: rsa.RSAPrivateKey
    token_seconds: float = TOKEN_SECONDS
    tokens: dict[str, float] = field(default_factory=dict)  # installation token -> expiry (epoch)

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )

    def check_jwt(self, token: str, now: float) -> None:
        """Refuse (with GitHub's words) a JWT badly signed, for another App, expired or too long."""
        try:
            claims = jwt.decode(
                token,
                self.private_key.public_key(),
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError:
            raise Refused(UNDECODABLE) from None
        if str(claims.get("iss")) != str(self.app_id):
            raise Refused(UNDECODABLE)  # another App's JWT: its key is not this App's
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(iat, int | float) or iat > now + CLOCK_SKEW:
            raise Refused(BAD_IAT)
        if not isinstance(exp, int | float) or exp <= now:
            raise Refused(EXPIRED)
        if exp > now + JWT_MAX_SECONDS + CLOCK_SKEW:
            raise Refused(TOO_LATE)

    def issue(self, now: float) -> tuple[str, float]:
        token = "ghs_" + secrets.token_urlsafe(27)[:36]
        expires = now + self.token_seconds
        self.tokens = {t: e for t, e in self.tokens.items() if e > now}
        self.tokens[token] = expires
        return token, expires

    def token_valid(self, token: str, now: float) -> bool:
        expires = self.tokens.get(token)
        return expires is not None and now < expires


def app_of(state: SandboxState) -> GitHubApp:
    """The sandbox's App, made on first use (an RSA key takes a moment)."""
    with state.lock:
        app = state.extras.get(EXTRA)
        if app is None:
            seed = state.world.seed
            owner = (
                state.world.repos[0].full_name.partition("/")[0] if state.world.repos else "acme"
            )
            app = GitHubApp(
                app_id=100_000 + stable_id("app", seed) % 900_000,
                installation_id=10_000_000 + stable_id("installation", seed) % 90_000_000,
                slug="teamtide-sandbox",
                owner=owner,
                private_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
            )
            state.extras[EXTRA] = app
        return app


def installation_token_valid(state: SandboxState, token: str) -> bool:
    app = state.extras.get(EXTRA)
    return app is not None and app.token_valid(token, time.time())


def app_rate_limit(repos: int, users: int) -> int:
    """GitHub's documented limit of an installation (outside Enterprise Cloud), requests or points an hour.

    5,000, plus 50 for each repository over 20 and each organisation member over 20, at
    most 12,500.
    """
    return min(12_500, 5000 + 50 * max(0, repos - 20) + 50 * max(0, users - 20))


def app_json(app: GitHubApp, owner: Json, web: str) -> Json:
    created = iso_time(dt.datetime(2024, 1, 2, tzinfo=dt.UTC))
    return {
        "id": app.app_id,
        "slug": app.slug,
        "node_id": node_id("Integration", app.app_id),
        "client_id": f"Iv1.{stable_id('client', app.app_id):016x}"[:20],
        "owner": owner,
        "name": "teamtide sandbox",
        "description": "The sandbox's GitHub App, for teamtide's App sign-in.",
        "external_url": web,
        "html_url": f"{web}/apps/{app.slug}",
        "created_at": created,
        "updated_at": created,
        "permissions": dict(PERMISSIONS),
        "events": [],
        "installations_count": 1,
    }


def installation_json(app: GitHubApp, account: Json, api: str, web: str) -> Json:
    created = iso_time(dt.datetime(2024, 1, 2, tzinfo=dt.UTC))
    return {
        "id": app.installation_id,
        "client_id": app_json(app, account, web)["client_id"],
        "account": account,
        "repository_selection": "all",
        "access_tokens_url": f"{api}/app/installations/{app.installation_id}/access_tokens",
        "repositories_url": f"{api}/installation/repositories",
        "html_url": f"{web}/organizations/{app.owner}/settings/installations/{app.installation_id}",
        "app_id": app.app_id,
        "app_slug": app.slug,
        "target_id": account["id"],
        "target_type": "Organization",
        "permissions": dict(PERMISSIONS),
        "events": [],
        "created_at": created,
        "updated_at": created,
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }


def token_json(token: str, expires: float) -> dict[str, Any]:
    return {
        "token": token,
        "expires_at": iso_time(dt.datetime.fromtimestamp(int(expires), dt.UTC)),
        "permissions": dict(PERMISSIONS),
        "repository_selection": "all",
    }
