"""The lifecycle every fake API shares: an HTTP server on 127.0.0.1, in a thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LocalServer:
    """Serves `handler_class()` on 127.0.0.1 at a free port while started (or in `with`)."""

    name = "fake-api"

    def __init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self) -> Self:
        if self._server is None:
            self._server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler_class())
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},  # stop() waits for one poll
                name=self.name,
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://127.0.0.1:{self._server.server_port}"


class AnswerHandler(BaseHTTPRequestHandler):
    """What every fake's request handler shares: GET and POST go to `respond`, an answer is
    written whole over HTTP/1.1 keep-alive, and nothing is logged to stderr (each fake
    keeps its own record of requests)."""

    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes; with Nagle on, each answer would wait for the
    # client's delayed ACK (about 40 ms)
    disable_nagle_algorithm = True

    def do_GET(self) -> None:  # noqa: N802 (the name http.server looks up)
        self.respond("GET")

    def do_POST(self) -> None:  # noqa: N802
        self.respond("POST")

    def respond(self, method: str) -> None:
        raise NotImplementedError

    def send_answer(
        self, status: int, content_type: str, headers: dict[str, str], body: bytes
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to answer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass
