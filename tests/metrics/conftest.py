"""Fixtures for the metrics tests: the default org file and a fresh world builder."""

from __future__ import annotations

import datetime as dt

import pytest

from config.schema import Config
from metrics.facts import Facts
from sandbox.world.generate import generate
from sandbox.world.model import World
from tests.metrics.metrics_world import WorldBuilder, org_config


@pytest.fixture
def config() -> Config:
    return org_config()


@pytest.fixture
def world(config: Config) -> WorldBuilder:
    return WorldBuilder(config)


@pytest.fixture
def dublin_world() -> WorldBuilder:
    return WorldBuilder(org_config("Europe/Dublin"))


@pytest.fixture(scope="session")
def small_world() -> World:
    """The `small` sandbox world (78 weeks, 30 people, the Squad's split half-way)."""
    return generate(1, "small", dt.date(2025, 6, 30))


@pytest.fixture(scope="session")
def small_facts(small_world: World) -> Facts:
    """Facts of `small` fed straight from the world model (no servers, no database)."""
    from tests.metrics.test_metrics_planted_truth import frames_from_world, world_config

    return Facts.build(frames_from_world(small_world), world_config(small_world), small_world.clock)
