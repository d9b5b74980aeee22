"""`handsup bench --spawn --setups ...`: several setups side by side, each a real server (with
a real redis-server for the Redis ones, Node for the socket.io peer), real phones."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from typing import Any

import pytest

from server.bench.setups import compare, parse, table
from tests.serverproc import ROOT

PHONES = 30


def bench(*flags: str) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "bench", "--spawn", "--json", *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    report = json.loads(done.stdout) if done.stdout.strip() else {}
    return done.returncode, report, done.stderr


def check_sample(sample: dict[str, Any]) -> None:
    """Every phone connected, every vote counted exactly once, every phone back from the storm
    with its identity and its vote."""
    assert sample["ok"] and sample["problems"] == [], sample["problems"]
    assert sample["connected"] == PHONES
    assert sample["votes_sent"] == sample["votes_acked"] == sample["votes_counted"] == PHONES
    assert sample["tally_counts"] == sample["acked_counts"]
    storm = sample["storm"]
    assert storm["phones"] == storm["back"] == storm["token_kept"] == storm["vote_kept"] == PHONES
    assert storm["sync_ms"]["p99"] > 0 and storm["resync_ms"]["p99"] is not None
    assert storm["machine_listen_drops"] >= 0
    assert sample["fanout_ms"]["p99"] is not None
    assert sample["first_phone_ms"]["p50"] <= sample["fanout_ms"]["p50"]


def test_one_worker_redis_and_two_workers_side_by_side() -> None:
    code, report, stderr = bench(
        "--setups", "one,redis,workers2", "--audience", str(PHONES), "--slides", "10",
        "--vote-window", "1", "--storm",
    )  # fmt: skip
    assert code == 0, stderr
    assert report["ok"] and report["skipped"] == {}
    assert [s["label"] for s in report["setups"]] == [
        "1 worker", "1 worker + Redis", "2 workers + Redis",
    ]  # fmt: skip
    samples = {s["setup"]: s for s in report["samples"]}
    assert list(samples) == ["one", "redis", "workers2"]
    for sample in samples.values():
        assert sample["round"] == 1
        check_sample(sample)
        # The cost per phone per slide change, against the 1 worker of the same round.
        assert sample["server_cpu_us_per_msg"] > 0
        assert sample["cost_vs_one"] == pytest.approx(
            sample["server_cpu_us_per_msg"] / samples["one"]["server_cpu_us_per_msg"], abs=0.01
        )
    assert samples["one"]["cost_vs_one"] == 1.0
    # Redis is part of the server: its own CPU is counted (and only where it runs).
    assert samples["one"]["redis_cpu_s"] is None
    assert samples["workers2"]["redis_cpu_s"] is not None
    assert samples["workers2"]["server_cpu_s"] >= samples["workers2"]["redis_cpu_s"]
    # handsup reports its loop's longest stall; no socket.io here, so no storm comparison.
    assert all(s["longest_stall_ms"] > 0 for s in samples.values())
    # With two workers, each read is the worst of both (gathered through Redis), not the
    # figures of whichever worker the kernel handed the read to.
    assert all(s.get("loop_note") is None for s in samples.values())
    assert samples["workers2"]["loop_workers"] == 2
    for figures in samples["workers2"]["loop"].values():
        assert figures["workers"] == figures["asked"] == 2
        assert len({w["pid"] for w in figures["per_worker"]}) == 2
        assert figures["longest_stall_ms"] == max(
            w["longest_stall_ms"] for w in figures["per_worker"]
        )
    assert samples["one"]["loop_workers"] == 1
    assert all("storm_p99_vs_socketio_ms" not in s for s in samples.values())
    # The same figures as text: a row per sample, the comparison with the 1 worker below.
    text = table(report)
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| setup | round | slide change p50 / p99 ms")
    assert [r.split(" | ")[0] for r in rows[2:]] == [
        "| 1 worker", "| 1 worker + Redis", "| 2 workers + Redis",
    ]  # fmt: skip
    assert all(f"{PHONES} / {PHONES}" in r for r in rows[2:])  # votes counted / sent
    assert "2 workers + Redis, round 1: cost per phone per slide change" in text


def test_the_storm_against_socketio_in_the_same_run() -> None:
    code, report, stderr = bench(
        "--setups", "one,socketio", "--audience", str(PHONES), "--slides", "3",
        "--vote-window", "1", "--storm", "--storm-spread", "0",
    )  # fmt: skip
    if shutil.which("node") is None or shutil.which("npm") is None:
        # The machine cannot run the peer: the bench says so, and still measures handsup.
        assert "socketio" in report["skipped"] and "SKIPPING socketio" in stderr
        assert [s["setup"] for s in report["samples"]] == ["one"]
        return
    assert code == 0, stderr
    assert report["skipped"] == {} and report["storm_spread_s"] == 0
    samples = {s["setup"]: s for s in report["samples"]}
    for sample in samples.values():
        check_sample(sample)
    one, peer = samples["one"], samples["socketio"]
    assert peer["server"] == "socket.io (Node)"
    difference = one["storm"]["sync_ms"]["p99"] - peer["storm"]["sync_ms"]["p99"]
    assert one["storm_p99_vs_socketio_ms"] == pytest.approx(difference, abs=0.01)
    assert one["storm_no_later_than_socketio"] is (difference <= 0)


def test_setup_names() -> None:
    setups = parse("one,redis,workers3,socketio")
    assert [(s.label, s.workers, s.redis, s.peer) for s in setups] == [
        ("1 worker", 1, False, False),
        ("1 worker + Redis", 1, True, False),
        ("3 workers + Redis", 3, True, False),
        ("socket.io (Node)", 1, False, True),
    ]
    for wrong in ("two", "workers0", "workers", "one,one"):
        with pytest.raises(ValueError):
            parse(wrong)


def test_setups_need_spawn_and_known_names() -> None:
    for flags in (["--setups", "one"], ["--spawn", "--setups", "one,nginx"]):
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", "bench", "--audience", "5", *flags],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 2
        assert "--setups" in done.stderr or "--spawn" in done.stderr


def test_each_sample_is_compared_with_its_own_round() -> None:
    def sample(setup: str, number: int, cost: float, storm_p99: float) -> dict[str, Any]:
        return {
            "setup": setup, "round": number, "server_cpu_us_per_msg": cost,
            "fanout_ms": {"p50": cost, "p99": 2 * cost}, "first_phone_ms": {"p50": 1.0},
            "storm": {"sync_ms": {"p99": storm_p99}},
        }  # fmt: skip

    samples = [
        sample("one", 1, 10.0, 5000.0), sample("workers2", 1, 12.0, 4000.0),
        sample("socketio", 1, 15.0, 4500.0), sample("one", 2, 20.0, 6000.0),
        sample("workers2", 2, 22.0, 7000.0), sample("socketio", 2, 30.0, 6500.0),
    ]  # fmt: skip
    compare(samples)
    assert [s["cost_vs_one"] for s in samples] == [1.0, 1.2, 1.5, 1.0, 1.1, 1.5]
    assert samples[4]["fanout_ms_p99_vs_one"] == 4.0
    assert [s.get("storm_p99_vs_socketio_ms") for s in samples] == [
        500.0, -500.0, 0.0, -500.0, 500.0, 0.0,
    ]  # fmt: skip
    assert [s.get("storm_no_later_than_socketio") for s in samples[:2]] == [False, True]
    assert samples[4]["storm_no_later_than_socketio"] is False
