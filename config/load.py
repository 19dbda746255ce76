"""Reading the org file: YAML to a validated `Config`, or every problem at once with key and line.

Problems come from three places, all collected in one pass: YAML syntax, the pydantic
schema (`config.schema`) and cross-field checks the schema alone can't express (a
membership naming an unknown team, two people claiming one GitHub login...). Each is
reported with a key path (`org.people[3].memberships[0].team`) and its line in the file,
found by walking the composed YAML node tree. Cross-field checks read the raw data, so
they still run when the schema rejects something else in the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from config import redaction
from config.checks import RequireEnv, cross_checks, env_checks, redacted, schema_message
from config.document import ConfigError, Document, Problem
from config.schema import Config

CONFIG_ENV_VAR = "TEAMTIDE_CONFIG"
DEFAULT_CONFIG_PATH = Path("teamtide.yaml")


def resolve_config_path(
    explicit: Path | str | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """The org file to read: `--config`, else `$TEAMTIDE_CONFIG`, else ./teamtide.yaml."""
    if explicit:
        return Path(explicit)
    from_env = (os.environ if environ is None else environ).get(CONFIG_ENV_VAR, "")
    return Path(from_env) if from_env else DEFAULT_CONFIG_PATH


def load_config(path: Path | str, *, require_env: RequireEnv = False) -> Config:
    """Read and validate the org file; raise `ConfigError` with every problem found.

    `require_env` also reports `${VAR}` references whose variable is not set: only
    commands that reach the sources need their secrets (check-config asks for it).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [Problem("", None, f"no org file here (set {CONFIG_ENV_VAR} or pass --config PATH)")],
            path,
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError([Problem("", None, f"can't read the org file: {reason}")], path) from None
    return parse_config(text, path, require_env=require_env)


def parse_config(
    text: str, path: Path | str | None = None, *, require_env: RequireEnv = False
) -> Config:
    """`load_config` for text already in hand (`path` only labels messages and `Config.path`)."""
    doc = Document.parse(text)
    if doc.root is None and doc.problems:  # a YAML error: there is nothing more to check
        raise ConfigError(doc.problems, path)
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        doc.report((), "the org file must be a mapping of sections (database:, org:, sources: ...)")
        raise ConfigError(doc.problems, path)

    if "path" in data:  # a field of Config for messages, not a key of the file
        doc.report(("path",), "unknown key 'path'")
    config: Config | None = None
    try:
        config = Config.model_validate({**data, "path": Path(path) if path is not None else None})
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(part for part in error["loc"] if part != "[key]")
            doc.report(loc, schema_message(error, loc))
    cross_checks(doc, data)
    env_checks(doc, data, require_env)
    if doc.problems or config is None:
        raise ConfigError(redacted(doc.problems, data), path)
    redaction.register_config(config)  # what this process stores, logs or prints is masked
    return config
