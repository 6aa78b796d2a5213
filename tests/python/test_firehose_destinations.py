"""Firehose's HTTP-based destinations over the wire with boto3: the HTTP endpoint, Splunk HEC and
OpenSearch / Elasticsearch `_bulk`, each delivering to a receiver in firehose_receivers.py that
implements the documented wire format. Records reach the receiver in the documented shapes; a
receiver that fails for a while gets every record at least once; one that keeps failing past
RetryOptions sends the batch to S3 under the error output; the all-data backup mode writes every
record to S3 as well. S3 is the shared s3s-fs server of conftest.py."""

from __future__ import annotations

import base64
import datetime
import json

import botocore
import pytest

from firehose_helpers import ROLE, create_active, delivering_server, error_code, objects, put, read
from firehose_receivers import HttpEndpointReceiver, OpenSearchReceiver, SplunkReceiver, wait_until
from harness import make_certificate

DOMAIN_ARN = "arn:aws:es:us-east-1:123456789012:domain/logs"


@pytest.fixture
def tls(tmp_path):
    """(CA, chain, key): receivers serve the chain, Spate trusts the CA (firehose.http.ca_file)."""
    directory = tmp_path / "tls"
    directory.mkdir()
    return make_certificate(directory)


@pytest.fixture
def receivers():
    started = []

    def start(receiver):
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


@pytest.fixture
def spate_with(spate_factory, s3_server, tmp_path, tls):
    """Starts Spate delivering to the shared S3 server, with short retry waits, the test CA
    trusted, and `domains` mapped to receivers' URLs; returns a Firehose client."""

    def start(domains: dict[str, str] | None = None, request_timeout_ms: int = 10_000):
        config = tmp_path / "spate.toml"
        text = (
            "[firehose]\nretry_initial_ms = 100\nretry_max_ms = 400\n"
            f"[firehose.http]\nca_file = \"{tls[0]}\"\n"
            f"request_timeout_ms = {request_timeout_ms}\nack_poll_interval_ms = 100\n"
        )
        for arn, url in (domains or {}).items():
            text += f"[firehose.opensearch_domains.\"{arn}\"]\nurl = \"{url}\"\n"
        config.write_text(text)
        _, firehose = delivering_server(spate_factory, s3_server, config=config)
        return firehose

    return start


def s3_configuration(bucket: str, prefix: str = "", **extra) -> dict:
    return {"RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{bucket}", "Prefix": prefix,
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1}, **extra}


def error_documents(s3, bucket: str, prefix: str, count: int, timeout: float = 30) -> list[dict]:
    """The error output's documents under `prefix`, once there are `count` of them."""

    def found():
        documents = []
        for item in objects(s3, bucket, prefix):
            for line in read(s3, bucket, item["Key"]).decode().splitlines():
                documents.append(json.loads(line))
        return documents if len(documents) >= count else None

    return wait_until(found, timeout, f"{count} error documents under {prefix}")


def http_destination(receiver, bucket, **extra) -> dict:
    return {"EndpointConfiguration": {"Url": receiver.url, "Name": "receiver",
                                      "AccessKey": "key-1"},
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1},
            "S3Configuration": s3_configuration(bucket), **extra}


# --- HTTP endpoint ----------------------------------------------------------------------------

def test_http_endpoint_receives_the_documented_request(spate_with, receivers, tls, s3_bucket):
    receiver = receivers(HttpEndpointReceiver(access_key="key-1", tls=tls[1:]))
    firehose = spate_with()
    description = create_active(firehose, "http", HttpEndpointDestinationConfiguration=http_destination(
        receiver, s3_bucket, RoleARN=ROLE,
        RequestConfiguration={"ContentEncoding": "GZIP", "CommonAttributes": [
            {"AttributeName": "env", "AttributeValue": "test"}]}))
    shown = description["Destinations"][0]["HttpEndpointDestinationDescription"]
    assert shown["EndpointConfiguration"] == {"Url": receiver.url, "Name": "receiver"}, \
        "the access key is never described"
    assert shown["RetryOptions"] == {"DurationInSeconds": 300}
    assert shown["S3BackupMode"] == "FailedDataOnly"
    assert shown["RequestConfiguration"]["ContentEncoding"] == "GZIP"
    assert shown["S3DestinationDescription"]["BucketARN"] == f"arn:aws:s3:::{s3_bucket}"

    sent = [b"record-%d\n" % i for i in range(20)] + [b"\x00\xffbinary"]
    put(firehose, "http", sent)
    wait_until(lambda: len(receiver.records) >= len(sent), what="records delivered")
    assert sorted(receiver.records) == sorted(sent)
    assert receiver.problems == []
    headers = receiver.requests[0]["headers"]
    assert headers["x-amz-firehose-access-key"] == "key-1"
    assert headers["content-encoding"] == "gzip"
    assert json.loads(headers["x-amz-firehose-common-attributes"]) == \
        {"commonAttributes": {"env": "test"}}
    assert headers["x-amz-firehose-source-arn"].endswith(":deliverystream/http")


