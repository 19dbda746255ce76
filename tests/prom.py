"""Debian's `prometheus` for the tests that need a real Prometheus server.

They skip with the reason when `prometheus` or `promtool` is not on PATH, except under
CI (`CI=true`), where `.ci/run` installs the package and a missing one is a failure.
Nothing else in the suite needs it: without it the sandbox has no Prometheus, and the
cluster's history is rebuilt from the pods its Kubernetes API lists.
"""

from __future__ import annotations

import os

import pytest

from sandbox.kube.prometheus import missing_binaries


def require_prometheus() -> None:
    """Skip the calling test (fail it under CI) unless both Prometheus programs are on PATH."""
    missing = missing_binaries()
    if not missing:
        return
    reason = (
        f"{' and '.join(missing)} not on PATH: the Prometheus tests need Debian's "
        "`prometheus` package (apt-get install -y prometheus)"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)
