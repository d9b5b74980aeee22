"""The naive peer: FastAPI's own websocket-docs pattern, speaking the handsup protocol.

A ConnectionManager keeps a list of websockets (one per role here) and broadcasts with
`for connection in self.active_connections: await connection.send_text(message)`, exactly as
https://fastapi.tiangolo.com/advanced/websockets/ shows, on uvicorn with its defaults
(uvloop, httptools, the `websockets` implementation). Same session rules and JSON as handsup
(bench/peerlogic.py); no durability, no rate limits.

Run: .venv/bin/python bench/naive_peer.py [--port 0] [--key K]
Prints `ready: http://127.0.0.1:PORT key=K` once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket

import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from peerlogic import ROLES, Talk

TALLY_INTERVAL = 0.1


class ConnectionManager:
    def __init__(self) -> None:
        self.active_connections: list[WebSocket] = []

    async def connect(self, websocket: WebSocket) -> None:
        self.active_connections.append(websocket)

    def disconnect(self, websocket: WebSocket) -> None:
        if websocket in self.active_connections:
            self.active_connections.remove(websocket)

    async def broadcast(self, message: str) -> None:
        for connection in self.active_connections:
            await connection.send_text(message)


def build(talk: Talk) -> FastAPI:
    app = FastAPI()
    managers = {role: ConnectionManager() for role in ROLES}
    dirty: set[str] = set()
    flushing: list[asyncio.Task[None]] = []

    async def flush_tallies() -> None:
        await asyncio.sleep(TALLY_INTERVAL)
        flushing.clear()
        polls = set(dirty)
        dirty.clear()
        for poll in polls:
            for role in talk.tally_roles(poll):
                await managers[role].broadcast(talk.tally_text(poll))

    @app.websocket("/ws/{role}")
    async def endpoint(websocket: WebSocket, role: str) -> None:
        if role not in ROLES:
            await websocket.close(4404)
            return
        await websocket.accept()
        participant: str | None = None
        admitted = False
        try:
            while True:
                message = json.loads(await websocket.receive_text())
                if not admitted:
                    frames, participant, admitted = talk.hello(role, message)
                    for text in frames:
                        await websocket.send_text(text)
                    if not admitted:
                        await websocket.close(4403)
                        return
                    await managers[role].connect(websocket)
                    continue
                outcome = talk.handle(role, participant, message)
                for text in outcome.replies:
                    await websocket.send_text(text)
                if outcome.restate:
                    for each in ROLES:
                        await managers[each].broadcast(talk.state_text(each))
                if outcome.tally:
                    dirty.add(outcome.tally)
                    if not flushing:
                        flushing.append(asyncio.create_task(flush_tallies()))
        except WebSocketDisconnect:
            pass
        finally:
            if admitted:
                managers[role].disconnect(websocket)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--key", default="peer-key")
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(4096)
    print(f"ready: http://127.0.0.1:{sock.getsockname()[1]} key={args.key}", flush=True)
    config = uvicorn.Config(build(Talk(key=args.key)), log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
