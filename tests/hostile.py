"""A hostile audience member's laptop, as a separate process: `python -m tests.hostile ATTACK`.

Each attack runs on plain blocking sockets (threads where it needs many at once), is bounded
in count and time, and prints one JSON line of what it saw, so that the test process only
measures the honest phones. Client frames use a zero mask (legal, and free to apply).
"""

from __future__ import annotations

import argparse
import json
import socket
import struct
import sys
import threading
import time
from collections import Counter
from typing import Any

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def frame(opcode: int, payload: bytes = b"") -> bytes:
    """One masked client frame (mask 0: the payload is sent as it is)."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    return head + b"\0\0\0\0" + payload


def text(message: dict[str, Any]) -> bytes:
    """A text frame holding `message` as JSON."""
    return frame(0x1, json.dumps(message).encode())


def dial(host: str, port: int, source: str, timeout: float = 10.0) -> socket.socket:
    """A TCP connection from the loopback address `source`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((source, 0))
    sock.settimeout(timeout)
    sock.connect((host, port))
    return sock


def upgrade(sock: socket.socket, host: str, port: int, role: str) -> str:
    """Ask for a websocket; the status line of the answer (`HTTP/1.1 101 …` if upgraded)."""
    request = (
        f"GET /ws/{role} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    sock.sendall(request.encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    return answer.partition(b"\r\n")[0].decode(errors="replace")


def read_frame(sock: socket.socket) -> tuple[int, bytes] | None:
    """One server frame (opcode, payload); None at the end of the stream."""

    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    try:
        first, second = exactly(2)
        size = second & 0x7F
        if size == 126:
            size = struct.unpack("!H", exactly(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", exactly(8))[0]
        return first & 0x0F, exactly(size)
    except (EOFError, OSError):
        return None


def flood_until_cut(sock: socket.socket, burst: bytes, until: float) -> tuple[int, bool]:
    """Write `burst` again and again without reading; (bursts written, whether cut off)."""
    sent = 0
    sock.settimeout(0.5)
    while time.monotonic() < until:
        try:
            sock.sendall(burst)
        except TimeoutError:
            continue  # the server stopped reading: its grace runs out, then it drops us
        except OSError:
            return sent, True
        sent += 1
    return sent, False


def flood(args: argparse.Namespace) -> dict[str, Any]:
    """`connections` sockets that join and write without reading (`--frames ping`: ping
    control frames; `message`: ping messages); each one cut off comes back at once (after
    50 ms), for `seconds`. Counts sessions, cuts, refusals, and the longest a socket flooded
    before it was cut."""
    seen: Counter[str] = Counter()
    longest = 0.0
    lock = threading.Lock()
    until = time.monotonic() + args.seconds
    one = frame(0x9) if args.frames == "ping" else text({"type": "ping"})
    per_burst = 64 * 1024 // len(one)
    burst = one * per_burst
    hello = text({"type": "hello", "room": args.room})

    def note(what: str, count: int = 1, flooded: float = 0.0) -> None:
        nonlocal longest
        with lock:
            seen[what] += count
            longest = max(longest, flooded)

    def flooder() -> None:
        while time.monotonic() < until:
            try:
                sock = dial(args.host, args.port, args.source, timeout=2)
            except OSError:
                note("connect_failed")
                time.sleep(0.05)
                continue
            try:
                status = upgrade(sock, args.host, args.port, "audience")
                if " 101 " not in status + " ":
                    note(f"refused {status.split(' ')[1] if ' ' in status else 'reset'}")
                    time.sleep(0.05)  # a script that retries, not a busy loop
                    continue
                note("sessions")
                sock.sendall(hello)
                started = time.monotonic()
                bursts, cut = flood_until_cut(sock, burst, until)
                note("frames", bursts * per_burst)
                if cut:
                    note("cut", flooded=time.monotonic() - started)
                else:
                    note("still_open")
            except OSError:
                note("cut")
            finally:
                sock.close()

    threads = [threading.Thread(target=flooder) for _ in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {**seen, "longest_flood_s": round(longest, 2)}


def displays(args: argparse.Namespace) -> dict[str, Any]:
    """`count` display sockets that say hello without the room code: how each one ended."""
    seen: Counter[str] = Counter()
    lock = threading.Lock()
    left = iter(range(args.count))
    hello = text({"type": "hello"})

    def one() -> str:
        try:
            sock = dial(args.host, args.port, args.source)
        except OSError:
            return "connect_failed"
        try:
            status = upgrade(sock, args.host, args.port, "display")
            if " 101 " not in status + " ":
                return f"http {status}"
            sock.sendall(hello)
            outcome = "open"
            while (got := read_frame(sock)) is not None:
                opcode, payload = got
                if opcode == 0x1:
                    kind = json.loads(payload)
                    outcome = kind.get("code") or kind["type"]
                    if kind["type"] == "welcome":
                        return "welcome"
                elif opcode == 0x8:
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 0
                    return f"{outcome} {code}"
            return f"{outcome} eof"
        except OSError as error:
            return f"error {type(error).__name__}"
        finally:
            sock.close()

    def worker() -> None:
        while True:
            with lock:
                index = next(left, None)
            if index is None:
                return
            outcome = one()
            with lock:
                seen[outcome] += 1

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return dict(seen)


def slowloris(args: argparse.Namespace) -> dict[str, Any]:
    """`count` sockets that send half an upgrade request and nothing more. Prints `ready`
    once all are open, then holds them until its standard input closes; reports how many the
    server had closed by then."""
    partial = f"GET /ws/audience HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n".encode()
    held: list[socket.socket] = []
    failed = 0
    for _ in range(args.count):
        try:
            sock = dial(args.host, args.port, args.source, timeout=5)
            sock.sendall(partial)
            held.append(sock)
        except OSError:
            failed += 1
    print(json.dumps({"ready": len(held), "failed": failed}), flush=True)
    sys.stdin.read()
    closed = 0
    for sock in held:
        sock.setblocking(False)
        try:
            closed += sock.recv(1 << 16) == b""
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        sock.close()
    return {"held": len(held), "failed": failed, "closed_by_server": closed}


def big_header(args: argparse.Namespace) -> dict[str, Any]:
    """A request whose one header never ends: `megabytes` of it, as fast as the server takes
    them (or one byte every `trickle` seconds). What came back, and when the server cut it."""
    sock = dial(args.host, args.port, args.source)
    sock.settimeout(0.2)
    started = time.monotonic()
    sent = 0
    cut = False
    answer = b""
    try:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
        chunk = b"a" * (1 if args.trickle else 65536)
        total = args.megabytes * 2**20
        while sent < total and time.monotonic() - started < args.seconds:
            try:
                sock.sendall(chunk)
                sent += len(chunk)
            except TimeoutError:
                pass  # the server is not reading: see whether it answered
            try:
                got = sock.recv(4096)
                if not got:
                    cut = True
                    break
                answer += got
            except TimeoutError:
                pass
            if args.trickle:
                time.sleep(args.trickle)  # the attack's own pace, not a synchronisation
    except OSError:
        cut = True
    elapsed = time.monotonic() - started
    if not cut:  # maybe answered and closed after the last send
        try:
            sock.settimeout(2)
            while got := sock.recv(4096):
                answer += got
            cut = True
        except OSError:
            cut = True
    sock.close()
    return {"sent": sent, "cut": cut, "cut_after_s": round(elapsed, 2),
            "answer": answer.partition(b"\r\n")[0].decode(errors="replace")}  # fmt: skip


def main() -> None:
    """Run one attack and print its JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("attack", choices=["flood", "displays", "slowloris", "big-header"])
    parser.add_argument("port", type=int)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--source", default="127.0.0.2", help="the attacker's address")
    parser.add_argument("--room", default="")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--megabytes", type=int, default=64)
    parser.add_argument("--trickle", type=float, default=0.0)
    parser.add_argument("--frames", choices=["ping", "message"], default="message")
    args = parser.parse_args()
    attack = {
        "flood": flood,
        "displays": displays,
        "slowloris": slowloris,
        "big-header": big_header,
    }[args.attack]
    print(json.dumps(attack(args)), flush=True)


if __name__ == "__main__":
    main()
