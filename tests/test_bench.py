"""`handsup bench --spawn`: a real server, real phones; every vote counted exactly once."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

from tests.serverproc import ROOT

REQUIRED = (
    "audience", "connected", "connect_s", "fanout_ms", "vote_ack_ms", "votes_sent",
    "votes_acked", "votes_counted", "tally_lag_ms", "server_rss_mb", "rss_per_conn_kib",
)  # fmt: skip


def bench(*flags: str) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "bench", "--spawn", "--json", *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    return done.returncode, json.loads(done.stdout), done.stderr


def check_figures(result: dict[str, Any]) -> None:
    for key in REQUIRED:
        assert key in result, key
    for name in ("fanout_ms", "vote_ack_ms"):
        figures = result[name]
        assert 0 < figures["p50"] <= figures["p99"] <= figures["max"] < 60_000, (name, figures)
    assert result["connect_s"] > 0
    assert result["tally_lag_ms"] is not None and 0 <= result["tally_lag_ms"] < 10_000
    assert result["server_rss_mb"] > 10
    assert result["rss_per_conn_kib"] is not None


def test_bench_counts_every_vote_exactly_once() -> None:
    code, result, stderr = bench("--audience", "200", "--slides", "3", "--vote-window", "2")
    assert code == 0, stderr
    assert result["ok"] and result["problems"] == []
    assert result["audience"] == result["connected"] == 200
    assert result["votes_sent"] == result["votes_acked"] == result["votes_counted"] == 200
    assert result["tally_counts"] == result["acked_counts"]
    assert len(result["fanout_last_ms"]) == 3
    # The phones' processes yield a core to the server (--harness-nice, default 10), as the
    # kernel saw it in each of them.
    assert result["harness_nice"] == 10
    check_figures(result)
    # The server's own account of its loop, per phase: the probe ticked (a gap of at least
    # its 2 ms interval), and the longest of all phases is reported on its own.
    loop = result["loop"]
    assert set(loop) == {"connect", "slides", "choice"}
    for figures in loop.values():
        assert figures["longest_stall_ms"] >= 2 and figures["seconds"] > 0
        assert figures["longest_busy_ms"] <= figures["longest_stall_ms"]
        # Less the waits for a core: what the server itself held its loop for.
        assert 0 < figures["longest_held_ms"] <= figures["longest_stall_ms"]
    assert result["longest_stall_ms"] == max(f["longest_stall_ms"] for f in loop.values())
    assert result["longest_gen2_ms"] == max(f["longest_gen2_ms"] for f in loop.values())


def test_phones_left_out_of_a_full_hall_are_reported_with_the_reason() -> None:
    # 60 phones and the two screens against a cap of 50: twelve are told the server is
    # full. They redial as the page does until the connect timeout, and are reported with
    # what the server said (a phone dropped before its 101 once counted as dialled and was
    # waited on silently, reported with no reason).
    code, result, stderr = bench(
        "--audience", "60", "--slides", "1", "--vote-window", "1", "--connect-timeout", "4",
        "--serve-args=--max-connections 50",
    )  # fmt: skip
    assert code == 1, stderr
    assert result["connected"] == 48
    # Each phone still out is named with what the server last did to it: told it was full
    # or, while it waited to say hello, pushed out to make room for a newer socket (which of
    # the two the last redial met depends on timing).
    problem = result["problems"][0]
    assert problem.startswith("12 of 60 phones did not connect: "), problem
    reasons = re.findall(r"'(\d+) x ([^']+)'", problem)
    assert sum(int(n) for n, _ in reasons) == 12, problem
    assert {why for _, why in reasons} <= {
        "error server_full",
        "ConnectionResetError: closed by the server during the websocket handshake",
    }, problem
    assert "error server_full" in {why for _, why in reasons}, problem
    assert result["connect_redials"] >= 12
    assert result["votes_sent"] == result["votes_acked"] == result["votes_counted"] == 48


def test_bench_spawns_two_workers_sharing_one_port() -> None:
    # `--serve-args` reaches `handsup serve`: two workers and their private redis-server;
    # every process's memory and CPU count as the server's.
    code, result, stderr = bench(
        "--audience", "300", "--slides", "2", "--vote-window", "2", "--serve-args=--workers 2"
    )
    assert code == 0, stderr
    assert result["ok"] and result["connected"] == 300
    assert result["votes_sent"] == result["votes_acked"] == result["votes_counted"] == 300
    workers = result["server_rss_per_worker_mb"]
    assert len(workers) == 2 and all(mb > 10 for mb in workers)
    assert result["server_rss_mb"] > sum(workers), "the supervisor and redis-server too"


def test_bench_storm_and_stuck_phones() -> None:
    code, result, stderr = bench(
        "--audience", "100", "--slides", "3", "--vote-window", "1", "--storm", "--stuck", "5",
        "--live-results", "--kind", "words",
    )  # fmt: skip
    assert code == 0, stderr
    assert result["connected"] == 100
    assert result["stuck"] == 5
    assert result["votes_sent"] == result["votes_acked"] == result["votes_counted"] == 95
    assert result["kinds"]["words"]["answers_acked"] == 3 * 95
    # Back from the storm, each phone's welcome holds its vote and its words, as acked.
    storm = result["storm"]
    assert storm["phones"] == storm["back"] == storm["token_kept"] == storm["vote_kept"] == 95
    assert 0 < storm["sync_ms"]["p99"] < 60_000
    # With stuck phones the server's memory is sampled through the slides (at the first and
    # after the last), and the healthy phones got every slide.
    assert len(result["rss_during_slides_mb"]) == 2
    assert all(m > 10 for m in result["rss_during_slides_mb"])
    assert result["slides"] == 3 and "stalled_at_slide" not in result
    check_figures(result)


def test_bench_kinds_count_every_answer_exactly() -> None:
    """A poll of each kind after the choice vote: every word, answer, rating and quiz point
    is where the phones' acknowledged answers say it must be, on screen and in the export."""
    code, result, stderr = bench(
        "--audience", "50", "--slides", "2", "--vote-window", "1",
        "--kind", "words,text,scale,quiz",
    )  # fmt: skip
    assert code == 0, stderr
    assert result["ok"] and result["problems"] == []
    assert result["export_checked"] == ["choice", "words", "text", "scale", "quiz"]
    kinds = result["kinds"]
    words = kinds["words"]
    assert words["answers_sent"] == words["answers_acked"] == 150 and words["voters"] == 50
    cloud = words["tally"]
    assert cloud["voters"] == 50 and 0 < len(cloud["items"]) <= 50
    # Zipf-like words collide: fewer different words than entries, the top one many times.
    assert words["distinct"] < 150 and cloud["items"][0]["count"] > 3
    text = kinds["text"]
    assert text["answers_acked"] == text["voters"] == text["tally"]["voters"] == 50
    assert len(text["tally"]["items"]) == 50
    scale = kinds["scale"]
    assert scale["tally"]["counts"] == scale["expected"] and sum(scale["expected"]) == 50
    quiz = kinds["quiz"]
    # One phone in a hundred (at least one per worker process) answers after the deadline.
    assert quiz["late_sent"] == quiz["late_refused"] == 2
    assert quiz["answers_acked"] == quiz["scored"] == quiz["leaderboard_players"] == 48
    assert quiz["tally"]["counts"] == quiz["expected"] and sum(quiz["expected"]) == 48
    assert 0 < quiz["points_given"] <= 48 * 1000
    for figures in kinds.values():
        assert figures["exact"], figures
        assert figures["display_tallies"]["frames"] > 0
        assert 0 < figures["ack_ms"]["p50"] <= figures["ack_ms"]["p99"]


