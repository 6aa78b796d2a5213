"""Accounts: each access key belongs to an account, and each account has streams of its own.

Two keys of two accounts can each create a stream of the same name; each lists and reads only
its own, in ARNs that carry its own account id. A key reaches another account's stream only by
ARN and only as far as that stream's resource policy allows; what it writes there lands in the
owner's stream. Everything survives a restart."""

import json

import pytest

import harness

HOME = ("AKIDHOME", "home-secret")
AWAY = ("AKIDAWAY", "away-secret")
AWAY_ACCOUNT = "444455556666"


@pytest.fixture
def server(spate_factory, tmp_path):
    config = harness.write_credentials_config(
        tmp_path / "spate.toml",
        {"access_key_id": HOME[0], "secret_access_key": HOME[1]},
        {"access_key_id": AWAY[0], "secret_access_key": AWAY[1], "account_id": AWAY_ACCOUNT,
         "user_name": "away"},
    )
    return spate_factory(env={"SPATE_CONFIG": str(config)})


client = harness.keyed_client


def arn_in(account: str, name: str) -> str:
    return f"arn:aws:kinesis:{harness.REGION}:{account}:stream/{name}"


def test_each_account_has_its_own_streams(server, stream_name):
    home, away = client(server, HOME), client(server, AWAY)
    harness.create_active_stream(home, stream_name, 1)
    harness.create_active_stream(away, stream_name, 2)

    home_summary = home.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    away_summary = away.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    assert home_summary["StreamARN"] == arn_in(harness.ACCOUNT_ID, stream_name)
    assert away_summary["StreamARN"] == arn_in(AWAY_ACCOUNT, stream_name)
    assert (home_summary["OpenShardCount"], away_summary["OpenShardCount"]) == (1, 2)

    home.put_record(StreamName=stream_name, Data=b"home", PartitionKey="k")
    away.put_record(StreamName=stream_name, Data=b"away", PartitionKey="k")
    data = lambda kinesis: sorted(r["Data"] for shard in harness.read_stream(
        kinesis, stream_name).values() for r in shard)
    assert data(home) == [b"home"]
    assert data(away) == [b"away"]

    away_only = harness.unique_name("away-only")
    harness.create_active_stream(away, away_only, 1)
    assert away_only in away.list_streams()["StreamNames"]
    assert away_only not in home.list_streams()["StreamNames"]
    with harness.aws_error("ResourceNotFoundException"):
        home.describe_stream_summary(StreamName=away_only)

    server.restart()
    home, away = client(server, HOME), client(server, AWAY)
    assert data(home) == [b"home"]
    assert data(away) == [b"away"]


def test_another_account_reaches_a_stream_only_as_its_policy_allows(server, stream_name):
    home, away = client(server, HOME), client(server, AWAY)
    harness.create_active_stream(home, stream_name, 1)
    arn = arn_in(harness.ACCOUNT_ID, stream_name)

    with harness.aws_error(
            "AccessDeniedException",
            f"User: arn:aws:iam::{AWAY_ACCOUNT}:user/away is not authorized to perform: "
            f"kinesis:PutRecord on resource: {arn} because no resource-based policy allows "
            f"the kinesis:PutRecord action"):
        away.put_record(StreamARN=arn, Data=b"x", PartitionKey="k")

    home.put_resource_policy(ResourceARN=arn, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": AWAY_ACCOUNT},
                       "Action": "kinesis:PutRecord", "Resource": arn}],
    }))
    put = away.put_record(StreamARN=arn, Data=b"from away", PartitionKey="k")
    assert put["SequenceNumber"]
    records = harness.read_stream(home, stream_name)
    assert [r["Data"] for shard in records.values() for r in shard] == [b"from away"]
    # The grant is PutRecord alone, and by name the away key means its own account's stream.
    with harness.aws_error("AccessDeniedException"):
        away.describe_stream_summary(StreamARN=arn)
    with harness.aws_error("ResourceNotFoundException"):
        away.put_record(StreamName=stream_name, Data=b"x", PartitionKey="k")
