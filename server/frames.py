"""A message encoded once: its JSON text and, when first needed, its websocket frame bytes."""

from __future__ import annotations

import struct


class Frame:
    """One outgoing message; a broadcast builds one Frame and hands it to every client."""

    __slots__ = ("_wire", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._wire: bytes | None = None

    @property
    def wire(self) -> bytes:
        """The whole server-to-client websocket text frame (FIN, unmasked), built once."""
        if self._wire is None:
            payload = self.text.encode()
            size = len(payload)
            if size < 126:
                header = struct.pack("!BB", 0x81, size)
            elif size < 1 << 16:
                header = struct.pack("!BBH", 0x81, 126, size)
            else:
                header = struct.pack("!BBQ", 0x81, 127, size)
            self._wire = header + payload
        return self._wire
