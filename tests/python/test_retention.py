"""IncreaseStreamRetentionPeriod / DecreaseStreamRetentionPeriod: bounds 24..8760 hours,
increase only upwards, decrease only downwards, reflected in DescribeStream(Summary)."""

import pytest
from botocore.exceptions import ClientError

from harness import aws_error, stream_arn, wait_for_status


def retention(kinesis, name) -> int:
    described = kinesis.describe_stream(StreamName=name)["StreamDescription"]
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert described["RetentionPeriodHours"] == summary["RetentionPeriodHours"]
    return described["RetentionPeriodHours"]


def test_increase_then_decrease_retention(kinesis, new_stream):
    name = new_stream(shard_count=1)
    assert retention(kinesis, name) == 24

    kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
    wait_for_status(kinesis, name, "ACTIVE")
    assert retention(kinesis, name) == 48

    kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=8760)
    wait_for_status(kinesis, name, "ACTIVE")
    assert retention(kinesis, name) == 8760

    kinesis.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=24)
    wait_for_status(kinesis, name, "ACTIVE")
    assert retention(kinesis, name) == 24


def test_retention_by_stream_arn(kinesis, new_stream):
    name = new_stream(shard_count=1)

    kinesis.increase_stream_retention_period(StreamARN=stream_arn(name), RetentionPeriodHours=72)
    wait_for_status(kinesis, name, "ACTIVE")
    assert retention(kinesis, name) == 72

    kinesis.decrease_stream_retention_period(StreamARN=stream_arn(name), RetentionPeriodHours=25)
    wait_for_status(kinesis, name, "ACTIVE")
    assert retention(kinesis, name) == 25


@pytest.mark.parametrize("operation, hours", [
    ("increase_stream_retention_period", 8761),
    ("increase_stream_retention_period", 23),
    ("decrease_stream_retention_period", 23),
])
def test_retention_outside_24_to_8760_hours_is_invalid(kinesis, new_stream, operation, hours):
    name = new_stream(shard_count=1)

    with aws_error("InvalidArgumentException"):
        getattr(kinesis, operation)(StreamName=name, RetentionPeriodHours=hours)

    assert retention(kinesis, name) == 24


@pytest.mark.parametrize("operation, hours", [
    ("decrease_stream_retention_period", 0),
    ("increase_stream_retention_period", -1),
])
def test_retention_below_one_hour_is_rejected(kinesis, new_stream, operation, hours):
    # AWS's service model (unlike botocore's) bounds the member at 1, so AWS may answer
    # ValidationException here (kinesalite does); InvalidArgumentException is as good.
    name = new_stream(shard_count=1)

    with pytest.raises(ClientError) as error:
        getattr(kinesis, operation)(StreamName=name, RetentionPeriodHours=hours)

    assert error.value.response["Error"]["Code"] in (
        "InvalidArgumentException", "ValidationException")
    assert retention(kinesis, name) == 24


def test_increase_to_less_than_current_is_invalid(kinesis, new_stream):
    name = new_stream(shard_count=1)
    kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
    wait_for_status(kinesis, name, "ACTIVE")

    with aws_error("InvalidArgumentException"):
        kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=36)

    assert retention(kinesis, name) == 48


def test_decrease_to_more_than_current_is_invalid(kinesis, new_stream):
    name = new_stream(shard_count=1)

    with aws_error("InvalidArgumentException"):
        kinesis.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=48)

    assert retention(kinesis, name) == 24
