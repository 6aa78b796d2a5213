"""TLS on the listener: `spate serve` with SPATE_TLS=on and no certificate configured generates a
self-signed one, writes it to <data_dir>/tls/self-signed.pem and serves https on the same port.
boto3 trusts exactly that PEM (`verify=`); a client that trusts nothing else is refused.

The AWS SDK for JavaScript v3 is also run against the https endpoint with NODE_EXTRA_CA_CERTS:
its NodeHttp2Handler negotiates h2 by ALPN, and the server log must show the subscription was
served over HTTP/2.

The aws CLI works with `--no-verify-ssl` and with `--ca-bundle <the written PEM>`, and fails
with an SSL error with neither. A certificate chain and key made by the `openssl` command (a CA
and a server certificate it signed) are served from `--tls-cert`/`--tls-key` (and from
SPATE_TLS_CERT/SPATE_TLS_KEY), trusted through the CA alone."""

import hashlib
import http.client
import json
import re
import shutil
import ssl
import subprocess
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import SSLError

import harness

JS_DIR = Path(__file__).resolve().parent.parent / "js"


@pytest.fixture
def tls_server(spate_factory):
    return spate_factory(env={"SPATE_TLS": "on"})


def test_boto3_over_https_with_the_written_self_signed_certificate(tls_server, stream_name):
    assert tls_server.endpoint.startswith("https://127.0.0.1:")
    pem = tls_server.ca_bundle
    assert pem.read_text().startswith("-----BEGIN CERTIFICATE-----")
    log = tls_server.log_path.read_text()
    fingerprint = re.search(r"fingerprint=((?:[0-9A-F]{2}:){31}[0-9A-F]{2})", log)
    assert fingerprint, "the certificate's SHA-256 fingerprint is logged"

    kinesis = harness.kinesis_client(tls_server.endpoint, verify=pem)
    harness.create_active_stream(kinesis, stream_name, 1)
    put = kinesis.put_record(StreamName=stream_name, Data=b"over tls", PartitionKey="k")
    iterator = kinesis.get_shard_iterator(StreamName=stream_name, ShardId=put["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert [(r["Data"], r["SequenceNumber"]) for r in records] == [
        (b"over tls", put["SequenceNumber"])]

    # The fingerprint logged is the written certificate's.
    der = ssl.PEM_cert_to_DER_cert(pem.read_text())
    digest = hashlib.sha256(der).hexdigest().upper()
    assert fingerprint.group(1).replace(":", "") == digest


def test_a_client_that_does_not_trust_the_certificate_is_refused(tls_server):
    # botocore's own CA bundle does not hold a certificate generated just now.
    kinesis = harness.kinesis_client(tls_server.endpoint)
    with pytest.raises(SSLError):
        kinesis.list_streams()
    # Cleartext to the TLS port gets a TLS alert, not an HTTP answer.
    with pytest.raises((OSError, http.client.HTTPException)):
        urllib.request.urlopen(f"http://127.0.0.1:{tls_server.port}/health", timeout=5)


def test_restart_writes_a_new_certificate_that_clients_then_trust(tls_server, stream_name):
    first = tls_server.ca_bundle.read_text()
    harness.create_active_stream(harness.kinesis_client(tls_server.endpoint,
                                                        verify=tls_server.ca_bundle),
                                 stream_name, 1)
    tls_server.restart()
    assert tls_server.ca_bundle.read_text() != first
    kinesis = harness.kinesis_client(tls_server.endpoint, verify=tls_server.ca_bundle)
    assert stream_name in kinesis.list_streams()["StreamNames"]


def test_javascript_sdk_subscribes_over_https_with_http2(tls_server):
    npm, node = shutil.which("npm"), shutil.which("node")
    assert npm and node, "node and npm are needed for the JavaScript SDK test"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=JS_DIR,
                   check=True, timeout=300)

    run = subprocess.run([node, "subscribe.mjs", tls_server.endpoint], cwd=JS_DIR,
                         capture_output=True, text=True, timeout=120,
                         env={**harness.AWS_ENV, "PATH": str(Path(node).parent),
                              "NODE_EXTRA_CA_CERTS": str(tls_server.ca_bundle)})

    assert run.returncode == 0, run.stdout + run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["received"] == ["one", "two", "three"]
    log = tls_server.log_path.read_text()
    versions = re.findall(r"subscription started http_version=(\S+)", log)
    assert versions == ["HTTP/2.0"], versions


# --- the aws CLI, and certificates given as files -------------------------------------------------


def test_cli_over_https_with_no_verify_ssl_with_a_ca_bundle_and_without(spate_factory, tmp_path):
    # `--tls` alone means on; the self-signed certificate's full path is in the start-up log.
    server = spate_factory(args=["--tls"])
    assert server.endpoint.startswith("https://")
    log = server.log_path.read_text()
    assert str(server.ca_bundle.resolve()) in log, "the PEM to trust is printed at start"

    listed, _ = harness.run_aws(server.endpoint, "list-streams",
                                global_options=("--no-verify-ssl",))
    assert listed["StreamNames"] == []

    harness.run_aws(server.endpoint, "create-stream", "--stream-name", "cli-tls",
                    "--shard-count", "1", global_options=("--ca-bundle", str(server.ca_bundle)))
    harness.wait_for_status(harness.kinesis_client(server.endpoint, verify=server.ca_bundle),
                            "cli-tls")
    listed, _ = harness.run_aws(server.endpoint, "list-streams",
                                global_options=("--ca-bundle", str(server.ca_bundle)))
    assert listed["StreamNames"] == ["cli-tls"]

    _, refused = harness.run_aws(server.endpoint, "list-streams", check=False)
    assert refused.returncode != 0
    assert "SSL" in refused.stderr and "CERTIFICATE_VERIFY_FAILED" in refused.stderr, \
        refused.stderr


def test_certificate_and_key_files_from_flags_serve_https(spate_factory, tmp_path):
    ca, chain, key = harness.make_certificate(tmp_path)
    server = spate_factory(args=["--tls", "--tls-cert", str(chain), "--tls-key", str(key)],
                           ca_bundle=ca)

    assert not (server.data_dir / "tls" / "self-signed.pem").exists(), \
        "no certificate is generated when files are given"
    harness.run_aws(server.endpoint, "create-stream", "--stream-name", "files",
                    "--shard-count", "1", global_options=("--ca-bundle", str(ca)))
    kinesis = harness.kinesis_client(server.endpoint, verify=ca)
    harness.wait_for_status(kinesis, "files")
    put = kinesis.put_record(StreamName="files", Data=b"signed by our CA", PartitionKey="k")
    assert put["ShardId"] == harness.shard_id(0)
    # Verified against the CA alone, by name as well as by address.
    localhost = server.endpoint.replace("127.0.0.1", "localhost")
    listed, _ = harness.run_aws(localhost, "list-streams",
                                global_options=("--ca-bundle", str(ca)))
    assert listed["StreamNames"] == ["files"]
    _, refused = harness.run_aws(server.endpoint, "list-streams", check=False)
    assert "CERTIFICATE_VERIFY_FAILED" in refused.stderr, refused.stderr


def test_certificate_and_key_files_from_the_environment(spate_factory, tmp_path):
    ca, chain, key = harness.make_certificate(tmp_path)
    server = spate_factory(env={"SPATE_TLS": "on", "SPATE_TLS_CERT": str(chain),
                                "SPATE_TLS_KEY": str(key)}, ca_bundle=ca)

    kinesis = harness.kinesis_client(server.endpoint, verify=ca)
    assert kinesis.list_streams()["StreamNames"] == []
