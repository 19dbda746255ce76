"""Fixtures for the metrics tests: the default org file and a fresh world builder."""

from __future__ import annotations

import pytest

from config.schema import Config
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
