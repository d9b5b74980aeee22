"""Shared fixtures: a real server process per test module that needs one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.serverproc import ServerProcess, start_server
from tests.wsclient import Peer


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    """A fresh `handsup serve deck.md` on a free port, stopped after the test."""
    proc = start_server()
    yield proc
    proc.stop()


@pytest.fixture(autouse=True)
async def _close_peers() -> AsyncIterator[None]:
    """Close every websocket a test opened, so no transport outlives its test."""
    yield
    await Peer.close_all()
