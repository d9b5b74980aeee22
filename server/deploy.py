"""`handsup deploy nginx`: print an nginx configuration that puts workers behind nginx.

The figures that must agree with the server are worked out here from the server's own
settings, so that the two cannot drift apart: nginx's timeouts from the keepalive ping, the
header buffers from the server's header limit, the idle upstream connections from uvicorn's
keep-alive. docs/deployment.md explains each choice; `deploy/nginx.conf` is the output for
the defaults (a test keeps them equal).
"""

from __future__ import annotations

import argparse
import inspect
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from server.app import DEAD_AFTER
from server.settings import Settings

KEEPALIVE: float = Settings.model_fields["keepalive"].default
MAX_HEADER: int = Settings.model_fields["max_header"].default
CLIENTS: Path = Settings.model_fields["clients_dir"].default
# uvicorn closes an idle keep-alive connection after this long; `handsup serve` keeps it.
UVICORN_KEEP_ALIVE: float = (
    inspect.signature(uvicorn.Config).parameters["timeout_keep_alive"].default
)
# Seconds nginx waits past the server's own drop of a silent socket: the server's sweep runs
# once a second, and a loaded loop may run it late.
SLACK = 10
DISTRO_ACCESS_LOG = "/var/log/nginx/handsup-access.log"


@dataclass(frozen=True)
class NginxOptions:
    """What `handsup deploy nginx` was asked for."""

    listen: str = "80"
    upstreams: tuple[str, ...] = ("127.0.0.1:8000",)
    server_name: str = "_"
    keepalive: float = KEEPALIVE
    static: Path | None = None  # nginx serves /static/ from here; None: the workers do
    worker_connections: int = 40_960
    http_only: bool = False  # just the part that goes inside a distro nginx's http {}
    tls_certificate: Path | None = None
    tls_key: Path | None = None
    access_log: str | None = None  # None: access.log under the prefix, or the distro's logs


def proxy_timeout(keepalive: float) -> int:
    """Seconds nginx lets a proxied socket go without a byte, either way.

    The server pings a socket silent for `keepalive` seconds (a browser answers by itself)
    and drops it once silent for DEAD_AFTER times that: a live socket never goes that long
    without bytes in both directions. nginx waits longer still, so that the server, which
    knows the session, always decides when a phone is gone.
    """
    if keepalive <= 0:
        raise ValueError("the keepalive ping must be on (> 0) behind nginx")
    return math.ceil(DEAD_AFTER * keepalive) + SLACK


def header_buffers() -> tuple[int, int]:
    """nginx's `large_client_header_buffers` (count, size): a request nginx forwards always
    fits the server's header limit, so nginx refuses an oversized one itself rather than pass
    on what the server would refuse (431) as an offence."""
    size = MAX_HEADER // 8
    return 4, size  # at most 4 + 1 buffers of it, plus the few headers nginx adds


def upstream_idle() -> int:
    """Seconds nginx keeps an idle connection to a worker: less than uvicorn does, so that
    nginx never sends a request down a connection the worker is closing."""
    return max(1, math.ceil(UVICORN_KEEP_ALIVE) - 1)


_TYPES = """\
types {
    text/html html;
    text/css css;
    application/javascript js mjs;
    application/json json;
    image/svg+xml svg;
    image/png png;
    image/jpeg jpg jpeg;
    image/gif gif;
    image/webp webp;
    image/avif avif;
    image/x-icon ico;
    font/woff2 woff2;
    text/plain txt;
}
default_type application/octet-stream;
"""


def _indent(text: str, by: str = "    ") -> str:
    return "".join(by + line if line.strip() else line for line in text.splitlines(keepends=True))


def _proxy(options: NginxOptions) -> str:
    timeout = proxy_timeout(options.keepalive)
    return f"""\
proxy_pass http://handsup;
# Websockets: HTTP/1.1 to the workers, Upgrade and Connection passed on (Connection
# left empty for page loads, so that they reuse the idle connections above).
proxy_http_version 1.1;
proxy_set_header Upgrade $http_upgrade;
proxy_set_header Connection $handsup_connection;
# The Host as the browser sent it, port included: the server checks Origin against it.
proxy_set_header Host $http_host;
# Who is at the other end. The server believes X-Forwarded-For from the addresses
# in --forwarded-allow-ips (127.0.0.1 and ::1 by default: nginx on the same machine)
# and takes the last address in it that is not one of them: what a phone writes
# there itself is ignored.
proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
proxy_set_header X-Real-IP $remote_addr;
proxy_set_header X-Forwarded-Proto $scheme;
# A worker that is down is skipped at once (refused) or after 3 s (host gone).
proxy_connect_timeout 3s;
proxy_next_upstream error timeout;
# Above the server's ping: it pings a socket silent {options.keepalive:g} s and drops
# it after {DEAD_AFTER * options.keepalive:g} s: a live socket never goes {timeout} s silent.
proxy_read_timeout {timeout}s;
proxy_send_timeout {timeout}s;
send_timeout {timeout}s;
"""


