"""A pulled usage URL may redirect, but only to http(s), a bounded number of times, and each
hop is checked like the first. urllib's default opener also followed `ftp://` redirects,
which connect without the public-address check: `https://attacker.example/usage` answering
`302 Location: ftp://10.0.0.5:21/x` made Meterbill connect there and copy the first bytes
of the reply into the pull's error (a read oracle on the internal network)."""
from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portal.services import outbound, webhooks
from portal.services.usage_pulls import PullError, fetch_usage


class Redirector:
    """The merchant's (hostile) usage URL on loopback: `routes` maps a path to a Location
    (answered 302) or to a JSON body (answered 200); `/hop/N` redirects to `/hop/N+1`."""

    def __init__(self, routes):
        self.routes, self.paths = routes, []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                owner.paths.append(self.path)
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                target = owner.answer(self.path)
                redirect = not target.startswith("{")
                self.send_response(302 if redirect else 200)
                self.send_header("Location" if redirect else "Content-Type",
                                 target if redirect else "application/json")
                self.send_header("Content-Length", "0" if redirect else str(len(target)))
                self.end_headers()
                self.wfile.write(b"" if redirect else target.encode())

            do_POST = do_GET  # noqa: N815 (http.server's name)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = self.server.server_address[:2]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path):
        if path.startswith("/hop/"):
            return f"/hop/{int(path.rsplit('/', 1)[1]) + 1}"
        return self.routes[path]

    def url(self, path="/usage"):
        return f"http://{self.address[0]}:{self.address[1]}{path}"


class FtpTrap:
    """An internal FTP-like service on loopback: records every connection and greets it
    with a secret (which must never reach a pull's error)."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port, self.connections = self.sock.getsockname()[1], []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:  # closed
                return
            self.connections.append(peer)
            with conn:
                conn.sendall(b"220 internal-secret-banner\r\n")


@pytest.fixture
def servers():
    started = []

    def start(kind, *args):
        started.append(kind(*args))
        return started[-1]
    yield start
    for server in started:
        if isinstance(server, Redirector):
            server.server.shutdown()
            server.server.server_close()
        else:
            server.sock.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            server.sock.close()


@pytest.fixture
def context(app):
    with app.app_context():
        yield app


def refuse_private_but_first_hop(app, monkeypatch, redirector):
    """OUTBOUND_ALLOW_PRIVATE off, except for the redirector itself (it stands for a
    public host): only the redirect's target is judged."""
    monkeypatch.setitem(app.config, "OUTBOUND_ALLOW_PRIVATE", False)
    checked = outbound._public_connection

    def first_hop_allowed(address, *args):
        if tuple(address) == redirector.address:
            return socket.create_connection(address, *args)
        return checked(address, *args)
    monkeypatch.setattr(outbound, "_public_connection", first_hop_allowed)


@pytest.mark.parametrize("allow_private", [True, False])
def test_a_pull_redirected_to_ftp_connects_nowhere(context, monkeypatch, servers, allow_private):
    trap = servers(FtpTrap)
    redirector = servers(Redirector, {"/usage": f"ftp://127.0.0.1:{trap.port}/x"})
    if not allow_private:
        refuse_private_but_first_hop(context, monkeypatch, redirector)
    with pytest.raises(PullError, match="only http:// and https:// redirects are followed") as error:
        fetch_usage(redirector.url(), {"x": 1})
    assert redirector.paths == ["/usage"]
    assert trap.connections == []
    assert "internal-secret-banner" not in str(error.value)


def test_a_pull_redirected_to_a_private_address_is_refused_before_connecting(context, monkeypatch, servers):
    redirector = servers(Redirector, {"/usage": "http://10.0.0.5/usage"})
    refuse_private_but_first_hop(context, monkeypatch, redirector)
    connects, real = [], socket.create_connection
    monkeypatch.setattr(socket, "create_connection", lambda address, *a: connects.append(address) or real(address, *a))
    with pytest.raises(PullError, match=r"10\.0\.0\.5, a private address"):
        fetch_usage(redirector.url(), {"x": 1})
    assert connects == [redirector.address]


def test_an_http_redirect_is_still_followed_and_the_hops_are_bounded(context, servers):
    redirector = servers(Redirector, {"/usage": "/answer", "/answer": '{"line_items": [{"usage_amount": 361}]}'})
    assert [str(amount) for amount in fetch_usage(redirector.url(), {"x": 1})] == ["361"]
    assert redirector.paths == ["/usage", "/answer"]
    with pytest.raises(PullError, match=f"more than {outbound.MAX_REDIRECTS} redirects"):
        fetch_usage(redirector.url("/hop/0"), {"x": 1})
    assert len(redirector.paths) == 2 + 1 + outbound.MAX_REDIRECTS


def test_a_webhook_still_takes_a_redirect_as_a_failed_answer(context, servers):
    trap = servers(FtpTrap)
    redirector = servers(Redirector, {"/hooks": f"ftp://127.0.0.1:{trap.port}/x"})
    answer = webhooks.post(redirector.url("/hooks"), b"{}", {}, 5)
    assert (answer.ok, answer.code) == (False, 302)
    assert redirector.paths == ["/hooks"] and trap.connections == []
