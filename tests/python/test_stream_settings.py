"""Stream settings beside the data: enhanced monitoring, resource policies, the maximum record
size, warm throughput and the account's minimum throughput billing commitment."""

from __future__ import annotations

import datetime

from harness import (aws_error, create_active_stream, kinesis_client, not_found_message,
                     read_shard, shard_id, stream_arn, wait_for_status)

ALL_METRICS = ["IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
               "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded",
               "IteratorAgeMilliseconds"]


# --- enhanced monitoring -------------------------------------------------------------------------


def test_enable_and_disable_enhanced_monitoring(kinesis, new_stream):
    name = new_stream(shard_count=1)

    first = kinesis.enable_enhanced_monitoring(
        StreamName=name, ShardLevelMetrics=["OutgoingBytes", "IncomingBytes"])
    all_on = kinesis.enable_enhanced_monitoring(StreamARN=stream_arn(name),
                                                ShardLevelMetrics=["ALL"])
    described = kinesis.describe_stream(StreamName=name)["StreamDescription"]
    fewer = kinesis.disable_enhanced_monitoring(StreamName=name,
                                                ShardLevelMetrics=["IncomingBytes"])
    none = kinesis.disable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["ALL"])
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]

    assert first["StreamName"] == name and first["StreamARN"] == stream_arn(name)
    assert first["CurrentShardLevelMetrics"] == []
    assert first["DesiredShardLevelMetrics"] == ["IncomingBytes", "OutgoingBytes"]
    assert all_on["CurrentShardLevelMetrics"] == ["IncomingBytes", "OutgoingBytes"]
    assert all_on["DesiredShardLevelMetrics"] == ALL_METRICS
    assert described["EnhancedMonitoring"] == [{"ShardLevelMetrics": ALL_METRICS}]
    assert fewer["DesiredShardLevelMetrics"] == [m for m in ALL_METRICS if m != "IncomingBytes"]
    assert none["DesiredShardLevelMetrics"] == []
    assert summary["EnhancedMonitoring"] == [{"ShardLevelMetrics": []}]


def test_enhanced_monitoring_errors(kinesis, new_stream, stream_name):
    name = new_stream(shard_count=1)

    with aws_error("ValidationException"):
        kinesis.enable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["Latency"])
    with aws_error("ResourceNotFoundException", not_found_message(stream_name)):
        kinesis.enable_enhanced_monitoring(StreamName=stream_name, ShardLevelMetrics=["ALL"])
    with aws_error("ResourceNotFoundException", not_found_message(stream_name)):
        kinesis.disable_enhanced_monitoring(StreamName=stream_name, ShardLevelMetrics=["ALL"])


# --- resource policies ---------------------------------------------------------------------------

POLICY = ('{"Version": "2012-10-17",\n  "Statement": [{"Effect": "Allow", '
          '"Principal": {"AWS": "arn:aws:iam::000000000000:root"}, '
          '"Action": "kinesis:GetRecords", "Resource": "*"}]}')


def test_put_get_and_delete_a_resource_policy(kinesis, new_stream):
    arn = stream_arn(new_stream(shard_count=1))

    empty = kinesis.get_resource_policy(ResourceARN=arn)
    kinesis.put_resource_policy(ResourceARN=arn, Policy=POLICY)
    stored = kinesis.get_resource_policy(ResourceARN=arn)
    kinesis.put_resource_policy(ResourceARN=arn, Policy="{}")
    replaced = kinesis.get_resource_policy(ResourceARN=arn)
    kinesis.delete_resource_policy(ResourceARN=arn)
    deleted = kinesis.get_resource_policy(ResourceARN=arn)

    assert empty["Policy"] == "{}"
    assert stored["Policy"] == POLICY
    assert replaced["Policy"] == "{}"
    assert deleted["Policy"] == "{}"
    with aws_error("ResourceNotFoundException"):
        kinesis.delete_resource_policy(ResourceARN=arn)


