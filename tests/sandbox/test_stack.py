"""The whole sandbox stack: a clock that follows the wall clock (what `teamtide demo` serves)."""

from __future__ import annotations

import datetime as dt

from sandbox.stack import SandboxStack
from tests.sandbox.jira.worlds import CLOCK, small_world


def test_a_following_clock_moves_to_the_wall_clock_s_minute_never_back_and_never_past_the_end() -> (
    None
):
    world = small_world()
    wall = [CLOCK + dt.timedelta(hours=3, minutes=7, seconds=42)]
    stack = SandboxStack(
        world, prometheus=False, follow_wall_clock=True, wall_clock=lambda: wall[0]
    )
    try:
        assert stack.catch_up() == CLOCK + dt.timedelta(hours=3, minutes=7) == world.clock
        wall[0] = CLOCK  # a wall clock set back: the world's clock stays
        assert stack.catch_up() == CLOCK + dt.timedelta(hours=3, minutes=7)
        wall[0] = world.end + dt.timedelta(days=2)  # the world was generated this far only
        assert stack.catch_up() == world.end == world.clock
    finally:
        stack.stop()


def test_a_following_stack_starts_at_the_wall_clock_and_its_follower_stops_with_it() -> None:
    world = small_world()
    wall = CLOCK + dt.timedelta(days=2, seconds=59)
    stack = SandboxStack(world, prometheus=False, follow_wall_clock=True, wall_clock=lambda: wall)
    with stack:
        assert world.clock == CLOCK + dt.timedelta(days=2)
        follower = stack._follower
        assert follower is not None and follower.is_alive()
    assert not follower.is_alive()


def test_a_stack_that_does_not_follow_keeps_the_generated_clock() -> None:
    world = small_world()
    with SandboxStack(world, prometheus=False, wall_clock=lambda: CLOCK + dt.timedelta(days=1)):
        assert world.clock == CLOCK
