"""The limits' bookkeeping on its own (server/limits.py): counting, eviction, budgets, waits."""

from __future__ import annotations

from server.limits import AddressGuard, ConnectionLimiter


class Sock:
    """A counted socket that remembers being dropped."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.slot: str | None = None
        self.evicted = False

    def evict(self) -> None:
        self.evicted = True


def test_full_drops_the_oldest_socket_still_waiting_never_an_admitted_one() -> None:
    limiter = ConnectionLimiter(total=3, per_address=10, headroom=0)
    phone, loris1, loris2 = Sock("phone"), Sock("loris1"), Sock("loris2")
    for sock, address in ((phone, "a"), (loris1, "b"), (loris2, "b")):
        assert limiter.arrive(sock, address, 0.0) is None
    limiter.settle(phone)  # the room admitted it
    newcomer = Sock("new")
    assert limiter.arrive(newcomer, "c", 5.0) is None
    assert loris1.evicted and not loris2.evicted and not phone.evicted
    assert (limiter.count, limiter.waiting()) == (3, 2)
    limiter.release(loris1)  # its connection_lost comes later: already forgotten
    assert limiter.count == 3
    for sock in (loris2, newcomer):
        limiter.settle(sock)
    assert limiter.arrive(Sock("late"), "d", 6.0) == "the server is full (3 connections)"


def test_a_handshake_past_the_cap_pushes_out_as_many_waiting_sockets_as_it_takes() -> None:
    # Sockets are read up to `headroom` past the cap, so when one finishes its handshake
    # several may be over: pushing out one and letting the newcomer in let a hall capped at
    # 50 hold 51 (seen in a loaded run: 49 phones and two screens).
    limiter = ConnectionLimiter(total=3, per_address=100, headroom=4)
    admitted = [Sock(f"p{n}") for n in range(2)]
    for sock in admitted:
        assert limiter.arrive(sock, "a", 0.0) is None
        assert limiter.admit(sock, 0.0) is None
        limiter.settle(sock)
    slow = [Sock(f"slow{n}") for n in range(3)]  # accepted, their requests not read yet
    for sock in slow:
        assert limiter.arrive(sock, "a", 0.0) is None
    newcomer = Sock("new")
    assert limiter.arrive(newcomer, "a", 0.0) is None
    assert limiter.count == 6  # three past the cap, within the headroom
    assert limiter.admit(newcomer, 0.0) is None
    assert all(sock.evicted for sock in slow) and not newcomer.evicted
    assert limiter.count == 3, "the newcomer is in and the count is back at the cap"
    limiter.settle(newcomer)  # its hello: admitted by the room
    # With nothing left to push out, the next is refused.
    late = Sock("late")
    assert limiter.arrive(late, "a", 0.0) is None
    assert limiter.admit(late, 0.0) == "the server is full (3 connections)"


def test_at_the_cap_a_phone_still_shaking_hands_is_kept_and_the_newcomer_refused() -> None:
    # An honest phone gets its 101, then says hello a round trip later: within that time a
    # newcomer must not push it out (it would be dropped unexplained and redial), but be told
    # the server is full itself. A socket still sending its request has no such shield.
    limiter = ConnectionLimiter(total=2, per_address=10, headroom=1, evict_after=1.0)
    settled, head, shaking = Sock("settled"), Sock("head"), Sock("shaking")
    limiter.arrive(settled, "a", 0.0)
    limiter.settle(settled)
    limiter.arrive(head, "b", 10.0)
    limiter.replace(head, shaking, 10.0)  # its request was answered: a websocket now
    newcomer = Sock("newcomer")
    assert limiter.arrive(newcomer, "c", 10.2) is None, "read, so that it can be told why"
    assert limiter.admit(newcomer, 10.3) == "the server is full (2 connections)"
    assert not shaking.evicted
    limiter.release(newcomer)  # told so, and closed
    assert limiter.admit(shaking, 10.3) is None
    # A second on and still no hello: a newcomer pushes it out.
    again = Sock("again")
    assert limiter.arrive(again, "c", 11.5) is None
    assert limiter.admit(again, 11.5) is None and shaking.evicted
    # A socket that has not sent its request yet is pushed out at once, however new.
    limiter.settle(again)
    loris, late = Sock("loris"), Sock("late")
    assert limiter.arrive(loris, "d", 12.0) is None
    assert limiter.arrive(late, "e", 12.0) is None and loris.evicted


def test_per_address_cap_drops_that_address_own_waiting_socket() -> None:
    limiter = ConnectionLimiter(total=100, per_address=2, headroom=0)
    other, mine = Sock("other"), Sock("mine")
    limiter.arrive(other, "x", 0.0)
    limiter.arrive(mine, "y", 0.0)
    limiter.arrive(Sock("mine2"), "y", 0.5)
    assert limiter.arrive(Sock("mine3"), "y", 2.0) is None
    assert mine.evicted and not other.evicted


def test_the_handshake_check_refuses_past_the_cap_but_a_presenter_gets_in() -> None:
    limiter = ConnectionLimiter(total=2, per_address=10, headroom=1)
    for name in ("p1", "p2"):
        sock = Sock(name)
        limiter.arrive(sock, "a", 0.0)
        limiter.settle(sock)
    extra = Sock("extra")
    assert limiter.arrive(extra, "b", 0.0) is None, "read, so that it can be told why"
    assert limiter.admit(extra, 0.0) == "the server is full (2 connections)"
    assert limiter.admit(extra, 0.0, capped=False) is None
    limiter.settle(extra)  # the presenter said hello
    assert limiter.arrive(Sock("beyond"), "c", 0.0) is not None, "past the headroom: refused"


def test_a_room_wide_cap_counts_the_other_workers_sockets_too() -> None:
    limiter = ConnectionLimiter(total=10, per_address=10, headroom=0, room_total=4)
    elsewhere = 3
    limiter.elsewhere = lambda: elsewhere  # what the other workers last published
    mine = Sock("mine")
    assert limiter.arrive(mine, "a", 0.0) is None
    limiter.settle(mine)
    full = "the room is full (4 connections on every worker together)"
    assert limiter.arrive(Sock("fifth"), "b", 0.0) == full, "one here and three elsewhere: full"
    elsewhere = 2  # a phone left another worker
    late = Sock("late")
    assert limiter.arrive(late, "b", 0.0) is None
    assert limiter.admit(late, 0.0) is None


def test_a_socket_moves_between_addresses_and_protocols_keeping_one_place() -> None:
    limiter = ConnectionLimiter(total=10, per_address=10)
    gate, websocket = Sock("gate"), Sock("ws")
    limiter.arrive(gate, "proxy", 0.0)
    limiter.replace(gate, websocket, 0.0)
    assert (gate.slot, websocket.slot, limiter.count) == (None, "proxy", 1)
    limiter.readdress(websocket, "client")
    assert dict(limiter.by_address) == {"client": 1} and limiter.waiting() == 1
    limiter.release(websocket)
    limiter.release(websocket)
    limiter.release(gate)
    assert (limiter.count, dict(limiter.by_address), limiter.waiting()) == (0, {}, 0)


def test_connect_budget_refills_and_offences_make_an_address_wait_longer() -> None:
    guard = AddressGuard(rate=10, burst=3, free=2, first_wait=1, max_wait=4, forget_after=30)
    assert [guard.connect("a", 0.0) for _ in range(3)] == [0, 0, 0]
    assert 0 < guard.connect("a", 0.0) <= 0.1
    assert guard.connect("a", 0.2) == 0, "refilled at 10 a second"
    assert guard.connect("b", 0.0) == 0, "each address has its own budget"
    waits = [guard.offend("a", 1.0) for _ in range(6)]
    assert waits == [0, 0, 1, 2, 4, 4]
    assert guard.connect("a", 2.0) > 0 and guard.blocked("a", 4.5) == 0.5
    assert guard.connect("a", 5.1) == 0
    assert guard.offend("a", 100.0) == 0, "forgotten after 30 s without an offence"
    guard.offend("a", 100.0)
    assert guard.offend("a", 100.0) == 1
    guard.forgive("a")
    assert guard.blocked("a", 100.0) == 0
    guard.prune(1000.0)
    assert len(guard) == 0
