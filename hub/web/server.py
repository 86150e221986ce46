"""Serving the web app with uvicorn on a thread of the hub process (beside the MQTT service).

The socket is bound here, before the thread starts, so a port already in use fails `start()` at once
with a clear error instead of a log line in a dying thread.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

log = logging.getLogger("fidelio.hub.web")


class WebServer:
    def __init__(self, app: ASGIApp, host: str, port: int, tls: tuple[Path, Path] | None = None) -> None:
        self.host, self.port, self.tls = host, port, tls
        kwargs = {}
        if tls is not None:
            kwargs = {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])}
        self.config = uvicorn.Config(
            app, log_config=None, access_log=False, proxy_headers=False, server_header=False, lifespan="off",
            timeout_graceful_shutdown=5, **kwargs,
        )  # fmt: skip
        self.server = uvicorn.Server(self.config)
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = "localhost" if self.tls and self.host in ("127.0.0.1", "0.0.0.0") else self.host
        return f"{scheme}://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise OSError(
                exc.errno,
                f"port HTTP {self.host}:{self.port} indisponible / HTTP port {self.host}:{self.port} unavailable "
                f"({exc.strerror})",
            ) from exc
        sock.listen(128)
        self.port = sock.getsockname()[1]
        self._sock = sock
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, name="web", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self.server.started:
            raise RuntimeError("the web server did not start / le serveur web n'a pas démarré")
        log.info("web listening", extra={"url": self.url})

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()