def test_http_endpoint_that_fails_for_a_while_gets_every_record(spate_with, receivers, tls,
                                                                 s3, s3_bucket):
    receiver = receivers(HttpEndpointReceiver(tls=tls[1:]))
    receiver.fail_next(4, status=503)
    firehose = spate_with()
    create_active(firehose, "flaky", HttpEndpointDestinationConfiguration=http_destination(
        receiver, s3_bucket, RetryOptions={"DurationInSeconds": 120}))
    sent = [b"r%d" % i for i in range(50)]
    put(firehose, "flaky", sent)
    wait_until(lambda: set(sent) <= set(receiver.records), what="every record delivered")
    failed_ids = {r["headers"]["x-amz-firehose-request-id"] for r in receiver.requests[:5]}
    assert len(failed_ids) == 1, "the request id is kept across the attempts of one request"
    assert objects(s3, s3_bucket, "http-endpoint-failed/") == []


def test_http_endpoint_failing_past_the_retry_duration_goes_to_s3(spate_with, receivers, tls,
                                                                   s3, s3_bucket):
    receiver = receivers(HttpEndpointReceiver(tls=tls[1:]))
    receiver.fail_always(500)
    firehose = spate_with()
    create_active(firehose, "down", HttpEndpointDestinationConfiguration=http_destination(
        receiver, s3_bucket, RetryOptions={"DurationInSeconds": 1}))
    sent = [b"lost-%d" % i for i in range(5)]
    put(firehose, "down", sent)
    documents = error_documents(s3, s3_bucket, "http-endpoint-failed/", len(sent))
    assert sorted(base64.b64decode(d["rawData"]) for d in documents) == sorted(sent)
    for document in documents:
        assert document["errorCode"] == "HttpEndpoint.DestinationException"
        assert "500" in document["errorMessage"]
        assert document["attemptsMade"] >= 2
        assert document["attemptEndingTimestamp"] >= document["arrivalTimestamp"]
    key = objects(s3, s3_bucket, "http-endpoint-failed/")[0]["Key"]
    assert key.split("/")[1] == datetime.datetime.now(datetime.timezone.utc).strftime("%Y")
    assert "/down-1-" in key


def test_http_endpoint_timeouts_and_wrong_request_ids_fail(spate_with, receivers, tls, s3,
                                                            s3_bucket):
    slow = receivers(HttpEndpointReceiver(tls=tls[1:]))
    slow.delay_s = 4
    wrong = receivers(HttpEndpointReceiver(tls=tls[1:]))
    wrong.wrong_request_id = True
    firehose = spate_with(request_timeout_ms=1500)
    create_active(firehose, "slow", HttpEndpointDestinationConfiguration=http_destination(
        slow, s3_bucket, RetryOptions={"DurationInSeconds": 0},
        S3Configuration=s3_configuration(s3_bucket, "slow/")))
    create_active(firehose, "wrong", HttpEndpointDestinationConfiguration=http_destination(
        wrong, s3_bucket, RetryOptions={"DurationInSeconds": 0},
        S3Configuration=s3_configuration(s3_bucket, "wrong/")))
    put(firehose, "slow", [b"late"])
    put(firehose, "wrong", [b"unconfirmed"])
    [late] = error_documents(s3, s3_bucket, "slow/http-endpoint-failed/", 1)
    assert late["errorCode"] == "HttpEndpoint.RequestTimeout"
    assert late["attemptsMade"] == 1, "DurationInSeconds 0: no retry"
    [unconfirmed] = error_documents(s3, s3_bucket, "wrong/http-endpoint-failed/", 1)
    assert unconfirmed["errorCode"] == "HttpEndpoint.InvalidResponseFromDestination"


