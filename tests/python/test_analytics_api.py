"""Kinesis Data Analytics for SQL, the v1 application API (KinesisAnalytics_20150814) over the
wire with boto3: applications created, described, listed, changed piece by piece under version
checks, tagged, deleted, and kept across a restart (test_analytics_runtime.py covers discovery
and starting and stopping, test_analytics_sql.py applications running end to end)."""

from __future__ import annotations

import boto3
import botocore
import pytest
from botocore.config import Config

import harness

ROLE = "arn:aws:iam::000000000000:role/analytics"
STREAM = "arn:aws:kinesis:us-east-1:000000000000:stream/in"
DELIVERY = "arn:aws:firehose:us-east-1:000000000000:deliverystream/out"
LAMBDA = "arn:aws:lambda:us-east-1:000000000000:function:pre"
LOG_STREAM = "arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:s"
CODE = ('CREATE OR REPLACE STREAM "DEST" (ticker VARCHAR(4), price DOUBLE);\n'
        'CREATE OR REPLACE PUMP "P" AS INSERT INTO "DEST"\n'
        'SELECT STREAM ticker, price FROM "SOURCE_SQL_STREAM_001";\n')
SCHEMA = {
    "RecordFormat": {"RecordFormatType": "JSON",
                     "MappingParameters": {"JSONMappingParameters": {"RecordRowPath": "$"}}},
    "RecordColumns": [{"Name": "ticker", "SqlType": "VARCHAR(4)", "Mapping": "$.ticker"},
                      {"Name": "price", "SqlType": "DOUBLE", "Mapping": "$.price"}],
}


def analytics_client(endpoint: str):
    """A boto3 Kinesis Analytics (v1) client that never retries, so every error surfaces as is."""
    session = boto3.session.Session(
        aws_access_key_id=harness.AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=harness.AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=harness.REGION,
    )
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                    read_timeout=30)
    return session.client("kinesisanalytics", endpoint_url=endpoint, config=config)


@pytest.fixture(scope="module")
def analytics(spate):
    return analytics_client(spate.endpoint)


def error_of(excinfo) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def stream_input(prefix: str = "SOURCE_SQL_STREAM", **extra) -> dict:
    return {"NamePrefix": prefix, "KinesisStreamsInput": {"ResourceARN": STREAM, "RoleARN": ROLE},
            "InputSchema": SCHEMA, **extra}


def firehose_output(name: str = "DEST") -> dict:
    return {"Name": name, "KinesisFirehoseOutput": {"ResourceARN": DELIVERY, "RoleARN": ROLE},
            "DestinationSchema": {"RecordFormatType": "JSON"}}


def detail(analytics, name: str) -> dict:
    return analytics.describe_application(ApplicationName=name)["ApplicationDetail"]


