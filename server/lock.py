"""One server per data folder: an advisory lock (fcntl) held for as long as `serve` runs."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

LOCK_NAME = "handsup.lock"


class FolderInUse(Exception):
    """Another running server holds the folder's lock; the message says which process."""


def lock_folder(folder: Path) -> IO[str]:
    """Take the folder's lock and write our process id in it; keep the returned file open for
    as long as the lock should hold (the kernel releases it when the process exits, even on
    kill -9, so a crash never leaves the folder locked)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise FolderInUse(
            f"{folder} is in use by a running handsup server (process {holder}); stop it, "
            "or give this one its own folder with --data"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle
