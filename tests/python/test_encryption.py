"""Server-side encryption: StartStreamEncryption / StopStreamEncryption with keys of Spate's own
key store (the AWS-managed alias/aws/kinesis, and keys configured in the [kms] section), records
encrypted on disk, readable through GetRecords, and the KMS errors AWS gives."""

from __future__ import annotations

import os

from harness import (aws_error, create_active_stream, kinesis_client, not_found_message,
                     read_shard, shard_id, stream_arn, wait_for_status)

CUSTOMER_KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"
DISABLED_KEY = "0000abcd-12ab-34cd-56ef-1234567890ab"
KMS_ARN = "arn:aws:kms:us-east-1:000000000000"
KMS_CONFIG = f"""
[[kms.keys]]
id = "{CUSTOMER_KEY}"
aliases = ["alias/orders", "alias/team/orders"]

[[kms.keys]]
id = "{DISABLED_KEY}"
aliases = ["alias/retired"]
enabled = false
"""


def configured_server(spate_factory, tmp_path, **env):
    config = tmp_path / "spate.toml"
    config.write_text(KMS_CONFIG)
    return spate_factory(env={"SPATE_CONFIG": str(config), **env})


def encrypt(kinesis, name, key_id):
    kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId=key_id)
    return wait_for_status(kinesis, name)


def test_records_written_after_encryption_starts_are_encrypted_and_readable(kinesis, new_stream):
    name = new_stream(shard_count=1)
    before = kinesis.put_record(StreamName=name, PartitionKey="a", Data=b"before")

    summary = encrypt(kinesis, name, "alias/aws/kinesis")
    single = kinesis.put_record(StreamName=name, PartitionKey="b", Data=b"after")
    batch = kinesis.put_records(StreamName=name, Records=[
        {"PartitionKey": "c", "Data": b"batch-1"}, {"PartitionKey": "d", "Data": b""}])
    description = kinesis.describe_stream(StreamName=name)["StreamDescription"]
    records = read_shard(kinesis, name, shard_id(0))

    assert before["EncryptionType"] == "NONE"
    assert summary["EncryptionType"] == "KMS" and summary["KeyId"] == "alias/aws/kinesis"
    assert description["EncryptionType"] == "KMS" and description["KeyId"] == "alias/aws/kinesis"
    assert single["EncryptionType"] == "KMS"
    assert batch["EncryptionType"] == "KMS" and batch["FailedRecordCount"] == 0
    assert [(r["PartitionKey"], r["Data"]) for r in records] == [
        ("a", b"before"), ("b", b"after"), ("c", b"batch-1"), ("d", b"")]
    assert "EncryptionType" not in records[0] or records[0]["EncryptionType"] == "NONE"
    assert [r.get("EncryptionType") for r in records[1:]] == ["KMS"] * 3
    assert records[1]["SequenceNumber"] == single["SequenceNumber"]


def test_stop_stream_encryption_leaves_old_records_readable(kinesis, new_stream):
    name = new_stream(shard_count=1)
    encrypt(kinesis, name, "alias/aws/kinesis")
    kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"secret")

    kinesis.stop_stream_encryption(StreamName=name, EncryptionType="KMS",
                                   KeyId="alias/aws/kinesis")
    summary = wait_for_status(kinesis, name)
    plain = kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"plain")
    records = read_shard(kinesis, name, shard_id(0))

    assert summary["EncryptionType"] == "NONE" and "KeyId" not in summary
    assert plain["EncryptionType"] == "NONE"
    assert [r["Data"] for r in records] == [b"secret", b"plain"]
    assert records[0]["EncryptionType"] == "KMS"


def test_encryption_by_stream_arn(kinesis, new_stream):
    name = new_stream(shard_count=1)

    kinesis.start_stream_encryption(StreamARN=stream_arn(name), EncryptionType="KMS",
                                    KeyId=f"{KMS_ARN}:alias/aws/kinesis")
    summary = wait_for_status(kinesis, name)

    assert summary["KeyId"] == f"{KMS_ARN}:alias/aws/kinesis"


def test_unknown_keys_are_kms_not_found(kinesis, new_stream):
    name = new_stream(shard_count=1)
    missing = "ffffffff-1111-2222-3333-444444444444"

    with aws_error("KMSNotFoundException", f"Key '{KMS_ARN}:key/{missing}' does not exist"):
        kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId=missing)
    with aws_error("KMSNotFoundException", f"Alias {KMS_ARN}:alias/nope is not found."):
        kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/nope")
    with aws_error("KMSNotFoundException"):
        kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS",
                                        KeyId=f"arn:aws:kms:eu-west-1:000000000000:key/{missing}")
    with aws_error("KMSNotFoundException"):
        kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="not-a-key")

    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
        "EncryptionType"] == "NONE"


