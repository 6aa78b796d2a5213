"""Authorization with credentials configured: a key's policy (IAM JSON in the configuration) and
a stream's resource policy (PutResourcePolicy) are evaluated for every call; an explicit deny
wins, and a refused call gets AccessDeniedException in AWS's message shape. A key of another
account reaches (by ARN) only what a resource policy grants it."""

import json

import pytest

import harness

ACCOUNT = harness.ACCOUNT_ID
ADMIN = ("AKIDADMIN", "admin-secret")
LIMITED = ("AKIDLIMITED", "limited-secret")
OUTSIDER = ("AKIDOUTSIDER", "outsider-secret")
OUTSIDER_ACCOUNT = "444455556666"


def limited_policy(secret_stream: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "kinesis:PutRecord",
             "Resource": f"arn:aws:kinesis:*:*:stream/{secret_stream}"},
        ],
    })


@pytest.fixture
def names():
    return harness.unique_name("secret"), harness.unique_name("open")


@pytest.fixture
def server(spate_factory, tmp_path, names):
    secret, _ = names
    config = harness.write_credentials_config(
        tmp_path / "spate.toml",
        {"access_key_id": ADMIN[0], "secret_access_key": ADMIN[1]},
        {"access_key_id": LIMITED[0], "secret_access_key": LIMITED[1], "user_name": "limited",
         "policy": limited_policy(secret)},
        {"access_key_id": OUTSIDER[0], "secret_access_key": OUTSIDER[1],
         "account_id": OUTSIDER_ACCOUNT, "user_name": "bob"},
    )
    return spate_factory(env={"SPATE_CONFIG": str(config)})


client = harness.keyed_client


def test_a_policy_denying_put_record_on_one_stream_denies_exactly_that(server, names):
    secret, other = names
    admin, limited = client(server, ADMIN), client(server, LIMITED)
    for name in names:
        harness.create_active_stream(admin, name, 1)

    arn = harness.stream_arn(secret)
    with harness.aws_error(
            "AccessDeniedException",
            f"User: arn:aws:iam::{ACCOUNT}:user/limited is not authorized to perform: "
            f"kinesis:PutRecord on resource: {arn} with an explicit deny in an "
            f"identity-based policy"):
        limited.put_record(StreamName=secret, Data=b"x", PartitionKey="k")
    # By ARN as by name.
    with harness.aws_error("AccessDeniedException"):
        limited.put_record(StreamARN=arn, Data=b"x", PartitionKey="k")

    # Everything else is allowed: PutRecords to that stream, PutRecord to another, reads.
    batch = limited.put_records(StreamName=secret, Records=[{"Data": b"y", "PartitionKey": "k"}])
    assert batch["FailedRecordCount"] == 0
    limited.put_record(StreamName=other, Data=b"z", PartitionKey="k")
    assert {secret, other} <= set(limited.list_streams()["StreamNames"])
    records = harness.read_stream(limited, secret)
    assert [r["Data"] for shard in records.values() for r in shard] == [b"y"]
    # The key without a policy may do everything.
    client(server, ADMIN).put_record(StreamName=secret, Data=b"admin", PartitionKey="k")


def test_resource_policies_grant_other_accounts_and_deny_explicitly(server, names):
    secret, other = names
    admin, outsider = client(server, ADMIN), client(server, OUTSIDER)
    harness.create_active_stream(admin, secret, 1)
    arn = harness.stream_arn(secret)

    with harness.aws_error(
            "AccessDeniedException",
            f"User: arn:aws:iam::{OUTSIDER_ACCOUNT}:user/bob is not authorized to perform: "
            f"kinesis:DescribeStreamSummary on resource: {arn} because no resource-based "
            f"policy allows the kinesis:DescribeStreamSummary action"):
        outsider.describe_stream_summary(StreamARN=arn)

    admin.put_resource_policy(ResourceARN=arn, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OUTSIDER_ACCOUNT}:root"},
             "Action": ["kinesis:DescribeStreamSummary", "kinesis:PutRecord"],
             "Resource": arn},
            {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/{ADMIN[0]}"},
             "Action": "kinesis:DeleteStream", "Resource": arn},
        ],
    }))
    assert outsider.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]
    outsider.put_record(StreamARN=arn, Data=b"from afar", PartitionKey="k")
    with harness.aws_error("AccessDeniedException"):
        outsider.get_shard_iterator(StreamARN=arn, ShardId="shardId-000000000000",
                                    ShardIteratorType="TRIM_HORIZON")
    with harness.aws_error("AccessDeniedException") as info:
        admin.delete_stream(StreamName=secret)
    assert info.value.response["Error"]["Message"].endswith(
        "with an explicit deny in a resource-based policy")


def test_a_resource_policy_spate_cannot_evaluate_is_refused(server, names):
    secret, _ = names
    admin = client(server, ADMIN)
    harness.create_active_stream(admin, secret, 1)
    document = json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "kinesis:*", "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]})
    with harness.aws_error("InvalidArgumentException") as info:
        admin.put_resource_policy(ResourceARN=harness.stream_arn(secret), Policy=document)
    assert '"Condition"' in info.value.response["Error"]["Message"]


def test_a_key_policy_spate_cannot_evaluate_stops_the_server_at_start(spate_factory, tmp_path):
    config = harness.write_credentials_config(
        tmp_path / "spate.toml",
        {"access_key_id": ADMIN[0], "secret_access_key": ADMIN[1],
         "policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
                                              "Condition": {}}]})},
    )
    with pytest.raises(RuntimeError) as info:
        spate_factory(env={"SPATE_CONFIG": str(config)})
    assert "Condition" in str(info.value)
