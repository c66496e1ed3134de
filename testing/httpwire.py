"""How the HTTP stand-ins (the AWS front door, the Entra/ARM fake, the GCP REST fake) put a
``truncate`` or ``reset`` fault on the wire, so all three do it the same way.

All three are ``http.server`` handlers; these helpers write the tail of a response or drop
the connection underneath one.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler


@dataclass(frozen=True)
class Cut:
    """A body cut at byte ``at``; ``whole_length``: the length header still says the whole."""

    at: int
    whole_length: bool = True


def end_with_body(handler: BaseHTTPRequestHandler, body: bytes, cut: Cut | None = None) -> None:
    """Send ``Content-Length``, end the headers, write ``body`` (or the part a cut keeps).

    A cut with ``whole_length`` closes the connection after the part, so the client reads a
    body shorter than announced and then the end of the stream (urllib3 ``IncompleteRead``,
    httpx ``RemoteProtocolError``); without it the message is complete but the body is cut
    (a parser error, not a transport one).
    """
    if cut is None:
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        return
    handler.send_header("Content-Length", str(len(body) if cut.whole_length else cut.at))
    handler.end_headers()
    handler.wfile.write(body[:cut.at])
    handler.wfile.flush()
    if cut.whole_length:
        handler.close_connection = True


def reset_connection(handler: BaseHTTPRequestHandler) -> None:
    """Drop the client's connection with a TCP reset (``SO_LINGER`` 0), nothing answered.

    The handler's read file holds a reference to the socket, which would keep ``close()``
    from closing it, so it is closed first; the server's own clean-up then finds a closed
    socket and lets it be.
    """
    handler.close_connection = True
    sock = handler.connection
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    handler.rfile.close()
    sock.close()
