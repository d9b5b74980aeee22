"""Should handsup's sockets use permessage-deflate? Measure it on the frames it really sends.

Every slide of deck.md is put on screen in a real Session, and the `state` each phone gets
is encoded exactly as the server does; a few tallies are added. Then, per phone per slide
change: the bytes on the wire and the server CPU to produce them, with

- none: what handsup sends (one frame built once for every phone);
- shared: deflate with no context takeover, so one compressed frame could go to everyone;
- per-socket: deflate with context takeover (uvicorn's default settings: 12-bit windows,
  memLevel 5), which compresses best but must compress each frame for each phone, and keeps
  a compressor and a decompressor per connection (their memory is measured too).

Run: .venv/bin/python bench/deflate_bench.py [--phones 200]
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
import zlib
from pathlib import Path

from server.commands import GoTo
from server.protocol import StateMessage, TallyMessage
from server.session import Session
from server.views import Views
from slides import parse_deck

ROOT = Path(__file__).resolve().parent.parent
TAIL = b"\x00\x00\xff\xff"  # what RFC 7692 strips from each compressed message


def frames() -> list[bytes]:
    """The audience state of every slide of deck.md, and a tally after each poll slide."""
    deck = parse_deck((ROOT / "deck.md").read_text(), "deck.md")
    session = Session(deck)
    views = Views(session, {"url": "http://192.168.1.20:8000/?room=ABCDE", "warning": None})
    out = []
    for index, slide in enumerate(deck.slides):
        session.apply(GoTo(index))
        out.append(StateMessage(state=views.state("audience")).model_dump_json().encode())
        if slide.poll:
            counts = [1234 + 17 * n for n in range(len(slide.poll.options))]
            tally = TallyMessage(poll=slide.poll.id, counts=counts, voters=sum(counts))
            out.append(tally.model_dump_json().encode())
    return out


def deflate_once(payload: bytes) -> bytes:
    """No context takeover: a fresh compressor per message (what 'shared' would send)."""
    compressor = zlib.compressobj(wbits=-15)
    data = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return data.removesuffix(TAIL)


def per_socket_compressor() -> zlib._Compress:
    return zlib.compressobj(wbits=-12, memLevel=5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phones", type=int, default=200)
    args = parser.parse_args()
    messages = frames()
    raw = [len(m) for m in messages]

    started = time.perf_counter()
    shared = [len(deflate_once(m)) for m in messages]
    shared_us = (time.perf_counter() - started) * 1e6 / len(messages)  # once per broadcast

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    sockets = [(per_socket_compressor(), zlib.decompressobj(wbits=-12)) for _ in range(args.phones)]
    for compressor, _ in sockets:  # a compressor allocates its window on first use
        compressor.compress(messages[0])
        compressor.flush(zlib.Z_SYNC_FLUSH)
    memory_kib = (tracemalloc.get_traced_memory()[0] - before) / 1024 / args.phones
    tracemalloc.stop()

    sockets = [(per_socket_compressor(), None) for _ in range(args.phones)]  # fresh streams
    sizes: list[int] = []
    started = time.perf_counter()
    for message in messages:
        for compressor, _ in sockets:
            data = compressor.compress(message) + compressor.flush(zlib.Z_SYNC_FLUSH)
            sizes.append(len(data) - len(TAIL))
    per_socket_us = (time.perf_counter() - started) * 1e6 / (len(messages) * args.phones)
    per_socket = sizes[:: args.phones]  # the first phone's stream; every phone's is the same

    def mean(values: list[int]) -> float:
        return statistics.fmean(values)

    print(f"{len(messages)} frames from deck.md (states and tallies), {args.phones} phones")
    print()
    print("| mode | bytes per frame, mean | vs none | CPU per phone per frame | memory per phone |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| none | {mean(raw):.0f} | 1.00x | 0 µs | 0 KiB |")
    print(
        f"| shared (no context takeover) | {mean(shared):.0f} | "
        f"{mean(shared) / mean(raw):.2f}x | {shared_us:.0f} µs once per broadcast | 0 KiB |"
    )
    print(
        f"| per-socket (context takeover) | {mean(per_socket):.0f} | "
        f"{mean(per_socket) / mean(raw):.2f}x | {per_socket_us:.1f} µs | {memory_kib:.0f} KiB |"
    )


if __name__ == "__main__":
    main()
