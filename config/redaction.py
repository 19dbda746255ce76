"""Secrets out of every text teamtide stores, logs or prints, in every form a server may echo.

A secret rarely leaks as written in the org file. A server or a proxy that quotes the
request puts `Authorization: Basic base64(e-mail:token)` in its error page; an SMTP
server that echoes the command puts `AUTH PLAIN base64(\\0user\\0password)` in its
reply; a link percent-encodes it; a library quotes a webhook URL's path alone.
`Redactor` knows the secret values and masks each of them as `***`:

- as written, and with any of its characters escaped as URLs (percent-encoding, `+` for
  a space), JSON (`\\"`, `\\/`, `\\u00e9`) and HTML (`&amp;`) escape them;
- in base64, standard or URL-safe, percent-encoded or not, at any offset: a base64 run
  holding the secret's encoding at any of base64's three byte alignments is masked
  whole, so `Basic base64(anything:token)` goes without knowing `anything`; the whole
  encodings of the credential combinations teamtide sends (`combinations`) are masked
  too, which also covers secrets too short for the alignment search;
- for a secret that is a URL (a webhook): its path and query quoted alone, its
  token-like path segments (Slack's `T…/B…/XXXX`, the ids of a Teams URL), long query
  values (`sig=`), its userinfo password.

Whatever the org file says, it also masks what is always a credential: a URL's userinfo
password, an `Authorization` header's credentials, `Basic` credentials, a long `Bearer`
token, and the secret part of Slack and Teams webhook URLs.

A process has one redactor, `active()`. A secret joins it when it is revealed
(`Secret.reveal`) and when the org file is loaded (`load.load_config` calls
`register_config`), so every source and every delivery uses the same one. Text is
redacted once, where it leaves the process's hands: where it is written to the database
(`db.sync`, `db.ledger`, `db.jobruns`), logged (`protect_logs` puts every log record
through it) or printed by the command line (`teamtide.output`). Messages (the stored
report, e-mails, chat posts) are made of what the database holds. Text is never cut
before it is redacted (`redact(text, limit)` redacts, then cuts), or else only between
words (`shorten`), so a secret is never left half there, unrecognisable.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.schema import Config

MASK = "***"
MIN_LENGTH = 4  # shorter values are not masked: they would mask ordinary words
MIN_CORE = 8  # the shortest base64 fragment searched for (shorter ones match by chance)
ELLIPSIS = "…"

# ---------------------------------------------------------------- the forms of one value

# A base64 run, standard or URL-safe, possibly percent-encoded (decoded before the search).
_BASE64_RUN = re.compile(r"(?:[A-Za-z0-9+/_-]|%[0-9A-Fa-f]{2})+(?:=|%3[Dd]){0,2}")
_HTML_ENTITIES = {
    "&": ("&amp;", "&#38;", "&#x26;"),
    "<": ("&lt;", "&#60;", "&#x3c;", "&#x3C;"),
    ">": ("&gt;", "&#62;", "&#x3e;", "&#x3E;"),
    '"': ("&quot;", "&#34;", "&#x22;"),
    "'": ("&#39;", "&#x27;", "&apos;"),
}
_UNRESERVED = frozenset("-._~")  # never percent-encoded by anyone


def _percent(ch: str) -> str:
    """A pattern for `ch` percent-encoded as UTF-8, hex digits in either case."""
    return "".join(
        "%" + "".join(f"[{d.lower()}{d}]" if d.isalpha() else d for d in f"{byte:02X}")
        for byte in ch.encode()
    )


def _char_pattern(ch: str) -> str:
    """A pattern for one character of a secret: itself, or escaped as URLs, JSON, HTML do."""
    if ch.isascii() and (ch.isalnum() or ch in _UNRESERVED):
        return re.escape(ch)
    forms = {re.escape(ch), _percent(ch)}
    if ch == " ":
        forms.add(r"\+")
    if ch in '"\\/':
        forms.add(re.escape("\\" + ch))
    code = ord(ch)  # JSON escapes any of these as \u00XX (Go's encoder does `<>&`), repr as \xXX
    if code <= 0xFFFF:
        forms.add(re.escape(f"\\u{code:04x}"))
        forms.add(re.escape(f"\\u{code:04X}"))
    if code <= 0xFF and (not ch.isascii() or not ch.isprintable()):
        forms.add(re.escape(f"\\x{code:02x}"))
    for entity in _HTML_ENTITIES.get(ch, ()):
        forms.add(re.escape(entity))
    return "(?:" + "|".join(sorted(forms, key=len, reverse=True)) + ")"


def _literal_pattern(value: str) -> str:
    return "".join(_char_pattern(ch) for ch in value)


def _encoders() -> tuple[Callable[[bytes], bytes], ...]:
    return (base64.b64encode, base64.urlsafe_b64encode)


def _base64_cores(value: bytes) -> set[str]:
    """What base64 of a text holding `value` contains, whatever comes before and after it.

    Base64 turns 3 bytes into 4 characters, so `value` encodes three ways, by its offset
    modulo 3; in each, the characters made only of `value`'s bits are the same whatever
    surrounds it. Those stretches, for both alphabets, are its cores (the short ones are
    left out: they would turn up in unrelated base64 by chance).
    """
    cores: set[str] = set()
    for encode in _encoders():
        for offset in range(3):
            encoded = encode(b"\0" * offset + value).decode()
            first = -(-8 * offset // 6)  # the first character with no bit before `value`
            last = (8 * (offset + len(value)) - 6) // 6  # the last with no bit after it
            core = encoded[first : last + 1]
            if len(core) >= MIN_CORE:
                cores.add(core)
    return cores


def _base64_whole(value: bytes) -> set[str]:
    """`value` encoded alone, in both alphabets (padding left off: it may be cut or escaped)."""
    return {encode(value).decode().rstrip("=") for encode in _encoders()}


def _token_like(part: str) -> bool:
    """A URL path segment or query value that is an id or a key, not a word."""
    digits = sum(ch.isdigit() for ch in part)
    letters = sum(ch.isalpha() for ch in part)
    return len(part) >= 20 or (len(part) >= 8 and digits >= 2 and letters >= 1)


def _url_parts(value: str) -> set[str]:
    """The parts of a secret URL (a webhook's) that are secret quoted alone."""
    try:
        parts = urllib.parse.urlsplit(value.strip())
        password = parts.password
    except ValueError:
        return set()
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return set()
    found: set[str] = set()
    if password:
        found |= {password, urllib.parse.unquote(password)}
    if len(parts.path) > 1:
        found.add(parts.path)
        if parts.query:
            found.add(f"{parts.path}?{parts.query}")
        segments = [s for s in parts.path.split("/") if s]
        if segments and len(segments[-1]) >= MIN_CORE:
            found.add(segments[-1])  # Slack's and Teams' URLs end with their secret
        found |= {s for s in segments if _token_like(s)}
    for _, query_value in urllib.parse.parse_qsl(parts.query):
        if len(query_value) >= 16:
            found.add(query_value)
    return {part for part in found if len(part) >= MIN_CORE}


# ---------------------------------------------------------------- credentials whatever the config

_USERINFO = re.compile(r"(?<=://)([^\s/?#@:'\"<>]*):([^\s/?#@'\"<>]+)@")
_AUTH_HEADER = re.compile(
    r"(?i)(\bauthorization['\"]?\s*[:=]\s*['\"]?)"
    r"(?:(basic|bearer|token|digest|negotiate)\s+([^\s'\",;}\]<>]{6,})|([^\s'\",;}\]<>]{16,}))"
)
_BASIC = re.compile(r"\bBasic\s+([A-Za-z0-9+/]{6,}={0,2})")
_BEARER = re.compile(r"\bBearer\s+([A-Za-z0-9._~+/-]{16,}=*)")
_WEBHOOK_URLS = re.compile(
    r"(?i)(hooks\.slack\.com/(?:services|workflows|triggers)/"
    r"|\.webhook\.office\.com/webhookb?2?/"
    r"|\.logic\.azure\.com(?::\d+)?/workflows/"
    r"|\.powerplatform\.com(?::\d+)?/powerautomate/)"
    r"[^\s'\"<>()\]]+"
)
_SIGNATURE = re.compile(r"(?i)([?&](?:amp;)?sig=)[^&\s'\"<>]+")


def _is_basic_credentials(encoded: str) -> bool:
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except ValueError:
        return False
    return b":" in decoded


def _generic(text: str) -> str:
    text = _USERINFO.sub(lambda m: f"{m.group(1)}:{MASK}@", text)
    text = _AUTH_HEADER.sub(
        lambda m: f"{m.group(1)}{m.group(2)} {MASK}" if m.group(2) else f"{m.group(1)}{MASK}",
        text,
    )
    text = _BASIC.sub(
        lambda m: f"Basic {MASK}" if _is_basic_credentials(m.group(1)) else m.group(0), text
    )
    text = _BEARER.sub(f"Bearer {MASK}", text)
    text = _WEBHOOK_URLS.sub(lambda m: f"{m.group(1)}{MASK}", text)
    return _SIGNATURE.sub(lambda m: f"{m.group(1)}{MASK}", text)


# ---------------------------------------------------------------- the redactor


class Redactor:
    """Masks `secrets` (values) in every form; `combinations` are texts teamtide sends
    encoded (`e-mail:token`, `\\0user\\0password`), masked whole in base64."""

    def __init__(self, secrets: Iterable[str] = (), combinations: Iterable[str] = ()) -> None:
        self.secrets = frozenset(s for s in secrets if len(s) >= MIN_LENGTH)
        self.combinations = frozenset(c for c in combinations if len(c) >= MIN_LENGTH)
        values = set(self.secrets)
        for secret in self.secrets:
            values |= _url_parts(secret)
        ordered = sorted(values, key=len, reverse=True)  # the longest form wins
        self._literal = re.compile("|".join(map(_literal_pattern, ordered))) if ordered else None
        cores: set[str] = set()
        for value in values:
            cores |= _base64_cores(value.encode())
            cores |= {c for c in _base64_whole(value.encode()) if len(c) >= 6}
        for combination in self.combinations:
            cores |= _base64_whole(combination.encode())
        self._cores = (
            re.compile("|".join(re.escape(c) for c in sorted(cores, key=len, reverse=True)))
            if cores
            else None
        )

    def with_secrets(
        self, secrets: Iterable[str] = (), combinations: Iterable[str] = ()
    ) -> Redactor:
        """This redactor and more: a new one (a redactor never changes)."""
        return Redactor(self.secrets | set(secrets), self.combinations | set(combinations))

    def knows(self, secrets: Iterable[str] = (), combinations: Iterable[str] = ()) -> bool:
        return {s for s in secrets if len(s) >= MIN_LENGTH} <= self.secrets and {
            c for c in combinations if len(c) >= MIN_LENGTH
        } <= self.combinations

    def __call__(self, text: str) -> str:
        if not text:
            return text
        if self._cores is not None:
            text = _BASE64_RUN.sub(self._base64_run, text)
        if self._literal is not None:
            text = self._literal.sub(MASK, text)
        return _generic(text)

    def _base64_run(self, match: re.Match[str]) -> str:
        run = match.group(0)
        if len(run) < 6:
            return run
        plain = urllib.parse.unquote(run) if "%" in run else run
        assert self._cores is not None
        return MASK if self._cores.search(plain) else run


def shorten(text: str, limit: int | None) -> str:
    """`text` cut to at most `limit` characters, between words (a cut word is left out whole)."""
    if limit is None or len(text) <= limit:
        return text
    kept = text[: max(0, limit - len(ELLIPSIS))]
    if not text[len(kept)].isspace():
        kept = re.sub(r"\S+$", "", kept)  # the word the cut went through
    return kept.rstrip() + ELLIPSIS


# ---------------------------------------------------------------- this process's redactor

_lock = threading.Lock()
_active = Redactor()
_logs_protected = False


def active() -> Redactor:
    """The process's redactor: every secret revealed or loaded so far."""
    return _active


def redact(text: str, limit: int | None = None) -> str:
    """`text` through the process's redactor, then shortened to `limit` (between words)."""
    return shorten(_active(text), limit)


def register(*secrets: str, combinations: Iterable[str] = ()) -> None:
    """Add secret values (and encoded combinations of them) to the process's redactor."""
    global _active
    combinations = tuple(combinations)
    if not _active.knows(secrets, combinations):
        with _lock:
            _active = _active.with_secrets(secrets, combinations)
    protect_logs()


def register_config(config: Config) -> None:
    """Every secret of the org file whose variables are set, and the combinations sent with them.

    A Jira token goes as `Basic base64(e-mail or user:token)`, an SMTP login as
    `AUTH PLAIN base64(\\0user\\0password)`: their whole encodings join the redactor too.
    """
    values: dict[str, str] = {}
    for path, secret in config.secrets():
        if not secret.missing_env_vars():
            values[path] = secret.reveal()  # which registers it
    combinations: list[str] = []
    jira = config.sources.jira
    token = values.get("sources.jira.token")
    if jira is not None and token:
        combinations += [f"{who}:{token}" for who in (jira.email, jira.user) if who]
    user, password = values.get("report.smtp.user"), values.get("report.smtp.password")
    if user and password:
        combinations += [
            f"\0{user}\0{password}",
            f"{user}\0{user}\0{password}",
            f"{user}:{password}",
        ]
    register(combinations=combinations)


def forget() -> None:
    """Start again with no secret known (for tests: one process runs many org files)."""
    global _active
    with _lock:
        _active = Redactor()


# ---------------------------------------------------------------- logs

_FORMATTER = logging.Formatter()


def _redact_record(record: logging.LogRecord) -> None:
    redactor = _active
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it when it emits the record
        return
    clean = redactor(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        trace = _FORMATTER.formatException(record.exc_info)
        clean = redactor(trace)
        if clean != trace:
            record.exc_text = clean
    if record.stack_info:
        record.stack_info = redactor(record.stack_info)


def protect_logs() -> None:
    """Put every log record of this process through its redactor as it is made.

    A record factory, not a handler filter: it covers every logger and every handler,
    those added later included (a scheduler's, Streamlit's, pytest's), and the message
    is redacted with its arguments and its traceback before any handler formats it.
    """
    global _logs_protected
    with _lock:
        if _logs_protected:
            return
        make_record = logging.getLogRecordFactory()

        def redacted_record(*args: object, **kwargs: object) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            _redact_record(record)
            return record

        logging.setLogRecordFactory(redacted_record)
        _logs_protected = True
