"""The handsup server: live session core, websocket hub, storage, web app and CLI."""
