"""Firehose over the wire with boto3: the delivery stream API, buffering by interval and size,
every compression read back, encryption of held records, a destination that is down and comes
back, and a kill -9 with records still buffered. Delivery goes to a real S3-compatible server
(s3s-fs), started by the fixtures in conftest.py."""

from __future__ import annotations

import time
import zlib

import botocore
import pytest

import firehose_formats
import harness
from firehose_helpers import (ROLE, create_active_s3, delivering_server, error_code, objects,
                              read, s3_destination, wait_for_objects)


@pytest.fixture
def delivering(spate_factory, s3_server):
    """A Spate server of the test's own, delivering to the shared S3 server, and its client."""
    return delivering_server(spate_factory, s3_server)


def test_delivery_stream_lifecycle_and_description(delivering, s3_bucket):
    _, firehose = delivering
    firehose.create_delivery_stream(
        DeliveryStreamName="life",
        ExtendedS3DestinationConfiguration=s3_destination(s3_bucket, "in/"),
        Tags=[{"Key": "team", "Value": "data"}])
    created = firehose.describe_delivery_stream(DeliveryStreamName="life")
    assert created["DeliveryStreamDescription"]["DeliveryStreamStatus"] in ("CREATING", "ACTIVE")
    description = create_active_s3(firehose, "other", **s3_destination(s3_bucket))
    description = firehose.describe_delivery_stream(
        DeliveryStreamName="life")["DeliveryStreamDescription"]
    assert description["DeliveryStreamStatus"] == "ACTIVE"
    assert description["DeliveryStreamARN"] == \
        "arn:aws:firehose:us-east-1:000000000000:deliverystream/life"
    assert description["DeliveryStreamType"] == "DirectPut"
    assert description["VersionId"] == "1"
    assert description["DeliveryStreamEncryptionConfiguration"]["Status"] == "DISABLED"
    assert description["HasMoreDestinations"] is False
    [destination] = description["Destinations"]
    assert destination["DestinationId"] == "destinationId-000000000001"
    extended = destination["ExtendedS3DestinationDescription"]
    assert extended["BucketARN"] == f"arn:aws:s3:::{s3_bucket}"
    assert extended["Prefix"] == "in/"
    assert extended["BufferingHints"] == {"SizeInMBs": 1, "IntervalInSeconds": 1}
    assert extended["CompressionFormat"] == "UNCOMPRESSED"
    assert extended["EncryptionConfiguration"] == {"NoEncryptionConfig": "NoEncryption"}
    assert extended["S3BackupMode"] == "Disabled"
    assert destination["S3DestinationDescription"]["BucketARN"] == f"arn:aws:s3:::{s3_bucket}"

    listed = firehose.list_delivery_streams()
    assert listed["DeliveryStreamNames"] == ["life", "other"]
    assert listed["HasMoreDeliveryStreams"] is False
    page = firehose.list_delivery_streams(Limit=1)
    assert page["DeliveryStreamNames"] == ["life"] and page["HasMoreDeliveryStreams"] is True
    rest = firehose.list_delivery_streams(ExclusiveStartDeliveryStreamName="life")
    assert rest["DeliveryStreamNames"] == ["other"]
    assert firehose.list_delivery_streams(
        DeliveryStreamType="KinesisStreamAsSource")["DeliveryStreamNames"] == []

    firehose.tag_delivery_stream(DeliveryStreamName="life",
                                 Tags=[{"Key": "env", "Value": "test"}])
    tags = firehose.list_tags_for_delivery_stream(DeliveryStreamName="life")
    assert tags["Tags"] == [{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "data"}]
    firehose.untag_delivery_stream(DeliveryStreamName="life", TagKeys=["team"])
    assert firehose.list_tags_for_delivery_stream(
        DeliveryStreamName="life")["Tags"] == [{"Key": "env", "Value": "test"}]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        firehose.tag_delivery_stream(DeliveryStreamName="life",
                                     Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert error_code(excinfo) == "LimitExceededException"

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        firehose.create_delivery_stream(
            DeliveryStreamName="life",
            ExtendedS3DestinationConfiguration=s3_destination(s3_bucket))
    assert error_code(excinfo) == "ResourceInUseException"

    firehose.delete_delivery_stream(DeliveryStreamName="other")
    deadline = time.monotonic() + 10
    while True:
        try:
            status = firehose.describe_delivery_stream(
                DeliveryStreamName="other")["DeliveryStreamDescription"]["DeliveryStreamStatus"]
            assert status == "DELETING"
        except botocore.exceptions.ClientError as err:
            assert err.response["Error"]["Code"] == "ResourceNotFoundException"
            assert err.response["Error"]["Message"] == \
                "Firehose other under account 000000000000 not found."
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert firehose.list_delivery_streams()["DeliveryStreamNames"] == ["life"]


def test_update_destination_checks_the_version_and_takes_effect(delivering, s3, s3_bucket):
    _, firehose = delivering
    create_active_s3(firehose, "upd", **s3_destination(s3_bucket, "before/"))
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        firehose.update_destination(DeliveryStreamName="upd", CurrentDeliveryStreamVersionId="7",
                                    DestinationId="destinationId-000000000001",
                                    ExtendedS3DestinationUpdate={"Prefix": "x/"})
    assert error_code(excinfo) == "ConcurrentModificationException"
    firehose.update_destination(DeliveryStreamName="upd", CurrentDeliveryStreamVersionId="1",
                                DestinationId="destinationId-000000000001",
                                ExtendedS3DestinationUpdate={"Prefix": "after/",
                                                             "CompressionFormat": "GZIP"})
    description = firehose.describe_delivery_stream(
        DeliveryStreamName="upd")["DeliveryStreamDescription"]
    assert description["VersionId"] == "2"
    assert "LastUpdateTimestamp" in description
    extended = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert (extended["Prefix"], extended["CompressionFormat"]) == ("after/", "GZIP")
    assert extended["BucketARN"] == f"arn:aws:s3:::{s3_bucket}", "members not updated stay"
    firehose.put_record(DeliveryStreamName="upd", Record={"Data": b"updated\n"})
    [found] = wait_for_objects(s3, s3_bucket, 1)
    assert found["Key"].startswith("after/")
    assert found["Key"].endswith(".gz")
    assert "-upd-2-" in "-" + found["Key"].rsplit("/", 1)[1], found["Key"]
    assert firehose_formats.decompress("GZIP", read(s3, s3_bucket, found["Key"])) == b"updated\n"


def test_bad_requests_get_aws_errors(delivering, s3_bucket):
    _, firehose = delivering
    create_active_s3(firehose, "bad", **s3_destination(s3_bucket))
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        firehose.describe_delivery_stream(DeliveryStreamName="no such name!")
    assert error_code(excinfo) == "ValidationException"
    assert "deliveryStreamName" in excinfo.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        firehose.put_record(DeliveryStreamName="missing", Record={"Data": b"x"})
    assert error_code(excinfo) == "ResourceNotFoundException"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        firehose.put_record(DeliveryStreamName="bad", Record={"Data": b"x" * 1_024_001})
    assert error_code(excinfo) == "ValidationException"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        firehose.put_record_batch(DeliveryStreamName="bad",
                                  Records=[{"Data": b"x"}] * 501)
    assert error_code(excinfo) == "ValidationException"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        firehose.put_record_batch(DeliveryStreamName="bad",
                                  Records=[{"Data": b"x" * 1_000_000}] * 5)
    assert error_code(excinfo) == "InvalidArgumentException"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        firehose.create_delivery_stream(
            DeliveryStreamName="http",
            HttpEndpointDestinationConfiguration={
                "EndpointConfiguration": {"Url": "https://example.com"},
                "SecretsManagerConfiguration": {"Enabled": True},
                "S3Configuration": {"RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{s3_bucket}"}})
    assert error_code(excinfo) == "InvalidArgumentException"
    assert "SecretsManagerConfiguration" in excinfo.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        firehose.create_delivery_stream(
            DeliveryStreamName="proc",
            ExtendedS3DestinationConfiguration=s3_destination(
                s3_bucket, ProcessingConfiguration={"Enabled": True,
                                                    "Processors": [{"Type": "CloudWatchLogProcessing"}]}))
    assert error_code(excinfo) == "InvalidArgumentException"
    assert "Decompression" in excinfo.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        firehose.create_delivery_stream(
            DeliveryStreamName="size",
            ExtendedS3DestinationConfiguration=s3_destination(s3_bucket, size_mib=129))
    assert error_code(excinfo) == "ValidationException"
    assert firehose.list_delivery_streams()["DeliveryStreamNames"] == ["bad"], \
        "refused requests created nothing"


def test_interval_buffering_writes_one_object_per_buffer(delivering, s3, s3_bucket):
    _, firehose = delivering
    create_active_s3(firehose, "interval", **s3_destination(s3_bucket, "logs/", interval_s=3))
    started = time.monotonic()
    firehose.put_record(DeliveryStreamName="interval", Record={"Data": b"first\n"})
    answer = firehose.put_record_batch(DeliveryStreamName="interval",
                                       Records=[{"Data": b"r%d\n" % i} for i in range(100)])
    assert answer["FailedPutCount"] == 0
    assert len(answer["RequestResponses"]) == 100
    assert all("RecordId" in entry for entry in answer["RequestResponses"])
    time.sleep(1.5)
    assert objects(s3, s3_bucket) == [], "nothing is delivered before the interval"
    [found] = wait_for_objects(s3, s3_bucket, 1)
    assert time.monotonic() - started >= 2.5
    body = read(s3, s3_bucket, found["Key"])
    assert body == b"first\n" + b"".join(b"r%d\n" % i for i in range(100))
    # logs/YYYY/MM/dd/HH/interval-1-yyyy-MM-dd-HH-mm-ss-<uuid>
    parts = found["Key"].split("/")
    assert parts[0] == "logs" and len(parts) == 6, found["Key"]
    assert [len(p) for p in parts[1:5]] == [4, 2, 2, 2]
    assert parts[5].startswith("interval-1-"), parts[5]
    time.sleep(1)
    assert len(objects(s3, s3_bucket)) == 1, "one object per buffer"


def test_size_buffering_cuts_a_buffer_when_it_is_full(delivering, s3, s3_bucket):
    _, firehose = delivering
    create_active_s3(firehose, "sized", **s3_destination(s3_bucket, size_mib=1, interval_s=900))
    record = b"y" * 99_999 + b"\n"
    for _ in range(3):
        firehose.put_record_batch(DeliveryStreamName="sized", Records=[{"Data": record}] * 4)
    # 1.2 MB buffered: the first 1 MiB (11 records of 100,000 bytes) goes out at once.
    [found] = wait_for_objects(s3, s3_bucket, 1, timeout=10)
    assert found["Size"] == 11 * 100_000
    time.sleep(1)
    assert len(objects(s3, s3_bucket)) == 1, "the rest waits for its own size or interval"


@pytest.mark.parametrize("compression", ["GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"])
def test_each_compression_reads_back(delivering, s3, s3_bucket, compression):
    _, firehose = delivering
    name = f"c-{compression.lower()}"
    create_active_s3(firehose, name, **s3_destination(s3_bucket, CompressionFormat=compression))
    payload = [b'{"n": %d, "text": "%s"}\n' % (i, b"abc" * (i % 50)) for i in range(2000)]
    for start in range(0, len(payload), 500):
        firehose.put_record_batch(DeliveryStreamName=name,
                                  Records=[{"Data": d} for d in payload[start:start + 500]])
    wait_for_objects(s3, s3_bucket, 1)
    time.sleep(1.5)
    found = objects(s3, s3_bucket)
    extension = {"GZIP": ".gz", "ZIP": ".zip", "Snappy": ".snappy",
                 "HADOOP_SNAPPY": ".snappy"}[compression]
    delivered = b""
    for item in found:
        assert item["Key"].endswith(extension), item["Key"]
        delivered += firehose_formats.decompress(compression, read(s3, s3_bucket, item["Key"]))
    # Two buffers may split the records; within each, their order is kept.
    assert sorted(delivered.splitlines(keepends=True)) == sorted(payload)


def test_a_large_gzip_buffer_is_one_member_of_all_its_records(delivering, s3, s3_bucket):
    """8 MiB buffers: compressed in pieces while they fill, on several threads, yet one gzip
    member holding the records in order."""
    _, firehose = delivering
    create_active_s3(firehose, "big-gzip", **s3_destination(s3_bucket, size_mib=8, interval_s=5,
                                                            CompressionFormat="GZIP"))
    sent = [b'{"i": %07d, "pad": "%s"}\n' % (i, b"x" * (i % 900)) for i in range(20_000)]
    for start in range(0, len(sent), 500):
        firehose.put_record_batch(DeliveryStreamName="big-gzip",
                                  Records=[{"Data": d} for d in sent[start:start + 500]])
    total = sum(len(record) for record in sent)
    assert total > 8 << 20, "more than one buffer's worth"
    found = wait_for_objects(s3, s3_bucket, 2, timeout=30)
    delivered = []
    for item in found:
        object_bytes = read(s3, s3_bucket, item["Key"])
        decoder = zlib.decompressobj(wbits=31)
        data = decoder.decompress(object_bytes) + decoder.flush()
        assert decoder.eof and decoder.unused_data == b"", "exactly one gzip member"
        delivered.append(data)
    # Keys name the oldest record's second, which both buffers may share: order by content
    # (records start with their zero-padded number).
    delivered.sort(key=lambda data: data[:16])
    assert len(delivered[0]) >= 8 << 20, "the first object is a full buffer"
    assert b"".join(delivered) == b"".join(sent), "every record once, in order"


def test_encryption_of_held_records(delivering, s3, s3_bucket):
    server, firehose = delivering
    create_active_s3(firehose, "sealed", **s3_destination(s3_bucket, interval_s=1))
    firehose.start_delivery_stream_encryption(
        DeliveryStreamName="sealed",
        DeliveryStreamEncryptionConfigurationInput={"KeyType": "AWS_OWNED_CMK"})
    description = firehose.describe_delivery_stream(
        DeliveryStreamName="sealed")["DeliveryStreamDescription"]
    assert description["DeliveryStreamEncryptionConfiguration"]["Status"] == "ENABLED"
    assert description["DeliveryStreamEncryptionConfiguration"]["KeyType"] == "AWS_OWNED_CMK"
    secret = b"a secret that must not reach the disk in the clear\n"
    answer = firehose.put_record(DeliveryStreamName="sealed", Record={"Data": secret})
    assert answer["Encrypted"] is True
    journal = b"".join(p.read_bytes() for p in (server.data_dir / "firehose-log").rglob("*")
                       if p.is_file())
    assert secret not in journal
    [found] = wait_for_objects(s3, s3_bucket, 1)
    assert read(s3, s3_bucket, found["Key"]) == secret
    firehose.stop_delivery_stream_encryption(DeliveryStreamName="sealed")
    description = firehose.describe_delivery_stream(
        DeliveryStreamName="sealed")["DeliveryStreamDescription"]
    assert description["DeliveryStreamEncryptionConfiguration"]["Status"] == "DISABLED"
    assert "Encrypted" not in firehose.put_record(DeliveryStreamName="sealed",
                                                  Record={"Data": b"plain\n"})
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        firehose.start_delivery_stream_encryption(
            DeliveryStreamName="sealed",
            DeliveryStreamEncryptionConfigurationInput={"KeyType": "CUSTOMER_MANAGED_CMK"})
    assert error_code(excinfo) == "InvalidArgumentException"


@pytest.mark.parametrize("compression", ["UNCOMPRESSED", "GZIP"])
def test_a_destination_that_is_down_loses_nothing(spate_factory, s3_server_factory,
                                                  compression):
    s3_server = s3_server_factory()
    s3 = harness.s3_client(s3_server.endpoint)
    s3.create_bucket(Bucket="outage")
    server, firehose = delivering_server(spate_factory, s3_server)
    create_active_s3(firehose, "outage", **s3_destination("outage", interval_s=1,
                                                          CompressionFormat=compression))
    s3_server.stop()
    sent = [b"during outage %d\n" % i for i in range(50)]
    firehose.put_record_batch(DeliveryStreamName="outage", Records=[{"Data": d} for d in sent])
    time.sleep(3)
    assert "delivery failed" in server.log_tail(200)
    s3_server.start()
    found = wait_for_objects(s3, "outage", 1, timeout=40)
    time.sleep(1.5)
    delivered = b"".join(firehose_formats.decompress(compression, read(s3, "outage", o["Key"]))
                         for o in objects(s3, "outage"))
    for record in sent:
        assert record in delivered


def test_kill_9_with_records_buffered_loses_none(delivering, s3, s3_bucket):
    server, firehose = delivering
    create_active_s3(firehose, "crash", **s3_destination(s3_bucket, interval_s=4))
    sent = [b"acknowledged %d\n" % i for i in range(200)]
    for start in range(0, 200, 50):
        firehose.put_record_batch(DeliveryStreamName="crash",
                                  Records=[{"Data": d} for d in sent[start:start + 50]])
    server.kill()
    assert objects(s3, s3_bucket) == []
    server.start()
    found = wait_for_objects(s3, s3_bucket, 1, timeout=20)
    time.sleep(1)
    delivered = b"".join(read(s3, s3_bucket, o["Key"]) for o in objects(s3, s3_bucket))
    assert sorted(delivered.splitlines(keepends=True)) == sorted(sent)


def test_a_kinesis_stream_source_is_read_across_resharding(delivering, s3, s3_bucket):
    server, firehose = delivering
    kinesis = harness.kinesis_client(server.endpoint)
    kinesis.create_stream(StreamName="feed", ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName="feed",
                                             WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    arn = kinesis.describe_stream_summary(
        StreamName="feed")["StreamDescriptionSummary"]["StreamARN"]
    kinesis.put_record(StreamName="feed", Data=b"before the delivery stream\n", PartitionKey="a")
    time.sleep(0.05)
    firehose.create_delivery_stream(
        DeliveryStreamName="from-kinesis", DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": arn, "RoleARN": ROLE},
        ExtendedS3DestinationConfiguration=s3_destination(s3_bucket, interval_s=1))
    description = firehose.describe_delivery_stream(
        DeliveryStreamName="from-kinesis")["DeliveryStreamDescription"]
    assert description["DeliveryStreamType"] == "KinesisStreamAsSource"
    source = description["Source"]["KinesisStreamSourceDescription"]
    assert source["KinesisStreamARN"] == arn and source["RoleARN"] == ROLE
    assert "DeliveryStartTimestamp" in source
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        firehose.put_record(DeliveryStreamName="from-kinesis", Record={"Data": b"x"})
    assert error_code(excinfo) == "InvalidArgumentException"
    assert excinfo.value.response["Error"]["Message"] == \
        "This operation is not permitted on KinesisStreamAsSource delivery stream type."

    sent = [b"from kinesis %d\n" % i for i in range(40)]
    kinesis.put_records(StreamName="feed", Records=[
        {"Data": d, "PartitionKey": f"k{i}"} for i, d in enumerate(sent[:20])])
    shard = kinesis.list_shards(StreamName="feed")["Shards"][0]
    low, high = int(shard["HashKeyRange"]["StartingHashKey"]), \
        int(shard["HashKeyRange"]["EndingHashKey"])
    kinesis.split_shard(StreamName="feed", ShardToSplit=shard["ShardId"],
                        NewStartingHashKey=str((low + high) // 2))
    kinesis.get_waiter("stream_exists").wait(StreamName="feed",
                                             WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    kinesis.put_records(StreamName="feed", Records=[
        {"Data": d, "PartitionKey": f"k{i}"} for i, d in enumerate(sent[20:])])
    deadline = time.monotonic() + 30
    while True:
        delivered = b"".join(read(s3, s3_bucket, o["Key"]) for o in objects(s3, s3_bucket))
        if all(record in delivered for record in sent):
            break
        assert time.monotonic() < deadline, delivered
        time.sleep(0.3)
    assert b"before the delivery stream" not in delivered, "reading starts at the stream's end"
    assert sorted(delivered.splitlines(keepends=True)) == sorted(sent)


def test_s3_backup_keeps_the_source_records(delivering, s3, s3_bucket):
    _, firehose = delivering
    create_active_s3(firehose, "backed-up", **s3_destination(
        s3_bucket, "out/",
        ProcessingConfiguration={"Enabled": True,
                                 "Processors": [{"Type": "AppendDelimiterToRecord"}]},
        S3BackupMode="Enabled",
        S3BackupConfiguration={"RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{s3_bucket}",
                               "Prefix": "source/"}))
    description = firehose.describe_delivery_stream(
        DeliveryStreamName="backed-up")["DeliveryStreamDescription"]
    extended = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert extended["S3BackupMode"] == "Enabled"
    assert extended["S3BackupDescription"]["Prefix"] == "source/"
    firehose.put_record_batch(DeliveryStreamName="backed-up",
                              Records=[{"Data": b"a"}, {"Data": b"b"}])
    wait_for_objects(s3, s3_bucket, 2)
    [out] = objects(s3, s3_bucket, "out/")
    [source] = objects(s3, s3_bucket, "source/")
    assert read(s3, s3_bucket, out["Key"]) == b"a\nb\n", "the destination gets processed records"
    assert read(s3, s3_bucket, source["Key"]) == b"ab", "the backup gets them as they were put"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        firehose.create_delivery_stream(
            DeliveryStreamName="no-backup-config",
            ExtendedS3DestinationConfiguration=s3_destination(s3_bucket, S3BackupMode="Enabled"))
    assert error_code(excinfo) == "InvalidArgumentException"