def test_http_endpoint_all_data_backup_writes_every_record_to_s3(spate_with, receivers, tls, s3,
                                                                  s3_bucket):
    receiver = receivers(HttpEndpointReceiver(tls=tls[1:]))
    firehose = spate_with()
    create_active(firehose, "all", HttpEndpointDestinationConfiguration=http_destination(
        receiver, s3_bucket, S3BackupMode="AllData",
        S3Configuration=s3_configuration(s3_bucket, "backup/")))
    sent = [b"b%d\n" % i for i in range(10)]
    put(firehose, "all", sent)
    wait_until(lambda: len(receiver.records) >= len(sent), what="records delivered")

    def backed_up():
        data = b"".join(read(s3, s3_bucket, o["Key"]) for o in objects(s3, s3_bucket, "backup/"))
        return data if len(data) >= sum(map(len, sent)) else None

    data = wait_until(backed_up, what="records backed up")
    assert sorted(data.splitlines(keepends=True)) == sorted(sent)


def test_http_endpoint_update_and_model_rules(spate_with, receivers, tls, s3_bucket):
    receiver = receivers(HttpEndpointReceiver(tls=tls[1:]))
    other = receivers(HttpEndpointReceiver(tls=tls[1:]))
    firehose = spate_with()
    create_active(firehose, "upd", HttpEndpointDestinationConfiguration=http_destination(
        receiver, s3_bucket))
    firehose.update_destination(
        DeliveryStreamName="upd", CurrentDeliveryStreamVersionId="1",
        DestinationId="destinationId-000000000001",
        HttpEndpointDestinationUpdate={"EndpointConfiguration": {"Url": other.url},
                                       "S3BackupMode": "AllData",
                                       "S3Update": {"Prefix": "after/"}})
    description = firehose.describe_delivery_stream(
        DeliveryStreamName="upd")["DeliveryStreamDescription"]
    shown = description["Destinations"][0]["HttpEndpointDestinationDescription"]
    assert description["VersionId"] == "2"
    assert shown["EndpointConfiguration"]["Url"] == other.url
    assert shown["S3BackupMode"] == "AllData"
    assert shown["S3DestinationDescription"]["Prefix"] == "after/"
    assert shown["S3DestinationDescription"]["BucketARN"] == f"arn:aws:s3:::{s3_bucket}"
    put(firehose, "upd", [b"to the new url"])
    wait_until(lambda: other.records == [b"to the new url"], what="delivery to the new URL")

    refusals = [
        ("ValidationException", {"EndpointConfiguration": {"Url": "http://plain.example"},
                                 "S3Configuration": s3_configuration(s3_bucket)}),
        ("ValidationException", {"EndpointConfiguration": {"Url": receiver.url},
                                 "BufferingHints": {"SizeInMBs": 65, "IntervalInSeconds": 60},
                                 "S3Configuration": s3_configuration(s3_bucket)}),
        ("ValidationException", {"EndpointConfiguration": {"Url": receiver.url},
                                 "RetryOptions": {"DurationInSeconds": 7201},
                                 "S3Configuration": s3_configuration(s3_bucket)}),
        ("InvalidArgumentException", {"EndpointConfiguration": {"Url": receiver.url},
                                      "ProcessingConfiguration": {"Enabled": True},
                                      "S3Configuration": s3_configuration(s3_bucket)}),
    ]
    for code, configuration in refusals:
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            firehose.create_delivery_stream(DeliveryStreamName="refused",
                                            HttpEndpointDestinationConfiguration=configuration)
        assert error_code(excinfo) == code, configuration
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        firehose.create_delivery_stream(
            DeliveryStreamName="two", HttpEndpointDestinationConfiguration=http_destination(
                receiver, s3_bucket),
            ExtendedS3DestinationConfiguration=s3_configuration(s3_bucket))
    assert error_code(excinfo) == "InvalidArgumentException"


# --- Splunk -----------------------------------------------------------------------------------

def splunk_destination(receiver, bucket, **extra) -> dict:
    return {"HECEndpoint": receiver.url, "HECEndpointType": "Event", "HECToken": "token-1",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1},
            "S3Configuration": s3_configuration(bucket), **extra}