def test_bench_qa_and_ideas_count_every_upvote_and_vote_exactly() -> None:
    """Some phones ask (propose), then every phone upvotes (votes for) five: the display's
    ranking and the export hold exactly the acknowledged votes, and each phone's traffic is
    reported."""
    code, result, stderr = bench(
        "--audience", "60", "--slides", "2", "--vote-window", "2", "--kind", "qa,ideas",
    )  # fmt: skip
    assert code == 0, stderr
    assert result["ok"] and result["problems"] == []
    for kind in ("qa", "ideas"):
        figures = result["kinds"][kind]
        assert figures["proposals_acked"] == 60, "fewer phones than 500: each one proposes"
        assert figures["votes_sent"] == figures["votes_acked"] == 60 * 5
        assert figures["display_exact"] and figures["export_exact"], figures
        assert 0 < figures["ack_ms"]["p50"] <= figures["ack_ms"]["p99"]
        assert figures["ack_p99_vs_choice"] is not None
        assert figures["bytes_per_phone_per_s"] > 0
        top = figures["top"]
        assert top and top[0][1] >= top[-1][1], "the most voted first"
        # The server's loop figures for the board's votes alone (stalls and collections),
        # the burst of asks (proposals) before them in a window of its own.
        assert result["loop"][kind]["seconds"] > 0
        assert result["loop"][f"{kind} asks"]["seconds"] > 0


