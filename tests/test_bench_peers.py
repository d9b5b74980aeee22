"""The comparison peers of `handsup bench` (bench/floor_server.py, bench/naive_peer.py) still
speak handsup's protocol: the same phones get every slide and every vote counted.

They share the session's rules through bench/peerlogic.py, which broke silently once when the
session's model changed; this keeps the figures in docs/benchmarks.md reproducible.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.serverproc import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from compare import running  # bench/ holds scripts, not a package: found via sys.path


@pytest.mark.parametrize("peer", ["floor", "naive"])
def test_peer_serves_the_bench_scenario(peer: str) -> None:
    with running(peer) as (url, key):
        command = [
            sys.executable, "-m", "server.cli", "bench", "--url", url, "--presenter-key", key,
            "--audience", "40", "--slides", "3", "--vote-window", "1", "--json",
        ]  # fmt: skip
        done = subprocess.run(
            command,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["ok"] and result["problems"] == [], result["problems"]
    assert result["connected"] == 40
    assert len(result["fanout_last_ms"]) == 3
    assert result["votes_sent"] == result["votes_acked"] == result["votes_counted"] == 40
    assert result["tally_counts"] == result["acked_counts"]
