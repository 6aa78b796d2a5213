"""Tags: AddTagsToStream / RemoveTagsFromStream / ListTagsForStream by stream name, and
TagResource / UntagResource / ListTagsForResource by stream ARN, over the same tag set."""

from harness import aws_error, not_found_message, stream_arn


def as_dict(tags):
    return {tag["Key"]: tag.get("Value") for tag in tags}


def test_add_list_and_remove_tags(kinesis, new_stream):
    name = new_stream(shard_count=1)

    kinesis.add_tags_to_stream(StreamName=name, Tags={"team": "data", "env": "test", "tier": "1"})
    listed = kinesis.list_tags_for_stream(StreamName=name)
    kinesis.remove_tags_from_stream(StreamName=name, TagKeys=["env", "not-there"])
    after_remove = kinesis.list_tags_for_stream(StreamName=name)

    assert as_dict(listed["Tags"]) == {"team": "data", "env": "test", "tier": "1"}
    assert listed["HasMoreTags"] is False
    assert as_dict(after_remove["Tags"]) == {"team": "data", "tier": "1"}


def test_stream_without_tags_lists_none(kinesis, new_stream):
    name = new_stream(shard_count=1)

    listed = kinesis.list_tags_for_stream(StreamName=name)

    assert listed["Tags"] == []
    assert listed["HasMoreTags"] is False


def test_adding_an_existing_key_overwrites_its_value(kinesis, new_stream):
    name = new_stream(shard_count=1)

    kinesis.add_tags_to_stream(StreamName=name, Tags={"env": "test", "keep": "me"})
    kinesis.add_tags_to_stream(StreamName=name, Tags={"env": "prod"})

    assert as_dict(kinesis.list_tags_for_stream(StreamName=name)["Tags"]) == {
        "env": "prod", "keep": "me"}


def test_tag_value_may_be_empty(kinesis, new_stream):
    name = new_stream(shard_count=1)

    kinesis.add_tags_to_stream(StreamName=name, Tags={"flag": ""})

    assert as_dict(kinesis.list_tags_for_stream(StreamName=name)["Tags"]) == {"flag": ""}


def test_list_tags_for_stream_pagination(kinesis, new_stream):
    name = new_stream(shard_count=1)
    tags = {f"key-{letter}": f"value-{letter}" for letter in "abcde"}
    kinesis.add_tags_to_stream(StreamName=name, Tags=tags)

    first = kinesis.list_tags_for_stream(StreamName=name, Limit=2)
    second = kinesis.list_tags_for_stream(
        StreamName=name, Limit=2, ExclusiveStartTagKey=first["Tags"][-1]["Key"])
    third = kinesis.list_tags_for_stream(
        StreamName=name, Limit=2, ExclusiveStartTagKey=second["Tags"][-1]["Key"])

    assert len(first["Tags"]) == 2 and first["HasMoreTags"] is True
    assert len(second["Tags"]) == 2 and second["HasMoreTags"] is True
    assert len(third["Tags"]) == 1 and third["HasMoreTags"] is False
    pages = first["Tags"] + second["Tags"] + third["Tags"]
    assert len({tag["Key"] for tag in pages}) == 5, "no tag on two pages"
    assert as_dict(pages) == tags


def test_tag_resource_by_stream_arn(kinesis, new_stream):
    name = new_stream(shard_count=1)
    arn = stream_arn(name)

    kinesis.tag_resource(ResourceARN=arn, Tags={"owner": "alice", "env": "test"})
    by_arn = kinesis.list_tags_for_resource(ResourceARN=arn)
    by_name = kinesis.list_tags_for_stream(StreamName=name)
    kinesis.untag_resource(ResourceARN=arn, TagKeys=["env"])
    after_untag = kinesis.list_tags_for_resource(ResourceARN=arn)

    assert as_dict(by_arn["Tags"]) == {"owner": "alice", "env": "test"}
    assert as_dict(by_name["Tags"]) == {"owner": "alice", "env": "test"}, "one tag set per stream"
    assert as_dict(after_untag["Tags"]) == {"owner": "alice"}


def test_tags_added_by_name_are_listed_by_arn(kinesis, new_stream):
    name = new_stream(shard_count=1)

    kinesis.add_tags_to_stream(StreamName=name, Tags={"a": "1"})
    kinesis.tag_resource(ResourceARN=stream_arn(name), Tags={"b": "2"})

    assert as_dict(kinesis.list_tags_for_resource(ResourceARN=stream_arn(name))["Tags"]) == {
        "a": "1", "b": "2"}
    assert as_dict(kinesis.list_tags_for_stream(StreamName=name)["Tags"]) == {"a": "1", "b": "2"}


def test_tag_operations_on_a_missing_stream_arn(kinesis, stream_name):
    arn = stream_arn(stream_name)

    with aws_error("ResourceNotFoundException"):
        kinesis.tag_resource(ResourceARN=arn, Tags={"a": "1"})
    with aws_error("ResourceNotFoundException"):
        kinesis.untag_resource(ResourceARN=arn, TagKeys=["a"])
    with aws_error("ResourceNotFoundException"):
        kinesis.list_tags_for_resource(ResourceARN=arn)
    with aws_error("ResourceNotFoundException", not_found_message(stream_name)):
        kinesis.list_tags_for_stream(StreamName=stream_name)


def test_tag_key_longer_than_128_is_rejected(kinesis, new_stream):
    name = new_stream(shard_count=1)

    with aws_error("ValidationException"):
        kinesis.add_tags_to_stream(StreamName=name, Tags={"k" * 129: "v"})

    assert kinesis.list_tags_for_stream(StreamName=name)["Tags"] == []
