"""`POST /api/stalls` with several workers: every worker's loop figures, not just those of
the one that took the request.

Each worker watches its own loop (server.stalls); the kernel hands the request to whichever
worker accepts it. That worker publishes a request on a Redis channel; every worker (itself
included) takes its window and pushes it onto a list named after the request; the asker
waits for as many windows as workers received the request (PUBLISH counts them), for at
most `WAIT` seconds, and answers with the worst of them (server.stalls.combine) and each
one. Pub/sub loses a request only while Redis is away, and then the asker answers with its
own window, saying so. Nothing here is on a phone's path: it is the bench's measuring tool.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from server.stalls import Window

if TYPE_CHECKING:
    import redis.asyncio

CHANNEL = "handsup:stalls"
REPLIES = "handsup:stalls:"  # + the request's id: a list of the workers' windows
WAIT = 2.0  # seconds to wait for every worker's window (a worker held longer is left out)
KEEP = 60  # seconds a request's list lives in Redis (a late window is dropped with it)
RETRY = 1.0  # seconds between attempts to listen again while Redis is away
_LOG = logging.getLogger("handsup.redis")


@dataclasses.dataclass
class Gathered:
    """The windows the workers sent, and how many workers were asked (0: Redis was away)."""

    windows: list[dict[str, Any]]
    asked: int


class WorkerStalls:
    """This worker's part: answer every worker's request with its window, and ask them all."""

    def __init__(self, url: str, worker: str, take: Callable[[], Window]) -> None:
        self.url = url
        self.worker = worker
        self.take = take
        self._client: redis.asyncio.Redis | None = None
        self._listening: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        """Connect, and answer requests from now on: once it returns, a worker that serves
        is one that answers (unless Redis is away: then it listens once Redis is back)."""
        import redis.asyncio

        self._client = redis.asyncio.Redis.from_url(
            self.url, decode_responses=True, socket_timeout=WAIT + 5, socket_connect_timeout=2
        )
        self._listening = asyncio.create_task(self._listen())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), WAIT)

    async def close(self) -> None:
        """Stop answering, and disconnect."""
        if self._listening is not None:
            self._listening.cancel()
            await asyncio.gather(self._listening, return_exceptions=True)
            self._listening = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def mine(self) -> dict[str, Any]:
        """This worker's window, taken now (a new one begins), marked with who it is."""
        return {"worker": self.worker, "pid": os.getpid(), **self.take().rounded()}

    async def gather(self) -> Gathered:
        """Every worker's window, this one's included; this one's alone if Redis is away."""
        client = self._client
        if client is None:
            return Gathered([self.mine()], 0)
        request = secrets.token_hex(8)
        replies = REPLIES + request
        try:
            asked = int(await client.publish(CHANNEL, request))
            windows: list[dict[str, Any]] = []
            deadline = time.monotonic() + WAIT
            while len(windows) < asked:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                popped = await client.blpop([replies], timeout=left)
                if popped is None:
                    break
                windows.append(json.loads(popped[1]))
            with contextlib.suppress(Exception):
                await client.delete(replies)
        except Exception:  # Redis away: what this worker alone saw, said to be only that
            return Gathered([self.mine()], 0)
        if not any(w["worker"] == self.worker for w in windows):
            # Not subscribed yet (just started), or its own reply was late: still its own.
            windows.append(self.mine())
        return Gathered(windows, asked)

    async def _listen(self) -> None:
        assert self._client is not None
        while True:
            try:
                async with self._client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self._subscribed.set()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            await self._answer(str(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis away (server.redis_log reports it): listen again later
                _LOG.debug("stall requests: not listening", exc_info=True)
                await asyncio.sleep(RETRY)

    async def _answer(self, request: str) -> None:
        assert self._client is not None
        replies = REPLIES + request
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.rpush(replies, json.dumps(self.mine()))
            pipe.expire(replies, KEEP)
            await pipe.execute()
