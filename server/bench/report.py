"""The figures of one run as a readable table (the JSON is the result dict itself)."""

from __future__ import annotations

from typing import Any


def _ms(figures: dict[str, Any] | None, places: int = 1) -> str:
    if not figures:
        return "-"
    return " / ".join(
        "-" if figures.get(k) is None else f"{figures[k]:.{places}f}" for k in figures
    )


def _value(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}{unit}"
    return f"{value:,}{unit}" if isinstance(value, int) else f"{value}{unit}"


def rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs in reading order."""
    out = [
        ("server", _value(result.get("server"))),
        ("phones connected", f"{_value(result.get('connected'))} of {result['audience']:,}"),
        ("  of them stuck (not reading)", _value(result.get("stuck"))),
        ("phone processes' niceness (the server's 0)", _value(result.get("harness_nice"))),
        ("connect time", _value(result.get("connect_s"), " s")),
        ("server CPU per connect", _value(result.get("server_cpu_ms_per_connect"), " ms")),
        ("server memory before / after", _pair(result, "server_rss_before_mb", "server_rss_mb")),
        ("memory per connection", _value(result.get("rss_per_conn_kib"), " KiB")),
        (
            f"fan-out p50 / p99 / max ms ({result.get('slides')} slides)",
            _ms(result.get("fanout_ms")),
        ),
        (
            "fan-out per connection (last phone / N)",
            _value(result.get("fanout_us_per_conn"), " µs"),
        ),
        ("server CPU per delivered state", _value(result.get("server_cpu_us_per_msg"), " µs")),
        ("harness CPU per received message", _value(result.get("harness_cpu_us_per_msg"), " µs")),
        (
            f"vote ack p50 / p99 / max ms (in {_value(result.get('vote_window_s'))} s)",
            _ms(result.get("vote_ack_ms")),
        ),
        (
            "votes sent / acked / counted",
            " / ".join(
                _value(result.get(k)) for k in ("votes_sent", "votes_acked", "votes_counted")
            ),
        ),
        ("tally on the display after last ack", _value(result.get("tally_lag_ms"), " ms")),
    ]
    if "kinds" in result:
        out += [
            (
                "display tallies (a second) / most in 1 s / least gap / largest",
                _frames(result.get("display_tallies")),
            ),
            ("server CPU per vote", _value(result.get("server_cpu_us_per_vote"), " µs")),
        ]
        for kind, figures in result["kinds"].items():
            out += _kind_rows(kind, figures)
    if "rss_during_slides_mb" in result:
        memory = " → ".join(_value(m) for m in result["rss_during_slides_mb"])
        out += [
            ("server memory during slides (MiB)", memory),
            (
                "server sockets with full send queues",
                f"{_value(result.get('full_send_queues'))} "
                f"({_value(result.get('send_queued_kib'))} KiB held by the kernel)",
            ),
        ]
    if "stalled_at_slide" in result:
        out.append(
            ("healthy phones stopped getting slides at", f"slide {result['stalled_at_slide']}")
        )
    storm = result.get("storm")
    if storm:
        out += [
            ("storm: phones back in sync", f"{storm['back']:,} of {storm['phones']:,}"),
            ("storm: drop to in sync p50 / p99 / max ms", _ms(storm.get("sync_ms"))),
            ("storm: redial to in sync p50 / p99 / max ms", _ms(storm.get("resync_ms"))),
            ("storm: token / vote kept", f"{storm['token_kept']:,} / {storm['vote_kept']:,}"),
            ("storm: whole storm", _value(storm.get("duration_s"), " s")),
            (
                "storm: server CPU per reconnect",
                _value(storm.get("server_cpu_ms_per_reconnect"), " ms"),
            ),
        ]
    loop = result.get("loop")
    if loop:
        out += [
            (
                "longest loop stall (on CPU; less waits for a core) / longest gen-2 GC pause "
                "(on CPU)",
                f"{_value(result.get('longest_stall_ms'), ' ms')} "
                f"({_value(result.get('longest_busy_ms'), ' ms')}; "
                f"{_value(result.get('longest_held_ms'), ' ms')}) / "
                f"{_value(result.get('longest_gen2_ms'), ' ms')} "
                f"({_value(result.get('longest_gen2_cpu_ms'), ' ms')})",
            ),
            *(
                (
                    f"  {phase}: stall (CPU; less waits) / gen-2 (CPU) (n) / over 20 ms (CPU; "
                    "less waits)",
                    _loop(figures),
                )
                for phase, figures in loop.items()
            ),
        ]
        if (result.get("loop_workers") or 1) > 1:
            out.append(("loop figures", f"the worst of {result['loop_workers']} workers"))
    if "export_checked" in result:
        out.append(("exported results checked", ", ".join(result["export_checked"])))
    out.append(("result", "OK: every vote counted once" if result.get("ok") else "PROBLEMS"))
    return out


def _loop(figures: dict[str, Any]) -> str:
    # A handsup from before 2026-12-08 (`--url`) reports no waits: its held figure is the wall's.
    held = figures.get("longest_held_ms", figures["longest_stall_ms"])
    return (
        f"{figures['longest_stall_ms']:.1f} ({figures['longest_busy_ms']:.1f}; "
        f"{held:.1f}) ms / "
        f"{figures['longest_gen2_ms']:.1f} ({figures['longest_gen2_cpu_ms']:.1f}) ms "
        f"({figures['gen2']}) / "
        f"{figures['stalls']} ({figures['busy_stalls']}; {figures.get('held_stalls', '-')})"
    )


def _frames(figures: dict[str, Any] | None) -> str:
    if not figures:
        return "-"
    gap = figures.get("min_gap_ms")
    return (
        f"{figures['frames']:,} ({figures.get('mean_per_s') or '-'}/s) / "
        f"{figures['most_per_s']} / {'-' if gap is None else gap} ms / "
        f"{figures['max_bytes']:,} B"
    )


def _board_rows(kind: str, figures: dict[str, Any]) -> list[tuple[str, str]]:
    """The Q&A's or an ideas board's figures (server/bench/boards.py), beside the choice
    vote's of the same run."""
    ratio = figures.get("ack_p99_vs_choice")
    rows = [
        (f"{kind}: proposed sent / taken", _pair(figures, "proposals_sent", "proposals_acked", "")),
        (f"  {kind}: propose ack p50 / p99 / max ms", _ms(figures.get("propose_ack_ms"))),
        (f"  {kind}: votes sent / acked", _pair(figures, "votes_sent", "votes_acked", "")),
        (f"  {kind}: first vote sent to last ack", _value(figures.get("voting_s"), " s")),
        (
            f"  {kind}: vote ack p50 / p99 / max ms",
            f"{_ms(figures.get('ack_ms'))} (p99 {_value(ratio)}x the choice vote's)",
        ),
        (f"  {kind}: bytes a phone a second", _value(figures.get("bytes_per_phone_per_s"))),
        (
            f"  {kind}: cores server / phones / other",
            " / ".join(
                _value(figures.get(k))
                for k in ("server_cores", "harness_cores", "other_load_cores")
            ),
        ),
        (f"  {kind}: server waiting for a core", _value(figures.get("server_waiting_cores"))),
    ]
    if kind == "ideas":
        rows.append(
            (
                "  ideas: display tallies (a second) / most in 1 s / least gap / largest",
                _frames(figures.get("display_tallies")),
            )
        )
    exact = " / ".join("yes" if figures.get(k) else "NO" for k in ("display_exact", "export_exact"))
    rows.append((f"  {kind}: exact on display / in export", exact))
    return rows


