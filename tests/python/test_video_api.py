"""The Kinesis Video control plane (kinesisvideo, rest-json) driven by boto3 and the aws CLI:
streams and their statuses, versions, retention, tags, configurations, data endpoints,
signaling channels, and the WebRTC operations Spate refuses by name.
"""

import time

import pytest
from botocore.exceptions import ClientError

import harness
from harness import aws_error, run_aws

API_NAMES = ["PUT_MEDIA", "GET_MEDIA", "LIST_FRAGMENTS", "GET_MEDIA_FOR_FRAGMENT_LIST",
             "GET_HLS_STREAMING_SESSION_URL", "GET_DASH_STREAMING_SESSION_URL", "GET_CLIP",
             "GET_IMAGES"]


@pytest.fixture(scope="module")
def video(endpoint):
    return harness.kinesis_client(endpoint, service="kinesisvideo")


@pytest.fixture
def name(request) -> str:
    return harness.unique_name(request.node.name.removeprefix("test_")[:40])


def wait_for(describe, status: str, timeout: float = 10) -> dict:
    """Polls `describe()` (an info dict with Status or ChannelStatus) until it has `status`."""
    deadline = time.monotonic() + timeout
    while True:
        info = describe()
        current = info.get("Status") or info.get("ChannelStatus")
        if current == status:
            return info
        assert time.monotonic() < deadline, f"still {current}, expected {status}"
        time.sleep(0.02)


def active_stream(video, name: str, **extra) -> dict:
    video.create_stream(StreamName=name, **extra)
    return wait_for(lambda: video.describe_stream(StreamName=name)["StreamInfo"], "ACTIVE")


def active_channel(video, name: str, **extra) -> dict:
    video.create_signaling_channel(ChannelName=name, **extra)
    return wait_for(lambda: video.describe_signaling_channel(ChannelName=name)["ChannelInfo"],
                    "ACTIVE")


def test_stream_goes_creating_active_deleting_gone(spate_factory):
    server = spate_factory(env={"SPATE_VIDEO_CREATE_DELAY_MS": "700",
                                "SPATE_VIDEO_DELETE_DELAY_MS": "700"})
    video = harness.kinesis_client(server.endpoint, service="kinesisvideo")
    before = time.time()
    arn = video.create_stream(StreamName="cam1", DeviceName="door-cam",
                              MediaType="video/h264,audio/aac", DataRetentionInHours=24,
                              Tags={"site": "north"})["StreamARN"]
    assert arn.startswith("arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam1/")
    info = video.describe_stream(StreamName="cam1")["StreamInfo"]
    assert info["Status"] == "CREATING"
    assert info["StreamARN"] == arn
    assert (info["DeviceName"], info["MediaType"], info["DataRetentionInHours"]) == (
        "door-cam", "video/h264,audio/aac", 24)
    assert info["KmsKeyId"] == "arn:aws:kms:us-east-1:000000000000:alias/aws/kinesisvideo"
    assert len(info["Version"]) == 22 and info["Version"].isalnum()
    assert before - 1 <= info["CreationTime"].timestamp() <= time.time() + 1
    with aws_error("ResourceInUseException"):
        video.update_stream(StreamName="cam1", CurrentVersion=info["Version"], DeviceName="x")
    with aws_error("ResourceInUseException"):
        video.create_stream(StreamName="cam1")
    active = wait_for(lambda: video.describe_stream(StreamARN=arn)["StreamInfo"], "ACTIVE")
    assert active["Version"] == info["Version"]

    video.delete_stream(StreamARN=arn, CurrentVersion=active["Version"])
    assert video.describe_stream(StreamName="cam1")["StreamInfo"]["Status"] == "DELETING"
    with aws_error("ResourceInUseException"):
        video.delete_stream(StreamARN=arn)
    deadline = time.monotonic() + 10
    while True:
        try:
            video.describe_stream(StreamName="cam1")
        except ClientError as err:
            assert err.response["Error"]["Code"] == "ResourceNotFoundException"
            assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 404
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert video.list_streams()["StreamInfoList"] == []
    # The name is free again, under a new ARN.
    again = video.create_stream(StreamName="cam1")["StreamARN"]
    assert again != arn
    with aws_error("ResourceNotFoundException", status=404):
        video.describe_stream(StreamARN=arn)