def test_create_describe_list_and_delete(analytics):
    name = harness.unique_name("app")
    summary = analytics.create_application(
        ApplicationName=name, ApplicationDescription="tickers", ApplicationCode=CODE,
        Inputs=[stream_input(InputParallelism={"Count": 2})], Outputs=[firehose_output()],
        CloudWatchLoggingOptions=[{"LogStreamARN": LOG_STREAM, "RoleARN": ROLE}],
        Tags=[{"Key": "team", "Value": "data"}])["ApplicationSummary"]
    arn = f"arn:aws:kinesisanalytics:us-east-1:000000000000:application/{name}"
    assert summary == {"ApplicationName": name, "ApplicationARN": arn,
                       "ApplicationStatus": "READY"}

    app = detail(analytics, name)
    assert app["ApplicationStatus"] == "READY"
    assert app["ApplicationVersionId"] == 1
    assert app["ApplicationCode"] == CODE
    assert app["ApplicationDescription"] == "tickers"
    assert app["CreateTimestamp"] == app["LastUpdateTimestamp"]
    [described_input] = app["InputDescriptions"]
    assert described_input["InputId"] == "1.1"
    assert described_input["NamePrefix"] == "SOURCE_SQL_STREAM"
    assert described_input["InAppStreamNames"] == ["SOURCE_SQL_STREAM_001",
                                                   "SOURCE_SQL_STREAM_002"]
    assert described_input["InputParallelism"] == {"Count": 2}
    assert described_input["KinesisStreamsInputDescription"] == {"ResourceARN": STREAM,
                                                                 "RoleARN": ROLE}
    assert described_input["InputSchema"] == SCHEMA
    [output] = app["OutputDescriptions"]
    assert output["OutputId"] == "1.1" and output["Name"] == "DEST"
    assert output["KinesisFirehoseOutputDescription"]["ResourceARN"] == DELIVERY
    [logging] = app["CloudWatchLoggingOptionDescriptions"]
    assert logging == {"CloudWatchLoggingOptionId": "1.1", "LogStreamARN": LOG_STREAM,
                       "RoleARN": ROLE}

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        analytics.create_application(ApplicationName=name)
    assert error_of(excinfo)[0] == "ResourceInUseException"

    names = [s["ApplicationName"] for s in analytics.list_applications()["ApplicationSummaries"]]
    assert name in names and names == sorted(names)
    page = analytics.list_applications(Limit=1, ExclusiveStartApplicationName=name[:-1])
    assert page["ApplicationSummaries"][0]["ApplicationName"] == name

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        analytics.delete_application(ApplicationName=name,
                                     CreateTimestamp=app["CreateTimestamp"].timestamp() + 5)  # noqa: E501
    assert error_of(excinfo)[0] == "ResourceNotFoundException"
    analytics.delete_application(ApplicationName=name, CreateTimestamp=app["CreateTimestamp"])
    with pytest.raises(analytics.exceptions.ResourceNotFoundException):
        detail(analytics, name)


def test_listing_pages_by_name(spate_factory):
    analytics = analytics_client(spate_factory().endpoint)
    for name in ["c", "a", "b"]:
        analytics.create_application(ApplicationName=name)
    first = analytics.list_applications(Limit=2)
    assert [s["ApplicationName"] for s in first["ApplicationSummaries"]] == ["a", "b"]
    assert first["HasMoreApplications"] is True
    rest = analytics.list_applications(Limit=2, ExclusiveStartApplicationName="b")
    assert [s["ApplicationName"] for s in rest["ApplicationSummaries"]] == ["c"]
    assert rest["HasMoreApplications"] is False


def test_code_with_a_syntax_error_names_its_line_and_column(analytics):
    name = harness.unique_name("bad")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        analytics.create_application(
            ApplicationName=name,
            ApplicationCode='CREATE OR REPLACE STREAM "S" (a INTEGER);\nSELEC 1;')
    code, message = error_of(excinfo)
    assert code == "CodeValidationException"
    assert "line 2, column 1" in message
    with pytest.raises(analytics.exceptions.ResourceNotFoundException):
        detail(analytics, name)


def test_invalid_names_are_validation_errors(analytics):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        analytics.create_application(ApplicationName="no spaces")
    code, message = error_of(excinfo)
    assert code == "ValidationException"
    assert "applicationName" in message


