"""A socket whose reads end at a deadline and whose answers end at a size, for AWS and Redis alike.

A client library's read timeout starts afresh with each byte: a server sending one byte a second
is never given up on, and a server sending a 1 GiB answer has it held whole (and parsed into
several times its size). Wrapping the connected socket, the one thing every read goes through,
bounds both, whatever the protocol above it (HTTP, TLS, RESP): each read waits at most until the
guard's deadline, and an answer to one request that passes the guard's limit is cut off.
"""

from __future__ import annotations

import io
import socket
import time
from typing import Protocol


class Guard(Protocol):
    limit: int  # bytes an answer to one request may have

    def deadline(self, sent_at: float) -> float:
        """The monotonic time by which the answer to a request sent at `sent_at` must have arrived."""

    def stop(self, why: str) -> None:
        """Called with "deadline" or "size" just before the read that passed it fails."""


class GuardedSocket:
    """A connected socket (plain or TLS), guarded; everything else is the socket's own."""

    def __init__(self, sock, guard: Guard):
        self._sock = sock
        self._guard = guard
        self._timeout = sock.gettimeout()
        self._sent_at = time.monotonic()
        self._received = 0
        self._readers = 0  # files open on it: as with a socket's makefile, closing waits for them
        self._closing = False

    def __getattr__(self, name):
        return getattr(self._sock, name)

    def settimeout(self, timeout) -> None:
        self._timeout = timeout  # the library's timeout per read: each read waits the shorter of it and the deadline
        self._sock.settimeout(timeout)

    def gettimeout(self):
        return self._timeout

    def _new_request(self) -> None:
        self._sent_at = time.monotonic()
        self._received = 0

    def sendall(self, data, *args):
        self._new_request()  # its answer is timed and counted from here
        return self._sock.sendall(data, *args)

    def send(self, data, *args):
        self._new_request()
        return self._sock.send(data, *args)

    def recv_into(self, buffer, nbytes: int = 0, *args) -> int:
        deadline = self._guard.deadline(self._sent_at)
        left = deadline - time.monotonic()
        if left <= 0:
            self._guard.stop("deadline")
            raise socket.timeout("deadline passed while the answer was still arriving")
        self._sock.settimeout(left if self._timeout is None else min(left, self._timeout))
        try:
            # nbytes 0 is "the whole buffer" to a socket; an SSL socket is given no count for that
            received = self._sock.recv_into(buffer, nbytes, *args) if nbytes or args else self._sock.recv_into(buffer)
        except socket.timeout:
            if time.monotonic() >= deadline - 0.01:  # the wait was cut short by the deadline, not the library's timeout
                self._guard.stop("deadline")
            raise
        finally:
            self._sock.settimeout(self._timeout)
        self._received += received
        if self._received > self._guard.limit:
            self._guard.stop("size")
            self._sock.close()
            raise ConnectionAbortedError(f"answer longer than {self._guard.limit:,} bytes")
        return received

    def recv(self, size: int, *args) -> bytes:
        buffer = bytearray(size)
        return bytes(buffer[: self.recv_into(buffer, size, *args)])

    def makefile(self, mode: str = "r", buffering=None, **kwargs):
        """The read side, as http.client reads a status line, headers and body (binary only)."""
        self._readers += 1
        raw = _Reader(self)
        return raw if buffering == 0 else io.BufferedReader(raw)

    def close(self) -> None:
        # http.client closes the connection while its response is still read from a file of it
        # ("Connection: close"): the socket itself closes when that file does
        self._closing = True
        if self._readers == 0:
            self._sock.close()

    def _reader_closed(self) -> None:
        self._readers -= 1
        if self._closing and self._readers == 0:
            self._sock.close()


class _Reader(io.RawIOBase):
    def __init__(self, sock: GuardedSocket):
        self._sock = sock

    def close(self) -> None:
        if not self.closed:
            self._sock._reader_closed()
        super().close()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._sock.recv_into(buffer)