def _static(options: NginxOptions) -> str:
    if options.static is None:
        return ""
    folder = options.static.resolve()
    return f"""
# The pages' scripts and styles from disk, as the workers would serve them (they load even
# while every worker restarts); the same headers as the server's.
location /static/ {{
    alias {_string(f"{folder}/")};
    add_header X-Content-Type-Options nosniff always;
    add_header Referrer-Policy no-referrer always;
    add_header X-Frame-Options DENY always;
}}
"""


def _server(options: NginxOptions) -> str:
    count, size = header_buffers()
    access_log = options.access_log or (DISTRO_ACCESS_LOG if options.http_only else "access.log")
    tls = options.tls_certificate is not None
    listen = f"{options.listen} ssl" if tls else options.listen
    tls_lines = ""
    if tls:
        tls_lines = f"""\
ssl_certificate {_string(options.tls_certificate)};
ssl_certificate_key {_string(options.tls_key)};
ssl_protocols TLSv1.2 TLSv1.3;
ssl_session_cache shared:handsup_tls:10m;
ssl_session_timeout 1h;
"""
    body = f"""\
listen {listen};
server_name {options.server_name};
{tls_lines}server_tokens off;
access_log {_string(access_log)} handsup;
# A request nginx forwards fits the server's {MAX_HEADER}-byte header limit.
client_header_buffer_size {size};
large_client_header_buffers {count} {size};
# Page loads are small; phones on venue Wi-Fi are slow.
gzip on;
gzip_min_length 1024;
gzip_types text/css application/javascript application/json image/svg+xml;

location / {{
{_indent(_proxy(options))}}}
{_static(options)}"""
    server = f"server {{\n{_indent(body)}}}\n"
    if tls:
        redirect = f"""\
# Plain HTTP: everyone to HTTPS (the presenter key must not cross the network in clear).
server {{
    listen 80;
    server_name {options.server_name};
    server_tokens off;
    return 301 https://$host$request_uri;
}}
"""
        server += "\n" + redirect
    return server


def http_part(options: NginxOptions) -> str:
    """What goes inside `http {}`: the upstream workers and the server. A distro nginx takes
    it as it is in its conf.d/ folder."""
    servers = "".join(
        f"    server {address} max_fails=1 fail_timeout=5s;\n" for address in options.upstreams
    )
    return f"""\
# Page loads keep the connection to the worker; websockets ask it to upgrade.
map $http_upgrade $handsup_connection {{
    default upgrade;
    "" "";
}}

# The path without its query: page URLs carry the presenter key.
log_format handsup '$remote_addr [$time_local] "$request_method $uri" $status '
                   '$body_bytes_sent $request_time "$upstream_addr"';

upstream handsup {{
    # Each phone holds one socket for the whole talk: send a new one to the worker holding
    # fewest. Never ip_hash: a venue's NAT would send every phone in the hall to one worker.
    least_conn;
    # The counts shared by nginx's own worker processes, so each one balances the same.
    zone handsup 64k;
{servers}    # Idle connections kept for page loads; closed before uvicorn closes them.
    keepalive 32;
    keepalive_timeout {upstream_idle()}s;
}}

{_server(options)}"""


def main_part(options: NginxOptions) -> str:
    """The top of a whole file: processes, open files, where nginx keeps its own files."""
    connections = options.worker_connections
    return f"""\
# One process per core. Each phone is two connections here (its own and the worker's):
# {connections} connections a process hold {connections // 2} phones.
worker_processes auto;
worker_rlimit_nofile {2 * connections};
# On a reload, old processes hand their websockets over after this long (the phones
# reconnect to the new ones) instead of keeping them for the rest of the talk.
worker_shutdown_timeout 10s;
# Relative paths are under the prefix (nginx -p PREFIX).
pid nginx.pid;
error_log error.log warn;

events {{
    worker_connections {connections};
    multi_accept on;
}}
"""


