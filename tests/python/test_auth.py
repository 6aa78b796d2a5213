"""SigV4 authentication, driven with boto3 and the `aws` CLI.

With credentials configured (`--access-key-id`/`--secret-access-key`, or [[auth.credentials]] in
a configuration file) every request's signature is verified: the right key and secret work; a
wrong secret, an unknown key, a request dated ten minutes ago and an unsigned request each get
the error AWS gives, from boto3 and from the aws CLI (run under faketime for the date). A loopback listener without credentials accepts any well-formed signature
and says so in its log; a listener reachable from the network refuses to start without any."""

import datetime
import subprocess
from unittest import mock

import botocore.auth
import pytest

import harness

KEY, SECRET = "AKIDSPATETEST", "spate-test-secret"


@pytest.fixture
def strict_server(spate_factory):
    return spate_factory(args=["--access-key-id", KEY, "--secret-access-key", SECRET])


def client(server, **credentials):
    return harness.kinesis_client(server.endpoint, **credentials)


def test_the_configured_key_works_and_the_log_says_strict(strict_server, stream_name):
    kinesis = client(strict_server, access_key_id=KEY, secret_access_key=SECRET)
    harness.create_active_stream(kinesis, stream_name, 1)
    put = kinesis.put_record(StreamName=stream_name, Data=b"signed", PartitionKey="k")
    assert put["SequenceNumber"]
    assert stream_name in kinesis.list_streams()["StreamNames"]
    assert "requests must be signed with a configured access key" in strict_server.log_tail()


def test_a_wrong_secret_is_an_invalid_signature(strict_server):
    kinesis = client(strict_server, access_key_id=KEY, secret_access_key="not-the-secret")
    with harness.aws_error("InvalidSignatureException") as info:
        kinesis.list_streams()
    assert info.value.response["Error"]["Message"].startswith(
        "The request signature we calculated does not match the signature you provided.")


def test_an_unknown_key_is_an_unrecognized_client(strict_server):
    kinesis = client(strict_server, access_key_id="AKIDUNKNOWN", secret_access_key=SECRET)
    with harness.aws_error("UnrecognizedClientException",
                           "The security token included in the request is invalid."):
        kinesis.list_streams()


def test_a_request_dated_ten_minutes_ago_has_expired(strict_server):
    kinesis = client(strict_server, access_key_id=KEY, secret_access_key=SECRET)
    ten_minutes_ago = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) \
        - datetime.timedelta(minutes=10)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=ten_minutes_ago):
        with harness.aws_error("InvalidSignatureException") as info:
            kinesis.list_streams()
    message = info.value.response["Error"]["Message"]
    assert message.startswith("Signature expired: ") and message.endswith(" - 5 min.)"), message


def test_an_unsigned_request_is_missing_its_token(strict_server):
    with harness.aws_error("MissingAuthenticationTokenException", "Missing Authentication Token"):
        client(strict_server, unsigned=True).list_streams()


def test_the_cli_with_right_and_wrong_credentials(strict_server, stream_name):
    right = {"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET}
    listed, _ = harness.run_aws(strict_server.endpoint, "list-streams", env_overrides=right)
    assert listed["StreamNames"] == []
    cases = [
        ({"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": "wrong"}, (),
         "InvalidSignatureException"),
        ({"AWS_ACCESS_KEY_ID": "AKIDUNKNOWN", "AWS_SECRET_ACCESS_KEY": SECRET}, (),
         "UnrecognizedClientException"),
        (right, ("--no-sign-request",), "MissingAuthenticationTokenException"),
    ]
    for env, global_options, code in cases:
        _, completed = harness.run_aws(strict_server.endpoint, "list-streams", check=False,
                                       env_overrides=env, global_options=global_options)
        assert completed.returncode != 0, code
        assert f"({code})" in completed.stderr, completed.stderr


def test_configured_keys_with_session_token_and_own_account(spate_factory, tmp_path):
    config = harness.write_credentials_config(
        tmp_path / "spate.toml",
        {"access_key_id": KEY, "secret_access_key": SECRET},
        {"access_key_id": "AKIDTEMPORARY", "secret_access_key": "temporary-secret",
         "session_token": "the-session-token"},
    )
    server = spate_factory(env={"SPATE_CONFIG": str(config)})
    assert client(server, access_key_id=KEY, secret_access_key=SECRET).list_streams()
    temporary = {"access_key_id": "AKIDTEMPORARY", "secret_access_key": "temporary-secret"}
    assert client(server, session_token="the-session-token", **temporary).list_streams()
    for token in (None, "another-token"):
        with harness.aws_error("UnrecognizedClientException"):
            client(server, session_token=token, **temporary).list_streams()


def test_loopback_without_credentials_accepts_any_signature_but_not_none(spate_factory):
    server = spate_factory()
    for key, secret in (("anything", "at all"), ("AKIDOTHER", "other")):
        assert client(server, access_key_id=key, secret_access_key=secret).list_streams()
    with harness.aws_error("MissingAuthenticationTokenException"):
        client(server, unsigned=True).list_streams()
    assert "any well-formed SigV4 signature is accepted" in server.log_tail()


def test_a_listener_open_to_the_network_needs_credentials(tmp_path):
    binary = harness.spate_binary()
    completed = subprocess.run(
        [str(binary), "serve", "--listen", f"0.0.0.0:{harness.free_port()}",
         "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=30)
    assert completed.returncode != 0
    assert "configure credentials" in completed.stderr, completed.stderr


def test_the_cli_ten_minutes_behind_has_expired(strict_server):
    right = {"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET}
    _, completed = harness.run_aws(strict_server.endpoint, "list-streams", check=False,
                                   env_overrides=right, clock_offset="-10m")
    assert completed.returncode != 0
    assert "(InvalidSignatureException)" in completed.stderr, completed.stderr
    assert "Signature expired: " in completed.stderr, completed.stderr