def test_resource_policy_errors(kinesis, new_stream, stream_name):
    arn = stream_arn(new_stream(shard_count=1))
    missing = stream_arn(stream_name)

    with aws_error("InvalidArgumentException"):
        kinesis.put_resource_policy(ResourceARN=arn, Policy="not json")
    with aws_error("InvalidArgumentException"):
        kinesis.put_resource_policy(ResourceARN=arn, Policy='["a list"]')
    for call in (lambda: kinesis.put_resource_policy(ResourceARN=missing, Policy=POLICY),
                 lambda: kinesis.get_resource_policy(ResourceARN=missing),
                 lambda: kinesis.delete_resource_policy(ResourceARN=missing)):
        with aws_error("ResourceNotFoundException", not_found_message(stream_name)):
            call()
    with aws_error("ResourceNotFoundException"):
        kinesis.get_resource_policy(ResourceARN=f"{arn}/consumer/nobody:1700000000")
    with aws_error("ValidationException"):
        kinesis.get_resource_policy(ResourceARN="arn:aws:s3:::bucket")


# --- maximum record size -------------------------------------------------------------------------


def test_update_max_record_size_admits_larger_records(kinesis, new_stream):
    name = new_stream(shard_count=1)
    big = b"x" * (1536 * 1024)

    with aws_error("ValidationException"):
        kinesis.put_record(StreamName=name, PartitionKey="k", Data=big)
    kinesis.update_max_record_size(StreamARN=stream_arn(name), MaxRecordSizeInKiB=2048)
    summary = wait_for_status(kinesis, name)
    kinesis.put_record(StreamName=name, PartitionKey="k", Data=big)
    kinesis.put_records(StreamName=name, Records=[{"PartitionKey": "k", "Data": big}])

    assert summary["MaxRecordSizeInKiB"] == 2048
    assert [len(r["Data"]) for r in read_shard(kinesis, name, shard_id(0))] == [len(big)] * 2
    with aws_error("ValidationException"):
        kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"x" * (2048 * 1024 + 1))


def test_update_max_record_size_errors(kinesis, new_stream, stream_name):
    name = new_stream(shard_count=1)

    with aws_error("ValidationException"):
        kinesis.update_max_record_size(StreamARN=stream_arn(name), MaxRecordSizeInKiB=10241)
    with aws_error("ResourceNotFoundException", not_found_message(stream_name)):
        kinesis.update_max_record_size(StreamARN=stream_arn(stream_name), MaxRecordSizeInKiB=2048)
    kinesis.update_max_record_size(StreamARN=stream_arn(name), MaxRecordSizeInKiB=10240)
    with aws_error("ResourceInUseException"):
        kinesis.update_max_record_size(StreamARN=stream_arn(name), MaxRecordSizeInKiB=4096)
    assert wait_for_status(kinesis, name)["MaxRecordSizeInKiB"] == 10240


# --- account settings and warm throughput --------------------------------------------------------