def nginx_config(options: NginxOptions) -> str:
    """The whole configuration file (or, with `http_only`, the part for a distro's conf.d/)."""
    said = "handsup deploy nginx"  # its flags: handsup deploy nginx --help
    if options.http_only:
        header = (
            f"# handsup behind nginx, generated by `{said}`.\n"
            "# For a distro nginx: save as /etc/nginx/conf.d/handsup.conf (inside its http {}).\n"
        )
        return header + "\n" + http_part(options)
    header = (
        f"# handsup behind nginx, generated by `{said}`.\n"
        "# Run it: nginx -c /full/path/to/this.conf -p /a/folder/for/nginx/\n"
    )
    temp = "".join(
        f"{kind}_temp_path {kind}_temp;\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    http = f"{_TYPES}{temp}sendfile on;\ntcp_nopush on;\nreset_timedout_connection on;\n\n"
    http += http_part(options)
    return f"{header}\n{main_part(options)}\nhttp {{\n{_indent(http)}}}\n"


# A worker's address as nginx's `server` takes it: a name or IPv4 address, or [IPv6]; then a
# port. Anything else (a space, a `;`) would be read by nginx as more configuration.
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])")
# What nginx takes unquoted in a file path; anything else is quoted (nginx expands `$` even
# inside quotes, so a path with one, or with a quote or newline, is refused instead).
_PLAIN = re.compile(r"[A-Za-z0-9_./:@+-]+")
_UNSAFE_PATH = re.compile(r'[$"\\\n\r{};]')


def _upstream(value: str) -> str:
    host, _, port = value.rpartition(":")
    if not _HOST.fullmatch(host) or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"HOST:PORT expected, not {value!r}")
    return value


def _path(value: str) -> Path:
    if _UNSAFE_PATH.search(value):
        raise argparse.ArgumentTypeError(f"a path without $, quotes, braces or ; please: {value!r}")
    return Path(value)


def _string(value: object) -> str:
    """A path as an nginx argument: as it is when plain, else in double quotes (spaces)."""
    text = str(value)
    return text if _PLAIN.fullmatch(text) else f'"{text}"'


def add_parser(sub: Any) -> None:
    """Register `handsup deploy` on the CLI's subparsers."""
    deploy = sub.add_parser("deploy", help="print a configuration to run handsup behind nginx")
    targets = deploy.add_subparsers(dest="target", required=True)
    nginx = targets.add_parser(
        "nginx",
        help="an nginx configuration: websockets, least_conn over the workers, forwarded addresses",
        description="Print an nginx configuration for handsup workers (see docs/deployment.md).",
    )
    defaults = NginxOptions()
    nginx.add_argument(
        "--listen", help="nginx's port, or ADDRESS:PORT (default: 80; 443 with --tls-certificate)"
    )
    nginx.add_argument(
        "--upstream",
        action="append",
        type=_upstream,
        metavar="HOST:PORT",
        help="a handsup worker, once per worker (default: 127.0.0.1:8000)",
    )
    nginx.add_argument("--server-name", default=defaults.server_name, help="(default: _, any)")
    nginx.add_argument(
        "--keepalive",
        type=float,
        default=defaults.keepalive,
        help=f"the workers' --keepalive, s (default: {defaults.keepalive:g}); sets the timeouts",
    )
    nginx.add_argument(
        "--static",
        nargs="?",
        const=CLIENTS,
        type=_path,
        help="nginx serves /static/ from this folder (default when given: this install's "
        "clients/); without it the workers do",
    )
    nginx.add_argument(
        "--worker-connections",
        type=int,
        default=defaults.worker_connections,
        help=f"per nginx process, two a phone (default: {defaults.worker_connections})",
    )
    nginx.add_argument(
        "--http-only",
        action="store_true",
        help="only the part inside http {}, for a distro nginx's conf.d/",
    )
    nginx.add_argument("--tls-certificate", type=_path, help="terminate TLS: the certificate")
    nginx.add_argument("--tls-key", type=_path, help="terminate TLS: the private key")
    nginx.add_argument(
        "--access-log",
        type=lambda value: str(_path(value)),
        help="access log file (default: access.log in the prefix)",
    )
    nginx.set_defaults(func=cmd_nginx)


def cmd_nginx(args: argparse.Namespace) -> int:
    """Print the configuration asked for."""
    if (args.tls_certificate is None) != (args.tls_key is None):
        print("handsup deploy nginx: --tls-certificate and --tls-key go together", file=sys.stderr)
        return 2
    if args.keepalive <= 0:
        print("handsup deploy nginx: --keepalive must be above 0 behind nginx", file=sys.stderr)
        return 2
    options = NginxOptions(
        listen=args.listen or ("443" if args.tls_certificate else "80"),
        upstreams=tuple(args.upstream or NginxOptions.upstreams),
        server_name=args.server_name,
        keepalive=args.keepalive,
        static=args.static,
        worker_connections=args.worker_connections,
        http_only=args.http_only,
        tls_certificate=args.tls_certificate,
        tls_key=args.tls_key,
        access_log=args.access_log,
    )
    sys.stdout.write(nginx_config(options))
    return 0
