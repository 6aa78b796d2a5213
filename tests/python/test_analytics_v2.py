"""Kinesis Data Analytics v2 (KinesisAnalytics_20180523) for SQL applications over the wire with
boto3's kinesisanalyticsv2 client: SQL-1_0 applications created with one service role,
described in v2's shape, listed, changed piece by piece and through UpdateApplication, seen by
the v1 API as the same applications, and the Apache Flink-only parts refused by name."""

from __future__ import annotations

import boto3
import botocore
import pytest
from botocore.config import Config

import harness
from test_analytics_api import CODE, SCHEMA, STREAM, analytics_client, error_of

ROLE = "arn:aws:iam::000000000000:role/service"
DELIVERY = "arn:aws:firehose:us-east-1:000000000000:deliverystream/out"


def v2_client(endpoint: str):
    session = boto3.session.Session(
        aws_access_key_id=harness.AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=harness.AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=harness.REGION,
    )
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                    read_timeout=30)
    return session.client("kinesisanalyticsv2", endpoint_url=endpoint, config=config)


@pytest.fixture(scope="module")
def v2(spate):
    return v2_client(spate.endpoint)


def sql_configuration(code: str = CODE) -> dict:
    return {
        "SqlApplicationConfiguration": {
            "Inputs": [{"NamePrefix": "SOURCE_SQL_STREAM",
                        "KinesisStreamsInput": {"ResourceARN": STREAM},
                        "InputSchema": SCHEMA}],
            "Outputs": [{"Name": "DEST", "KinesisFirehoseOutput": {"ResourceARN": DELIVERY},
                         "DestinationSchema": {"RecordFormatType": "JSON"}}],
        },
        "ApplicationCodeConfiguration": {"CodeContent": {"TextContent": code},
                                         "CodeContentType": "PLAINTEXT"},
    }


def create(v2, name: str, **extra) -> dict:
    return v2.create_application(ApplicationName=name, RuntimeEnvironment="SQL-1_0",
                                 ServiceExecutionRole=ROLE,
                                 ApplicationConfiguration=sql_configuration(), **extra)[
        "ApplicationDetail"]