def test_streams_survive_a_restart(spate_factory):
    server = spate_factory()
    video = harness.kinesis_client(server.endpoint, service="kinesisvideo")
    info = active_stream(video, "kept", MediaType="video/h264")
    video.create_signaling_channel(ChannelName="kept-channel")
    server.stop()
    server.start()
    video = harness.kinesis_client(server.endpoint, service="kinesisvideo")
    assert video.describe_stream(StreamName="kept")["StreamInfo"] == info
    channel = video.describe_signaling_channel(ChannelName="kept-channel")["ChannelInfo"]
    assert channel["ChannelType"] == "SINGLE_MASTER"


def test_update_stream_checks_and_renews_the_version(video, name):
    info = active_stream(video, name, DeviceName="d1")
    with aws_error("VersionMismatchException") as caught:
        video.update_stream(StreamName=name, CurrentVersion="stale", MediaType="video/h265")
    assert "stale" in caught.value.response["Error"]["Message"]
    video.update_stream(StreamName=name, CurrentVersion=info["Version"], MediaType="video/h265")
    updated = video.describe_stream(StreamName=name)["StreamInfo"]
    assert updated["MediaType"] == "video/h265"
    assert updated["DeviceName"] == "d1"
    assert updated["Version"] != info["Version"]
    with aws_error("VersionMismatchException"):
        video.delete_stream(StreamARN=info["StreamARN"], CurrentVersion=info["Version"])
    with aws_error("InvalidArgumentException") as caught:
        video.update_stream(StreamName=name, CurrentVersion="not-alnum")
    assert "'currentVersion'" in caught.value.response["Error"]["Message"]


def test_data_retention_changes_within_bounds(video, name):
    info = active_stream(video, name, DataRetentionInHours=24)
    video.update_data_retention(StreamName=name, CurrentVersion=info["Version"],
                                Operation="INCREASE_DATA_RETENTION",
                                DataRetentionChangeInHours=24)
    info = video.describe_stream(StreamName=name)["StreamInfo"]
    assert info["DataRetentionInHours"] == 48
    with aws_error("InvalidArgumentException") as caught:
        video.update_data_retention(StreamName=name, CurrentVersion=info["Version"],
                                    Operation="DECREASE_DATA_RETENTION",
                                    DataRetentionChangeInHours=49)
    assert "between 0 and 87600" in caught.value.response["Error"]["Message"]
    video.update_data_retention(StreamARN=info["StreamARN"], CurrentVersion=info["Version"],
                                Operation="DECREASE_DATA_RETENTION",
                                DataRetentionChangeInHours=48)
    assert video.describe_stream(StreamName=name)["StreamInfo"]["DataRetentionInHours"] == 0
    with aws_error("InvalidArgumentException"):
        video.create_stream(StreamName=name + "-long", DataRetentionInHours=87_601)


def test_list_streams_filters_and_pages(video, name):
    names = [f"{name}-{index}" for index in range(5)]
    for stream in names:
        video.create_stream(StreamName=stream)
    video.create_stream(StreamName="other-" + name)
    condition = {"ComparisonOperator": "BEGINS_WITH", "ComparisonValue": name}
    seen, token, pages = [], None, 0
    while True:
        extra = {"NextToken": token} if token else {}
        page = video.list_streams(MaxResults=2, StreamNameCondition=condition, **extra)
        pages += 1
        seen += [info["StreamName"] for info in page["StreamInfoList"]]
        token = page.get("NextToken")
        if not token:
            break
    assert (seen, pages) == (names, 3)
    paginated = video.get_paginator("list_streams").paginate(
        StreamNameCondition=condition, PaginationConfig={"PageSize": 4})
    assert [info["StreamName"] for page in paginated for info in page["StreamInfoList"]] == names
    with aws_error("InvalidArgumentException"):
        video.list_streams(MaxResults=10_001)


