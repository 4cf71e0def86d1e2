"""A loopback proxy in front of the test SMTP server that loses the server's reply after the
final dot of chosen messages: the server has queued the message, the client never hears so.
`lose="close"` drops the connection instead of passing the reply on; `lose="silence"` holds it
open and says nothing (the client's timeout must end the wait)."""

import socket
import threading
from collections.abc import Iterator

import pytest

from tests.smtp import Inbox

END_OF_DATA = b"\r\n.\r\n"


class LosingProxy:
    def __init__(self, upstream_port: int, lose: str, messages: set[int]) -> None:
        self.upstream_port, self.lose, self.messages = upstream_port, lose, messages
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
            server = socket.create_connection(("127.0.0.1", self.upstream_port))
            losing = threading.Event()  # set once this connection's current message is one to lose
            threading.Thread(target=self._to_client, args=(server, client, losing), daemon=True).start()
            threading.Thread(target=self._to_server, args=(client, server, losing), daemon=True).start()

    def _to_server(self, client: socket.socket, server: socket.socket, losing: threading.Event) -> None:
        tail = b""
        while data := _recv(client):
            tail = (tail + data)[-len(END_OF_DATA) :]
            if tail == END_OF_DATA:  # marked before the server can answer it
                with self._lock:
                    self.dots += 1
                    if self.dots in self.messages:
                        losing.set()
            server.sendall(data)
        server.close()

    def _to_client(self, server: socket.socket, client: socket.socket, losing: threading.Event) -> None:
        while data := _recv(server):
            if losing.is_set():
                # The server's "250 queued" for this message goes nowhere.
                if self.lose == "close":
                    client.close()
                else:
                    self._held.append(client)
                return
            client.sendall(data)
        client.close()

    def close(self) -> None:
        self._listener.close()
        for held in self._held:
            held.close()


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
        proxy = LosingProxy(settings.EMAIL_PORT, lose, messages)
        proxies.append(proxy)
        settings.EMAIL_PORT = proxy.port
        return proxy

    yield start
    for proxy in proxies:
        proxy.close()
