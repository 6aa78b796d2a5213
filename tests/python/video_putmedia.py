"""A raw PutMedia client over a socket, signed as the Kinesis Video producer SDK signs: SigV4
(signing name `kinesisvideo`) over the payload hash of the *empty* string, the body still to
come, with `transfer-encoding`, `connection`, `user-agent` and the `x-amzn-*` headers signed
(botocore's SigV4Auth leaves the first three out; `ProducerSigV4Auth` puts them back).

PutMedia is not in botocore, and its answer streams while the request body is still being sent,
so this speaks HTTP/1.1 itself: a writer thread sends the MKV as 64 KiB chunks (optionally paced,
optionally pausing), while the caller reads the status, the headers and the acknowledgement
lines as they arrive:

    with PutMediaSession(endpoint, "cam1", data) as session:
        status, headers = session.response_head()
        for ack in session.acks():          # dicts, as they arrive
            ...
    result = put_media(endpoint, "cam1", data)   # everything at once: PutMediaResult
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Iterable, Iterator
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CHUNK_BYTES = 64 * 1024
SIGNING_NAME = "kinesisvideo"


class ProducerSigV4Auth(SigV4Auth):
    """SigV4 as the producer SDK signs PutMedia: also the headers botocore leaves unsigned."""

    PRODUCER_SIGNED = ("transfer-encoding", "connection", "user-agent")

    def headers_to_sign(self, request):
        headers = super().headers_to_sign(request)
        for name in self.PRODUCER_SIGNED:
            if name in request.headers:
                headers[name] = request.headers[name]
        return headers


def signed_headers(endpoint: str, stream_name: str | None = None, *, stream_arn: str | None = None,
                   timecode_type: str = "RELATIVE", producer_start: float | None = None,
                   credentials: tuple[str, str] = ("test", "test"), region: str = "us-east-1",
                   extra_headers: dict[str, str] | None = None) -> dict[str, str]:
    """The headers of a PutMedia request, `host` and the signature included."""
    netloc = urlsplit(endpoint).netloc
    headers = {"host": netloc}
    if stream_name is not None:
        headers["x-amzn-stream-name"] = stream_name
    if stream_arn is not None:
        headers["x-amzn-stream-arn"] = stream_arn
    start = time.time() if producer_start is None else producer_start
    headers.update({
        "x-amzn-fragment-timecode-type": timecode_type,
        "x-amzn-producer-start-timestamp": f"{start:.3f}",
        "x-amzn-fragment-acknowledgment-required": "1",
        "transfer-encoding": "chunked",
        "connection": "keep-alive",
        "user-agent": "spate-tests/video_putmedia",
    })
    headers.update(extra_headers or {})
    request = AWSRequest(method="POST", url=f"{endpoint.rstrip('/')}/putMedia", data=b"",
                         headers=headers)
    ProducerSigV4Auth(Credentials(*credentials), SIGNING_NAME, region).add_auth(request)
    return dict(request.headers.items())


class _SocketReader:
    """Buffered reads of an HTTP/1.1 answer: lines, exact sizes, and the chunked framing."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = b""

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        if not data:
            return False
        self.buf += data
        return True

    def readline(self) -> bytes:
        while b"\r\n" not in self.buf:
            if not self._fill():
                raise ConnectionError("the connection closed inside a line")
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise ConnectionError("the connection closed inside the body")
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_some(self) -> bytes:
        """Whatever is buffered or arrives next; b"" at the end of the connection."""
        if not self.buf and not self._fill():
            return b""
        data, self.buf = self.buf, b""
        return data

    def body_pieces(self, headers: dict[str, str]) -> Iterator[bytes]:
        """The answer's body as it arrives: chunked, sized, or up to the connection's end."""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(self.readline().split(b";")[0], 16)
                if size == 0:
                    while self.readline():  # trailers, then the blank line
                        pass
                    return
                yield self.read_exact(size)
                self.read_exact(2)
        elif "content-length" in headers:
            left = int(headers["content-length"])
            while left > 0:
                piece = self.read_some()
                if not piece:
                    raise ConnectionError("the connection closed inside the body")
                piece, self.buf = piece[:left], piece[left:]
                left -= len(piece)
                yield piece
        else:
            while piece := self.read_some():
                yield piece


@dataclass
class PutMediaResult:
    status: int
    headers: dict[str, str]
    acks: list[dict] = field(default_factory=list)
    ack_lines: list[str] = field(default_factory=list)
    # Not 200: the rest-json error, {"type": x-amzn-ErrorType without its suffix, "message": ...}.
    error: dict | None = None
    body: bytes = b""
    bytes_sent: int = 0
    # What stopped the writer early (the server closed the connection), if anything.
    writer_error: str | None = None


