"""The AWS SDK for JavaScript v3 over HTTP/2 cleartext: tests/js/subscribe.mjs registers a
consumer, subscribes and puts records, which must arrive through the event stream. The SDK
sends SubscribeToShard over HTTP/2 (prior knowledge on http://); the server log shows the
version each subscription was served on, and this test checks it was HTTP/2. The server
verifies signatures against the script's key (HTTP/2 signs its `:authority` as `host`).

Needs node and npm; `npm ci` installs the locked @aws-sdk/client-kinesis from the registry."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import harness

JS_DIR = Path(__file__).resolve().parent.parent / "js"


def test_javascript_sdk_subscribes_over_http2(spate_factory):
    npm, node = shutil.which("npm"), shutil.which("node")
    assert npm and node, "node and npm are needed for the JavaScript SDK test"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=JS_DIR,
                   check=True, timeout=300)
    # The credentials tests/js/subscribe.mjs signs with.
    server = spate_factory(args=["--access-key-id", "AKIDSPATE", "--secret-access-key", "spate"])

    run = subprocess.run([node, "subscribe.mjs", server.endpoint], cwd=JS_DIR,
                         capture_output=True, text=True, timeout=120,
                         env={**harness.AWS_ENV, "PATH": str(Path(node).parent)})

    assert run.returncode == 0, run.stdout + run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["received"] == ["one", "two", "three"]
    print(f"JavaScript SDK put-to-push latency (ms): {seen['latenciesMs']}")
    log = server.log_path.read_text()
    versions = re.findall(r"subscription started http_version=(\S+)", log)
    assert versions == ["HTTP/2.0"], versions