def test_a_sql_application_is_created_described_listed_and_deleted(v2, spate):
    name = harness.unique_name("v2app")
    detail = create(v2, name, ApplicationDescription="tickers",
                    Tags=[{"Key": "team", "Value": "data"}])
    assert detail["ApplicationName"] == name
    assert detail["RuntimeEnvironment"] == "SQL-1_0"
    assert detail["ServiceExecutionRole"] == ROLE
    assert detail["ApplicationStatus"] == "READY"
    assert detail["ApplicationVersionId"] == 1
    assert detail["ApplicationMode"] == "STREAMING"
    configuration = detail["ApplicationConfigurationDescription"]
    code = configuration["ApplicationCodeConfigurationDescription"]
    assert code["CodeContentType"] == "PLAINTEXT"
    assert code["CodeContentDescription"]["TextContent"] == CODE
    assert code["CodeContentDescription"]["CodeSize"] == len(CODE.encode())
    sql = configuration["SqlApplicationConfigurationDescription"]
    (input_description,) = sql["InputDescriptions"]
    assert input_description["InAppStreamNames"] == ["SOURCE_SQL_STREAM_001"]
    # The service role stands for the piece's own role, which v1 requires.
    assert input_description["KinesisStreamsInputDescription"]["RoleARN"] == ROLE
    assert sql["OutputDescriptions"][0]["KinesisFirehoseOutputDescription"]["ResourceARN"] == \
        DELIVERY

    described = v2.describe_application(ApplicationName=name)["ApplicationDetail"]
    assert described == detail
    summaries = v2.list_applications()["ApplicationSummaries"]
    mine = [s for s in summaries if s["ApplicationName"] == name]
    assert mine == [{"ApplicationName": name, "ApplicationARN": detail["ApplicationARN"],
                     "ApplicationStatus": "READY", "ApplicationVersionId": 1,
                     "RuntimeEnvironment": "SQL-1_0", "ApplicationMode": "STREAMING"}]
    tags = v2.list_tags_for_resource(ResourceARN=detail["ApplicationARN"])["Tags"]
    assert tags == [{"Key": "team", "Value": "data"}]

    # The v1 API sees the same application.
    v1 = analytics_client(spate.endpoint)
    v1_detail = v1.describe_application(ApplicationName=name)["ApplicationDetail"]
    assert v1_detail["ApplicationCode"] == CODE
    assert v1_detail["ApplicationVersionId"] == 1

    v2.delete_application(ApplicationName=name, CreateTimestamp=detail["CreateTimestamp"])
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        v2.describe_application(ApplicationName=name)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_pieces_and_updates_bump_the_version(v2):
    name = harness.unique_name("v2pieces")
    create(v2, name)
    added = v2.add_application_output(
        ApplicationName=name, CurrentApplicationVersionId=1,
        Output={"Name": "DEST", "KinesisStreamsOutput": {"ResourceARN": STREAM},
                "DestinationSchema": {"RecordFormatType": "CSV"}})
    assert added["ApplicationVersionId"] == 2
    assert len(added["OutputDescriptions"]) == 2
    logging = v2.add_application_cloud_watch_logging_option(
        ApplicationName=name, CurrentApplicationVersionId=2,
        CloudWatchLoggingOption={"LogStreamARN":
                                 "arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:s"})
    assert logging["ApplicationVersionId"] == 3
    assert logging["CloudWatchLoggingOptionDescriptions"][0]["RoleARN"] == ROLE

    new_code = CODE.replace("price DOUBLE", "price REAL")
    updated = v2.update_application(
        ApplicationName=name, CurrentApplicationVersionId=3,
        ApplicationConfigurationUpdate={"ApplicationCodeConfigurationUpdate": {
            "CodeContentTypeUpdate": "PLAINTEXT",
            "CodeContentUpdate": {"TextContentUpdate": new_code}}},
        ServiceExecutionRoleUpdate="arn:aws:iam::000000000000:role/other")["ApplicationDetail"]
    assert updated["ApplicationVersionId"] == 4
    assert updated["ServiceExecutionRole"] == "arn:aws:iam::000000000000:role/other"
    assert updated["ApplicationConfigurationDescription"][
        "ApplicationCodeConfigurationDescription"]["CodeContentDescription"][
        "TextContent"] == new_code

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        v2.add_application_output(
            ApplicationName=name, CurrentApplicationVersionId=1,
            Output={"Name": "DEST", "KinesisStreamsOutput": {"ResourceARN": STREAM},
                    "DestinationSchema": {"RecordFormatType": "CSV"}})
    assert error_of(excinfo)[0] == "ConcurrentModificationException"

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        v2.update_application(
            ApplicationName=name, CurrentApplicationVersionId=4,
            ApplicationConfigurationUpdate={"ApplicationCodeConfigurationUpdate": {
                "CodeContentUpdate": {"TextContentUpdate": "CREATE OR REPLACE STREAM"}}})
    code, message = error_of(excinfo)
    assert code == "CodeValidationException"
    assert "line 1" in message


def test_flink_runtimes_and_flink_only_features_are_refused_by_name(v2):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        v2.create_application(ApplicationName=harness.unique_name("flink"),
                              RuntimeEnvironment="FLINK-1_20", ServiceExecutionRole=ROLE)
    code, message = error_of(excinfo)
    assert code == "UnsupportedOperationException"
    assert "FLINK-1_20" in message

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        v2.create_application(
            ApplicationName=harness.unique_name("snap"), RuntimeEnvironment="SQL-1_0",
            ServiceExecutionRole=ROLE,
            ApplicationConfiguration={"ApplicationSnapshotConfiguration":
                                      {"SnapshotsEnabled": True}})
    code, message = error_of(excinfo)
    assert code == "InvalidArgumentException"
    assert "ApplicationSnapshotConfiguration" in message

    name = harness.unique_name("sqlonly")
    create(v2, name)
    for call in [
        lambda: v2.create_application_snapshot(ApplicationName=name, SnapshotName="s"),
        lambda: v2.list_application_snapshots(ApplicationName=name),
        lambda: v2.list_application_versions(ApplicationName=name),
        lambda: v2.rollback_application(ApplicationName=name, CurrentApplicationVersionId=1),
    ]:
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            call()
        code, message = error_of(excinfo)
        assert code == "UnsupportedOperationException"
        assert "SQL application" in message
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        v2.create_application_presigned_url(ApplicationName=name,
                                            UrlType="FLINK_DASHBOARD_URL")
    assert error_of(excinfo)[0] == "InvalidArgumentException"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        v2.create_application_snapshot(ApplicationName="no-such-app", SnapshotName="s")
    assert error_of(excinfo)[0] == "ResourceNotFoundException"