def test_splunk_event_endpoint_with_indexer_acknowledgement(spate_with, receivers, s3_bucket):
    receiver = receivers(SplunkReceiver("token-1", ack=True, polls_before_ack=2))
    receiver.fail_next(2)
    firehose = spate_with()
    description = create_active(firehose, "splunk", SplunkDestinationConfiguration=splunk_destination(
        receiver, s3_bucket))
    shown = description["Destinations"][0]["SplunkDestinationDescription"]
    assert shown["HECAcknowledgmentTimeoutInSeconds"] == 180
    assert shown["RetryOptions"] == {"DurationInSeconds": 3600}
    assert shown["S3BackupMode"] == "FailedEventsOnly"
    assert shown["BufferingHints"] == {"SizeInMBs": 1, "IntervalInSeconds": 1}
    put(firehose, "splunk", [b"plain text line", b'{"event": {"user": "x"}, "sourcetype": "s"}'])
    wait_until(lambda: len(receiver.events) >= 2, what="events received")
    assert {"event": "plain text line"} in receiver.events
    assert {"event": {"user": "x"}, "sourcetype": "s"} in receiver.events
    wait_until(lambda: receiver.ack_requests >= 3, what="acknowledgement polled until acked")
    assert all(receiver.channels)


def test_splunk_raw_endpoint_and_bad_token_to_error_output(spate_with, receivers, s3, s3_bucket):
    receiver = receivers(SplunkReceiver("token-1", ack=False))
    firehose = spate_with()
    create_active(firehose, "raw", SplunkDestinationConfiguration=splunk_destination(
        receiver, s3_bucket, HECEndpointType="Raw",
        S3Configuration=s3_configuration(s3_bucket, "raw/")))
    create_active(firehose, "badtoken", SplunkDestinationConfiguration=splunk_destination(
        receiver, s3_bucket, HECToken="wrong", RetryOptions={"DurationInSeconds": 0},
        S3BackupMode="AllEvents", S3Configuration=s3_configuration(s3_bucket, "bad/")))
    put(firehose, "raw", [b"line one\n", b"line two\n"])
    wait_until(lambda: b"".join(receiver.raw) == b"line one\nline two\n", what="raw body")
    put(firehose, "badtoken", [b"refused"])
    [document] = error_documents(s3, s3_bucket, "bad/splunk-failed/", 1)
    assert document["errorCode"] == "Splunk.InvalidToken"
    assert base64.b64decode(document["rawData"]) == b"refused"
    assert "EventId" in document
    backup = wait_until(lambda: [o for o in objects(s3, s3_bucket, "bad/")
                                 if "/splunk-failed/" not in "/" + o["Key"]],
                        what="AllEvents backup")
    assert read(s3, s3_bucket, backup[0]["Key"]) == b"refused"


def test_splunk_model_rules(spate_with, receivers, s3_bucket):
    receiver = receivers(SplunkReceiver("token-1"))
    firehose = spate_with()
    for code, extra in [
        ("ValidationException", {"HECAcknowledgmentTimeoutInSeconds": 601}),
        ("ValidationException", {"BufferingHints": {"SizeInMBs": 6, "IntervalInSeconds": 60}}),
        ("ValidationException", {"HECEndpointType": "Json"}),
        ("InvalidArgumentException", {"SecretsManagerConfiguration": {"Enabled": True}}),
    ]:
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            firehose.create_delivery_stream(
                DeliveryStreamName="refused",
                SplunkDestinationConfiguration=splunk_destination(receiver, s3_bucket, **extra))
        assert error_code(excinfo) == code, extra
    create_active(firehose, "modes", SplunkDestinationConfiguration=splunk_destination(
        receiver, s3_bucket, S3BackupMode="AllEvents"))
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        firehose.update_destination(
            DeliveryStreamName="modes", CurrentDeliveryStreamVersionId="1",
            DestinationId="destinationId-000000000001",
            SplunkDestinationUpdate={"S3BackupMode": "FailedEventsOnly"})
    assert error_code(excinfo) == "InvalidArgumentException"


# --- OpenSearch / Elasticsearch ---------------------------------------------------------------

def opensearch_destination(bucket, **extra) -> dict:
    return {"RoleARN": ROLE, "IndexName": "logs",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1},
            "S3Configuration": s3_configuration(bucket), **extra}


