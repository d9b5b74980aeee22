"""Turn compare.py's raw results (docs/benchmarks.json) into docs/benchmarks.md and the plot.

Run again on its own to re-render without measuring: .venv/bin/python bench/report_md.py
Given several results files (e.g. a re-run of the cells a busy machine disturbed, made with
`compare.py --out /tmp/more.md`), it keeps the quietest run of each server and size, writes
the merge to docs/benchmarks.json and renders that.
The "What limits us next" section is bench/notes.md, kept by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT / "bench" / "notes.md"
ORDER = ("handsup", "floor", "naive", "socketio")


def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _three(figures: dict[str, Any] | None) -> str:
    if not figures:
        return "-"
    return " / ".join(_f(figures.get(k)) for k in ("p50", "p99", "max"))


def _ratio(value: float | None, base: float | None) -> str:
    return f"{value / base:.2f}x" if value and base else "-"


def _p99(run: dict[str, Any] | None) -> float | None:
    return ((run or {}).get("fanout_ms") or {}).get("p99")


def _per_conn(run: dict[str, Any]) -> float | None:
    """µs per phone: the median slide's last-phone latency divided by the healthy phones."""
    value = run.get("fanout_us_per_conn")
    return float(value) if value is not None else None


def _exact(run: dict[str, Any]) -> str:
    keys = ("votes_sent", "votes_acked", "votes_counted")
    figures = "/".join(_f(run.get(k)) for k in keys)
    return f"{'yes' if run.get('ok') else '**NO**'} ({figures})"


