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
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # it will hold the presenter key
    path = folder / LOCK_NAME
    # Private like everything in the folder (0600 whatever the umask).
    handle = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600), "a+")
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