def test_opensearch_bulk_with_rotation_and_rejected_documents(spate_with, receivers, s3,
                                                               s3_bucket):
    receiver = receivers(OpenSearchReceiver())
    firehose = spate_with(domains={DOMAIN_ARN: receiver.url})
    description = create_active(
        firehose, "search", AmazonopensearchserviceDestinationConfiguration=opensearch_destination(
            s3_bucket, DomainARN=DOMAIN_ARN, RetryOptions={"DurationInSeconds": 1}))
    shown = description["Destinations"][0]["AmazonopensearchserviceDestinationDescription"]
    assert shown["IndexRotationPeriod"] == "OneDay"
    assert shown["S3BackupMode"] == "FailedDocumentsOnly"
    assert shown["DocumentIdOptions"] == {"DefaultDocumentIdFormat": "FIREHOSE_DEFAULT"}
    receiver.reject(lambda document: "bad" in document)
    today = datetime.datetime.now(datetime.timezone.utc)
    put(firehose, "search", [json.dumps({"n": i}).encode() for i in range(5)]
        + [b'{"bad": true}\n'])
    wait_until(lambda: len(receiver.documents()) >= 5, what="documents indexed")
    [index] = receiver.indices
    assert index in {f"logs-{day:%Y-%m-%d}" for day in
                     (today, today + datetime.timedelta(minutes=1))}
    assert sorted(d["n"] for d in receiver.documents()) == list(range(5))
    ids = [metadata["_id"] for metadata, _ in receiver.indices[index]]
    assert len(set(ids)) == 5, "each document has its own Firehose id"
    [failed] = error_documents(s3, s3_bucket, "AmazonOpenSearchService-failed/", 1)
    assert failed["errorCode"] == "mapper_parsing_exception"
    assert json.loads(base64.b64decode(failed["rawData"])) == {"bad": True}
    assert failed["esIndexName"] == index
    assert failed["esDocumentId"]


def test_elasticsearch_type_name_and_throttled_items_retried(spate_with, receivers, tls, s3,
                                                              s3_bucket):
    receiver = receivers(OpenSearchReceiver(tls=tls[1:]))
    receiver.throttle_next(2)
    firehose = spate_with()
    description = create_active(
        firehose, "es", ElasticsearchDestinationConfiguration=opensearch_destination(
            s3_bucket, ClusterEndpoint=receiver.url, TypeName="_doc",
            IndexRotationPeriod="NoRotation", S3BackupMode="AllDocuments",
            DocumentIdOptions={"DefaultDocumentIdFormat": "NO_DOCUMENT_ID"},
            S3Configuration=s3_configuration(s3_bucket, "all/")))
    shown = description["Destinations"][0]["ElasticsearchDestinationDescription"]
    assert shown["TypeName"] == "_doc"
    assert shown["ClusterEndpoint"] == receiver.url
    put(firehose, "es", [json.dumps({"n": i}).encode() for i in range(4)])
    wait_until(lambda: len(receiver.documents()) >= 4, what="documents indexed after throttling")
    assert len(receiver.bulk_requests) >= 3
    for metadata, _ in receiver.indices["logs"]:
        assert metadata["_type"] == "_doc"
        assert "_id" not in metadata, "NO_DOCUMENT_ID leaves ids to the cluster"
    wait_until(lambda: objects(s3, s3_bucket, "all/"), what="AllDocuments backup")
    assert objects(s3, s3_bucket, "all/elasticsearch-failed/") == []


def test_opensearch_model_rules(spate_with, s3_bucket):
    firehose = spate_with()
    for code, extra in [
        ("InvalidArgumentException", {"DomainARN": DOMAIN_ARN}),  # not mapped in the config
        ("InvalidArgumentException", {}),  # neither DomainARN nor ClusterEndpoint
        ("InvalidArgumentException", {"DomainARN": DOMAIN_ARN,
                                      "ClusterEndpoint": "https://search.example"}),
        ("InvalidArgumentException", {"ClusterEndpoint": "https://search.example",
                                      "VpcConfiguration": {
                                          "SubnetIds": ["subnet-1"], "RoleARN": ROLE,
                                          "SecurityGroupIds": ["sg-1"]}}),
        ("ValidationException", {"ClusterEndpoint": "http://search.example"}),
        ("ValidationException", {"ClusterEndpoint": "https://search.example",
                                 "IndexRotationPeriod": "OneYear"}),
        ("ValidationException", {"ClusterEndpoint": "https://search.example",
                                 "BufferingHints": {"SizeInMBs": 101, "IntervalInSeconds": 60}}),
    ]:
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            firehose.create_delivery_stream(
                DeliveryStreamName="refused",
                AmazonopensearchserviceDestinationConfiguration=opensearch_destination(
                    s3_bucket, **extra))
        assert error_code(excinfo) == code, extra
        assert error_code(excinfo) != "InvalidArgumentException" or \
            excinfo.value.response["Error"]["Message"], extra