def test_the_text_report_shows_the_q_and_a_and_ideas_figures() -> None:
    """`handsup bench` without --json prints what the room measured for the Q&A, not the
    figures of a poll kind it does not have (they read "-", and "exact on screen" NO)."""
    from server.bench.report import rows

    qa = {
        "poll": None, "phones": 5000, "proposals_sent": 500, "proposals_acked": 500,
        "propose_ack_ms": {"p50": 100.0, "p99": 103.6, "max": 103.7}, "votes_sent": 25000,
        "votes_acked": 25000, "voting_s": 29.95,
        "ack_ms": {"p50": 1.07, "p99": 150.85, "max": 279.15}, "ack_p99_vs_choice": 10.91,
        "bytes_per_phone_per_s": 1950.4, "server_cores": 0.23, "harness_cores": 0.14,
        "other_load_cores": 0.44, "display_exact": True, "export_exact": False,
    }  # fmt: skip
    shown = dict(rows({"audience": 5000, "kinds": {"qa": qa}}))
    assert shown["  qa: votes sent / acked"] == "25,000 / 25,000"
    assert shown["  qa: vote ack p50 / p99 / max ms"].endswith("(p99 10.91x the choice vote's)")
    assert shown["  qa: exact on display / in export"] == "yes / NO"


def test_the_text_report_shows_the_servers_cpu_per_connect_and_reconnect() -> None:
    """What a connection costs the server is printed, not only in --json: it is what a
    reconnect storm is made of."""
    from server.bench.report import rows

    storm = {
        "phones": 5000, "back": 5000, "token_kept": 5000, "vote_kept": 5000,
        "duration_s": 1.7, "server_cpu_ms_per_reconnect": 0.18,
    }  # fmt: skip
    shown = dict(rows({"audience": 5000, "server_cpu_ms_per_connect": 0.24, "storm": storm}))
    assert shown["server CPU per connect"] == "0.24 ms"
    assert shown["storm: server CPU per reconnect"] == "0.18 ms"


def test_the_text_report_shows_each_phases_stall_less_the_waits_for_a_core() -> None:
    """The loop's own part of a stall is printed beside the wall and CPU figures; a server
    from before it was measured (`--url`) still gets its line, its held figure the wall's."""
    from server.bench.report import rows

    figures = {
        "longest_stall_ms": 19.9, "longest_busy_ms": 7.0, "longest_held_ms": 9.7,
        "longest_gen2_ms": 0.0, "longest_gen2_cpu_ms": 0.0, "gen2": 0, "stalls": 0,
        "busy_stalls": 0, "held_stalls": 0, "workers": 2,
    }  # fmt: skip
    old = {k: v for k, v in figures.items() if k not in ("longest_held_ms", "held_stalls")}
    result = {"audience": 5000, "loop": {"storm": figures, "connect": old}, "loop_workers": 2}
    result |= figures
    shown = dict(rows(result))
    label = "  {}: stall (CPU; less waits) / gen-2 (CPU) (n) / over 20 ms (CPU; less waits)"
    assert shown[label.format("storm")] == "19.9 (7.0; 9.7) ms / 0.0 (0.0) ms (0) / 0 (0; 0)"
    assert shown[label.format("connect")] == "19.9 (7.0; 19.9) ms / 0.0 (0.0) ms (0) / 0 (0; -)"
    assert shown["loop figures"] == "the worst of 2 workers"


def test_the_phones_cannot_be_asked_to_outrank_the_server() -> None:
    # Raising a process's priority needs root: refused up front, with a reason.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "server.cli",
            "bench",
            "--spawn",
            "--audience",
            "2",
            "--harness-nice",
            "-1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--harness-nice is 0 or more" in done.stderr
