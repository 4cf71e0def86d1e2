"""A loopback proxy in front of a test SMTP server (aiosmtpd or Postfix) that slows or loses the
server's reply after the final dot of a message.

Losing: for the chosen messages the server has queued the message, the client never hears so.
`lose="close"` drops the connection instead of passing the reply on; `lose="silence"` holds it
open and says nothing (the client's timeout must end the wait).
Slowing: `delay` seconds before each such reply reaches the client, so a fault a test injects
lands while a chunk is in flight, as on a slow link; `dots` counts the messages the server has."""

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.smtp import Inbox

END_OF_DATA = b"\r\n.\r\n"


class LosingProxy:
    def __init__(
        self, upstream_port: int, lose: str = "", messages: frozenset[int] = frozenset(), delay: float = 0
    ) -> None:
        self.upstream_port, self.lose, self.messages, self.delay = upstream_port, lose, messages, delay
        self.dots = 0  # messages ended so far, over every connection
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:  # the server is down: the client sees the connection close
                _close(client)
                continue
            losing = threading.Event()  # set once this connection's current message is one to lose
            ended = threading.Event()  # set once a message's dot went to the server
            pair = (losing, ended)
            threading.Thread(target=self._to_client, args=(server, client, *pair), daemon=True).start()
            threading.Thread(target=self._to_server, args=(client, server, *pair), daemon=True).start()

    def _to_server(
        self, client: socket.socket, server: socket.socket, losing: threading.Event, ended: threading.Event
    ) -> None:
        tail = b""
        while data := _recv(client):
            tail = (tail + data)[-len(END_OF_DATA) :]
            if tail == END_OF_DATA:  # marked before the server can answer it
                with self._lock:
                    self.dots += 1
                    if self.dots in self.messages:
                        losing.set()
                ended.set()
            try:
                server.sendall(data)
            except OSError:
                break
        _close(server)

    def _to_client(
        self, server: socket.socket, client: socket.socket, losing: threading.Event, ended: threading.Event
    ) -> None:
        while data := _recv(server):
            if ended.is_set():
                ended.clear()
                time.sleep(self.delay)
            if losing.is_set():
                # The server's "250 queued" for this message goes nowhere.
                if self.lose == "close":
                    _close(client)
                else:
                    self._held.append(client)
                return
            try:
                client.sendall(data)
            except OSError:
                break
        _close(client)

    def close(self) -> None:
        _close(self._listener)
        for held in self._held:
            _close(held)


def _close(sock: socket.socket) -> None:
    """Shut down, then close: on Linux close() alone sends nothing while the other thread of the
    pair is blocked in recv() on the same socket, so the peer would never see the end."""
    with contextlib.suppress(OSError):  # already shut down by the peer
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


@pytest.fixture
def losing_proxy(paperboy_smtp: Inbox, settings) -> Iterator:
    """A factory: `losing_proxy("close", {2})` loses the reply to the second message sent."""
    proxies: list[LosingProxy] = []

    def start(lose: str, messages: set[int]) -> LosingProxy:
        proxy = LosingProxy(settings.EMAIL_PORT, lose, frozenset(messages))
        proxies.append(proxy)
        settings.EMAIL_PORT = proxy.port
        return proxy

    yield start
    for proxy in proxies:
        proxy.close()
