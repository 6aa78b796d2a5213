"""Hostile input at the HTTP layer: bodies that do not decode, numbers that do not fit, bodies too
large, compressed or stalled, headers too large or sent too slowly, connections left idle.

Each undecodable body must be answered with the AWS error type a real Kinesis gives (HTTP 400,
SerializationException for what does not parse or has the wrong types, ValidationException for
constraint violations), an oversized body with 413 before it is read (as AWS does, with no error
type, so botocore reports the code "413"), and never with a 500 or a crash: the server answers
/health after every case. Requests are SigV4-signed (harness.raw_call) or, below HTTP clients,
written on a raw socket with the headers botocore's signer produces.

The timeouts are tested on a server of their own, configured through a file with
`[limits]` set to a few seconds.
"""

import json
import socket
import time

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import harness
from harness import CBOR_1_1, JSON_1_1, raw_call

MAX_JSON_BODY_BYTES = 16 * 1024 * 1024

# (case, operation, body bytes, content type, expected error type, words of the message)
UNDECODABLE = [
    ("malformed JSON", "ListStreams", b'{"Limit": ', JSON_1_1,
     "SerializationException", "not valid JSON"),
    ("malformed CBOR", "ListStreams", b"\x1c", CBOR_1_1,
     "SerializationException", "not valid CBOR"),
    ("CBOR cut short", "ListStreams", b"\xa1\x65Lim", CBOR_1_1,
     "SerializationException", "not valid CBOR"),
    ("invalid UTF-8 in a JSON string", "DescribeStreamSummary",
     b'{"StreamName": "a\xff\xfeb"}', JSON_1_1, "SerializationException", "not valid JSON"),
    ("a lone UTF-16 surrogate escaped", "DescribeStreamSummary",
     b'{"StreamName": "a\\ud800"}', JSON_1_1, "SerializationException", "not valid JSON"),
    ("invalid base64 in a blob", "PutRecord",
     b'{"StreamName": "s", "PartitionKey": "k", "Data": "!!not base64"}', JSON_1_1,
     "SerializationException", "base64"),
    ("a number beyond any float", "ListStreams", b'{"Limit": 1e400}', JSON_1_1,
     "SerializationException", "number out of range"),
    ("an integer beyond 64 bits", "CreateStream",
     b'{"StreamName": "s", "ShardCount": 99999999999999999999999}', JSON_1_1,
     "SerializationException", "input shape"),
    ("a timestamp beyond any float", "GetShardIterator",
     b'{"StreamName": "s", "ShardId": "shardId-000000000000", '
     b'"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": 1e400}', JSON_1_1,
     "SerializationException", "number out of range"),
    ("a timestamp far out of range", "GetShardIterator",
     b'{"StreamName": "s", "ShardId": "shardId-000000000000", '
     b'"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": -1e300}', JSON_1_1,
     "SerializationException", "timestamp -1e300 is out of range"),
    ("a fraction where an integer goes", "ListStreams", b'{"Limit": 5.5}', JSON_1_1,
     "SerializationException", "input shape"),
    ("a string where an integer goes", "ListStreams", b'{"Limit": "ten"}', JSON_1_1,
     "SerializationException", "input shape"),
    ("100,000 nested arrays", "ListStreams", b"[" * 100_000, JSON_1_1,
     "SerializationException", "input shape"),
    ("100,000 nested objects", "ListStreams", b'{"a":' * 100_000, JSON_1_1,
     "SerializationException", "not valid JSON"),
    ("100,000 nested CBOR arrays", "ListStreams", b"\xa1\x61X" + b"\x81" * 100_000 + b"\x00",
     CBOR_1_1, "SerializationException", "not valid CBOR"),
    ("invalid UTF-8 in a CBOR text string", "DescribeStreamSummary",
     b"\xa1\x6aStreamName\x62\xff\xfe", CBOR_1_1, "SerializationException", "not valid CBOR"),
    ("a CBOR byte string declaring 2^63 bytes", "PutRecord",
     b"\xa3\x6aStreamName\x61s\x6cPartitionKey\x61k\x64Data\x5b\x7f" + b"\xff" * 7 + b"abc",
     CBOR_1_1, "SerializationException", "ends early"),
    ("a CBOR array declaring 2^63 items", "PutRecords",
     b"\xa2\x6aStreamName\x61s\x67Records\x9b\x7f" + b"\xff" * 7 + b"\xa0",
     CBOR_1_1, "SerializationException", "ends early"),
    ("a CBOR bignum limit", "ListStreams", b"\xa1\x65Limit\xc2\x49" + b"\x01" * 9, CBOR_1_1,
     "SerializationException", "integer too large"),
    ("NaN", "ListStreams", b'{"Limit": NaN}', JSON_1_1, "SerializationException",
     "not valid JSON"),
    ("a 64-bit integer over the bound", "ListStreams", b'{"Limit": 9223372036854775807}',
     JSON_1_1, "ValidationException", "less than or equal to 10000"),
    ("a negative limit", "ListStreams", b'{"Limit": -1}', JSON_1_1, "ValidationException",
     "greater than or equal to 1"),
]


