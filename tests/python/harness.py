"""Shared pieces of the black-box suite.

Starts the real `spate` binary on a temporary data directory and a free port, builds boto3 clients
and `aws` CLI environments pointed at it, and computes the Kinesis facts the tests check (hash-key
ranges, MD5 routing, stream ARNs) independently of the server, straight from the AWS rules in
../shared/reference/aws-api.md.

Environment:
- SPATE_BIN: the binary to start (default <repo>/target/debug/spate).
- SPATE_TEST_ENDPOINT: run against an already running Kinesis-compatible endpoint instead of
  starting Spate (for comparing behaviour with another implementation); tests that need to start,
  stop or kill a server of their own are then skipped.
- SPATE_S3S_FS_BIN: the S3-compatible server Firehose delivers to (S3Server); scripts/test-python
  sets it from scripts/s3-server-bin, which installs s3s-fs when missing.
- SPATE_PG_BIN: the directory of PostgreSQL's initdb and postgres (PostgresServer, standing in
  for Redshift); scripts/test-python sets it from scripts/postgres-bin, which installs the Debian
  package postgresql when missing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import boto3
import botocore
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_ID = "000000000000"
REGION = "us-east-1"
MAX_HASH_KEY = 2**128 - 1

# Fast state transitions for tests; the server's own defaults are 500 ms.
FAST_DELAYS = {
    # Quotas (on by default, as on AWS) are turned on again by the tests of quotas themselves.
    "SPATE_QUOTAS": "off",
    "SPATE_STREAM_CREATE_DELAY_MS": "50",
    "SPATE_STREAM_DELETE_DELAY_MS": "50",
    "SPATE_STREAM_UPDATE_DELAY_MS": "50",
    "SPATE_CONSUMER_CREATE_DELAY_MS": "100",
    "SPATE_CONSUMER_DELETE_DELAY_MS": "100",
    "SPATE_VIDEO_CREATE_DELAY_MS": "50",
    "SPATE_VIDEO_DELETE_DELAY_MS": "50",
}

# Credentials and config that keep botocore and the CLI away from the user's ~/.aws and from the
# EC2 metadata service. Spate does not check signatures yet; any key pair will do.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/nonexistent/spate-tests/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/spate-tests/aws-credentials",
    "AWS_RETRY_MODE": "standard",
    "AWS_MAX_ATTEMPTS": "1",
    "AWS_PAGER": "",
}
# Variables that would change what botocore does behind the tests' back.
AWS_ENV_REMOVE = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
                  "AWS_ENDPOINT_URL_KINESIS", "AWS_CA_BUNDLE")

SEQUENCE_NUMBER_RE = re.compile(r"^[0-9]{56}$")
SHARD_ID_RE = re.compile(r"^shardId-[0-9]{12}$")


def isolate_aws_environment(environ=os.environ) -> None:
    for name in AWS_ENV_REMOVE:
        environ.pop(name, None)
    environ.update(AWS_ENV)


def stream_arn(stream_name: str) -> str:
    return f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/{stream_name}"


def not_found_message(stream_name: str) -> str:
    return f"Stream {stream_name} under account {ACCOUNT_ID} not found."


def shard_id(index: int) -> str:
    return f"shardId-{index:012d}"


def expected_hash_ranges(shard_count: int) -> list[tuple[int, int]]:
    """CreateStream's split: steps of floor(2^128/N), the last shard ending at 2^128-1."""
    step = 2**128 // shard_count
    ranges = []
    for index in range(shard_count):
        start = index * step
        end = MAX_HASH_KEY if index == shard_count - 1 else (index + 1) * step - 1
        ranges.append((start, end))
    return ranges