def test_unknown_streams_and_bad_names(video):
    with aws_error("ResourceNotFoundException", status=404):
        video.describe_stream(StreamName="no-such-video-stream")
    with aws_error("ResourceNotFoundException", status=404):
        video.get_data_endpoint(StreamName="no-such-video-stream", APIName="GET_MEDIA")
    with aws_error("InvalidArgumentException") as caught:
        video.create_stream(StreamName="bad name", MediaType="h264")
    assert caught.value.response["Error"]["Message"].startswith("2 validation errors detected:")
    with aws_error("InvalidArgumentException"):
        video.describe_stream()


def test_stream_tags_and_their_limit(video, name):
    info = active_stream(video, name, Tags={"a": "1"})
    video.tag_stream(StreamName=name, Tags={"b": "2", "a": "3"})
    assert video.list_tags_for_stream(StreamName=name)["Tags"] == {"a": "3", "b": "2"}
    video.untag_stream(StreamARN=info["StreamARN"], TagKeyList=["a", "missing"])
    assert video.list_tags_for_stream(StreamARN=info["StreamARN"])["Tags"] == {"b": "2"}
    with aws_error("TagsPerResourceExceededLimitException"):
        video.tag_stream(StreamName=name, Tags={f"k{index}": "v" for index in range(50)})
    assert video.list_tags_for_stream(StreamName=name)["Tags"] == {"b": "2"}
    with aws_error("InvalidArgumentException"):
        video.tag_stream(StreamName=name, Tags={"bad*key": "v"})
    video.tag_resource(ResourceARN=info["StreamARN"], Tags=[{"Key": "c", "Value": "4"}])
    assert video.list_tags_for_resource(ResourceARN=info["StreamARN"])["Tags"] == {
        "b": "2", "c": "4"}
    video.untag_resource(ResourceARN=info["StreamARN"], TagKeyList=["b"])
    assert video.list_tags_for_stream(StreamName=name)["Tags"] == {"c": "4"}


def test_data_endpoint_is_spate_for_every_api(video, endpoint, name):
    active_stream(video, name)
    for api in API_NAMES:
        assert video.get_data_endpoint(StreamName=name, APIName=api)["DataEndpoint"] == endpoint
    archived = harness.kinesis_client(
        video.get_data_endpoint(StreamName=name, APIName="LIST_FRAGMENTS")["DataEndpoint"],
        service="kinesis-video-archived-media")
    # The endpoint reaches Spate's archived-media API: an empty stream has no fragments.
    listed = archived.list_fragments(StreamName=name, FragmentSelector={
        "FragmentSelectorType": "SERVER_TIMESTAMP", "TimestampRange": {
            "StartTimestamp": 0, "EndTimestamp": time.time()}})
    assert listed["Fragments"] == []


def test_configured_data_endpoint(spate_factory):
    server = spate_factory(env={"SPATE_VIDEO_DATA_ENDPOINT": "https://video.example:8443"})
    video = harness.kinesis_client(server.endpoint, service="kinesisvideo")
    video.create_stream(StreamName="s")
    assert video.get_data_endpoint(StreamName="s", APIName="PUT_MEDIA")["DataEndpoint"] == (
        "https://video.example:8443")