def test_account_commitment_and_warm_throughput(spate_factory):
    # A server of its own: the commitment is account-wide.
    kinesis = kinesis_client(spate_factory().endpoint)
    create_active_stream(kinesis, "provisioned", 1)
    create_active_stream(kinesis, "on-demand", None, StreamModeDetails={"StreamMode": "ON_DEMAND"})

    with aws_error("InvalidArgumentException"):
        kinesis.update_stream_warm_throughput(StreamName="on-demand", WarmThroughputMiBps=100)
    before = kinesis.describe_account_settings()["MinimumThroughputBillingCommitment"]
    enabled = kinesis.update_account_settings(
        MinimumThroughputBillingCommitment={"Status": "ENABLED"})["MinimumThroughputBillingCommitment"]
    described = kinesis.describe_account_settings()["MinimumThroughputBillingCommitment"]

    with aws_error("ValidationException"):
        kinesis.update_stream_warm_throughput(StreamName="provisioned", WarmThroughputMiBps=100)
    with aws_error("LimitExceededException"):
        kinesis.update_stream_warm_throughput(StreamName="on-demand", WarmThroughputMiBps=20000)
    with aws_error("ResourceNotFoundException"):
        kinesis.update_stream_warm_throughput(StreamName="missing", WarmThroughputMiBps=100)
    warm = kinesis.update_stream_warm_throughput(StreamARN=stream_arn("on-demand"),
                                                 WarmThroughputMiBps=100)
    summary = wait_for_status(kinesis, "on-demand")
    provisioned = kinesis.describe_stream_summary(StreamName="provisioned")[
        "StreamDescriptionSummary"]

    ending = kinesis.update_account_settings(
        MinimumThroughputBillingCommitment={"Status": "DISABLED"})["MinimumThroughputBillingCommitment"]
    renewed = kinesis.update_account_settings(
        MinimumThroughputBillingCommitment={"Status": "ENABLED"})["MinimumThroughputBillingCommitment"]

    assert before == {"Status": "DISABLED"}
    assert enabled["Status"] == "ENABLED"
    assert enabled["EarliestAllowedEndAt"] - enabled["StartedAt"] == datetime.timedelta(hours=24)
    assert described == enabled
    assert warm["StreamName"] == "on-demand" and warm["StreamARN"] == stream_arn("on-demand")
    assert warm["WarmThroughput"] == {"TargetMiBps": 100, "CurrentMiBps": 0}
    assert summary["WarmThroughput"] == {"TargetMiBps": 100, "CurrentMiBps": 100}
    assert "WarmThroughput" not in provisioned
    # A commitment lasts at least 24 hours: disabling schedules the end at the earliest time.
    assert ending["Status"] == "ENABLED_UNTIL_EARLIEST_ALLOWED_END"
    assert ending["EndedAt"] == enabled["EarliestAllowedEndAt"]
    assert renewed["Status"] == "ENABLED" and renewed["StartedAt"] == enabled["StartedAt"]
    assert "EndedAt" not in renewed


def test_update_account_settings_validation(spate_factory):
    kinesis = kinesis_client(spate_factory().endpoint)

    with aws_error("ValidationException"):
        kinesis.update_account_settings(MinimumThroughputBillingCommitment={"Status": "MAYBE"})
    assert kinesis.describe_account_settings()["MinimumThroughputBillingCommitment"] == {
        "Status": "DISABLED"}


# --- members the SDKs require, sent without them -------------------------------------------------


def test_missing_required_members_are_validation_errors(endpoint, stream_name):
    import json

    from test_wire import error_type, raw_call

    cases = {
        "StartStreamEncryption": ({"StreamName": stream_name}, ["encryptionType", "keyId"]),
        "StopStreamEncryption": ({"StreamName": stream_name}, ["encryptionType", "keyId"]),
        "EnableEnhancedMonitoring": ({"StreamName": stream_name}, ["shardLevelMetrics"]),
        "DisableEnhancedMonitoring": ({"StreamName": stream_name}, ["shardLevelMetrics"]),
        "PutResourcePolicy": ({"ResourceARN": stream_arn(stream_name)}, ["policy"]),
        "GetResourcePolicy": ({}, ["resourceARN"]),
        "DeleteResourcePolicy": ({}, ["resourceARN"]),
        "UpdateMaxRecordSize": ({"StreamARN": stream_arn(stream_name)}, ["maxRecordSizeInKiB"]),
        "UpdateStreamWarmThroughput": ({"StreamName": stream_name}, ["warmThroughputMiBps"]),
        "UpdateAccountSettings": ({}, ["minimumThroughputBillingCommitment"]),
    }
    for operation, (body, members) in cases.items():
        status, _, answer = raw_call(endpoint, operation, body)
        assert (status, error_type(answer)) == (400, "ValidationException"), operation
        message = json.loads(answer)["message"]
        for member in members:
            assert f"Value null at '{member}' failed to satisfy constraint: Member must not be null" \
                in message, (operation, message)
