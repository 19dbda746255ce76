"""The whole sandbox at once: Jira and GitHub over HTTP, the Kubernetes API and Prometheus.

`python -m sandbox serve` (which `teamtide sandbox serve` and `teamtide demo` run) and the
tests that need a synced database all start the same stack, so what the demo shows is what the tests check. Every service shares
one `SandboxState`, so advancing its clock moves Jira, GitHub and the cluster together.
With `follow_wall_clock` the clock moves by itself, to the wall clock's minute, every
minute: a world that goes on happening, for a scheduler that syncs it again and again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sandbox.github.apps import app_of
from sandbox.github.formats import SERVICE
from sandbox.github.limits import APP_BUDGET, GRAPHQL_APP_BUDGET, GRAPHQL_BUDGET
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
    `github_graphql_rate_limit` does the same for GraphQL's 5,000 points an hour, and
    `github_app_rate_limit` for what the App's installation token gets (REST and GraphQL
    alike; default: GitHub's documented formula for the world's repositories and people).
    `follow_wall_clock`: from the start, the clock stands at the wall clock's minute and
    moves on with it each minute, until the last moment the world was generated
    (`World.end`, three weeks past its first clock). Whole minutes, so that a sync's pages
    mostly see one moment, and the servers rebuild their views once a minute at most.
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
        github_graphql_rate_limit: int | None = None,
        github_app_rate_limit: int | None = None,
        follow_wall_clock: bool = False,
        wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.world = world
        self.http = Sandbox(world, port=port, jira_cloud=jira_cloud)
        self.state = self.http.state
        if github_rate_limit is not None:
            self.state.set_rate_budget(SERVICE, limit=github_rate_limit)
        if github_graphql_rate_limit is not None:
            self.state.set_rate_budget(GRAPHQL_BUDGET, limit=github_graphql_rate_limit)
        if github_app_rate_limit is not None:
            for key in (APP_BUDGET, GRAPHQL_APP_BUDGET):
                self.state.set_rate_budget(key, limit=github_app_rate_limit)
        self.kube: KubeSandbox | None = None
        self.prometheus: PrometheusSandbox | None = None
        self._want_prometheus = prometheus
        self._prometheus_days = prometheus_days
        self.follow_wall_clock = follow_wall_clock
        self._wall_clock = wall_clock
        self._stop_following = threading.Event()
        self._follower: threading.Thread | None = None

    def start(self) -> SandboxStack:
        try:
            if self.follow_wall_clock:
                self.catch_up()  # before anything serves: nobody sees the world as of midnight
            self.http.start()
            self.kube = KubeSandbox(self.state).start()
            if self._want_prometheus or (self._want_prometheus is None and not missing_binaries()):
                self.prometheus = PrometheusSandbox(self.world, days=self._prometheus_days).start()
            elif self._want_prometheus is None:
                log.info("prometheus not installed: the cluster has no backfilled history")
            if self.follow_wall_clock:
                self._follower = threading.Thread(
                    target=self._follow, name="sandbox-wall-clock", daemon=True
                )
                self._follower.start()
        except BaseException:
            self.stop()
            raise
        return self

    def catch_up(self) -> dt.datetime:
        """Move the clock to the wall clock's minute (never back, never past the world's end)."""
        now = self._wall_clock().astimezone(dt.UTC).replace(second=0, microsecond=0)
        target = min(now, self.world.end)
        if target > self.world.clock:
            self.state.advance(target)
        return self.world.clock

    def _follow(self) -> None:
        while self.world.clock < self.world.end:
            # wake just after the next whole minute of the wall clock
            seconds = 60 - time.time() % 60 + 0.05
            if self._stop_following.wait(seconds):
                return
            try:
                self.catch_up()
            except Exception:  # a listener failed: the servers go on, the next minute retries
                log.exception("could not move the sandbox clock")
        log.info("the world ends at %s: the clock stops there", self.world.end)

    def stop(self) -> None:
        self._stop_following.set()
        if self._follower is not None:
            self._follower.join()
            self._follower = None
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

    @staticmethod
    def app_key_path(config: str | Path) -> Path:
        config = Path(config)
        return config.with_name(f"{config.stem}.github-app.pem")

    def write_app_key(self, config: str | Path) -> Path:
        """The GitHub App's private key as a PEM file beside `config` (mode 0600)."""
        target = self.app_key_path(config)
        target.unlink(missing_ok=True)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(app_of(self.state).private_pem())
        return target

    def app_facts(self, key_file: Path) -> dict[str, Any]:
        """The org file's GitHub App keys for the sandbox's App (its key in `key_file`)."""
        app = app_of(self.state)
        return {
            "app_id": app.app_id,
            "installation_id": app.installation_id,
            "private_key": str(key_file),
        }

    def write_config(
        self, path: str | Path, database_url: str, *, github_app: bool = False, **more: Any
    ) -> Path:
        """A complete org file for the served world, every source pointing at this stack.

        The App's private key is always written beside it (`<name>.github-app.pem`);
        `github_app` makes the org file sign in with the App instead of the token.
        """
        key_file = self.write_app_key(path)
        app = {"github_app": self.app_facts(key_file)} if github_app else {}
        return write_org_file(
            path, self.world, database_url=database_url, **self.org_file_sources(), **app, **more
        )
