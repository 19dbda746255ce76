"""The whole sandbox at once: Jira and GitHub over HTTP, the Kubernetes API and Prometheus.

`python -m sandbox serve` (which `teamtide sandbox serve` and `teamtide demo` run) and the
tests that need a synced database all start the same stack, so what the demo shows is what the tests check. Every service shares
one `SandboxState`, so advancing its clock moves Jira, GitHub and the cluster together.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from sandbox.kube.api import KubeSandbox
from sandbox.kube.prometheus import PrometheusSandbox, missing_binaries
from sandbox.orgfile import write_org_file
from sandbox.server import Sandbox
from sandbox.world.model import World

log = logging.getLogger(__name__)


class SandboxStack:
    """Start with `with SandboxStack(world) as stack:`; `write_config` describes it to teamtide.

    `prometheus`: True needs Debian's prometheus package, False never starts it, None
    starts it when it is installed. `prometheus_days` of kube-state-metrics history before
    the clock are backfilled (the cluster collector's only view of the past).
    `github_rate_limit` replaces GitHub's real 5,000 requests an hour: a first sync of a
    generated year of pull requests needs more than that, as it would on the real service.
    """

    def __init__(
        self,
        world: World,
        *,
        port: int = 0,
        jira_cloud: bool = True,
        prometheus: bool | None = None,
        prometheus_days: float = 90,
        github_rate_limit: int | None = None,
    ) -> None:
        self.world = world
        self.http = Sandbox(world, port=port, jira_cloud=jira_cloud)
        self.state = self.http.state
        if github_rate_limit is not None:
            self.state.set_rate_budget("github", limit=github_rate_limit)
        self.kube: KubeSandbox | None = None
        self.prometheus: PrometheusSandbox | None = None
        self._want_prometheus = prometheus
        self._prometheus_days = prometheus_days

    def start(self) -> SandboxStack:
        try:
            self.http.start()
            self.kube = KubeSandbox(self.state).start()
            if self._want_prometheus or (self._want_prometheus is None and not missing_binaries()):
                self.prometheus = PrometheusSandbox(self.world, days=self._prometheus_days).start()
            elif self._want_prometheus is None:
                log.info("prometheus not installed: the cluster has no backfilled history")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for service in (self.prometheus, self.kube, self.http):
            if service is not None:
                service.stop()

    def __enter__(self) -> SandboxStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def prometheus_url(self) -> str | None:
        return self.prometheus.url if self.prometheus else None

    def advance(self, to: dt.datetime | dt.timedelta) -> None:
        """Move every service's clock (the cluster follows through the shared state)."""
        self.http.advance(to)

    def org_file_sources(self) -> dict[str, Any]:
        """The keyword arguments of `sandbox.orgfile.org_file` that point at this stack."""
        kube = {"api_url": self.kube.api_url, "token": self.kube.token} if self.kube else None
        return {
            "jira_url": self.http.jira_url,
            "github_url": self.http.github_url,
            "kube": kube,
            "prometheus_url": self.prometheus_url,
        }

    def write_config(self, path: str | Path, database_url: str, **more: Any) -> Path:
        """A complete org file for the served world, every source pointing at this stack."""
        return write_org_file(
            path, self.world, database_url=database_url, **self.org_file_sources(), **more
        )
