"""Serve the published site on 127.0.0.1: asv's pages fetch their JSON, which a page opened
from the file system cannot do ("Error fetching content").

Loopback only: the site lists the machine's stack and results, and nothing here is meant to
face a network. The standard library's server is enough for one person's browser.
"""

from __future__ import annotations

import errno
import functools
import http.server
from pathlib import Path
from typing import Callable

from ..errors import UsageError

HOST = "127.0.0.1"
DEFAULT_PORT = 8080

#: The one command that shows the site (``publish`` ends with it).
VIEW_COMMAND = "python -m bench_runner publish --serve"


def url(port: int) -> str:
    return f"http://{HOST}:{port}/"


def bind(html_dir: Path, port: int) -> http.server.ThreadingHTTPServer:
    """A server for ``html_dir`` on 127.0.0.1:port; a busy or forbidden port is a usage error."""
    # One line per request on stderr, as http.server logs them.
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(html_dir))
    try:
        return http.server.ThreadingHTTPServer((HOST, port), handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} on {HOST} is in use: choose another with --port N") from None
        raise UsageError(f"cannot serve on {HOST}:{port}: {exc.strerror or exc}") from None


def serve(html_dir: Path, port: int, announce: Callable[[str], None]) -> None:
    """Serve until Ctrl-C (then return); SIGTERM ends it through the CLI's own handling."""
    if not (html_dir / "index.html").is_file():
        raise UsageError(f"{html_dir} holds no published site (index.html)")
    server = bind(html_dir, port)
    try:
        announce(f"serving {html_dir} at {url(port)} (on {HOST} only); stop with Ctrl-C")
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
