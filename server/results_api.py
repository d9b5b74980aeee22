"""Results over HTTP for the presenter: sessions list, CSV and JSON exports, the results page."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Header, HTTPException, Query
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse

from server.export_html import from_row
from server.keys import key_matches
from server.pages import gate
from server.results import CSV_TABLES, compute, session_info
from server.sqlite_store import SQLiteStore


def results_router(db_path: Path, presenter_key: str, clients_dir: Path) -> APIRouter:
    """Routes that need the presenter key, given as `?key=` or an `X-Handsup-Key` header."""
    router = APIRouter()

    def check(key: str | None) -> None:
        if not key:
            raise HTTPException(401, "the presenter key is required")
        if not key_matches(key, presenter_key):
            raise HTTPException(403, "wrong presenter key")

    def read(session_id: int | None) -> Any:
        store = SQLiteStore(db_path)
        try:
            if session_id is None:
                rows = store.sessions()
                return [session_info(row, 0).model_dump(exclude={"participants"}) for row in rows]
            row = store.session(session_id)
            return compute(store, row) if row else None
        finally:
            store.close_reader()

    def keepsake_of(session_id: int) -> str | None:
        store = SQLiteStore(db_path)
        try:
            row = store.session(session_id)
            return from_row(store, row) if row else None
        finally:
            store.close_reader()

    @router.get("/api/sessions")
    async def sessions(
        key: str | None = Query(None), x_handsup_key: str | None = Header(None)
    ) -> JSONResponse:
        check(key or x_handsup_key)
        return JSONResponse(await asyncio.to_thread(read, None))

    @router.get("/api/sessions/{session_id}/results.{fmt}")
    async def results(
        session_id: int,
        fmt: str,
        key: str | None = Query(None),
        x_handsup_key: str | None = Header(None),
    ) -> Any:
        check(key or x_handsup_key)
        if fmt == "html":
            document = await asyncio.to_thread(keepsake_of, session_id)
            if document is None:
                raise HTTPException(404, f"no session {session_id}")
            name = f"handsup-session-{session_id}.html"
            return HTMLResponse(
                document,
                # The keepsake is a download, not a page of this site: no scripts, just styles.
                headers={
                    "Content-Disposition": f'attachment; filename="{name}"',
                    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                },
            )
        if fmt not in (*CSV_TABLES, "json"):
            raise HTTPException(404)
        found = await asyncio.to_thread(read, session_id)
        if found is None:
            raise HTTPException(404, f"no session {session_id}")
        if fmt == "json":
            return JSONResponse(found.model_dump())
        name = f"handsup-session-{session_id}.{fmt}"
        return PlainTextResponse(
            CSV_TABLES[fmt](found),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @router.get("/results", include_in_schema=False)
    async def page(key: str | None = None) -> FileResponse:
        # The page takes the key from its URL's fragment (#key=…) and sends it in a header;
        # an older link's ?key=… is still checked (server/pages.py).
        if key is not None:
            gate(key, presenter_key, "results")
        return FileResponse(
            clients_dir / "results" / "index.html", headers={"Cache-Control": "no-store"}
        )

    return router
