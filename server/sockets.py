"""The websocket endpoint: who may open a socket, and each socket's conversation with the room.

Sans-I/O: `server.connection` owns the bytes; here a handshake is checked (path, origin) and
each message is limited, parsed and handed to the room, whose replies go out through the
client's link.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import ValidationError

from server.frames import Frame
from server.hub import Client, Link
from server.limits import ConnectionLimiter, TokenBucket
from server.protocol import CLIENT_MESSAGE, ErrorMessage, Hello, Role
from server.room import Denied, Room

ROLE_NAMES: tuple[Role, ...] = ("audience", "display", "presenter", "moderator")
HELLO_TIMEOUT = 10.0  # seconds a new connection has to say hello


@dataclass(frozen=True)
class SocketPolicy:
    """What one connection may do: frame size, message rate, who it may come from."""

    max_frame: int
    rate: float
    burst: float
    flood_strikes: int
    limiter: ConnectionLimiter
    public_origin: str | None


def _error(code: str, message: str) -> str:
    return ErrorMessage(code=code, message=message).model_dump_json()


def describe(error: ValidationError) -> str:
    """A short, human account of why a message did not fit the protocol."""
    first = error.errors()[0]
    if first["type"] == "json_invalid":
        return "not valid JSON"
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def origin_allowed(origin: str | None, host: str | None, public_origin: str | None) -> bool:
    """A browser's Origin must be this server (as the page's Host, or the public URL).

    Clients that send no Origin are not browsers, so no other site is driving them.
    """
    if origin is None:
        return True
    parts = urlsplit(origin)
    if parts.netloc and host and parts.netloc.lower() == host.lower():
        return True
    return public_origin is not None and origin.rstrip("/").lower() == public_origin.lower()


def role_of(path: str) -> Role | None:
    """The role a socket path asks for (`/ws/audience?…` → audience), if it is one."""
    name = path.partition("?")[0].removeprefix("/ws/")
    for role in ROLE_NAMES:
        if name == role:
            return role
    return None


class Endpoint:
    """Decides who may open a socket and starts each accepted one's conversation."""

    def __init__(
        self,
        room: Room,
        policies: Mapping[Role, SocketPolicy],
        now: Callable[[], float],
        trusted_proxies: Collection[str] = (),
    ) -> None:
        self.room = room
        self.policies = policies
        self.now = now  # the event loop's clock
        self.trusted_proxies = trusted_proxies
        # The protocol refuses frames past this size outright; the role's own limit is checked
        # per message so that the phone gets an error it can show.
        self.max_size = max(policy.max_frame for policy in policies.values())

    def refusal(
        self, role: Role | None, origin: str | None, host: str | None
    ) -> tuple[int, str] | None:
        """Why a handshake for `role` (None: a path that names none) is refused (HTTP status,
        text), or None to accept it."""
        if role is None:
            return 404, "no such socket\n"
        if not origin_allowed(origin, host, self.policies[role].public_origin):
            # Refused before the handshake: a page on another site cannot hold a socket here.
            return 403, "this server does not accept sockets from that page\n"
        return None

    def client_address(self, peer: str, forwarded_for: str | None) -> str:
        """Who is at the other end: the peer, or behind a trusted reverse proxy the nearest
        address in X-Forwarded-For that is not itself a trusted proxy."""
        trusted = self.trusted_proxies
        if forwarded_for is None or (peer not in trusted and "*" not in trusted):
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        if "*" in trusted:  # every proxy is trusted (as uvicorn's "*"): the first address
            return hops[0] if hops else peer
        for hop in reversed(hops):
            if hop not in trusted:
                return hop
        return peer

    def start(self, role: Role, address: str, link: Link) -> Conversation | None:
        """Begin an accepted socket's conversation; None if the server is full (the client
        is told so and the socket closed)."""
        policy = self.policies[role]
        full = policy.limiter.admit(address, capped=role != "presenter")
        if full is not None:
            link.write(Frame(_error("server_full", full)).wire)
            link.close(1013, "try again later")
            return None
        return Conversation(self, Client(role, address, link), policy)


class Conversation:
    """One socket's messages: rate and size limits, parsing, hello first, then the room."""

    __slots__ = ("_bucket", "_endpoint", "_hello_timer", "admitted", "client", "policy")

    def __init__(self, endpoint: Endpoint, client: Client, policy: SocketPolicy) -> None:
        self._endpoint = endpoint
        self.client = client
        self.policy = policy
        self.admitted = False
        self._bucket = TokenBucket(policy.rate, policy.burst)
        self._hello_timer: asyncio.TimerHandle | None = asyncio.get_running_loop().call_later(
            HELLO_TIMEOUT, self._no_hello
        )

    def receive(self, text: bytes | None) -> None:
        """Act on one message: JSON text as bytes, or None for a binary one."""
        client, policy = self.client, self.policy
        if client.closed:
            return
        bucket = self._bucket
        if not bucket.allow(self._endpoint.now()):
            if bucket.strikes >= policy.flood_strikes:
                client.close(1008, "too many messages")
            elif bucket.strikes == 1:
                client.reply(_error("slow_down", "too many messages; some were dropped"))
            return
        if text is None:
            client.reply(_error("binary", "binary frames are not accepted; send JSON text"))
            return
        if len(text) > policy.max_frame:
            limit = policy.max_frame
            client.reply(_error("too_large", f"frames are limited to {limit} bytes"))
            return
        try:
            parsed = CLIENT_MESSAGE.validate_json(text)
        except ValidationError as error:
            client.reply(_error("bad_message", describe(error)))
            return
        room = self._endpoint.room
        if self.admitted:
            room.handle(client, parsed)
        elif not isinstance(parsed, Hello):
            client.reply(_error("hello_first", "send a hello message first"))
        else:
            try:
                room.admit(client, parsed)
            except Denied as denied:
                client.reply(denied.frame)
                client.close(denied.close_code, str(denied))
                return
            self.admitted = True
            self._cancel_timer()

    def end(self) -> None:
        """The socket is gone: forget the client and give back its place."""
        self._cancel_timer()
        self.policy.limiter.release(self.client.address)
        if self.admitted:
            self._endpoint.room.leave(self.client)
        self.client.shutdown()

    def _no_hello(self) -> None:
        self._hello_timer = None
        self.client.close(1008, "no hello")

    def _cancel_timer(self) -> None:
        if self._hello_timer is not None:
            self._hello_timer.cancel()
            self._hello_timer = None
