"""Settings for one server: the deck, how to reach it, limits. Passed to the app factory."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

# Room codes avoid look-alike characters (0/O, 1/I/L) so they can be read off a projector.
ROOM_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


# `handsup serve`'s limit flags and the settings they set (a flag not given keeps the default).
LIMIT_FLAGS = {
    "max_frame": "max_frame_audience",
    "rate": "messages_per_second",
    "burst": "message_burst",
    "text_rate": "text_answers_per_second",
    "text_burst": "text_answer_burst",
    "max_per_address": "max_per_address",
    "max_displays": "max_displays",
    "max_header": "max_header",
    "header_timeout": "header_timeout",
    "connect_rate": "connect_rate",
    "connect_burst": "connect_burst",
    "stuck_after": "stuck_after",
    "keepalive": "keepalive",
}


def new_room_code(length: int = 5) -> str:
    """A short random code people type to join."""
    return "".join(secrets.choice(ROOM_ALPHABET) for _ in range(length))


def new_presenter_key() -> str:
    """A random presenter key, unguessable."""
    return secrets.token_urlsafe(24)


class Settings(BaseModel):
    """Everything `create_app` needs; the CLI fills it from flags and the environment."""

    model_config = ConfigDict(frozen=True)

    deck: Path
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = Field(
        default=None, description="base URL phones use, e.g. behind a proxy or tunnel"
    )
    presenter_key: str | None = Field(
        default=None, description="None: the resumed session's key, else a random one"
    )
    moderator_key: str | None = Field(
        default=None, description="None: one derived from the presenter key"
    )
    room_code: str | None = Field(
        default=None, description="None: the resumed session's code, else a random one"
    )
    data_dir: Path | None = Field(default=None, description="None: handsup-data/ beside the deck")
    new_session: bool = Field(default=False, description="start afresh, keeping old results")
    watch: bool = Field(default=True, description="reload the deck when its file is saved")
    presence_every: float = Field(
        default=0.0, description="seconds between the terminal's 'phones connected' line; 0: never"
    )
    clients_dir: Path = Path(__file__).resolve().parent.parent / "clients"
    tally_interval: float = Field(default=0.1, description="seconds between tally updates")
    stuck_after: float = Field(default=30.0, description="close a client blocked this long")
    keepalive: float = Field(
        default=20.0,
        description="ping a client silent this long, drop it after 3 times as long; 0: never",
    )
    trusted_proxies: frozenset[str] = Field(
        default=frozenset({"127.0.0.1", "::1"}),
        description="peers whose X-Forwarded-For names the client (a reverse proxy here)",
    )
    max_frame_audience: int = Field(default=4096, description="largest frame a phone may send")
    max_frame_presenter: int = 65536
    messages_per_second: float = Field(default=10.0, description="sustained, per connection")
    message_burst: float = Field(default=30.0, description="burst allowance, per connection")
    text_answers_per_second: float = Field(
        default=0.5, description="words or open answers, sustained, per participant"
    )
    text_answer_burst: float = Field(default=6.0, description="burst of them, per participant")
    # Holding an arrow key repeats it 30-60 times a second: the whole deck must go by.
    presenter_messages_per_second: float = Field(default=60.0, description="the presenter's")
    presenter_message_burst: float = Field(default=200.0, description="the presenter's burst")
    flood_strikes: int = Field(default=50, description="throttled in a row before closing")
    max_connections: int = Field(default=19_000, description="all connections together")
    room_connections: int | None = Field(
        default=None,
        description="with workers sharing a session (--redis): every worker's connections "
        "together, as `--max-connections` asked (None: each worker's own cap only)",
    )
    max_per_address: int = Field(
        default=12_000, description="one address: a whole hall can sit behind one venue NAT"
    )
    max_displays: int = Field(default=8, description="display sockets at once")
    max_header: int = Field(default=8192, description="bytes of an HTTP request line + headers")
    header_timeout: float = Field(
        default=5.0, description="seconds for an HTTP request line and headers to arrive"
    )
    connect_rate: float = Field(default=100.0, description="new connections/s per address")
    redis_url: str | None = Field(
        default=None, description="share the session through this Redis (several workers)"
    )
    mirror: bool = Field(
        default=True, description="with Redis: copy the applied log into the data folder"
    )
    connect_burst: float = Field(
        default=12_000.0, description="new connections at once per address (a NAT'd hall)"
    )

    @property
    def data_path(self) -> Path:
        """The folder holding the SQLite file."""
        return self.data_dir if self.data_dir is not None else self.deck.parent / "handsup-data"
