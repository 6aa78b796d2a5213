"""Receivers the Firehose HTTP-based destinations deliver to in the tests, each a small
`http.server` in a thread implementing the wire format AWS documents for it (no OpenSearch,
Elasticsearch or Splunk server can be installed here):

- `HttpEndpointReceiver`: *HTTP endpoint delivery request and response specifications* of
  Amazon Data Firehose (protocol 1.0): checks the headers and the body, answers
  `{"requestId", "timestamp"}` (with `errorMessage` on failure); can fail, answer slowly, or
  echo the wrong request id.
- `SplunkReceiver`: Splunk HTTP Event Collector, `/services/collector/event` and `/raw`, token
  check (`Authorization: Splunk <token>`), `ackId` answers and the `/services/collector/ack`
  endpoint, HEC's `{"text", "code"}` errors.
- `OpenSearchReceiver`: the `_bulk` API: NDJSON action and document lines, per-item results,
  per-item errors on demand.

Every receiver serves HTTPS when given the certificate chain and key `harness.make_certificate`
makes.
"""

from __future__ import annotations

import base64
import gzip
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Receiver:
    """A threaded HTTP(S) server on a free loopback port; `handle(method, path, headers, body)`
    returns (status, JSON-able answer)."""

    def __init__(self, tls: tuple[Path, Path] | None = None):
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                status, answer = receiver.handle("POST", self.path, self.headers, body)
                payload = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://localhost:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, method, path, headers, body):  # pragma: no cover - overridden
        raise NotImplementedError


def lower(headers) -> dict[str, str]:
    """Header names in lower case (HTTP/1.1 names are case-insensitive; hyper sends lower)."""
    return {name.lower(): value for name, value in headers.items()}


def wait_until(condition, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} not met after {timeout}s"
        time.sleep(0.1)


class HttpEndpointReceiver(Receiver):
    """A Firehose HTTP endpoint. `fail_next(n, status)` answers the next n requests with an
    error status, `fail_always(status)` every request, `delay_s` answers that late, and
    `wrong_request_id` echoes another id. `requests` holds every request as received (headers,
    decoded body); `records` the data of the requests it confirmed."""

    def __init__(self, access_key: str | None = None, tls=None):
        self.access_key = access_key
        self.requests: list[dict] = []
        self.records: list[bytes] = []
        self.failures_left = 0
        self.failure_status = 500
        self.always_fail = False
        self.delay_s = 0.0
        self.wrong_request_id = False
        self.problems: list[str] = []
        super().__init__(tls)

    def fail_next(self, count: int, status: int = 500) -> None:
        with self.lock:
            self.failures_left, self.failure_status = count, status

    def fail_always(self, status: int = 500) -> None:
        with self.lock:
            self.always_fail, self.failure_status = True, status

    def handle(self, method, path, headers, body):
        if headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = json.loads(body)
        request_id = headers.get("X-Amz-Firehose-Request-Id")
        problems = []
        if headers.get("Content-Type") != "application/json":
            problems.append(f"Content-Type {headers.get('Content-Type')}")
        if headers.get("X-Amz-Firehose-Protocol-Version") != "1.0":
            problems.append("X-Amz-Firehose-Protocol-Version")
        if not request_id or request.get("requestId") != request_id:
            problems.append("request id header and body differ")
        if not isinstance(request.get("timestamp"), int):
            problems.append("timestamp")
        with self.lock:
            self.requests.append({"path": path, "headers": lower(headers), "body": request})
            self.problems.extend(problems)
            now = int(time.time() * 1000)
            if self.access_key is not None and \
                    headers.get("X-Amz-Firehose-Access-Key") != self.access_key:
                return 401, {"requestId": request_id, "timestamp": now,
                             "errorMessage": "Unauthorized"}
            if self.always_fail or self.failures_left > 0:
                self.failures_left = max(0, self.failures_left - 1)
                return self.failure_status, {"requestId": request_id, "timestamp": now,
                                             "errorMessage": "failing on purpose"}
            delay = self.delay_s
        if delay:
            time.sleep(delay)
        with self.lock:
            for record in request["records"]:
                self.records.append(base64.b64decode(record["data"]))
            answered_id = "not-the-request-id" if self.wrong_request_id else request_id
        return 200, {"requestId": answered_id, "timestamp": int(time.time() * 1000)}


