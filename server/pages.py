"""HTTP routes: the three client pages, deck assets, QR codes; with the security headers."""

from __future__ import annotations

import asyncio
import functools
import io
import ipaddress
import posixpath
from collections.abc import Callable
from pathlib import Path

import segno
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.keys import key_matches
from server.limits import AddressGuard

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https: http:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
ASSET_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".svg": "image/svg+xml",
}


class SecurityHeaders(BaseHTTPMiddleware):
    """Headers every response carries; pages get a strict Content-Security-Policy."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", PAGE_CSP)
        headers["X-Content-Type-Options"] = "nosniff"
        # The presenter URL carries its key: never send it to the sites behind link slides.
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Frame-Options"] = "DENY"
        return response


class KeyAttempts:
    """Wrong presenter keys over HTTP (`/presenter`, `/results`, `/api`) cost the address
    time, as on the socket: after a couple, it waits longer and longer (429) to try again."""

    def __init__(self, app: ASGIApp, keys: AddressGuard) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; count a 403 against its address, forgive a success."""
        if scope["type"] != "http" or not _carries_key(scope):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = str(client[0]) if client else "?"
        keys, now = self.keys, asyncio.get_running_loop().time()
        wait = keys.blocked(address, now)
        if wait > 0:
            text = f"too many wrong keys; try again in {wait:.0f} s\n"
            retry = {"Retry-After": str(max(1, round(wait)))}
            await Response(text, 429, retry, media_type="text/plain")(scope, receive, send)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        if status == 403:
            keys.offend(address, now)
        elif 200 <= status < 300:
            keys.forgive(address)


def gate(key: str, expected: str, who: str) -> None:
    """A key given in a page's query (an older link): 401 if empty, 403 if wrong."""
    if not key:
        raise HTTPException(401, f"the {who} page needs its key (the link printed at start-up)")
    if not key_matches(key, expected):
        raise HTTPException(403, f"wrong {who} key")


def _carries_key(scope: Scope) -> bool:
    if b"key=" in scope.get("query_string", b""):
        return True
    return any(name == b"x-handsup-key" for name, _ in scope["headers"])


def _from_this_machine(request: Request) -> bool:
    """A request from a browser on this machine, not relayed by a proxy."""
    if "x-forwarded-for" in request.headers or "forwarded" in request.headers:
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@functools.lru_cache(maxsize=256)
def qr_svg(data: str) -> bytes:
    """A QR code for `data` as a standalone SVG (dark on light, quiet zone kept)."""
    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="svg", scale=10, border=2, xmldecl=False)
    return buffer.getvalue()


def page_router(
    clients_dir: Path,
    deck_dir: Path,
    presenter_key: str,
    moderator_key: str,
    join_url: str | None,
    slide_url: Callable[[int], str | None],
    room_code: str = "",
    referenced: Callable[[], frozenset[str]] = frozenset,
) -> APIRouter:
    """Routes for pages, assets and QR codes. `referenced` gives the asset paths the deck
    uses now (relative to its folder, normalised): no other file is served."""
    router = APIRouter()

    def page(name: str) -> FileResponse:
        return FileResponse(
            clients_dir / name / "index.html", headers={"Cache-Control": "no-store"}
        )

    @router.get("/", include_in_schema=False)
    async def audience() -> FileResponse:
        return page("audience")

    @router.get("/display", include_in_schema=False)
    async def display() -> FileResponse:
        return page("display")

    @router.get("/display/room", include_in_schema=False)
    async def display_room(request: Request) -> dict[str, str]:
        # A display joins with the room code. The projector is most often driven by the
        # presenter's own laptop: there, a bare /display asks for the code here.
        if not room_code or not _from_this_machine(request):
            raise HTTPException(404, "open the display as /display?room=CODE")
        return {"room": room_code}

    # The printed links carry the key in the fragment (#key=…), which the browser keeps to
    # itself: the page is asked for without it, and sends the key in its socket's hello (the
    # page alone is no secret: its files are public under /static/). An older link's ?key=…
    # is still checked here, as before.
    @router.get("/presenter", include_in_schema=False)
    async def presenter(key: str | None = None) -> FileResponse:
        if key is not None:
            gate(key, presenter_key, "presenter")
        return page("presenter")

    @router.get("/moderate", include_in_schema=False)
    async def moderate(key: str | None = None) -> FileResponse:
        if key is not None:
            gate(key, moderator_key, "moderator")
        return page("moderate")

    @router.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, bool]:
        return {"ok": True}

    @router.get("/qr/join.svg", include_in_schema=False)
    async def join_qr() -> Response:
        # No QR code at all rather than one that points phones at this machine's loopback.
        if join_url is None:
            raise HTTPException(404, "phones cannot reach this server's address")
        return Response(qr_svg(join_url), media_type="image/svg+xml")

    @router.get("/qr/slide/{index}.svg", include_in_schema=False)
    async def slide_qr(index: int) -> Response:
        url = slide_url(index)
        if url is None:
            raise HTTPException(404)
        return Response(qr_svg(url), media_type="image/svg+xml")

    root = deck_dir.resolve()

    @router.get("/assets/{path:path}", include_in_schema=False)
    async def asset(path: str) -> FileResponse:
        # Only images, only from inside the deck's folder (symlinks resolved): never the deck
        # itself, whose notes and answers are the presenter's.
        if "\x00" in path or posixpath.normpath(path) not in referenced():
            raise HTTPException(404)  # the deck does not show it: nobody needs it
        target = (root / path).resolve()
        kind = IMAGE_TYPES.get(target.suffix.lower())
        if kind is None or not target.is_relative_to(root) or not target.is_file():
            raise HTTPException(404)
        return FileResponse(target, media_type=kind, headers={"Content-Security-Policy": ASSET_CSP})

    return router
