"""A sandbox world synced into SQLite through the real collectors: what later layers test on.

Built once per test session (see `conftest.synced_world`): the tiny world is served by the
whole sandbox stack, described by the org file `sandbox serve --write-config` would write,
and pulled in by `collectors.sync.sync` exactly as `teamtide sync` does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from collectors.org import prepare_database
from collectors.sync import sync
from config.load import load_config
from config.schema import Config
from metrics import rollup
from sandbox.stack import SandboxStack
from sandbox.world.generate import generate
from sandbox.world.model import World

END = dt.date(2025, 6, 30)  # the tiny world's clock: 2025-06-30 00:00 UTC


@dataclass
class SyncedWorld:
    world: World
    stack: SandboxStack
    config_path: Path  # the org file: sources point at `stack`, database at `db_url`
    config: Config
    db_url: str


def synced_world(
    directory: Path, scale: str = "tiny", seed: int = 1, db_url: str | None = None
) -> SyncedWorld:
    """Start the stack (caller stops it), write its org file, sync every source into
    `db_url` (default: SQLite in `directory`)."""
    world = generate(seed, scale, end=END)
    # A first sync of `small` needs more than GitHub's 5,000 requests an hour; the
    # collectors' rate-limit waits are tested on their own, not here.
    stack = SandboxStack(world, github_rate_limit=1_000_000).start()
    try:
        db_url = db_url or f"sqlite:///{directory / 'teamtide.db'}"
        path = stack.write_config(directory / "teamtide.yaml", db_url)
        config = load_config(path)
        engine, _ = prepare_database(config)
        outcomes = sync(engine, config, now=lambda: world.clock)
        with engine.begin() as conn:  # as `teamtide sync` does after syncing
            rollup.refresh(conn, config, world.clock)
        engine.dispose()
        failed = [o for o in outcomes if o.failed]
        assert not failed, f"the sandbox sync failed: {failed}"
    except BaseException:
        stack.stop()
        raise
    return SyncedWorld(world, stack, path, config, db_url)
