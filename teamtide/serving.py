"""What `teamtide serve` may do: which address it may bind, and whether sign-in is ready to work."""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.schema import Config

# Streamlit's own floor (joserfc's) for the key that signs the identity cookie
MIN_COOKIE_SECRET_BYTES = 14
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


class ServeRefused(Exception):
    """`teamtide serve` must not start; the message says why and what to do."""


@dataclass(frozen=True)
class ServePlan:
    """How the dashboard will be served, and what to tell the person starting it."""

    host: str
    sign_in: bool
    notes: list[str] = field(default_factory=list)  # plain information
    warnings: list[str] = field(default_factory=list)  # risks the person chose to take


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the dashboard on this machine (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def secrets_files(app_file: Path, cwd: Path | None = None, home: Path | None = None) -> list[Path]:
    """Where Streamlit looks for secrets.toml when it runs `app_file`, first to last.

    A later file's top-level sections replace an earlier one's (Streamlit merges them
    shallowly), so the last file that has an [auth] section is the one sign-in uses.
    """
    found = [
        (home or Path.home()) / ".streamlit" / "secrets.toml",
        (cwd or Path.cwd()) / ".streamlit" / "secrets.toml",
        app_file.parent / ".streamlit" / "secrets.toml",
    ]
    return list(dict.fromkeys(path.resolve() for path in found))


def _auth_section(files: Sequence[Path]) -> tuple[dict[str, Any] | None, Path | None, list[str]]:
    """The [auth] section Streamlit would use, the file it came from, and unreadable files."""
    auth: dict[str, Any] | None = None
    source: Path | None = None
    problems = []
    for path in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            # tomllib names the line and column, never the value
            problems.append(f"{path} can't be read as TOML: {exc}")
            continue
        if "auth" in data:
            auth, source = data["auth"], path
    return auth, source, problems


def sign_in_problems(config: Config, files: Sequence[Path]) -> list[str]:
    """What keeps st.login from working with these secrets files, in words the operator can act on.

    The same keys Streamlit checks when a viewer presses "Sign in", checked before anyone
    can reach the dashboard: a mistake here would otherwise show up as an error page.
    """
    auth, source, problems = _auth_section(files)
    provider = config.access.provider
    if auth is None:
        where = ", ".join(str(path) for path in files)
        problems.append(
            "access.sign_in is on, but no secrets.toml has an [auth] section (Streamlit "
            f"reads {where}): add one with redirect_uri, cookie_secret and your OpenID "
            "Connect provider's client_id, client_secret and server_metadata_url "
            '(README: "Sign-in and roles")'
        )
        return problems
    if not isinstance(auth, dict):
        return [*problems, f"{source}: `auth` must be a [auth] table"]
    missing = [key for key in ("redirect_uri", "cookie_secret") if not auth.get(key)]
    if missing:
        problems.append(f"{source}: [auth] is missing {', '.join(missing)}")
    redirect = auth.get("redirect_uri")
    if isinstance(redirect, str) and redirect and not redirect.endswith("/oauth2callback"):
        problems.append(
            f"{source}: [auth] redirect_uri must be the dashboard's address ending in "
            f"/oauth2callback (and registered so with the provider), not {redirect}"
        )
    secret = auth.get("cookie_secret")
    if isinstance(secret, str) and secret and len(secret.encode()) < MIN_COOKIE_SECRET_BYTES:
        problems.append(
            f"{source}: [auth] cookie_secret is too short to sign identity cookies safely: "
            "use a long random string, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    if provider is None:
        section, name = auth, "[auth]"
    else:
        section, name = auth.get(provider), f"[auth.{provider}]"
        if not isinstance(section, dict):
            problems.append(
                f"{source}: no {name} section for access.provider {provider!r} "
                f"(sections there: {', '.join(_providers(auth)) or 'none'})"
            )
            return problems
    missing = [key for key in PROVIDER_KEYS if not section.get(key)]
    if missing:
        problems.append(f"{source}: {name} is missing {', '.join(missing)}")
    return problems


def _providers(auth: dict[str, Any]) -> list[str]:
    return [f"[auth.{key}]" for key, value in auth.items() if isinstance(value, dict)]


def authlib_problem() -> str | None:
    """st.login needs Authlib >= 1.3.2, which Streamlit does not install by itself."""
    from streamlit.auth_util import is_authlib_installed

    if is_authlib_installed():
        return None
    return (
        'sign-in needs Authlib 1.3.2 or later: pip install "streamlit[auth]" '
        "(or Authlib) into the environment teamtide runs in"
    )


def plan_serve(
    config: Config, host: str, *, insecure_no_auth: bool, files: Sequence[Path]
) -> ServePlan:
    """Decide how to serve, or raise `ServeRefused` with the reason and the way out."""
    if config.access.sign_in:
        problems = sign_in_problems(config, files)
        lib = authlib_problem()
        if lib:
            problems.append(lib)
        if problems:
            raise ServeRefused(
                "sign-in is not ready, so the dashboard would turn every viewer away:\n"
                + "\n".join(f"  - {problem}" for problem in problems)
            )
        via = f"provider {config.access.provider}" if config.access.provider else "[auth]"
        notes = [f"Sign-in is on ({via} in secrets.toml); roles come from access in the org file."]
        if insecure_no_auth:
            notes.append("--insecure-no-auth changes nothing: sign-in is on.")
        return ServePlan(host=host, sign_in=True, notes=notes)

    if is_loopback(host):
        return ServePlan(
            host=host,
            sign_in=False,
            notes=[
                f"Sign-in is off (access.sign_in): serving on {host} only, reachable from "
                "this machine alone."
            ],
        )
    if not insecure_no_auth:
        raise ServeRefused(
            f"refusing to serve on {host} without sign-in: anyone who can reach that address "
            "would see every team as the local viewer (access.local_role: "
            f"{config.access.local_role}). Turn sign-in on (access.sign_in; README: "
            '"Sign-in and roles"), serve on 127.0.0.1, or pass --insecure-no-auth deliberately.'
        )
    return ServePlan(
        host=host,
        sign_in=False,
        warnings=[
            f"serving on {host} WITHOUT sign-in (--insecure-no-auth): anyone who can reach it "
            f"sees what access.local_role {config.access.local_role} sees."
        ],
    )
