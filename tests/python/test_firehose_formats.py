"""firehose_formats.decompress against objects Spate's compressor wrote (fixtures/firehose).

No server: these pin the reader the Firehose delivery tests use to the bytes the Rust side writes.
The Rust test `compress::tests::python_fixtures_decode` checks the same files.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from firehose_formats import FORMATS, decompress

FIXTURES = Path(__file__).parent / "fixtures" / "firehose"
EXTENSIONS = {
    "UNCOMPRESSED": "",
    "GZIP": ".gz",
    "ZIP": ".zip",
    "Snappy": ".snappy",
    "HADOOP_SNAPPY": ".snappy",
}


@pytest.fixture(scope="module")
def plain() -> bytes:
    return (FIXTURES / "plain.txt").read_bytes()


@pytest.mark.parametrize("format_name", FORMATS)
def test_fixture_decompresses_to_the_plaintext(format_name, plain):
    data = (FIXTURES / f"batch.{format_name}{EXTENSIONS[format_name]}").read_bytes()
    assert decompress(format_name, data) == plain


def test_fixtures_span_more_than_one_snappy_block(plain):
    assert len(plain) > 32 * 1024


def test_empty_objects():
    assert decompress("UNCOMPRESSED", b"") == b""
    assert decompress("GZIP", gzip.compress(b"")) == b""
    assert decompress("HADOOP_SNAPPY", b"") == b""
    assert decompress("Snappy", b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01") == b""


def test_snappy_is_not_the_framing_format():
    framed = b"\xff\x06\x00\x00sNaPpY"
    with pytest.raises(ValueError, match="not a snappy-java stream"):
        decompress("Snappy", framed)


def test_truncated_hadoop_snappy_is_an_error(plain):
    data = (FIXTURES / "batch.HADOOP_SNAPPY.snappy").read_bytes()
    with pytest.raises(ValueError):
        decompress("HADOOP_SNAPPY", data[:-10])


@pytest.mark.parametrize("name", ["SNAPPY", "gzip", "NONE", ""])
def test_unknown_format_names_are_rejected(name):
    with pytest.raises(ValueError, match="unknown CompressionFormat"):
        decompress(name, b"")
