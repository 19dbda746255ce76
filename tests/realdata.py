"""Where the recorded real API responses are (`shared/realdata`, beside the repository).

They are not copied into the repository: they belong to the projects that recorded them.
`TEAMTIDE_REALDATA` names the folder; otherwise `../shared/realdata` from the checkout,
then `/work/shared/realdata`. Without them the shape tests skip with the reason, except
under CI, where a missing recording is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_CANDIDATES = [
    os.environ.get("TEAMTIDE_REALDATA"),
    str(Path(__file__).resolve().parents[2] / "shared" / "realdata"),
    "/work/shared/realdata",
]


def folder(source: str) -> Path:
    """`shared/realdata/<source>` (github or jira); skips the test when it is nowhere."""
    for candidate in filter(None, _CANDIDATES):
        found = Path(candidate) / source
        if found.is_dir():
            return found
    reason = f"the recorded {source} responses are not here (set TEAMTIDE_REALDATA)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)
