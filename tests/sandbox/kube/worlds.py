"""A world that is nothing but a cluster, for the Kubernetes and Prometheus tests."""

from __future__ import annotations

import datetime as dt

from sandbox.world.model import Cluster, World


def cluster_world(
    cluster: Cluster, start: dt.datetime, clock: dt.datetime, end: dt.datetime
) -> World:
    """No teams, people, issues or pulls: only `cluster`, seen at `clock`."""
    return World(
        seed=0,
        scale="hand",
        start=start,
        clock=clock,
        end=end,
        timezone="UTC",
        teams=[],
        people=[],
        reorg_date=start.date(),
        reorg_name="",
        statuses=[],
        projects={},
        issues=[],
        repos=[],
        pulls=[],
        cluster=cluster,
    )
