"""HTTP routes: the three client pages, deck assets, QR codes; with the security headers."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from pathlib import Path

import segno
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from server.keys import key_matches

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
) -> APIRouter:
    """Routes for pages, assets and QR codes."""
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

    @router.get("/presenter", include_in_schema=False)
    async def presenter(key: str | None = None) -> FileResponse:
        if not key:
            raise HTTPException(401, "the presenter page needs ?key=… (printed at start-up)")
        if not key_matches(key, presenter_key):
            raise HTTPException(403, "wrong presenter key")
        return page("presenter")

    @router.get("/moderate", include_in_schema=False)
    async def moderate(key: str | None = None) -> FileResponse:
        if not key:
            raise HTTPException(401, "the moderator page needs ?key=… (printed at start-up)")
        if not key_matches(key, moderator_key):
            raise HTTPException(403, "wrong moderator key")
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
        if "\x00" in path:
            raise HTTPException(404)
        target = (root / path).resolve()
        kind = IMAGE_TYPES.get(target.suffix.lower())
        if kind is None or not target.is_relative_to(root) or not target.is_file():
            raise HTTPException(404)
        return FileResponse(target, media_type=kind, headers={"Content-Security-Policy": ASSET_CSP})

    return router
