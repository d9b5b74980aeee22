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
from server.keys import key_matches
from server.limits import AddressGuard, ConnectionLimiter, Door, TokenBucket
from server.protocol import CLIENT_MESSAGE, ErrorMessage, Hello, Role
from server.room import Denied, Room

ROLE_NAMES: tuple[Role, ...] = ("audience", "display", "presenter", "moderator")
HELLO_TIMEOUT = 10.0  # seconds a new connection has to say hello
BAD_KEY = 4403  # the close code of a refused presenter key (server.room)


@dataclass(frozen=True)
class SocketPolicy:
    """What one connection may do: frame size, message rate, who it may come from."""

    max_frame: int
    rate: float
    burst: float
    flood_strikes: int
    limiter: ConnectionLimiter
    public_origin: str | None


@dataclass(frozen=True)
class Guards:
    """Per-address memory shared by every socket: offences (floods, silence) and key guesses."""

    doors: AddressGuard  # new connections per address, and the wait after offences
    keys: AddressGuard  # wrong presenter keys per address
    max_displays: int  # display sockets at once (each one receives every live tally)


def _error(code: str, message: str) -> str:
    return ErrorMessage(code=code, message=message).model_dump_json()


def describe(error: ValidationError) -> str:
    """A short, human account of why a message did not fit the protocol."""
    first = error.errors()[0]
    if first["type"] == "json_invalid":
        return "not valid JSON"
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


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
        *,
        guards: Guards,
    ) -> None:
        self.room = room
        self.policies = policies
        self.now = now  # the event loop's clock
        self.trusted_proxies = trusted_proxies
        self.guards = guards
        self.limiter = policies["audience"].limiter  # one for every role
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

    def trusts(self, peer: str) -> bool:
        """Whether `peer` is a reverse proxy whose X-Forwarded-For names the client."""
        return peer in self.trusted_proxies or "*" in self.trusted_proxies

    def door_wait(self, peer: str, address: str) -> float:
        """Seconds the client at `address` must wait before this socket is let in (0: now).

        A socket straight from its client was counted against the client's budget of new
        connections when accepted (`server.gate`). A trusted proxy relays everyone, so its
        sockets are counted here instead, against the client it names: behind nginx each
        phone has its own budget and waits after its own offences, not nginx's."""
        if not self.trusts(peer):
            return 0.0
        return self.guards.doors.connect(address, self.now())

    def client_address(self, peer: str, forwarded_for: str | None) -> str:
        """Who is at the other end: the peer, or behind a trusted reverse proxy the nearest
        address in X-Forwarded-For that is not itself a trusted proxy."""
        trusted = self.trusted_proxies
        if forwarded_for is None or not self.trusts(peer):
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        if "*" in trusted:  # every proxy is trusted (as uvicorn's "*"): the first address
            return hops[0] if hops else peer
        for hop in reversed(hops):
            if hop not in trusted:
                return hop
        return peer

    def start(self, role: Role, address: str, link: Link, door: Door) -> Conversation | None:
        """Begin an accepted socket's conversation; None if the server is full (the client
        is told so and the socket closed). `door` is how the limiter counts the socket."""
        policy = self.policies[role]
        full = policy.limiter.admit(door, self.now(), capped=role != "presenter")
        if full is not None:
            link.write(Frame(_error("server_full", full)).wire)
            link.close(1013, "try again later")
            return None
        return Conversation(self, Client(role, address, link), policy, door)

    def offence(self, address: str) -> None:
        """This address misbehaved (a flood, a socket that never said hello): it may have to
        wait before it connects again."""
        self.guards.doors.offend(address, self.now())

    def screen_refusal(self, hello: Hello, address: str) -> Denied | None:
        """Why a display's hello is refused, or None. A display joins with the room code (it
        is on the projector) or the presenter key, and only while displays are few: each one
        receives every live tally."""
        if hello.key is not None:
            wait = self.key_wait(address)
            if wait > 0:
                return Denied(1013, "slow_down", f"too many wrong keys; try again in {wait:.0f} s")
            if not self._key_matches(hello.key, address):
                return Denied(BAD_KEY, "bad_key", "the presenter key is missing or wrong")
        elif (hello.room or "").strip().upper() != self.room.room_code:
            return Denied(4404, "bad_room", "a display joins with the room code (?room=CODE)")
        limit = self.guards.max_displays
        # Room-wide: with workers sharing the session, the others' displays count too.
        if self.room.tallies.counts()["display"] >= limit:
            return Denied(1013, "server_full", f"too many displays ({limit})")
        return None

    def key_wait(self, address: str) -> float:
        """Seconds before this address may try a presenter key again (0: now)."""
        return self.guards.keys.blocked(address, self.now())

    def key_tried(self, address: str, right: bool) -> None:
        """Remember a key tried from `address`: wrong ones make it wait longer and longer."""
        if right:
            self.guards.keys.forgive(address)
        else:
            self.guards.keys.offend(address, self.now())

    def _key_matches(self, key: str, address: str) -> bool:
        right = key_matches(key, self.room.presenter_key)
        self.key_tried(address, right)
        return right


