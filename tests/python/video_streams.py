"""Helpers the Video Streams black-box tests share: clients of the three Kinesis Video APIs on
one endpoint, and streams made ACTIVE."""

from __future__ import annotations

import datetime as dt
import time

import harness

# A time range wide enough for any fragment of a test run (botocore sends whole seconds).
EVER = {"StartTimestamp": dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc),
        "EndTimestamp": dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)}


class VideoClients:
    """boto3 clients of kinesisvideo, kinesis-video-media and kinesis-video-archived-media; the
    data-plane clients use the endpoint GetDataEndpoint answers, as AWS's examples do."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.control = harness.kinesis_client(endpoint, service="kinesisvideo")

    def data_endpoint(self, stream: str, api: str) -> str:
        return self.control.get_data_endpoint(StreamName=stream, APIName=api)["DataEndpoint"]

    def media(self, stream: str):
        return harness.kinesis_client(self.data_endpoint(stream, "GET_MEDIA"),
                                      service="kinesis-video-media")

    def archived(self, stream: str):
        return harness.kinesis_client(self.data_endpoint(stream, "LIST_FRAGMENTS"),
                                      service="kinesis-video-archived-media")

    def active_stream(self, name: str, retention_hours: int = 24, timeout: float = 10) -> str:
        """Creates `name` and waits until it is ACTIVE; its ARN."""
        arn = self.control.create_stream(StreamName=name, DataRetentionInHours=retention_hours,
                                         MediaType="video/h264,audio/aac")["StreamARN"]
        deadline = time.monotonic() + timeout
        while self.control.describe_stream(StreamName=name)["StreamInfo"]["Status"] != "ACTIVE":
            assert time.monotonic() < deadline, f"{name} did not become ACTIVE"
            time.sleep(0.02)
        return arn

    def fragments(self, stream: str, selector_type: str = "SERVER_TIMESTAMP") -> list[dict]:
        """Every fragment ListFragments gives, all pages, in fragment-number order."""
        archived = self.archived(stream)
        selector = {"FragmentSelectorType": selector_type, "TimestampRange": EVER}
        fragments, token = [], None
        while True:
            page = archived.list_fragments(StreamName=stream, FragmentSelector=selector,
                                           **({"NextToken": token} if token else {}))
            fragments += page["Fragments"]
            token = page.get("NextToken")
            if not token:
                return sorted(fragments, key=lambda f: int(f["FragmentNumber"]))


def acks_by_fragment(acks: list[dict]) -> dict[str, list[dict]]:
    """The acknowledgements of each fragment number, in arrival order."""
    grouped: dict[str, list[dict]] = {}
    for ack in acks:
        if "FragmentNumber" in ack:
            grouped.setdefault(ack["FragmentNumber"], []).append(ack)
    return grouped


def persisted(acks: list[dict]) -> list[str]:
    return [ack["FragmentNumber"] for ack in acks if ack["EventType"] == "PERSISTED"]