def size_table(runs: list[dict[str, Any]]) -> list[str]:
    """Two tables for one audience size: slide changes, then connections and votes."""
    by = {r["server"]: r for r in runs}
    floor, naive = _p99(by.get("floor")), _p99(by.get("naive"))
    present = [name for name in ORDER if name in by]
    lines = [
        "Slide changes:",
        "",
        "| server | fan-out p50 / p99 / max ms | p99 ÷ floor | p99 ÷ naive | µs per phone "
        "(last phone ÷ N) | server CPU µs per state sent |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in present:
        run = by[name]
        lines.append(
            f"| {name} | {_three(run.get('fanout_ms'))} | {_ratio(_p99(run), floor)} | "
            f"{_ratio(_p99(run), naive)} | {_f(_per_conn(run))} | "
            f"{_f(run.get('server_cpu_us_per_msg'))} |"
        )
    lines += [
        "",
        "Connections and votes:",
        "",
        "| server | KiB per connection | server CPU ms per connection | vote ack p50 / p99 ms | "
        "tally lag ms | storm p99: drop → in sync / redial → in sync ms | server CPU ms per "
        "reconnect | votes exact (sent/acked/counted) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in present:
        run = by[name]
        ack = run.get("vote_ack_ms") or {}
        storm = run.get("storm") or {}
        lines.append(
            f"| {name} | {_f(run.get('rss_per_conn_kib'))} | "
            f"{_f(run.get('server_cpu_ms_per_connect'), 2)} | "
            f"{_f(ack.get('p50'), 2)} / {_f(ack.get('p99'), 2)} | {_f(run.get('tally_lag_ms'))} | "
            f"{_f((storm.get('sync_ms') or {}).get('p99'), 0)} / "
            f"{_f((storm.get('resync_ms') or {}).get('p99'), 0)} | "
            f"{_f(storm.get('server_cpu_ms_per_reconnect'), 2)} | {_exact(run)} |"
        )
    return lines


def headline(runs: list[dict[str, Any]]) -> list[str]:
    """The figures to quote: handsup at each size."""
    mine = sorted((r for r in runs if r["server"] == "handsup"), key=lambda r: r["audience"])
    lines = [
        "| phones | slide change reaches every phone, p99 | vote acknowledged, p99 | "
        "reconnect storm back in sync, p99 | memory per phone | every vote counted once |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for run in mine:
        storm = run.get("storm") or {}
        lines.append(
            f"| {run['audience']:,} | {_f(_p99(run), 0)} ms | "
            f"{_f((run.get('vote_ack_ms') or {}).get('p99'), 1)} ms | "
            f"{_f(((storm.get('sync_ms') or {}).get('p99') or 0) / 1000, 1)} s | "
            f"{_f(run.get('rss_per_conn_kib'), 0)} KiB | {'yes' if run.get('ok') else '**no**'} |"
        )
    return lines


def stuck_table(runs: list[dict[str, Any]], calm: list[dict[str, Any]]) -> list[str]:
    """Stuck-phone runs, each next to the same server's run at the same N without them."""
    lines = [
        "| server | phones (stuck) | healthy phones' fan-out p50 / p99 / max ms | "
        "p99 ÷ without stuck phones | server memory (MiB): first slide → last (highest) | "
        "server sockets with full send queues (KiB in the kernel) | slides delivered | "
        "votes exact |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in sorted(runs, key=lambda r: ORDER.index(r["server"])):
        same = next(
            (c for c in calm if c["server"] == run["server"] and c["audience"] == run["audience"]),
            None,
        )
        ratio = _p99(run) / _p99(same) if same and _p99(same) and _p99(run) else None
        samples = run.get("rss_during_slides_mb") or []
        memory = (
            f"{_f(samples[0], 0)} → {_f(samples[-1], 0)} ({_f(max(samples), 0)})"
            if samples
            else "-"
        )
        stalled = run.get("stalled_at_slide")
        delivered = f"**stopped at {stalled}**" if stalled else f"all {_f(run.get('slides'))}"
        lines.append(
            f"| {run['server']} | {_f(run.get('connected'))} ({_f(run.get('stuck'))}) | "
            f"{_three(run.get('fanout_ms'))} | {_f(ratio, 2)}x | {memory} | "
            f"{_f(run.get('full_send_queues'))} ({_f(run.get('send_queued_kib'), 0)}) | "
            f"{delivered} | {'not run: it stalled' if stalled else _exact(run)} |"
        )
    return lines


def harness_table(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| server | N | harness CPU µs per message received | server CPU µs per state sent | "
        "server CPU ms per slide change | last phone ms (median slide) | other load (cores) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        per = run.get("server_cpu_us_per_msg")
        healthy = (run.get("connected") or 0) - (run.get("stuck") or 0)
        busy = per * healthy / 1000 if per is not None else None
        lasts = sorted(run.get("fanout_last_ms") or [])
        last = lasts[len(lasts) // 2] if lasts else None
        lines.append(
            f"| {run['server']} | {_f(run.get('audience'))} | "
            f"{_f(run.get('harness_cpu_us_per_msg'))} | {_f(per)} | {_f(busy)} | {_f(last)} | "
            f"{_f(run.get('other_load_cores'), 2)} |"
        )
    return lines


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    """Fan-out p99 and the server's CPU per phone against N, one line per server."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name in ORDER:
        mine = sorted((r for r in runs if r["server"] == name), key=lambda r: r["audience"])
        if not mine:
            continue
        sizes = [r["audience"] for r in mine]
        left.plot(sizes, [_p99(r) for r in mine], marker="o", label=name)
        right.plot(sizes, [r.get("server_cpu_us_per_msg") for r in mine], marker="o", label=name)
    left.set(title="Slide change: p99 fan-out to all phones", xlabel="phones", ylabel="ms")
    right.set(
        title="Server CPU per phone per slide change", xlabel="phones", ylabel="µs (server-side)"
    )
    for axes in (left, right):
        axes.grid(True, alpha=0.3)
        axes.set_ylim(bottom=0)
        axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write(raw: dict[str, Any], args: Any, descriptions: dict[str, str]) -> str:
    info = raw["machine"]
    runs: list[dict[str, Any]] = raw["runs"]
    sizes = sorted({r["audience"] for r in runs})
    first = runs[0] if runs else {}
    out = [
        "# Benchmarks",
        "",
        "How many phones one handsup server can keep in step, measured on one small machine,",
        "next to the least a Python server can do (the floor) and two servers people build",
        "instead. Every figure below is from the run described under *Reproduce*; the raw",
        "results are in [benchmarks.json](benchmarks.json).",
        "",
        "## What we can quote",
        "",
        f"handsup on this machine ({info['cores']} cores, {info['cpu']}), the harness on the "
        "same two cores:",
        "",
        *headline(runs),
        "",
        "![fan-out p99, and the server's CPU time per phone per slide change, against the "
        "number of phones](benchmarks.png)",
        "",
        "## The scenario",
        "",
        "`handsup bench` opens N real websocket connections over loopback, spread over "
        f"{first.get('harness_workers', 2)} worker processes, each phone speaking exactly what",
        "the audience page speaks (`hello` with the room, `welcome`, `state`, `vote` with a fresh",
        "`vote_id`, `vote_ack`). A presenter and a display connect too. Then:",
        "",
        f"1. **Slide changes** ({getattr(args, 'slides', '?')}): the presenter sends `goto`; the "
        "fan-out latency is the time from",
        "   sending it until each phone has the `state` with that position (one monotonic clock",
        "   for all processes). p50/p99/max are over every phone and every slide change.",
        "2. **Votes**: the first poll opens; every phone votes once at a random moment in a",
        f"   {getattr(args, 'vote_window', '?')} s window and times its `vote_ack`. Tally lag: "
        "from the last ack until the display",
        "   shows a `tally` with the exact final counts (0 when it already did). Sent,",
        "   acknowledged and counted must be equal, per option too, or the run fails.",
        "3. **Storm**: every phone drops its connection within one second and redials with the",
        "   pages' policy (full-jitter backoff from 0.5 s doubling to 10 s); *drop → in sync*",
        "   includes the backoff wait, *redial → in sync* is the server's part. Each must get",
        "   its participant token and its vote back in `welcome`. `--storm-spread 0`: every phone",
        "   drops at the same instant; `--storm-spread S`: within S seconds (default 1).",
        "",
        "Memory per connection is the server's RSS growth while the phones connected, ÷ N.",
        "Server CPU per state sent is the server process's CPU time during the slide changes",
        "÷ (phones x slide changes): it includes the kernel's loopback work done on the",
        "server's behalf.",
        "",
        "Servers:",
        "",
    ]
    out += [f"- **{name}**: {descriptions[name]}" for name in ORDER if name in descriptions]
    out.append("")
    for size in sizes:
        out += [f"## {size:,} phones", ""]
        out += size_table([r for r in runs if r["audience"] == size])
        out.append("")
    if raw.get("stuck"):
        stuck = raw["stuck"][0]
        share = round(100 * (stuck.get("stuck") or 0) / max(1, stuck.get("audience") or 1))
        out += [
            f"## Stuck phones: {stuck.get('audience'):,} phones, {share}% of them stop reading",
            "",
            "Stuck phones connect, get their welcome and state, then never read again (receive",
            "buffer shrunk to 4 KiB). The presenter changes slides up to "
            f"{max(r.get('slides') or 0 for r in raw['stuck'])} times, long enough",
            "for the stuck phones' socket buffers to fill (the server-side kernel send queues",
            "are read from /proc/net/tcp at the end); then the poll opens *with results",
            "revealed*, so the phones get the live tally while the healthy ones vote. The",
            "healthy phones must not notice; the server's memory must stay flat. A server",
            "whose healthy phones miss a slide for 10 s is stopped there.",
            "The ratio compares with the same server's run above at the same N (20 slides).",
            "",
        ]
        out += stuck_table(raw["stuck"], runs)
        out.append("")
    out += [
        "## Is the harness the limit?",
        "",
        "The harness (picows, Cython frame parsing, on uvloop; a state is read for its",
        "position only) costs the CPU time below per message received. The floor shows what",
        "the same harness sees from a server that does nothing but write one pre-built frame",
        "to every socket: when the last phone of the floor is served about when the floor's",
        "own CPU work ends, the harness keeps up, and a server slower than the floor is",
        "measured, not the harness. *Other load* is CPU used by anything else on the machine",
        "while slides were timed; runs above 0.15 cores were not kept. Each cell is the best",
        "(lowest fan-out p99) of two runs, each on a fresh server.",
        "",
    ]
    out += harness_table(runs)
    out.append("")
    notes = NOTES.read_text().strip() if NOTES.exists() else "## What limits us next\n\n(todo)"
    out += [notes, ""]
    out += [
        "## Reproduce",
        "",
        "```sh",
        ".venv/bin/pip install -e '.[bench]'",
        f".venv/bin/python bench/compare.py {' '.join(raw.get('argv', []))}".rstrip(),
        "# one server, one size:",
        ".venv/bin/handsup bench --spawn --audience 2000 --slides 20 --vote-window 5 --storm",
        "```",
        "",
        "Machine:",
        "",
        f"- {info['cores']} cores, {info['cpu']}, Linux {info['kernel']}",
        f"- Python {info['python']}; {info['packages']}",
        f"- Node {info['node']}, socket.io {info['socket.io']}",
        f"- handsup at {info['commit']}, measured {info['date']}",
        "",
    ]
    return "\n".join(out)


def _load(run: dict[str, Any]) -> float:
    value = run.get("other_load_cores")
    return float("inf") if value is None else float(value)


def merge(raws: list[dict[str, Any]]) -> dict[str, Any]:
    """The first file, with each (server, N) cell replaced by the quietest run of all files."""
    merged = dict(raws[0])
    for part in ("runs", "stuck"):
        best: dict[tuple[str, int], dict[str, Any]] = {}
        for raw in raws:
            for run in raw.get(part, []):
                cell = (run["server"], run["audience"])
                if cell not in best or _load(run) < _load(best[cell]):
                    best[cell] = run
        merged[part] = sorted(
            best.values(), key=lambda r: (r["audience"], ORDER.index(r["server"]))
        )
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("raw", type=Path, nargs="*", help="results (default: docs/benchmarks.json)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.json")
    args = parser.parse_args()
    files = args.raw or [args.out]
    raw = merge([json.loads(path.read_text()) for path in files])
    if len(files) > 1:
        args.out.write_text(json.dumps(raw, indent=1) + "\n")
    args.raw = args.out
    from compare import DESCRIPTIONS

    settings = argparse.Namespace(slides=raw["runs"][0].get("slides"), vote_window="?")
    for flag, value in zip(raw.get("argv", [])[::2], raw.get("argv", [])[1::2], strict=False):
        if flag == "--vote-window":
            settings.vote_window = value
    md = args.raw.with_suffix(".md")
    plot(raw["runs"], args.raw.with_suffix(".png"))
    md.write_text(write(raw, settings, DESCRIPTIONS))
    print(f"wrote {md}", file=sys.stderr)


if __name__ == "__main__":
    main()
