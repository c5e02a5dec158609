"""A real HTTP server on loopback (http.server in a thread) that records what it receives
and answers by a script: e.g. [500, 200] fails once then recovers; "hang" holds the request."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    """One request as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """`script`: what each request gets, in order (the last entry repeats): a status code,
    ("sleep", seconds, code) or "hang" (held until `release` is set, then 200)."""

    script: list = field(default_factory=lambda: [200])
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def next_answer(self):
        index = len(self.received) - 1
        return self.script[min(index, len(self.script) - 1)]


def start_receiver(script: list | None = None) -> Receiver:
    """Start a receiver on 127.0.0.1 on a free port; `stop_receiver` shuts it down."""
    receiver = Receiver(script=script or [200])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length", 0))
            receiver.received.append(Received(self.path, dict(self.headers), self.rfile.read(length)))
            receiver.arrived.set()
            answer = receiver.next_answer()
            if answer == "hang":
                receiver.release.wait(60)
                answer = 200
            if isinstance(answer, tuple):
                receiver.release.wait(answer[1])
                answer = answer[2]
            body = b'{"ok": true}' if answer < 300 else b"receiver is down"
            try:
                self.send_response(answer)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up (timeout) or died
                pass

        def log_message(self, *args):
            pass

    receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.server.daemon_threads = True
    threading.Thread(target=receiver.server.serve_forever, daemon=True).start()
    return receiver


def stop_receiver(receiver: Receiver) -> None:
    receiver.release.set()
    receiver.server.shutdown()
    receiver.server.server_close()