def test_storage_image_and_notification_configurations(video, name):
    info = active_stream(video, name)
    storage = video.describe_stream_storage_configuration(StreamName=name)
    assert storage["StreamStorageConfiguration"] == {"DefaultStorageTier": "HOT"}
    assert storage["StreamARN"] == info["StreamARN"]
    with aws_error("VersionMismatchException"):
        video.update_stream_storage_configuration(
            StreamName=name, CurrentVersion="old",
            StreamStorageConfiguration={"DefaultStorageTier": "WARM"})
    video.update_stream_storage_configuration(
        StreamName=name, CurrentVersion=info["Version"],
        StreamStorageConfiguration={"DefaultStorageTier": "WARM"})
    assert video.describe_stream_storage_configuration(StreamARN=info["StreamARN"])[
        "StreamStorageConfiguration"] == {"DefaultStorageTier": "WARM"}

    assert "ImageGenerationConfiguration" not in video.describe_image_generation_configuration(
        StreamName=name)
    image = {"Status": "DISABLED", "ImageSelectorType": "SERVER_TIMESTAMP",
             "DestinationConfig": {"Uri": "s3://bucket/images", "DestinationRegion": "us-east-1"},
             "SamplingInterval": 3000, "Format": "JPEG", "FormatConfig": {"JPEGQuality": "80"},
             "WidthPixels": 320, "HeightPixels": 240}
    video.update_image_generation_configuration(StreamName=name,
                                                ImageGenerationConfiguration=image)
    assert video.describe_image_generation_configuration(StreamName=name)[
        "ImageGenerationConfiguration"] == image
    with aws_error("InvalidArgumentException") as caught:
        video.update_image_generation_configuration(
            StreamName=name, ImageGenerationConfiguration={**image, "Status": "ENABLED"})
    assert "UpdateImageGenerationConfiguration" in caught.value.response["Error"]["Message"]

    notification = {"Status": "DISABLED", "DestinationConfig": {"Uri": "sns://topic/x"}}
    video.update_notification_configuration(StreamName=name,
                                            NotificationConfiguration=notification)
    assert video.describe_notification_configuration(StreamName=name)[
        "NotificationConfiguration"] == notification
    with aws_error("InvalidArgumentException") as caught:
        video.update_notification_configuration(
            StreamName=name, NotificationConfiguration={**notification, "Status": "ENABLED"})
    assert "UpdateNotificationConfiguration" in caught.value.response["Error"]["Message"]
    video.update_notification_configuration(StreamName=name)
    assert "NotificationConfiguration" not in video.describe_notification_configuration(
        StreamName=name)


def test_edge_operations_are_answered_by_name(video, name):
    info = active_stream(video, name)
    with aws_error("StreamEdgeConfigurationNotFoundException", status=404) as caught:
        video.describe_edge_configuration(StreamName=name)
    assert caught.value.response["Error"]["Message"].startswith("DescribeEdgeConfiguration: ")
    with aws_error("StreamEdgeConfigurationNotFoundException", status=404) as caught:
        video.delete_edge_configuration(StreamARN=info["StreamARN"])
    assert caught.value.response["Error"]["Message"].startswith("DeleteEdgeConfiguration: ")
    with aws_error("ResourceNotFoundException", status=404):
        video.describe_edge_configuration(StreamName=name + "-missing")
    hub = "arn:aws:iot:us-east-1:000000000000:thing/hub"
    with aws_error("InvalidArgumentException") as caught:
        video.list_edge_agent_configurations(HubDeviceArn=hub)
    assert caught.value.response["Error"]["Message"].startswith(
        "ListEdgeAgentConfigurations is not supported by Spate")
    with aws_error("InvalidArgumentException") as caught:
        video.start_edge_configuration_update(StreamName=name, EdgeConfig={
            "HubDeviceArn": hub,
            "RecorderConfig": {"MediaSourceConfig": {
                "MediaUriSecretArn": "arn:aws:secretsmanager:us-east-1:0:secret:camera",
                "MediaUriType": "RTSP_URI"}}})
    assert "StartEdgeConfigurationUpdate" in caught.value.response["Error"]["Message"]