def hash_key_of(partition_key: str) -> int:
    """The 128-bit hash key Kinesis derives from a partition key: MD5 of its UTF-8 bytes."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def shard_holding(shards: list[dict], hash_key: int) -> str:
    """The id of the open shard whose HashKeyRange holds hash_key."""
    holders = [
        shard["ShardId"]
        for shard in shards
        if "EndingSequenceNumber" not in shard["SequenceNumberRange"]
        and int(shard["HashKeyRange"]["StartingHashKey"]) <= hash_key
        <= int(shard["HashKeyRange"]["EndingHashKey"])
    ]
    assert len(holders) == 1, f"hash key {hash_key} is held by {holders}"
    return holders[0]


def unique_name(prefix: str) -> str:
    """A stream name that no other test uses: [a-zA-Z0-9_.-]+, at most 128 characters."""
    cleaned = re.sub(r"[^a-zA-Z0-9_.-]+", "-", prefix).strip("-")[:80] or "t"
    return f"{cleaned}-{uuid.uuid4().hex[:10]}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- clients -------------------------------------------------------------------------------------


def kinesis_client(endpoint: str, read_timeout: float = 30, max_pool_connections: int = 10,
                   verify: str | Path | None = None, access_key_id: str | None = None,
                   secret_access_key: str | None = None, session_token: str | None = None,
                   unsigned: bool = False, service: str = "kinesis"):
    """A boto3 client of `service` (Kinesis unless given) for endpoint that never retries, so
    every error surfaces as is.

    `verify`: for https endpoints, the PEM of the certificate to trust (botocore's `verify=`).
    Credentials are the tests' own (test/test) unless given; `unsigned` sends no signature.
    """
    session = boto3.session.Session(
        aws_access_key_id=access_key_id or AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=secret_access_key or AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=session_token,
        region_name=REGION,
    )
    config = Config(
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=read_timeout,
        max_pool_connections=max_pool_connections,
        signature_version=botocore.UNSIGNED if unsigned else None,
    )
    return session.client(service, endpoint_url=endpoint, config=config,
                          verify=str(verify) if verify is not None else None)


def keyed_client(server, key: tuple[str, str], **kwargs):
    """A Kinesis client of `server` signing with `key`, an (access key id, secret) pair."""
    return kinesis_client(server.endpoint, access_key_id=key[0], secret_access_key=key[1],
                          **kwargs)


def write_credentials_config(path: Path, *credentials: dict[str, str]) -> Path:
    """Writes a configuration file with an [[auth.credentials]] table per dict; `policy`, a JSON
    document, is written as a TOML literal string. Returns the path."""
    tables = []
    for credential in credentials:
        lines = ["[[auth.credentials]]"]
        for key, value in credential.items():
            quoted = f"'''{value}'''" if key == "policy" else json.dumps(value)
            lines.append(f"{key} = {quoted}")
        tables.append("\n".join(lines))
    path.write_text("\n\n".join(tables) + "\n")
    return path


JSON_1_1 = "application/x-amz-json-1.1"
CBOR_1_1 = "application/x-amz-cbor-1.1"


def raw_call(endpoint: str, operation: str, body, target_prefix: str = "Kinesis_20131202",
             content_type: str = JSON_1_1):
    """POSTs body (bytes, or an object to JSON-encode) as `operation`, SigV4-signed like botocore.

    Below every client library: the tests choose the bytes and the Content-Type themselves.
    Returns (status, headers as a lower-cased dict, body bytes).
    """
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = AWSRequest(method="POST", url=endpoint + "/", data=data, headers={
        "X-Amz-Target": f"{target_prefix}.{operation}",
        "Content-Type": content_type,
    })
    SigV4Auth(Credentials("test", "test"), "kinesis", REGION).add_auth(request)
    prepared = urllib.request.Request(endpoint + "/", data=data, method="POST",
                                      headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(prepared, timeout=30) as response:
            return response.status, _lower_headers(response), response.read()
    except urllib.error.HTTPError as err:
        return err.code, _lower_headers(err), err.read()


def _lower_headers(response) -> dict[str, str]:
    return {name.lower(): value for name, value in response.headers.items()}


@contextlib.contextmanager
def aws_error(code: str, message: str | None = None, status: int = 400):
    """Expects the block to fail with the AWS error `code` (and exactly `message` when given).

    Yields the pytest ExceptionInfo, so a test can look further at the error.
    """
    with pytest.raises(ClientError) as info:
        yield info
    error = info.value.response["Error"]
    assert error["Code"] == code, f"expected {code}, got {error}"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status, info.value.response
    if message is not None:
        assert error["Message"] == message


def validation_message(*violations: tuple[str, str, str]) -> str:
    """AWS's framework validation text for (value, member path, constraint) triples."""
    parts = [
        f"Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
        for value, member, constraint in violations
    ]
    noun = "error" if len(parts) == 1 else "errors"
    return f"{len(parts)} validation {noun} detected: " + "; ".join(parts)


STREAM_NAME_PATTERN = "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"


# --- streams -------------------------------------------------------------------------------------


def wait_for_status(client, stream_name: str, status: str = "ACTIVE", timeout: float = 20,
                    interval: float = 0.02) -> dict:
    """Polls DescribeStreamSummary until the stream has `status`; returns that summary."""
    deadline = time.monotonic() + timeout
    while True:
        summary = client.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
        if summary["StreamStatus"] == status:
            return summary
        if time.monotonic() > deadline:
            raise AssertionError(f"stream {stream_name} still {summary['StreamStatus']} after "
                                 f"{timeout}s, expected {status}")
        time.sleep(interval)


def wait_until_gone(client, stream_name: str, timeout: float = 20, interval: float = 0.02) -> None:
    """Polls until DescribeStreamSummary answers ResourceNotFoundException."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            summary = client.describe_stream_summary(StreamName=stream_name)
        except ClientError as err:
            if err.response["Error"]["Code"] == "ResourceNotFoundException":
                return
            raise
        if time.monotonic() > deadline:
            status = summary["StreamDescriptionSummary"]["StreamStatus"]
            raise AssertionError(f"stream {stream_name} still {status} after {timeout}s")
        time.sleep(interval)


def create_active_stream(client, stream_name: str, shard_count: int | None = 1, **extra) -> dict:
    """CreateStream, then wait for ACTIVE; returns the ACTIVE DescribeStreamSummary."""
    request = {"StreamName": stream_name, **extra}
    if shard_count is not None:
        request["ShardCount"] = shard_count
    client.create_stream(**request)
    return wait_for_status(client, stream_name, "ACTIVE")


def wait_for_consumer(client, consumer_arn: str, status: str = "ACTIVE", timeout: float = 20,
                      interval: float = 0.02) -> dict:
    """Polls DescribeStreamConsumer until the consumer has `status`; returns its description."""
    deadline = time.monotonic() + timeout
    while True:
        described = client.describe_stream_consumer(ConsumerARN=consumer_arn)
        description = described["ConsumerDescription"]
        if description["ConsumerStatus"] == status:
            return description
        if time.monotonic() > deadline:
            raise AssertionError(f"consumer {consumer_arn} still {description['ConsumerStatus']} "
                                 f"after {timeout}s, expected {status}")
        time.sleep(interval)


def register_active_consumer(client, stream_name: str, consumer_name: str) -> str:
    """RegisterStreamConsumer, then wait for ACTIVE; returns the ConsumerARN."""
    registered = client.register_stream_consumer(StreamARN=stream_arn(stream_name),
                                                 ConsumerName=consumer_name)
    arn = registered["Consumer"]["ConsumerARN"]
    wait_for_consumer(client, arn)
    return arn


def all_shards(client, stream_name: str) -> list[dict]:
    """Every shard through ListShards, following NextToken alone as AWS requires (botocore's
    paginator would send StreamName with it)."""
    response = client.list_shards(StreamName=stream_name)
    shards = list(response["Shards"])
    while response.get("NextToken"):
        response = client.list_shards(NextToken=response["NextToken"])
        shards.extend(response["Shards"])
    return shards


def read_to_end(client, shard_iterator: str, limit: int | None = None,
                max_calls: int = 10_000) -> tuple[list[dict], dict]:
    """GetRecords from shard_iterator until caught up (an empty page with MillisBehindLatest 0).

    Returns the records and the last response. Checks on every page that an open shard always
    hands back a NextShardIterator.
    """
    records: list[dict] = []
    for _ in range(max_calls):
        request = {"ShardIterator": shard_iterator}
        if limit is not None:
            request["Limit"] = limit
        response = client.get_records(**request)
        records.extend(response["Records"])
        next_iterator = response.get("NextShardIterator")
        assert next_iterator, f"open shard returned no NextShardIterator: {response}"
        assert "MillisBehindLatest" in response, f"no MillisBehindLatest: {response}"
        if not response["Records"] and response["MillisBehindLatest"] == 0:
            return records, response
        shard_iterator = next_iterator
    raise AssertionError(f"shard not caught up after {max_calls} GetRecords calls")


def read_shard(client, stream_name: str, shard: str, limit: int | None = None) -> list[dict]:
    iterator = client.get_shard_iterator(
        StreamName=stream_name, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records, _ = read_to_end(client, iterator, limit=limit)
    return records


def read_stream(client, stream_name: str) -> dict[str, list[dict]]:
    """Every record of every shard, from TRIM_HORIZON to the end, keyed by shard id."""
    return {
        shard["ShardId"]: read_shard(client, stream_name, shard["ShardId"])
        for shard in all_shards(client, stream_name)
    }


# --- the server ----------------------------------------------------------------------------------


def spate_binary() -> Path:
    return Path(os.environ.get("SPATE_BIN") or REPO_ROOT / "target" / "debug" / "spate")


def external_endpoint() -> str | None:
    return os.environ.get("SPATE_TEST_ENDPOINT") or None


def http_get(url: str, timeout: float = 2, cafile: Path | None = None) -> int:
    """GETs url; over https, trusting only the certificate in cafile."""
    context = ssl.create_default_context(cafile=str(cafile)) if cafile else None
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def make_certificate(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for localhost and 127.0.0.1 signed by it, made with the
    openssl command in directory (skips the test without it); returns (CA PEM, server
    certificate chain PEM, server key PEM). Spate serves them with --tls-cert/--tls-key, the
    Firehose test receivers (firehose_receivers.py) serve HTTPS with them."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command makes the test's certificates")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=directory, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Spate test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "server-key.pem", "-out", "server.csr", "-subj", "/CN=localhost")
    (directory / "server.ext").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext")
    # The chain the server sends: its certificate, then the CA's.
    chain = directory / "chain.pem"
    chain.write_text((directory / "server.pem").read_text() + (directory / "ca.pem").read_text())
    return directory / "ca.pem", chain, directory / "server-key.pem"


class ServerLog:
    """The log file of a server process the tests start; a failing test shows what was written
    to it during the test (conftest.py, pytest_runtest_makereport)."""

    log_path: Path
    # Names the log in the failure report.
    log_label = "server"

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def log_tail(self, lines: int = 80, since: int = 0) -> str:
        """The last `lines` lines of the log written after byte offset `since`."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(since)
                text = log.read().decode(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class ServerProcess(ServerLog):
    """A server process the tests start, with its log (ServerLog): what Spate's, S3's and
    PostgreSQL's servers share. A subclass names its `instances` list (logged_servers), its
    `log_label`, and the signal `stop()` asks it to shut down with; `_exited()` runs whenever
    the process has ended, by `stop()` or `kill()`."""

    instances: list["ServerProcess"]
    # The signal of a graceful shutdown.
    stop_signal = signal.SIGTERM

    def __init__(self, log_path: Path):
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        type(self).instances.append(self)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _launch(self, banner: str, command: list[str], cwd: Path,
                env: dict[str, str] | None = None, setup: list[list[str]] = ()) -> None:
        """Appends a `=== banner, time ===` line to the log, runs the `setup` commands to
        completion, then starts `command`; all of them write to the log."""
        with open(self.log_path, "ab") as log:
            log.write(f"\n=== {banner}, {time.strftime('%H:%M:%S')} ===\n".encode())
            log.flush()
            for step in setup:
                subprocess.run(step, stdin=subprocess.DEVNULL, stdout=log,
                               stderr=subprocess.STDOUT, check=True, cwd=cwd, timeout=120)
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, env=env, cwd=cwd)

    def _wait_until_ready(self, ready, timeout: float, readiness: str, interval: float = 0.02,
                          not_yet: tuple[type[BaseException], ...] = (OSError,)) -> None:
        """Calls `ready()` every `interval` until it returns true; an exception in `not_yet`
        counts as not ready yet. Raises (with the log's tail) if the process exits first, or
        kills it and raises after `timeout`; `readiness` says what it failed to do."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.log_label} exited with status "
                                   f"{self.process.returncode} before it could {readiness}; "
                                   f"log tail:\n{self.log_tail()}")
            try:
                if ready():
                    return
            except not_yet:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"{self.log_label} did not {readiness} within {timeout}s; "
                                   f"log tail:\n{self.log_tail()}")
            time.sleep(interval)

    def stop(self, timeout: float = 15) -> int:
        """`stop_signal`, SIGKILL after `timeout`; returns the exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                self._ignored_stop_signal(timeout)
        self._exited()
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self._exited()

    def _ignored_stop_signal(self, timeout: float) -> None:
        """Called by `stop()` when the process outlived `timeout` and was killed."""

    def _exited(self) -> None:
        """Called once the process has ended, by `stop()` or `kill()`."""


class SpateServer(ServerProcess):
    """One `spate serve` process on a data directory; restartable on the same directory."""

    log_label = "spate"

    # Every server the session created, so a failing test can show their logs.
    instances: list["SpateServer"] = []

    def __init__(self, binary: Path, data_dir: Path, log_path: Path,
                 env: dict[str, str] | None = None, args: list[str] | None = None,
                 ca_bundle: Path | None = None):
        super().__init__(log_path)
        self.binary = binary
        self.data_dir = data_dir
        self.env = {"NO_COLOR": "1", **FAST_DELAYS, **(env or {})}
        # Extra `spate serve` flags, and the PEM to trust when TLS uses configured files.
        self.args = list(args or [])
        self.trusted_pem = ca_bundle
        self.stopped_at: float | None = None

    @property
    def tls(self) -> bool:
        """Whether the server was started with TLS on, by SPATE_TLS or `--tls` (https)."""
        if "--tls" in self.args:
            following = self.args[self.args.index("--tls") + 1:]
            return not following or following[0] != "off"
        return self.env.get("SPATE_TLS", "off") in ("on", "true")

    @property
    def ca_bundle(self) -> Path:
        """The PEM clients trust: the self-signed certificate a TLS server writes at each start,
        unless the test gave its own certificate (`ca_bundle=`)."""
        return self.trusted_pem or self.data_dir / "tls" / "self-signed.pem"

    @property
    def endpoint(self) -> str:
        assert self.port is not None, "server not started"
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> "SpateServer":
        """Starts on a fresh free port and waits for GET /health to answer 200."""
        assert not self.running, "server already running"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self._launch(f"spate serve on port {self.port}, data {self.data_dir}",
                     [str(self.binary), "serve", "--listen", f"127.0.0.1:{self.port}",
                      "--data-dir", str(self.data_dir), *self.args],
                     cwd=self.data_dir.parent, env={**os.environ, **self.env})
        self.stopped_at = None
        cafile = self.ca_bundle if self.tls else None
        self._wait_until_ready(
            lambda: http_get(f"{self.endpoint}/health", timeout=1, cafile=cafile) == 200,
            timeout, "answer /health")
        return self

    # stop() (SIGTERM, a graceful shutdown) and kill() (SIGKILL, the crash the durability
    # guarantees are about) are ServerProcess's.

    def _ignored_stop_signal(self, timeout: float) -> None:
        """Fails the test: a Spate server must shut down on SIGTERM."""
        raise AssertionError(f"spate ignored SIGTERM for {timeout}s; killed it")

    def _exited(self) -> None:
        self.stopped_at = time.time()

    def restart(self) -> "SpateServer":
        if self.running:
            self.stop()
        return self.start()


class ExternalServer:
    """An endpoint somebody else runs (SPATE_TEST_ENDPOINT); cannot be stopped or restarted."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint.rstrip("/")


def logged_servers() -> list[ServerLog]:
    """Every server process the session started, Spate's and S3's, for the failure reports."""
    return [*SpateServer.instances, *S3Server.instances, *PostgresServer.instances]


# --- S3, where Firehose delivers -----------------------------------------------------------------

# The one key pair the S3 server accepts; it checks every SigV4 signature against it (and answers
# SignatureDoesNotMatch otherwise). Deliberately not the tests' test/test, so a Spate that signs
# with the wrong credentials fails instead of passing by accident.
S3_ACCESS_KEY_ID = "spate-s3-test"
S3_SECRET_ACCESS_KEY = "spate-s3-test-secret"


def s3s_fs_binary() -> Path:
    """s3s-fs, from SPATE_S3S_FS_BIN (scripts/test-python sets it) or the tools cache where
    scripts/s3-server-bin installs it."""
    configured = os.environ.get("SPATE_S3S_FS_BIN")
    if configured:
        return Path(configured)
    tools = Path(os.environ.get("SPATE_TOOLS_CACHE") or Path.home() / ".cache" / "spate-tools")
    return tools / "s3s-fs-0.14.1" / "bin" / "s3s-fs"


class S3Server(ServerProcess):
    """A real S3-compatible server, s3s-fs, on a root directory and a loopback port.

    Buckets are directories of the root and objects files under them, so a test can also look at
    what was delivered on disk. Requests must be signed with S3_ACCESS_KEY_ID and
    S3_SECRET_ACCESS_KEY (any region); path-style addressing only (no --domain).

    The port is chosen at the first start and kept by restarts, so a Spate server pointed at
    `endpoint` finds the S3 server again after a test stopped it to stage an outage.
    """

    instances: list["S3Server"] = []
    log_label = "s3s-fs"
    # On SIGINT s3s-fs finishes its open requests and exits.
    stop_signal = signal.SIGINT

    def __init__(self, binary: Path, root: Path, log_path: Path):
        super().__init__(log_path)
        self.binary = binary
        self.root = root

    @property
    def endpoint(self) -> str:
        assert self.port is not None, "S3 server not started"
        return f"http://127.0.0.1:{self.port}"

    @property
    def credentials_env(self) -> dict[str, str]:
        """The environment a Spate server needs to sign its requests to this S3 server."""
        return {"AWS_ACCESS_KEY_ID": S3_ACCESS_KEY_ID,
                "AWS_SECRET_ACCESS_KEY": S3_SECRET_ACCESS_KEY}

    def start(self, timeout: float = 20) -> "S3Server":
        """Starts the server and waits until it accepts connections on its port."""
        assert not self.running, "S3 server already running"
        self.root.mkdir(parents=True, exist_ok=True)  # s3s-fs exits when its root is missing
        if self.port is None:
            self.port = free_port()
        # RUST_LOG=info: the start and stop lines besides the errors s3s-fs logs for every
        # failed request.
        self._launch(f"s3s-fs on port {self.port}, root {self.root}",
                     [str(self.binary), "--host", "127.0.0.1", "--port", str(self.port),
                      "--access-key", S3_ACCESS_KEY_ID, "--secret-key", S3_SECRET_ACCESS_KEY,
                      str(self.root)],
                     cwd=self.root.parent, env={**os.environ, "RUST_LOG": "info", "NO_COLOR": "1"})

        def listening() -> bool:
            # A connection, not a request: s3s-fs logs an ERROR for every unsigned request.
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True

        self._wait_until_ready(listening, timeout, "listen")
        return self


def s3_client(endpoint: str, access_key_id: str = S3_ACCESS_KEY_ID,
              secret_access_key: str = S3_SECRET_ACCESS_KEY, read_timeout: float = 60):
    """A boto3 S3 client for endpoint with path-style addressing (http://host:port/bucket/key),
    signing with the S3 server's credentials unless given others; it never retries, so every
    error surfaces as is."""
    session = boto3.session.Session(aws_access_key_id=access_key_id,
                                    aws_secret_access_key=secret_access_key,
                                    region_name=REGION)
    config = Config(
        s3={"addressing_style": "path"},
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=read_timeout,
    )
    return session.client("s3", endpoint_url=endpoint, config=config)


def unique_bucket_name(prefix: str) -> str:
    """A bucket name no other test uses: 3 to 63 characters of [a-z0-9-], starting and ending with
    a letter or digit."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", prefix.lower()).strip("-")[:40] or "t"
    return f"{cleaned}-{uuid.uuid4().hex[:10]}"


def empty_and_delete_bucket(client, bucket: str) -> None:
    """Deletes every object of bucket, then the bucket."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
    client.delete_bucket(Bucket=bucket)


# --- PostgreSQL, standing in for Redshift --------------------------------------------------------

PG_USER = "spate"
PG_PASSWORD = "spate-pg-password"
PG_DATABASE = "spate"


def postgres_bin_dir() -> Path | None:
    """The directory of initdb and postgres: SPATE_PG_BIN (scripts/test-python sets it), else
    the first one on PATH, else the newest /usr/lib/postgresql/<version>/bin."""
    configured = os.environ.get("SPATE_PG_BIN")
    if configured:
        return Path(configured)
    on_path = shutil.which("postgres")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
                        reverse=True)
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "postgres").is_file():
            return candidate
    return None


class PostgresServer(ServerProcess):
    """A PostgreSQL server of its own on a fresh cluster and a loopback port: the database a
    Redshift destination loads into.

    The cluster has one superuser, PG_USER with PG_PASSWORD (password authentication over TCP,
    SCRAM), and the database PG_DATABASE. PostgreSQL refuses to run as root; as root, the cluster
    directory is owned by, and the server runs as, the `postgres` user (Debian's package makes
    it) or else `nobody`, through setpriv (util-linux). The directory is made with mkdtemp under the system
    temporary directory, since pytest's own (/tmp/pytest-of-root, mode 0700) cannot be entered by
    that user.
    """

    instances: list["PostgresServer"] = []
    log_label = "postgres"
    # PostgreSQL's fast shutdown.
    stop_signal = signal.SIGINT

    def __init__(self, bin_dir: Path, log_path: Path):
        super().__init__(log_path)
        self.bin_dir = bin_dir
        self.base: Path | None = None

    def jdbc_url(self, scheme: str = "redshift", database: str = PG_DATABASE) -> str:
        assert self.port is not None, "PostgreSQL not started"
        return f"jdbc:{scheme}://127.0.0.1:{self.port}/{database}"

    def _as_server_user(self, command: list[str]) -> list[str]:
        """As root, `command` run as the server user through setpriv, which execs it in place
        (runuser would fork, and the signals stop() sends would not reach postgres)."""
        if os.geteuid() != 0:
            return command
        user = pwd.getpwnam(self._server_user())
        return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
                "--", *command]

    @staticmethod
    def _server_user() -> str:
        for name in ("postgres", "nobody"):
            try:
                pwd.getpwnam(name)
                return name
            except KeyError:
                continue
        raise RuntimeError("running as root, and neither a postgres nor a nobody user exists "
                           "to run PostgreSQL as")

    def start(self, timeout: float = 30) -> "PostgresServer":
        """initdb into a fresh directory, start postgres, wait until it takes a login."""
        assert not self.running, "PostgreSQL already running"
        self.base = Path(tempfile.mkdtemp(prefix="spate-pg-"))
        data, sockets = self.base / "data", self.base / "sockets"
        sockets.mkdir()
        password_file = self.base / "password"
        password_file.write_text(PG_PASSWORD + "\n")
        if os.geteuid() == 0:
            user = pwd.getpwnam(self._server_user())
            for path in (self.base, sockets, password_file):
                os.chown(path, user.pw_uid, user.pw_gid)
        self.port = free_port()
        self._launch(
            f"postgres on port {self.port}, {self.base}",
            self._as_server_user([
                str(self.bin_dir / "postgres"), "-D", str(data), "-p", str(self.port),
                "-k", str(sockets), "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off", "-c", "synchronous_commit=off",
            ]),
            cwd=self.base,
            setup=[self._as_server_user([
                str(self.bin_dir / "initdb"), "-D", str(data), "-U", PG_USER,
                f"--pwfile={password_file}", "--auth-host=scram-sha-256",
                "--auth-local=trust", "--encoding=UTF8", "--no-sync",
            ])])

        def logged_in() -> bool:
            with contextlib.closing(self.connect(database="postgres")) as connection:
                connection.run(f"CREATE DATABASE {PG_DATABASE}")
            return True

        # Any error: not accepting connections yet.
        self._wait_until_ready(logged_in, timeout, "take a login", interval=0.1,
                               not_yet=(Exception,))
        return self

    def connect(self, database: str = PG_DATABASE):
        """A pg8000 connection as the superuser (autocommit)."""
        import pg8000.native

        assert self.port is not None, "PostgreSQL not started"
        return pg8000.native.Connection(PG_USER, host="127.0.0.1", port=self.port,
                                        database=database, password=PG_PASSWORD, timeout=10)

    def _exited(self) -> None:
        """Removes the cluster, whether the server was stopped or killed."""
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None


# --- the aws CLI ---------------------------------------------------------------------------------


def run_aws(endpoint: str, *args: str, check: bool = True, timeout: float = 60,
            env_overrides: dict[str, str] | None = None,
            global_options: tuple[str, ...] = (), clock_offset: str | None = None,
            service: str = "kinesis"):
    """Runs `aws --endpoint-url endpoint --output json <global_options> <service> <args>` with
    the pinned awscli (`service` kinesis unless given).

    `env_overrides` (credentials, say) apply after the tests' isolated AWS environment;
    `global_options` (`--no-sign-request`, `--ca-bundle PEM`, `--no-verify-ssl`) go before the
    service name. `clock_offset` (faketime's `-10m`, say) runs the CLI with its clock shifted.
    Returns (parsed JSON output or None, completed process).
    """
    env = {**os.environ}
    isolate_aws_environment(env)
    env.update(env_overrides or {})
    command = [sys.executable, "-m", "awscli", "--endpoint-url", endpoint, "--output", "json",
               *global_options, service, *args]
    if clock_offset is not None:
        command = ["faketime", "-f", clock_offset, *command]
    completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    if check and completed.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {completed.returncode}:\n"
                             f"{completed.stderr}")
    output = json.loads(completed.stdout) if completed.stdout.strip() else None
    return output, completed