def test_piecewise_changes_check_and_bump_the_version(analytics):
    name = harness.unique_name("pieces")
    analytics.create_application(ApplicationName=name)
    assert detail(analytics, name)["ApplicationVersionId"] == 1

    with pytest.raises(analytics.exceptions.ConcurrentModificationException):
        analytics.add_application_input(ApplicationName=name, CurrentApplicationVersionId=7,
                                        Input=stream_input())
    analytics.add_application_input(ApplicationName=name, CurrentApplicationVersionId=1,
                                    Input=stream_input())
    app = detail(analytics, name)
    assert app["ApplicationVersionId"] == 2
    assert app["InputDescriptions"][0]["InAppStreamNames"] == ["SOURCE_SQL_STREAM_001"]
    assert app["LastUpdateTimestamp"] >= app["CreateTimestamp"]
    with pytest.raises(analytics.exceptions.InvalidArgumentException):
        analytics.add_application_input(ApplicationName=name, CurrentApplicationVersionId=2,
                                        Input=stream_input("SECOND"))

    analytics.add_application_input_processing_configuration(
        ApplicationName=name, CurrentApplicationVersionId=2, InputId="1.1",
        InputProcessingConfiguration={"InputLambdaProcessor": {"ResourceARN": LAMBDA,
                                                               "RoleARN": ROLE}})
    processing = detail(analytics, name)["InputDescriptions"][0][
        "InputProcessingConfigurationDescription"]
    assert processing == {"InputLambdaProcessorDescription": {"ResourceARN": LAMBDA,
                                                              "RoleARN": ROLE}}
    analytics.delete_application_input_processing_configuration(
        ApplicationName=name, CurrentApplicationVersionId=3, InputId="1.1")
    assert "InputProcessingConfigurationDescription" not in \
        detail(analytics, name)["InputDescriptions"][0]

    analytics.add_application_output(ApplicationName=name, CurrentApplicationVersionId=4,
                                     Output=firehose_output("A"))
    analytics.add_application_output(ApplicationName=name, CurrentApplicationVersionId=5,
                                     Output=firehose_output("B"))
    outputs = detail(analytics, name)["OutputDescriptions"]
    assert [(o["OutputId"], o["Name"]) for o in outputs] == [("1.1", "A"), ("2.1", "B")]
    analytics.delete_application_output(ApplicationName=name, CurrentApplicationVersionId=6,
                                        OutputId="1.1")
    with pytest.raises(analytics.exceptions.ResourceNotFoundException):
        analytics.delete_application_output(ApplicationName=name, CurrentApplicationVersionId=7,
                                            OutputId="1.1")

    analytics.add_application_reference_data_source(
        ApplicationName=name, CurrentApplicationVersionId=7,
        ReferenceDataSource={
            "TableName": "companies",
            "S3ReferenceDataSource": {"BucketARN": "arn:aws:s3:::ref", "FileKey": "c.csv",
                                      "ReferenceRoleARN": ROLE},
            "ReferenceSchema": SCHEMA})
    [reference] = detail(analytics, name)["ReferenceDataSourceDescriptions"]
    assert reference["ReferenceId"] == "1.1"
    assert reference["S3ReferenceDataSourceDescription"]["FileKey"] == "c.csv"
    analytics.delete_application_reference_data_source(
        ApplicationName=name, CurrentApplicationVersionId=8, ReferenceId="1.1")

    analytics.add_application_cloud_watch_logging_option(
        ApplicationName=name, CurrentApplicationVersionId=9,
        CloudWatchLoggingOption={"LogStreamARN": LOG_STREAM, "RoleARN": ROLE})
    assert detail(analytics, name)["CloudWatchLoggingOptionDescriptions"][0][
        "CloudWatchLoggingOptionId"] == "1.1"
    analytics.delete_application_cloud_watch_logging_option(
        ApplicationName=name, CurrentApplicationVersionId=10, CloudWatchLoggingOptionId="1.1")

    app = detail(analytics, name)
    assert app["ApplicationVersionId"] == 11
    assert app["ReferenceDataSourceDescriptions"] == []
    assert app["CloudWatchLoggingOptionDescriptions"] == []


