"""Finding a secret in a text, in whatever form it was echoed: independently of the redactor.

`found(text, secrets)` undoes what a server, a proxy or a library may have done to a
secret before looking for it: percent-encoding, HTML and JSON escaping, and base64 at
any offset (every run of base64 characters is decoded at each of the four alignments of
its groups, in both alphabets, and the secret's bytes are looked for in the result).
So `Basic base64(e-mail:token)`, `AUTH PLAIN base64(\\0user\\0password)` and a token in
a percent-encoded link are all found, without knowing how the redactor masks them.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping

_RUN = re.compile(r"[A-Za-z0-9+/_-]{6,}")
_JSON_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[\\/\"'])")


def _json_unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        return chr(int(code[1:], 16)) if code[0] in "ux" else code

    return _JSON_ESCAPE.sub(one, text)


def views(text: str) -> list[str]:
    """`text` as written, and with each layer of escaping a secret may have got undone."""
    found = [text]
    for undo in (
        urllib.parse.unquote,
        urllib.parse.unquote_plus,
        html.unescape,
        _json_unescape,
        lambda t: urllib.parse.unquote(html.unescape(t)),
        lambda t: html.unescape(urllib.parse.unquote(t)),
    ):
        view = undo(text)
        if view not in found:
            found.append(view)
    return found


def decoded_base64(text: str) -> Iterable[bytes]:
    """Every base64 run of `text` decoded at each alignment, in both alphabets."""
    for run in _RUN.findall(text):
        standard = run.replace("-", "+").replace("_", "/")
        for shift in range(4):
            chunk = standard[shift:]
            if len(chunk) % 4 == 1:
                chunk = chunk[:-1]  # no whole byte in a lone last character
            chunk += "=" * (-len(chunk) % 4)
            if len(chunk) < 4:
                continue
            try:
                yield base64.b64decode(chunk, validate=True)
            except (binascii.Error, ValueError):
                continue


def found(text: str, secrets: Mapping[str, str]) -> list[str]:
    """Which `secrets` (by name) are in `text`, and how: `name` or `name in base64`."""
    hits: list[str] = []
    all_views = views(text)
    blobs = [blob for view in all_views for blob in decoded_base64(view)]
    for name, secret in secrets.items():
        if any(secret in view for view in all_views):
            hits.append(name)
        raw = secret.encode()
        if any(raw in blob for blob in blobs):
            hits.append(f"{name} in base64")
    return hits


def webhook_forms(url: str) -> dict[str, str]:
    """A webhook URL's secret parts, each of which is the secret quoted alone."""
    parts = urllib.parse.urlsplit(url)
    token = parts.path.rstrip("/").rsplit("/", 1)[-1]
    return {"webhook URL": url, "webhook path": parts.path, "webhook token": token}


def dump(value: object) -> str:
    """Any stored value as text to search (JSON for the structured ones)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return json.dumps(value, default=str, ensure_ascii=False)