def error_of(body: bytes, content_type: str) -> dict:
    if content_type == CBOR_1_1:
        import cbor2
        return cbor2.loads(body)
    return json.loads(body)


def assert_healthy(spate):
    if isinstance(spate, harness.ExternalServer):
        return
    assert harness.http_get(f"{spate.endpoint}/health", timeout=5) == 200


@pytest.mark.parametrize("case,operation,body,content_type,error_type,words",
                         UNDECODABLE, ids=[case[0] for case in UNDECODABLE])
def test_undecodable_bodies_get_aws_error_types(spate, endpoint, case, operation, body,
                                                content_type, error_type, words):
    status, headers, response = raw_call(endpoint, operation, body, content_type=content_type)

    assert status == 400, (case, status, response[:300])
    error = error_of(response, content_type)
    assert error["__type"].split("#")[-1] == error_type, error
    assert words in error["message"], error
    assert headers["x-amzn-errortype"].split(":")[0] == error_type
    assert_healthy(spate)


def test_unknown_members_nesting_deeply_are_skipped_without_recursion(spate, endpoint):
    # An unknown member is ignored, however deep it nests: serde_json skips it without
    # recursing, so it costs neither stack nor a refusal.
    body = b'{"Unknown": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, _, response = raw_call(endpoint, "ListStreams", body)

    assert status == 200, response[:300]
    assert "StreamNames" in json.loads(response)
    assert_healthy(spate)


def signed_headers(endpoint: str, operation: str, body: bytes,
                   extra: dict | None = None) -> dict[str, str]:
    request = AWSRequest(method="POST", url=endpoint + "/", data=body, headers={
        "X-Amz-Target": f"Kinesis_20131202.{operation}",
        "Content-Type": JSON_1_1,
        **(extra or {}),
    })
    SigV4Auth(Credentials("test", "test"), "kinesis", harness.REGION).add_auth(request)
    return dict(request.headers.items())


def host_port(endpoint: str) -> tuple[str, int]:
    host, port = endpoint.removeprefix("http://").split(":")
    return host, int(port)