def test_encryption_argument_and_stream_errors(kinesis, new_stream, stream_name):
    name = new_stream(shard_count=1)

    with aws_error("InvalidArgumentException"):
        kinesis.start_stream_encryption(StreamName=name, EncryptionType="NONE",
                                        KeyId="alias/aws/kinesis")
    with aws_error("ValidationException"):
        kinesis.start_stream_encryption(StreamName=name, EncryptionType="AES",
                                        KeyId="alias/aws/kinesis")
    with aws_error("ResourceNotFoundException", not_found_message(stream_name)):
        kinesis.start_stream_encryption(StreamName=stream_name, EncryptionType="KMS",
                                        KeyId="alias/aws/kinesis")
    with aws_error("ResourceNotFoundException", not_found_message(stream_name)):
        kinesis.stop_stream_encryption(StreamName=stream_name, EncryptionType="KMS",
                                       KeyId="alias/aws/kinesis")


def test_configured_keys_by_id_arn_and_alias_survive_a_restart(spate_factory, tmp_path):
    server = configured_server(spate_factory, tmp_path, SPATE_STREAM_UPDATE_DELAY_MS="1500")
    kinesis = kinesis_client(server.endpoint)
    names = {
        "by-id": CUSTOMER_KEY,
        "by-key-arn": f"{KMS_ARN}:key/{CUSTOMER_KEY}",
        "by-alias": "alias/team/orders",
        "by-alias-arn": f"{KMS_ARN}:alias/orders",
    }
    for name, key_id in names.items():
        create_active_stream(kinesis, name, 1)
        kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId=key_id)
    updating = kinesis.describe_stream_summary(StreamName="by-id")["StreamDescriptionSummary"]
    with aws_error("ResourceInUseException"):
        kinesis.stop_stream_encryption(StreamName="by-id", EncryptionType="KMS", KeyId=CUSTOMER_KEY)
    for name in names:
        wait_for_status(kinesis, name)
        kinesis.put_record(StreamName=name, PartitionKey="pk", Data=name.encode())

    server.restart()
    kinesis = kinesis_client(server.endpoint)

    assert updating["StreamStatus"] == "UPDATING" and updating["EncryptionType"] == "KMS"
    for name, key_id in names.items():
        summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        records = read_shard(kinesis, name, shard_id(0))
        assert (summary["EncryptionType"], summary["KeyId"]) == ("KMS", key_id)
        assert [(r["Data"], r["EncryptionType"]) for r in records] == [(name.encode(), "KMS")]


def test_a_disabled_key_is_kms_disabled(spate_factory, tmp_path):
    kinesis = kinesis_client(configured_server(spate_factory, tmp_path).endpoint)
    create_active_stream(kinesis, "disabled", 1)

    with aws_error("KMSDisabledException", f"{KMS_ARN}:key/{DISABLED_KEY} is disabled."):
        kinesis.start_stream_encryption(StreamName="disabled", EncryptionType="KMS",
                                        KeyId="alias/retired")
    with aws_error("KMSDisabledException"):
        kinesis.start_stream_encryption(StreamName="disabled", EncryptionType="KMS",
                                        KeyId=DISABLED_KEY)


def files_containing(root, needle: bytes) -> list[str]:
    found = []
    for directory, _, files in os.walk(root):
        for file in files:
            path = os.path.join(directory, file)
            with open(path, "rb") as handle:
                if needle in handle.read():
                    found.append(os.path.relpath(path, root))
    return found


def test_plaintext_of_an_encrypted_stream_never_reaches_the_disk(spate_factory):
    server = spate_factory()
    kinesis = kinesis_client(server.endpoint)
    create_active_stream(kinesis, "plain", 2)
    create_active_stream(kinesis, "sealed", 2)
    encrypt(kinesis, "sealed", "alias/aws/kinesis")
    plain_marker = b"PLAIN-MARKER-7f3a9c"
    secret_marker = b"SECRET-MARKER-4e1b8d"
    secret_key = "SECRET-PARTITION-KEY-9a2c"
    for index in range(50):
        kinesis.put_record(StreamName="plain", PartitionKey=f"p{index}",
                           Data=plain_marker + b"-%d" % index)
        kinesis.put_records(StreamName="sealed", Records=[
            {"PartitionKey": f"{secret_key}-{index}", "Data": secret_marker + b"-%d" % index}])

    running = (files_containing(server.data_dir, plain_marker),
               files_containing(server.data_dir, secret_marker),
               files_containing(server.data_dir, secret_key.encode()))
    # A clean stop seals the journal into per-shard segments: scan those too.
    server.stop()
    stopped = (files_containing(server.data_dir, plain_marker),
               files_containing(server.data_dir, secret_marker),
               files_containing(server.data_dir, secret_key.encode()))
    server.start()
    records = harness_read_all(kinesis_client(server.endpoint), "sealed")

    for plain, secret, key in (running, stopped):
        assert plain, "the scan finds the unencrypted stream's marker, so it would find the other"
        assert secret == [] and key == []
    assert sorted(r["Data"] for r in records) == sorted(
        secret_marker + b"-%d" % i for i in range(50))


def harness_read_all(kinesis, name):
    return [r for shard in (0, 1) for r in read_shard(kinesis, name, shard_id(shard))]
