"""A loopback TCP relay in front of a server whose library cannot drop a connection on cue.

grpcio's server has no call that closes the connection a request came in on, yet a
``reset`` fault must do exactly that. With the relay in between, a handler knows its peer
(``context.peer()``: the relay's socket towards the server) and :meth:`TcpRelay.reset` drops
that pair, the client's side with a TCP reset, so the client sees what a dropped peer
looks like on the wire.
"""

from __future__ import annotations

import socket
import struct
import threading


class TcpRelay:
    """Relay ``127.0.0.1:<port>`` to ``upstream`` byte for byte, one thread per direction."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()
        self._pairs: dict[int, tuple[socket.socket, socket.socket]] = {}  # upstream local port -> pair

    def start(self) -> TcpRelay:
        listener = socket.create_server(("127.0.0.1", 0))
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="tcp-relay", daemon=True).start()
        return self

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("the relay is not running; call start() first")
        return int(self._listener.getsockname()[1])

    def reset(self, peer: str) -> bool:
        """Drop the connection whose server-side peer is ``peer`` (``ipv4:127.0.0.1:PORT`` as
        gRPC writes it, or just the port); False if there is none."""
        port = int(peer.rsplit(":", 1)[-1])
        with self._lock:
            pair = self._pairs.pop(port, None)
        if pair is None:
            return False
        client, server = pair
        try:
            # Linger 0: the close sends a reset, not a FIN. SHUT_RD sends nothing but wakes
            # the pump blocked reading from the client, so the close really happens now.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.shutdown(socket.SHUT_RD)
        except OSError:
            pass
        client.close()
        _close(server)
        return True

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            pairs, self._pairs = list(self._pairs.values()), {}
        for client, server in pairs:
            _close(client, server)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # HTTP/2 frames are small
            port = server.getsockname()[1]
            with self._lock:
                self._pairs[port] = (client, server)
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(src, dst, port), name="tcp-relay-pump", daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, port: int) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        with self._lock:
            pair = self._pairs.pop(port, None)
        if pair is not None:
            _close(*pair)


def _close(*socks: socket.socket) -> None:
    """Shut down (which wakes a thread blocked reading it), then close."""
    for sock in socks:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