def request_head(endpoint: str, headers: dict[str, str], framing: str) -> bytes:
    host, port = host_port(endpoint)
    lines = ["POST / HTTP/1.1", f"Host: {host}:{port}", framing]
    lines += [f"{name}: {value}" for name, value in headers.items()
              if name.lower() not in ("content-length", "host")]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_response(sock: socket.socket, timeout: float = 10) -> tuple[int, dict, bytes]:
    """Reads one HTTP/1.1 response with a Content-Length body from sock."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside the response body"
        body += chunk
    return int(status_line.split()[1]), headers, body


def closed_within(sock: socket.socket, seconds: float) -> float:
    """Waits for the server to close sock (reading and discarding); returns when it did."""
    started = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return time.monotonic() - started


def test_an_oversized_body_is_refused_with_413_before_it_is_read(spate, endpoint):
    if isinstance(spate, harness.ExternalServer) or not endpoint.startswith("http://"):
        pytest.skip("writes HTTP/1.1 by hand to a local cleartext Spate")
    declared = MAX_JSON_BODY_BYTES + 1
    headers = signed_headers(endpoint, "PutRecords", b"")
    with socket.create_connection(host_port(endpoint)) as sock:
        # Only the head and a few bytes: the answer must not wait for the other 16 MiB.
        sock.sendall(request_head(endpoint, headers, f"Content-Length: {declared}") + b"{" * 100)
        status, response_headers, body = read_response(sock)
        assert closed_within(sock, 5) < 5, "the connection is closed after the 413"

    assert status == 413
    document = json.loads(body)
    assert "__type" not in document, "AWS's 413 carries no error type"
    assert str(declared) in document["message"]
    assert response_headers["x-amzn-requestid"]
    assert_healthy(spate)


def test_an_oversized_chunked_body_is_refused_with_413(spate, endpoint):
    if isinstance(spate, harness.ExternalServer) or not endpoint.startswith("http://"):
        pytest.skip("writes HTTP/1.1 by hand to a local cleartext Spate")
    headers = signed_headers(endpoint, "PutRecords", b"")
    chunk = b"a" * (1024 * 1024)
    with socket.create_connection(host_port(endpoint)) as sock:
        sock.sendall(request_head(endpoint, headers, "Transfer-Encoding: chunked"))
        try:
            for _ in range(MAX_JSON_BODY_BYTES // len(chunk) + 1):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed as soon as the bound was passed
        status, _, body = read_response(sock)

    assert status == 413
    assert "exceeds" in json.loads(body)["message"]
    assert_healthy(spate)


def test_boto3_sees_the_413_as_aws_shows_it(spate, endpoint, new_stream):
    if isinstance(spate, harness.ExternalServer):
        pytest.skip("Spate's own bound")
    name = new_stream(shard_count=1)
    kinesis = harness.kinesis_client(endpoint)
    # 500 records of 32 KiB: 16 MiB of data, over the bound once base64-encoded.
    records = [{"Data": b"x" * 32 * 1024, "PartitionKey": str(i)} for i in range(500)]
    try:
        kinesis.put_records(StreamName=name, Records=records)
    except harness.ClientError as err:
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 413
        assert err.response["Error"]["Code"] == "413"
    except Exception as err:  # the server may close before botocore finished sending
        assert "Connection" in type(err).__name__ or "connection" in str(err).lower(), err
    else:
        raise AssertionError("an oversized PutRecords was accepted")
    assert_healthy(spate)


def test_a_compressed_body_is_refused_not_misread(spate, endpoint):
    if isinstance(spate, harness.ExternalServer):
        pytest.skip("Spate's own message")
    import gzip
    body = gzip.compress(b"{}")
    headers = signed_headers(endpoint, "ListStreams", body, {"Content-Encoding": "gzip"})
    import urllib.error
    import urllib.request
    request = urllib.request.Request(endpoint + "/", data=body, method="POST", headers=headers)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)

    assert refused.value.code == 400
    error = json.loads(refused.value.read())
    assert error["__type"] == "SerializationException"
    assert "Content-Encoding" in error["message"] and "gzip" in error["message"]


def test_a_head_over_the_bound_is_refused_with_431(spate, endpoint):
    if isinstance(spate, harness.ExternalServer) or not endpoint.startswith("http://"):
        pytest.skip("writes HTTP/1.1 by hand to a local cleartext Spate")
    padding = "".join(f"X-Padding-{i}: {'a' * 1000}\r\n" for i in range(70))  # ~70 KiB
    with socket.create_connection(host_port(endpoint)) as sock:
        try:
            sock.sendall(f"POST / HTTP/1.1\r\nHost: x\r\n{padding}\r\n".encode())
        except (BrokenPipeError, ConnectionResetError):
            return  # refused by closing, before the whole head was even sent
        status, _, _ = read_response(sock)
        assert status == 431
        assert closed_within(sock, 5) < 5
    assert_healthy(spate)


# --- timeouts, on a server of their own -----------------------------------------------------------

HEADER_TIMEOUT = 2
BODY_TIMEOUT = 2
IDLE_TIMEOUT = 3


@pytest.fixture
def impatient(spate_factory, tmp_path):
    config = tmp_path / "limits.toml"
    config.write_text(f"[limits]\nheader_read_timeout_secs = {HEADER_TIMEOUT}\n"
                      f"body_read_timeout_secs = {BODY_TIMEOUT}\n"
                      f"idle_timeout_secs = {IDLE_TIMEOUT}\n")
    return spate_factory(env={"SPATE_CONFIG": str(config),
                              "SPATE_SUBSCRIPTION_HEARTBEAT_MS": "500"})


def test_a_client_sending_its_headers_too_slowly_is_disconnected(impatient):
    started = time.monotonic()
    head = b"POST / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
    with socket.create_connection(host_port(impatient.endpoint)) as sock:
        try:
            for byte in head:
                sock.send(bytes([byte]))
                time.sleep(0.25)
            raise AssertionError("still connected after 50 s of trickled headers")
        except (BrokenPipeError, ConnectionResetError):
            pass
    lasted = time.monotonic() - started

    assert HEADER_TIMEOUT - 0.5 < lasted < HEADER_TIMEOUT + 3, lasted
    assert_healthy(impatient)


def test_a_body_that_stalls_is_answered_and_disconnected(impatient):
    endpoint = impatient.endpoint
    headers = signed_headers(endpoint, "PutRecords", b"")
    started = time.monotonic()
    with socket.create_connection(host_port(endpoint)) as sock:
        # A 1 MB body promised, 10 bytes sent, then silence.
        sock.sendall(request_head(endpoint, headers, "Content-Length: 1000000") + b'{"Records"')
        status, _, body = read_response(sock, timeout=BODY_TIMEOUT + 10)
        answered = time.monotonic() - started
        assert closed_within(sock, 5) < 5

    assert status == 400
    error = json.loads(body)
    assert error["__type"] == "SerializationException"
    assert "no part of the request body arrived" in error["message"]
    assert BODY_TIMEOUT - 0.5 < answered < BODY_TIMEOUT + 3, answered


def test_an_idle_connection_is_closed(impatient):
    with socket.create_connection(host_port(impatient.endpoint)) as sock:
        # One request on a keep-alive connection, then nothing.
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, _ = read_response(sock)
        assert status == 200
        lasted = closed_within(sock, IDLE_TIMEOUT + 10)
    assert lasted < IDLE_TIMEOUT + 3, lasted

    with socket.create_connection(host_port(impatient.endpoint)) as sock:
        # A connection that never sends a byte.
        lasted = closed_within(sock, IDLE_TIMEOUT + 10)
    assert IDLE_TIMEOUT - 0.5 < lasted < IDLE_TIMEOUT + 3, lasted


def test_a_subscription_outlives_the_idle_and_header_timeouts(impatient):
    # A long response is not an idle connection: SubscribeToShard keeps streaming past both.
    client = harness.kinesis_client(impatient.endpoint)
    harness.create_active_stream(client, "long", 1)
    consumer = harness.register_active_consumer(client, "long", "reader")
    started = time.monotonic()
    stream = client.subscribe_to_shard(ConsumerARN=consumer, ShardId=harness.shard_id(0),
                                       StartingPosition={"Type": "LATEST"})["EventStream"]
    events = 0
    for event in stream:
        assert "SubscribeToShardEvent" in event
        events += 1
        if time.monotonic() - started > IDLE_TIMEOUT + HEADER_TIMEOUT + 2:
            break
    stream.close()

    assert events >= 8, events


def h2_frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") \
        + payload


def hpack_literal(name: bytes, value: bytes) -> bytes:
    """A header field literal never indexed, name and value as plain (not Huffman) strings."""
    def string(data: bytes) -> bytes:
        # 7-bit prefix integer (RFC 7541 5.1), Huffman bit clear.
        if len(data) < 127:
            return bytes([len(data)]) + data
        encoded, rest = bytearray([127]), len(data) - 127
        while rest >= 128:
            encoded.append(rest % 128 + 128)
            rest //= 128
        encoded.append(rest)
        return bytes(encoded) + data
    return b"\x10" + string(name) + string(value)


def h2_frames_until_closed(sock: socket.socket, timeout: float = 10) -> list[tuple[int, int]]:
    """(frame type, stream id) of every frame the server sends until it closes or goes quiet."""
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (TimeoutError, socket.timeout, ConnectionResetError):
        pass
    frames = []
    while len(data) >= 9:
        length = int.from_bytes(data[:3], "big")
        frames.append((data[3], int.from_bytes(data[5:9], "big") & 0x7FFFFFFF))
        data = data[9 + length:]
    return frames


@pytest.mark.parametrize("padding,refused", [(0, False), (40, False), (70, True)],
                         ids=["small", "40KiB, over h2's 16 KiB default", "70KiB"])
def test_an_http2_header_list_over_the_bound_is_refused(spate, endpoint, padding, refused):
    if isinstance(spate, harness.ExternalServer) or not endpoint.startswith("http://"):
        pytest.skip("writes HTTP/2 frames by hand to a local cleartext Spate")
    host, port = host_port(endpoint)
    block = b"".join([
        b"\x83",  # :method POST (static table index 3)
        b"\x86",  # :scheme http
        b"\x84",  # :path /
        hpack_literal(b":authority", f"{host}:{port}".encode()),
        hpack_literal(b"content-length", b"0"),
        *[hpack_literal(f"x-padding-{i}".encode(), b"a" * 1000) for i in range(padding)],
    ])
    # Split into HEADERS and CONTINUATION frames of at most the default 16 KiB.
    pieces = [block[at:at + 16384] for at in range(0, len(block), 16384)]
    frames = b""
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        kind = 0x1 if index == 0 else 0x9
        flags = (0x4 if last else 0) | (0x1 if index == 0 else 0)  # END_HEADERS, END_STREAM
        frames += h2_frame(kind, flags, 1, piece)
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + h2_frame(0x4, 0, 0, b"")
    goaway = h2_frame(0x7, 0, 0, (0).to_bytes(4, "big") + (0).to_bytes(4, "big"))
    with socket.create_connection((host, port)) as sock:
        try:
            sock.sendall(preface + frames)
            time.sleep(0.5)
            sock.sendall(goaway)
        except (BrokenPipeError, ConnectionResetError):
            pass
        received = h2_frames_until_closed(sock, timeout=5)

    on_stream = [kind for kind, stream in received if stream == 1]
    if refused:
        # h2 answers 431 and resets the stream (RST_STREAM), or ends the connection (GOAWAY).
        assert 0x3 in on_stream or any(kind == 0x7 for kind, _ in received), received
    else:
        assert 0x1 in on_stream and 0x3 not in on_stream, received
    assert_healthy(spate)