class Conversation:
    """One socket's messages: rate and size limits, parsing, hello first, then the room."""

    __slots__ = ("_bucket", "_door", "_endpoint", "_hello_timer", "admitted", "client", "policy")

    def __init__(
        self, endpoint: Endpoint, client: Client, policy: SocketPolicy, door: Door
    ) -> None:
        self._endpoint = endpoint
        self._door = door
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
        if not self._bucket.allow(self._endpoint.now()):
            self._throttled()
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
            if not _utf8(text):  # RFC 6455 §8.1: text frames are UTF-8, or the socket fails
                client.close(1007, "text frames must be UTF-8")
                return
            client.reply(_error("bad_message", describe(error)))
            return
        room = self._endpoint.room
        if self.admitted:
            room.handle(client, parsed)
        elif not isinstance(parsed, Hello):
            client.reply(_error("hello_first", "send a hello message first"))
        else:
            self._hello(parsed)

    def control(self) -> None:
        """A ping or pong frame arrived: it costs from the same budget as a message (the
        protocol answers pings by itself, so a ping flood is otherwise free)."""
        if not self.client.closed and not self._bucket.allow(self._endpoint.now()):
            self._throttled()

    def end(self) -> None:
        """The socket is gone: forget the client."""
        self._cancel_timer()
        if self.admitted:
            self._endpoint.room.leave(self.client)
        self.client.shutdown()

    def _hello(self, hello: Hello) -> None:
        client, endpoint = self.client, self._endpoint
        try:
            if client.role == "presenter":
                wait = endpoint.key_wait(client.address)
                if wait > 0:
                    raise Denied(
                        1013, "slow_down", f"too many wrong keys; try again in {wait:.0f} s"
                    )
            elif client.role == "display":
                refusal = endpoint.screen_refusal(hello, client.address)
                if refusal is not None:
                    raise refusal
            endpoint.room.admit(client, hello)
        except Denied as denied:
            if client.role == "presenter" and denied.close_code == BAD_KEY:
                endpoint.key_tried(client.address, right=False)
            client.reply(denied.frame)
            client.close(denied.close_code, str(denied))
            return
        if client.role == "presenter":
            endpoint.key_tried(client.address, right=True)
        self.admitted = True
        self.policy.limiter.settle(self._door)
        self._cancel_timer()

    def _throttled(self) -> None:
        client, strikes = self.client, self._bucket.strikes
        if strikes >= self.policy.flood_strikes:
            client.close(1008, "too many messages")
            self._endpoint.offence(client.address)
        elif strikes == 1:
            client.reply(_error("slow_down", "too many messages; some were dropped"))

    def _no_hello(self) -> None:
        self._hello_timer = None
        self.client.close(1008, "no hello")
        self._endpoint.offence(self.client.address)

    def _cancel_timer(self) -> None:
        if self._hello_timer is not None:
            self._hello_timer.cancel()
            self._hello_timer = None