def test_signaling_channels(video, name):
    info = active_channel(video, name, SingleMasterConfiguration={"MessageTtlSeconds": 30},
                          Tags=[{"Key": "room", "Value": "hall"}])
    arn = info["ChannelARN"]
    assert arn.startswith(f"arn:aws:kinesisvideo:us-east-1:000000000000:channel/{name}/")
    assert (info["ChannelType"], info["SingleMasterConfiguration"]) == (
        "SINGLE_MASTER", {"MessageTtlSeconds": 30})
    with aws_error("ResourceInUseException"):
        video.create_signaling_channel(ChannelName=name)
    listed = video.list_signaling_channels(
        ChannelNameCondition={"ComparisonOperator": "BEGINS_WITH", "ComparisonValue": name})
    assert [channel["ChannelARN"] for channel in listed["ChannelInfoList"]] == [arn]
    assert video.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"room": "hall"}

    with aws_error("VersionMismatchException"):
        video.update_signaling_channel(ChannelARN=arn, CurrentVersion="old",
                                       SingleMasterConfiguration={"MessageTtlSeconds": 60})
    video.update_signaling_channel(ChannelARN=arn, CurrentVersion=info["Version"],
                                   SingleMasterConfiguration={"MessageTtlSeconds": 60})
    updated = video.describe_signaling_channel(ChannelARN=arn)["ChannelInfo"]
    assert updated["SingleMasterConfiguration"] == {"MessageTtlSeconds": 60}
    assert updated["Version"] != info["Version"]

    endpoints = video.get_signaling_channel_endpoint(
        ChannelARN=arn, SingleMasterChannelEndpointConfiguration={
            "Protocols": ["WSS", "HTTPS", "WEBRTC"], "Role": "MASTER"})["ResourceEndpointList"]
    base = video.meta.endpoint_url
    assert endpoints == [
        {"Protocol": "WSS", "ResourceEndpoint": base.replace("http://", "ws://", 1)},
        {"Protocol": "HTTPS", "ResourceEndpoint": base},
        {"Protocol": "WEBRTC", "ResourceEndpoint": base}]
    signaling = harness.kinesis_client(base, service="kinesis-video-signaling")
    with aws_error("InvalidArgumentException",
                   "GetIceServerConfig (WebRTC media) is not supported by Spate yet."):
        signaling.get_ice_server_config(ChannelARN=arn, ClientId="viewer")
    storage = harness.kinesis_client(base, service="kinesis-video-webrtc-storage")
    with aws_error("InvalidArgumentException",
                   "JoinStorageSession (WebRTC media) is not supported by Spate yet."):
        storage.join_storage_session(channelArn=arn)

    video.delete_signaling_channel(ChannelARN=arn, CurrentVersion=updated["Version"])
    with aws_error("ResourceInUseException"):
        video.update_signaling_channel(ChannelARN=arn, CurrentVersion=updated["Version"])
    deadline = time.monotonic() + 10
    while video.list_signaling_channels(ChannelNameCondition={
            "ComparisonOperator": "BEGINS_WITH", "ComparisonValue": name})["ChannelInfoList"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    with aws_error("ResourceNotFoundException", status=404):
        video.describe_signaling_channel(ChannelARN=arn)


def test_media_storage_maps_a_channel_to_a_stream(video, name):
    stream = active_stream(video, name)
    channel = active_channel(video, name + "-channel")
    described = video.describe_media_storage_configuration(ChannelName=name + "-channel")
    assert described["MediaStorageConfiguration"] == {"Status": "DISABLED"}
    assert video.describe_mapped_resource_configuration(StreamName=name)[
        "MappedResourceConfigurationList"] == []
    with aws_error("ResourceNotFoundException", status=404):
        video.update_media_storage_configuration(
            ChannelARN=channel["ChannelARN"], MediaStorageConfiguration={
                "Status": "ENABLED",
                "StreamARN": stream["StreamARN"].replace(name, name + "x")})
    video.update_media_storage_configuration(
        ChannelARN=channel["ChannelARN"],
        MediaStorageConfiguration={"Status": "ENABLED", "StreamARN": stream["StreamARN"]})
    assert video.describe_media_storage_configuration(ChannelARN=channel["ChannelARN"])[
        "MediaStorageConfiguration"] == {"Status": "ENABLED", "StreamARN": stream["StreamARN"]}
    assert video.describe_mapped_resource_configuration(StreamARN=stream["StreamARN"])[
        "MappedResourceConfigurationList"] == [
            {"Type": "SIGNALING_CHANNEL", "ARN": channel["ChannelARN"]}]


def test_putmedia_without_a_signature_is_refused_before_its_body(endpoint):
    import urllib.error
    import urllib.request
    request = urllib.request.Request(endpoint + "/putMedia", data=b"\x1a\x45\xdf\xa3",
                                     method="POST", headers={"x-amzn-stream-name": "s"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code in (400, 403)
    assert caught.value.headers["x-amzn-ErrorType"] in ("MissingAuthenticationTokenException",
                                                        "IncompleteSignatureException")


@pytest.mark.cli
def test_cli_creates_and_lists_video_streams(endpoint, name):
    created, _ = run_aws(endpoint, "create-stream", "--stream-name", name,
                         "--data-retention-in-hours", "2", service="kinesisvideo")
    assert created["StreamARN"].split("/")[1] == name
    described, _ = run_aws(endpoint, "describe-stream", "--stream-arn", created["StreamARN"],
                           service="kinesisvideo")
    assert described["StreamInfo"]["DataRetentionInHours"] == 2
    listed, _ = run_aws(endpoint, "list-streams", "--stream-name-condition",
                        f"ComparisonOperator=BEGINS_WITH,ComparisonValue={name}",
                        service="kinesisvideo")
    assert [info["StreamName"] for info in listed["StreamInfoList"]] == [name]
    _, failed = run_aws(endpoint, "describe-stream", "--stream-name", name + "-missing",
                        service="kinesisvideo", check=False)
    assert failed.returncode != 0
    assert "ResourceNotFoundException" in failed.stderr


def test_signatures_are_checked_with_the_kinesisvideo_signing_name(spate_factory):
    key, secret = "AKIDVIDEOTEST", "video-test-secret"
    server = spate_factory(args=["--access-key-id", key, "--secret-access-key", secret])
    signed = harness.kinesis_client(server.endpoint, service="kinesisvideo",
                                    access_key_id=key, secret_access_key=secret)
    arn = signed.create_stream(StreamName="signed")["StreamARN"]
    assert signed.describe_stream(StreamARN=arn)["StreamInfo"]["StreamName"] == "signed"
    wrong = harness.kinesis_client(server.endpoint, service="kinesisvideo",
                                   access_key_id=key, secret_access_key="not-the-secret")
    with pytest.raises(ClientError) as caught:
        wrong.list_streams()
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert caught.value.response["Error"]["Message"].startswith(
        "The request signature we calculated does not match")
    unsigned = harness.kinesis_client(server.endpoint, service="kinesisvideo", unsigned=True)
    with pytest.raises(ClientError) as caught:
        unsigned.describe_stream(StreamName="signed")
    assert caught.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"


def test_key_policies_apply_to_video_actions_by_name_and_by_arn(spate_factory, tmp_path):
    import json
    admin, limited = ("AKIDVIDEOADMIN", "admin-secret"), ("AKIDVIDEOLIMITED", "limited-secret")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kinesisvideo:*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["kinesisvideo:DescribeStream", "kinesisvideo:TagStream"],
         "Resource": "arn:aws:kinesisvideo:*:*:stream/secret/*"}]})
    config = harness.write_credentials_config(
        tmp_path / "spate.toml",
        {"access_key_id": admin[0], "secret_access_key": admin[1]},
        {"access_key_id": limited[0], "secret_access_key": limited[1], "user_name": "limited",
         "policy": policy})
    server = spate_factory(env={"SPATE_CONFIG": str(config)})
    as_admin = harness.kinesis_client(server.endpoint, service="kinesisvideo",
                                      access_key_id=admin[0], secret_access_key=admin[1])
    as_limited = harness.kinesis_client(server.endpoint, service="kinesisvideo",
                                        access_key_id=limited[0], secret_access_key=limited[1])
    secret = as_admin.create_stream(StreamName="secret")["StreamARN"]
    as_admin.create_stream(StreamName="open")
    with aws_error("AccessDeniedException", status=401) as caught:
        as_limited.describe_stream(StreamName="secret")
    assert f"kinesisvideo:DescribeStream on resource: {secret}" in (
        caught.value.response["Error"]["Message"])
    with aws_error("AccessDeniedException", status=401):
        as_limited.tag_stream(StreamARN=secret, Tags={"k": "v"})
    assert as_limited.describe_stream(StreamName="open")["StreamInfo"]["StreamName"] == "open"
    assert as_limited.list_tags_for_stream(StreamName="secret")["Tags"] == {}
    assert as_admin.describe_stream(StreamName="secret")["StreamInfo"]["StreamARN"] == secret
