"""Where the recorded real API responses (Jira, GitHub) are, for the shape tests.

They are not in the repository: they belong to the projects that recorded them. Set
`TEAMTIDE_REALDATA` to the folder that holds them (with `jira/` and `github/` inside).
Without it, two places of the development machines are tried (a `shared/realdata`
folder beside the checkout, then `/work/shared/realdata`). When the recordings are
nowhere the shape tests skip with the reason, except under CI, where a missing
recording is a failure.
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
    """The folder of `source`'s recordings (github or jira); skips the test when it is nowhere."""
    for candidate in filter(None, _CANDIDATES):
        found = Path(candidate) / source
        if found.is_dir():
            return found
    reason = f"the recorded {source} responses are not here (set TEAMTIDE_REALDATA)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)