class SplunkReceiver(Receiver):
    """Splunk HEC. Events (event endpoint, parsed from concatenated JSON objects) and raw bodies
    are kept in `events` / `raw`; with `ack`, answers carry an `ackId` that
    `/services/collector/ack` reports indexed after `polls_before_ack` polls."""

    def __init__(self, token: str, ack: bool = True, polls_before_ack: int = 2, tls=None):
        self.token = token
        self.ack = ack
        self.polls_before_ack = polls_before_ack
        self.events: list = []
        self.raw: list[bytes] = []
        self.channels: set[str] = set()
        self.next_ack = 0
        self.polls: dict[int, int] = {}
        self.failures_left = 0
        self.ack_requests = 0
        super().__init__(tls)

    def fail_next(self, count: int) -> None:
        with self.lock:
            self.failures_left = count

    def handle(self, method, path, headers, body):
        path = path.split("?")[0]
        with self.lock:
            if headers.get("Authorization") != f"Splunk {self.token}":
                return 403, {"text": "Invalid token", "code": 4}
            channel = headers.get("X-Splunk-Request-Channel")
            if self.ack and not channel:
                return 400, {"text": "Data channel is missing", "code": 10}
            if path == "/services/collector/ack":
                self.ack_requests += 1
                answer = {}
                for ack_id in json.loads(body)["acks"]:
                    self.polls[ack_id] = self.polls.get(ack_id, 0) + 1
                    answer[str(ack_id)] = self.polls[ack_id] > self.polls_before_ack
                return 200, {"acks": answer}
            if self.failures_left > 0:
                self.failures_left -= 1
                return 503, {"text": "Server is busy", "code": 9}
            if path == "/services/collector/event":
                decoder = json.JSONDecoder()
                text = body.decode()
                position = 0
                while position < len(text):
                    while position < len(text) and text[position].isspace():
                        position += 1
                    if position == len(text):
                        break
                    event, position = decoder.raw_decode(text, position)
                    if "event" not in event:
                        return 400, {"text": "Event field is required", "code": 12}
                    self.events.append(event)
            elif path == "/services/collector/raw":
                self.raw.append(body)
            else:
                return 404, {"text": "The requested URL was not found on this server.",
                             "code": 404}
            self.channels.add(channel)
            if not self.ack:
                return 200, {"text": "Success", "code": 0}
            ack_id = self.next_ack
            self.next_ack += 1
            return 200, {"text": "Success", "code": 0, "ackId": ack_id}


class OpenSearchReceiver(Receiver):
    """The `_bulk` API of OpenSearch / Elasticsearch. Indexed documents are kept by index in
    `indices` as (action metadata, document). `reject(predicate)` fails the documents it
    matches for good (400 `mapper_parsing_exception`); `throttle_next(n)` fails every item of
    the next n bulk requests with 429 `es_rejected_execution_exception`."""

    def __init__(self, tls=None):
        self.indices: dict[str, list[tuple[dict, dict]]] = {}
        self.bulk_requests: list[dict] = []
        self.rejected = lambda document: False
        self.throttled_left = 0
        super().__init__(tls)

    def reject(self, predicate) -> None:
        with self.lock:
            self.rejected = predicate

    def throttle_next(self, count: int) -> None:
        with self.lock:
            self.throttled_left = count

    def documents(self) -> list[dict]:
        with self.lock:
            return [document for entries in self.indices.values() for _, document in entries]

    def handle(self, method, path, headers, body):
        if path.split("?")[0] != "/_bulk":
            return 404, {"error": "no handler", "status": 404}
        if not headers.get("Content-Type", "").startswith(("application/x-ndjson",
                                                           "application/json")):
            return 406, {"error": "Content-Type header is not supported", "status": 406}
        lines = body.decode().split("\n")
        if lines[-1] != "":
            return 400, {"error": {"type": "illegal_argument_exception",
                                   "reason": "The bulk request must be terminated by a newline"},
                         "status": 400}
        lines.pop()
        items = []
        errors = False
        with self.lock:
            self.bulk_requests.append({"headers": lower(headers), "lines": len(lines)})
            throttled = self.throttled_left > 0
            if throttled:
                self.throttled_left -= 1
            for action_line, document_line in zip(lines[0::2], lines[1::2]):
                action = json.loads(action_line)
                (kind, metadata), = action.items()
                document = json.loads(document_line)
                result = {"_index": metadata["_index"], "_id": metadata.get("_id", "generated")}
                if throttled:
                    result.update(status=429, error={
                        "type": "es_rejected_execution_exception", "reason": "queue full"})
                    errors = True
                elif self.rejected(document):
                    result.update(status=400, error={
                        "type": "mapper_parsing_exception",
                        "reason": "failed to parse field [bad]"})
                    errors = True
                else:
                    result.update(status=201, result="created", _version=1)
                    self.indices.setdefault(metadata["_index"], []).append((metadata, document))
                items.append({kind: result})
        return 200, {"took": 1, "errors": errors, "items": items}
