"""How long `teamtide discover` takes on a served world, how many requests it sends, how well it matches.

Runs discovery in-process against the sandbox (Jira, GitHub, Kubernetes), counts the
requests each service answered, and scores the proposed (Jira, GitHub) pairs against
the planted identities. A figure, not a test: a busy machine slows it.
Run: `.venv/bin/python -m benchmarks discover` or `-m benchmarks.bench_discover --scale small`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from collectors.discovery import discover
from collectors.identity_match import match
from config.load import load_config
from sandbox.stack import SandboxStack
from sandbox.world.generate import generate
from sandbox.world.identities import identity_truth

END = dt.date(2025, 6, 30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    world = generate(args.seed, args.scale, END)
    truth = {tuple(pair) for pair in identity_truth(world)["pairs"]}
    stack = SandboxStack(world, github_rate_limit=1_000_000, prometheus=False)
    with stack, tempfile.TemporaryDirectory() as directory:
        if True:
            config = load_config(stack.write_config(Path(directory) / "t.yaml", "sqlite://"))
            before = dict(stack.state.requests)
            began = time.perf_counter()
            found = discover(config)
            matched = match(list(found.jira.values()), list(found.github.values()))
            seconds = time.perf_counter() - began
            sent = {
                s: stack.state.requests[s] - before.get(s, 0) for s in ("jira", "github", "kube")
            }
    proposed = {(m.jira.id, m.github.id) for m in matched.matches}
    right = len(proposed & truth)
    print(
        f"{'scale':<8}{'people':>7}{'seconds':>9}{'jira req':>10}{'github req':>11}"
        f"{'kube req':>9}{'precision':>10}{'recall':>8}"
    )
    print(
        f"{args.scale:<8}{len(world.people):>7}{seconds:>9.1f}{sent['jira']:>10}"
        f"{sent['github']:>11}{sent['kube']:>9}{right / max(1, len(proposed)):>10.3f}"
        f"{right / max(1, len(truth)):>8.3f}"
    )


if __name__ == "__main__":
    main()