def test_update_application_changes_code_and_pieces_by_id(analytics):
    name = harness.unique_name("update")
    analytics.create_application(ApplicationName=name, Inputs=[stream_input()],
                                 Outputs=[firehose_output()])
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        analytics.update_application(
            ApplicationName=name, CurrentApplicationVersionId=1,
            ApplicationUpdate={"ApplicationCodeUpdate": "SELECT STREAM FROM;"})
    code, message = error_of(excinfo)
    assert code == "CodeValidationException" and "line 1, column" in message
    assert detail(analytics, name)["ApplicationVersionId"] == 1

    analytics.update_application(
        ApplicationName=name, CurrentApplicationVersionId=1,
        ApplicationUpdate={
            "ApplicationCodeUpdate": CODE,
            "InputUpdates": [{"InputId": "1.1", "NamePrefixUpdate": "IN",
                              "InputParallelismUpdate": {"CountUpdate": 3}}],
            "OutputUpdates": [{"OutputId": "1.1", "NameUpdate": "DEST2",
                               "KinesisStreamsOutputUpdate": {"ResourceARNUpdate": STREAM,
                                                              "RoleARNUpdate": ROLE}}],
        })
    app = detail(analytics, name)
    assert app["ApplicationVersionId"] == 2
    assert app["ApplicationCode"] == CODE
    assert app["InputDescriptions"][0]["InAppStreamNames"] == ["IN_001", "IN_002", "IN_003"]
    [output] = app["OutputDescriptions"]
    assert output["Name"] == "DEST2"
    assert output["KinesisStreamsOutputDescription"] == {"ResourceARN": STREAM, "RoleARN": ROLE}
    assert "KinesisFirehoseOutputDescription" not in output

    with pytest.raises(analytics.exceptions.ConcurrentModificationException):
        analytics.update_application(ApplicationName=name, CurrentApplicationVersionId=1,
                                     ApplicationUpdate={"ApplicationCodeUpdate": CODE})
    with pytest.raises(analytics.exceptions.ResourceNotFoundException):
        analytics.update_application(
            ApplicationName=name, CurrentApplicationVersionId=2,
            ApplicationUpdate={"OutputUpdates": [{"OutputId": "9.1", "NameUpdate": "X"}]})


def test_tags_by_application_arn(analytics):
    name = harness.unique_name("tags")
    arn = analytics.create_application(
        ApplicationName=name, Tags=[{"Key": "a", "Value": "1"}])["ApplicationSummary"][
        "ApplicationARN"]
    analytics.tag_resource(ResourceARN=arn, Tags=[{"Key": "b", "Value": "2"},
                                                  {"Key": "a", "Value": "3"}])
    assert analytics.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "a", "Value": "3"}, {"Key": "b", "Value": "2"}]
    analytics.untag_resource(ResourceARN=arn, TagKeys=["a"])
    assert analytics.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "b", "Value": "2"}]
    assert detail(analytics, name)["ApplicationVersionId"] == 1

    with pytest.raises(analytics.exceptions.TooManyTagsException):
        analytics.tag_resource(ResourceARN=arn,
                               Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(50)])
    with pytest.raises(analytics.exceptions.ResourceNotFoundException):
        analytics.list_tags_for_resource(ResourceARN=arn + "-missing")


def test_applications_survive_a_restart(spate_factory):
    server = spate_factory()
    analytics = analytics_client(server.endpoint)
    analytics.create_application(ApplicationName="kept", ApplicationCode=CODE,
                                 Inputs=[stream_input()], Tags=[{"Key": "t", "Value": "v"}])
    analytics.add_application_output(ApplicationName="kept", CurrentApplicationVersionId=1,
                                     Output=firehose_output())
    before = detail(analytics, "kept")
    server.stop()
    server.start()
    analytics = analytics_client(server.endpoint)
    assert detail(analytics, "kept") == before
    arn = before["ApplicationARN"]
    assert analytics.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "t", "Value": "v"}]
    # Ids are not reused after a restart either.
    analytics.add_application_output(ApplicationName="kept", CurrentApplicationVersionId=2,
                                     Output=firehose_output("OTHER"))
    assert [o["OutputId"] for o in detail(analytics, "kept")["OutputDescriptions"]] == \
        ["1.1", "2.1"]