class PutMediaSession:
    """One PutMedia exchange; see the module docs. `data` is bytes or an iterable of bytes (a
    live feed); `rate` paces the writer (bytes per second); `pauses` is [(after_bytes, seconds)]."""

    def __init__(self, endpoint: str, stream_name: str | None, data: bytes | Iterable[bytes], *,
                 chunk_bytes: int = CHUNK_BYTES, rate: float | None = None,
                 pauses: list[tuple[int, float]] | None = None, timeout: float = 60, **sign):
        self.endpoint = endpoint
        self.headers_sent = signed_headers(endpoint, stream_name, **sign)
        self.data = data
        self.chunk_bytes = chunk_bytes
        self.rate = rate
        self.pauses = sorted(pauses or [])
        self.timeout = timeout
        self.bytes_sent = 0
        self.writer_error: str | None = None
        self.writer_done = threading.Event()
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        parts = urlsplit(endpoint)
        self.sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
        self.reader = _SocketReader(self.sock)
        head = "POST /putMedia HTTP/1.1\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in self.headers_sent.items()) + "\r\n"
        self.sock.sendall(head.encode())
        self.writer = threading.Thread(target=self._write, name="putmedia-writer", daemon=True)
        self.writer.start()

    def __enter__(self) -> "PutMediaSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.writer.join(timeout=10)

    def _pieces(self) -> Iterator[bytes]:
        sources = [self.data] if isinstance(self.data, (bytes, bytearray)) else self.data
        for source in sources:
            for offset in range(0, len(source), self.chunk_bytes):
                yield bytes(source[offset:offset + self.chunk_bytes])

    def _write(self) -> None:
        started = time.monotonic()
        pauses = list(self.pauses)
        try:
            for piece in self._pieces():
                while pauses and self.bytes_sent >= pauses[0][0]:
                    time.sleep(pauses.pop(0)[1])
                    started = time.monotonic() - self.bytes_sent / self.rate if self.rate else 0
                if self.rate:
                    due = started + self.bytes_sent / self.rate
                    if due > time.monotonic():
                        time.sleep(due - time.monotonic())
                self.sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                self.bytes_sent += len(piece)
            self.sock.sendall(b"0\r\n\r\n")
        except OSError as err:
            self.writer_error = f"{type(err).__name__}: {err}"
        finally:
            self.writer_done.set()

    def response_head(self) -> tuple[int, dict[str, str]]:
        """The status and the headers (lowercase names), read once."""
        if self.status is None:
            status_line = self.reader.readline().decode("latin-1")
            self.status = int(status_line.split()[1])
            while line := self.reader.readline():
                name, _, value = line.decode("latin-1").partition(":")
                self.headers[name.strip().lower()] = value.strip()
        return self.status, self.headers

    def body_pieces(self) -> Iterator[bytes]:
        self.response_head()
        return self.reader.body_pieces(self.headers)

    def ack_lines(self) -> Iterator[str]:
        """The answer's lines as they arrive (for a 200: one ack each)."""
        partial = b""
        for piece in self.body_pieces():
            partial += piece
            *lines, partial = partial.split(b"\n")
            for line in lines:
                if line.strip():
                    yield line.decode().rstrip("\r")
        if partial.strip():
            yield partial.decode().rstrip("\r")

    def acks(self) -> Iterator[dict]:
        for line in self.ack_lines():
            yield json.loads(line)


def error_of(headers: dict[str, str], body: bytes) -> dict:
    """A rest-json error answer: its type (x-amzn-ErrorType) and message (`Message`)."""
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        parsed = {}
    return {"type": headers.get("x-amzn-errortype", "").split(":")[0],
            "message": parsed.get("Message", parsed.get("message"))}


def put_media(endpoint: str, stream_name: str | None, data: bytes | Iterable[bytes],
              **options) -> PutMediaResult:
    """One PutMedia to its end: the status, headers, every ack (or the error answer)."""
    with PutMediaSession(endpoint, stream_name, data, **options) as session:
        status, headers = session.response_head()
        result = PutMediaResult(status=status, headers=dict(headers))
        if status == 200:
            for line in session.ack_lines():
                result.ack_lines.append(line)
                result.acks.append(json.loads(line))
        else:
            result.body = b"".join(session.body_pieces())
            result.error = error_of(headers, result.body)
        session.writer_done.wait(timeout=5)
        result.bytes_sent = session.bytes_sent
        result.writer_error = session.writer_error
        return result
