"""`spate bench`: the load generator run against a fresh server, its JSON report checked against
what the stream holds afterwards."""

import datetime
import http.server
import json
import subprocess
import threading
import time
from unittest import mock

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import harness


def run_bench(*args: str, timeout: float = 60, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(harness.spate_binary()), "bench", *args],
                          capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture
def server(spate_factory):
    return spate_factory(env={"SPATE_QUOTAS": "off"})


def check_report(report: dict, workload: str, records: int, records_per_call: int):
    assert report["workload"] == workload
    assert report["stream"] == "s"
    assert report["records"] == records
    assert report["records_failed"] == 0
    assert report["requests"] == -(-records // records_per_call)
    assert report["requests_failed"] == 0
    assert report["records_per_call"] == records_per_call
    assert report["record_size"] == 100
    assert report["records_per_sec"] > 0
    assert report["mb_per_sec"] > 0
    assert report["elapsed_secs"] > 0
    latency = report["latency_ms"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["p999"] \
        <= latency["max"]
    assert report["errors"] == {}
    assert report["record_errors"] == {}


def stored_records(server) -> list[dict]:
    client = harness.kinesis_client(server.endpoint)
    shards = harness.read_stream(client, "s")
    return [record for records in shards.values() for record in records]


def test_put_records_stores_exactly_the_count(server):
    result = run_bench("put-records", "--endpoint", server.endpoint, "--stream", "s",
                       "--create-shards", "2", "--count", "2000", "--records-per-call", "100",
                       "--connections", "4", "--json")
    assert result.returncode == 0, result.stderr
    check_report(json.loads(result.stdout), "put-records", 2000, 100)
    records = stored_records(server)
    assert len(records) == 2000
    assert all(len(record["Data"]) == 100 for record in records)
    # Random keys spread the records over both shards.
    assert len({record["PartitionKey"] for record in records}) == 2000


def test_put_record_stores_exactly_the_count(server):
    result = run_bench("put-record", "--endpoint", server.endpoint, "--stream", "s",
                       "--create-shards", "1", "--count", "50", "--connections", "4",
                       "--keys", "fixed", "--json")
    assert result.returncode == 0, result.stderr
    check_report(json.loads(result.stdout), "put-record", 50, 1)
    records = stored_records(server)
    assert len(records) == 50
    assert {record["PartitionKey"] for record in records} == {"spate-bench"}


def test_text_report_and_failure_without_a_stream(server):
    result = run_bench("put-record", "--endpoint", server.endpoint, "--stream", "missing",
                       "--count", "1")
    assert result.returncode != 0
    assert "does not exist" in result.stderr

    result = run_bench("put-records", "--endpoint", server.endpoint, "--stream", "s",
                       "--create-shards", "1", "--duration", "1500ms", "--connections", "2",
                       "--records-per-call", "10")
    assert result.returncode == 0, result.stderr
    assert "records/s" in result.stdout
    assert "p99.9" in result.stdout
    # The progress line, once a second, on stderr.
    assert "records/s" in result.stderr


def test_nothing_stored_is_a_failure():
    # Nothing listens on port 9 of loopback: the run cannot start, and the exit code says so.
    result = run_bench("put-record", "--endpoint", "http://127.0.0.1:9", "--stream", "s",
                       "--count", "3", "--json")
    assert result.returncode != 0


def test_get_latency_reads_back_every_record(server):
    result = run_bench("get-latency", "--endpoint", server.endpoint, "--stream", "s",
                       "--create-shards", "2", "--count", "100", "--connections", "2",
                       "--poll-interval", "10ms", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    check_report(report, "get-latency", 100, 1)
    assert report["records_received"] == 100
    latency = report["put_to_get_ms"]
    assert 0 < latency["p50"] <= latency["p99"] <= latency["max"]
    assert report["get_errors"] == {}
    assert len(stored_records(server)) == 100


def test_fanout_latency_reads_back_every_record(server):
    result = run_bench("fanout-latency", "--endpoint", server.endpoint, "--stream", "s",
                       "--create-shards", "2", "--count", "200", "--connections", "2",
                       "--rate", "400", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    check_report(report, "fanout-latency", 200, 1)
    assert report["records_received"] == 200
    latency = report["put_to_get_ms"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["p999"] \
        <= latency["max"]
    assert report["get_errors"] == {}
    assert len(stored_records(server)) == 200
    # The consumer the run registered is deregistered: DELETING for a moment (as with AWS),
    # then gone.
    client = harness.kinesis_client(server.endpoint)
    arn = client.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["StreamARN"]
    deadline = time.monotonic() + 10
    while consumers := client.list_stream_consumers(StreamARN=arn)["Consumers"]:
        assert all(c["ConsumerStatus"] == "DELETING" for c in consumers), consumers
        assert time.monotonic() < deadline, f"still listed: {consumers}"
        time.sleep(0.05)


def test_fanout_latency_over_http1(server):
    result = run_bench("fanout-latency", "--endpoint", server.endpoint, "--stream", "s",
                       "--create-shards", "1", "--count", "50", "--connections", "1",
                       "--subscribe-protocol", "http1", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["records_received"] == 50
    assert report["get_errors"] == {}


def test_fanout_latency_resubscribes_when_a_subscription_ends(spate_factory):
    # Subscriptions that last 1.5 s instead of AWS's 5 minutes: a 4-second run crosses their
    # end, and the bench must pick up after the continuation sequence number, losing nothing.
    server = spate_factory(env={"SPATE_QUOTAS": "off", "SPATE_SUBSCRIPTION_LIFETIME_MS": "1500",
                                "SPATE_SUBSCRIPTION_HEARTBEAT_MS": "200"})
    result = run_bench("fanout-latency", "--endpoint", server.endpoint, "--stream", "s",
                       "--create-shards", "1", "--duration", "4s", "--connections", "1",
                       "--rate", "100", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["records"] >= 300
    assert report["records_received"] == report["records"]
    assert len(stored_records(server)) == report["records"]


def test_requests_are_signed_as_botocore_signs_them():
    """A stand-in endpoint records what the bench sends; botocore signs the same request at the
    same instant with the same credentials, and the signatures must agree."""
    captured = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers["content-length"]))
            captured.append(({k.lower(): v for k, v in self.headers.items()}, body))
            answer = json.dumps({"StreamDescriptionSummary": {"StreamStatus": "ACTIVE"}}).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        env = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI",
               "AWS_DEFAULT_REGION": "eu-west-1"}
        result = run_bench("put-record", "--endpoint", url, "--stream", "s", "--count", "1",
                           "--connections", "1", "--json", env=env)
        assert result.returncode == 0, result.stderr
    finally:
        server.shutdown()

    targets = [headers["x-amz-target"] for headers, _ in captured]
    assert targets == ["Kinesis_20131202.DescribeStreamSummary", "Kinesis_20131202.PutRecord"]
    for headers, body in captured:
        request = AWSRequest(method="POST", url=f"{url}/", data=body, headers={
            "Content-Type": headers["content-type"], "X-Amz-Target": headers["x-amz-target"]})
        signed_at = datetime.datetime.strptime(headers["x-amz-date"], "%Y%m%dT%H%M%SZ")

        class At(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return signed_at

            @classmethod
            def now(cls, tz=None):
                return signed_at.replace(tzinfo=tz) if tz else signed_at

        # botocore reads the signing time from datetime.datetime in botocore.auth.
        with mock.patch.object(botocore.auth.datetime, "datetime", At):
            botocore.auth.SigV4Auth(Credentials(env["AWS_ACCESS_KEY_ID"],
                                                env["AWS_SECRET_ACCESS_KEY"]),
                                    "kinesis", "eu-west-1").add_auth(request)
        expected = request.headers["Authorization"]
        assert headers["authorization"].split("Signature=")[1] == expected.split("Signature=")[1]
        assert "/eu-west-1/kinesis/aws4_request" in headers["authorization"]