def _kind_rows(kind: str, figures: dict[str, Any]) -> list[tuple[str, str]]:
    """A poll kind's figures, beside the choice vote's of the same run."""
    if kind in ("qa", "ideas"):
        return _board_rows(kind, figures)
    ratio = figures.get("ack_p99_vs_choice")
    rows = [
        (
            f"{kind} ({figures['poll']}): answers sent / acked",
            _pair(figures, "answers_sent", "answers_acked", ""),
        ),
        (f"  {kind}: phones answered", _value(figures.get("voters"))),
        (f"  {kind}: first answer sent to last ack", _value(figures.get("answering_s"), " s")),
        (
            f"  {kind}: ack p50 / p99 / max ms",
            f"{_ms(figures.get('ack_ms'))} (p99 {_value(ratio)}x the choice vote's)",
        ),
        (
            f"  {kind}: display tallies (a second) / most in 1 s / least gap / largest",
            _frames(figures.get("display_tallies")),
        ),
        (
            f"  {kind}: server CPU per answer",
            _value(figures.get("server_cpu_us_per_answer"), " µs"),
        ),
        (
            f"  {kind}: tally on the {figures.get('tally_seen_by')} after last ack",
            _value(figures.get("tally_lag_ms"), " ms"),
        ),
    ]
    if figures.get("distinct") is not None:
        rows.append(
            (
                f"  {kind}: different {'words' if kind == 'words' else 'answers'}",
                _value(figures["distinct"]),
            )
        )
    if kind == "quiz":
        rows.append(
            (
                "  quiz: answers after the deadline refused",
                f"{_value(figures.get('late_refused'))} of {_value(figures.get('late_sent'))}",
            )
        )
        if isinstance(figures.get("scores"), str):
            rows.append(("  quiz: scores", figures["scores"]))
        else:
            rows += [
                (
                    "  quiz: scores as the rule gives",
                    f"{_value(figures.get('scored'))} of {_value(figures.get('answers_acked'))}",
                ),
                (
                    f"  quiz: standings of {_value(figures.get('leaderboard_players'))} players",
                    _ms(figures.get("leaderboard_ms"), 2) + " ms (p50 / p99 / max)",
                ),
            ]
    rows.append((f"  {kind}: exact on screen", "yes" if figures.get("exact") else "NO"))
    return rows


def _pair(result: dict[str, Any], first: str, second: str, unit: str = " MiB") -> str:
    return f"{_value(result.get(first), unit)} / {_value(result.get(second), unit)}"


def table(result: dict[str, Any]) -> str:
    """Two aligned columns."""
    pairs = rows(result)
    width = max(len(label) for label, _ in pairs)
    return "\n".join(f"{label:<{width}}  {value}".rstrip() for label, value in pairs)
