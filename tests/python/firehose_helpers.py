"""Shared pieces of the Firehose tests (test_firehose*.py): a Spate server of the test's own
delivering to the S3 server of conftest.py, a boto3 Firehose client, delivery streams created
and waited on until ACTIVE, and the objects they deliver read back from S3."""

from __future__ import annotations

import time
from pathlib import Path

import boto3
from botocore.config import Config

import harness

ROLE = "arn:aws:iam::123456789012:role/firehose"


def firehose_client(endpoint: str):
    """A boto3 Firehose client that never retries, so every error surfaces as is."""
    session = boto3.session.Session(
        aws_access_key_id=harness.AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=harness.AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=harness.REGION,
    )
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                    read_timeout=30)
    return session.client("firehose", endpoint_url=endpoint, config=config)


def delivering_server(spate_factory, s3_server, config: Path | None = None):
    """Starts a Spate server of the test's own (conftest.py, spate_factory) that delivers to
    s3_server with its credentials and logs at info, reading `config` (`--config`) when given;
    returns (server, its Firehose client)."""
    args = ["--s3-endpoint", s3_server.endpoint]
    if config is not None:
        args += ["--config", str(config)]
    server = spate_factory(env={**s3_server.credentials_env, "SPATE_LOG": "info"}, args=args)
    return server, firehose_client(server.endpoint)


def s3_destination(bucket: str, prefix: str = "", size_mib: int = 1, interval_s: int = 1,
                   **extra):
    return {"RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{bucket}", "Prefix": prefix,
            "BufferingHints": {"SizeInMBs": size_mib, "IntervalInSeconds": interval_s}, **extra}


def create_active(firehose, name: str, **arguments) -> dict:
    """Creates the delivery stream `name` (`arguments`: the rest of CreateDeliveryStream's, its
    destination's configuration above all) and waits until it is ACTIVE; returns its
    description."""
    firehose.create_delivery_stream(DeliveryStreamName=name, **arguments)
    deadline = time.monotonic() + 10
    while True:
        description = firehose.describe_delivery_stream(
            DeliveryStreamName=name)["DeliveryStreamDescription"]
        if description["DeliveryStreamStatus"] == "ACTIVE":
            return description
        assert time.monotonic() < deadline, description
        time.sleep(0.05)


def create_active_s3(firehose, name: str, **destination) -> dict:
    """create_active with `destination` as its ExtendedS3DestinationConfiguration."""
    return create_active(firehose, name, ExtendedS3DestinationConfiguration=destination)


def put(firehose, name: str, records: list[bytes]) -> None:
    """PutRecordBatch of `records`, every one of which must be accepted."""
    response = firehose.put_record_batch(DeliveryStreamName=name,
                                         Records=[{"Data": data} for data in records])
    assert response["FailedPutCount"] == 0, response


def objects(s3, bucket: str, prefix: str = "") -> list[dict]:
    return s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])


def wait_for_objects(s3, bucket: str, count: int, prefix: str = "", timeout: float = 20):
    deadline = time.monotonic() + timeout
    while True:
        found = objects(s3, bucket, prefix)
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"{len(found)} objects of {count} after {timeout}s"
        time.sleep(0.1)


def read(s3, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]
