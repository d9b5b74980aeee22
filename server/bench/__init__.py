"""`handsup bench`: many simulated phones over real websockets, and the figures they measure.

Modules, one concept each: `dialect` (how messages are framed: handsup JSON or socket.io),
`conn` (one websocket client connection), `backoff` (the pages' redial policy), `phone` (a
simulated phone), `worker` (a process running many phones), `target` (the server under test:
spawned or found, its PID and memory), `stats` (percentiles), `report` (table and JSON),
`run` (the orchestration and the `bench` subcommand).
"""
