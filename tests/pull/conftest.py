"""The cloud, played by the engine's own server (``dsc_engine.testing``), for the pull tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pulltools import SIZES, FakeTime

from dsc_engine.models.records import Record
from dsc_engine.sample import generate
from dsc_engine.testing import TestServer


@pytest.fixture
def dsc_records() -> dict[str, list[Record]]:
    """What ``dsc_server`` serves: a few dozen records of each kind."""
    return {kind: generate(kind, n, seed=11) for kind, n in SIZES.items()}


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def own_server(fake_time: FakeTime) -> Iterator[TestServer]:
    """A server of this test's own, on the fake clock, serving a small audit log."""
    with TestServer(generate("audit", 40, seed=3), clock=fake_time.now) as server:
        yield server
