"""Reading back the objects Firehose delivers to S3, for each CompressionFormat of the model.

`decompress(format_name, data)` undoes what Firehose did to a batch. The formats are documented
in crates/spate-firehose/src/compress.rs; in short:

- UNCOMPRESSED: the batch as it is.
- GZIP: gzip.
- ZIP: a zip archive with one entry (named with a UUID by AWS) holding the batch.
- Snappy: the xerial snappy-java stream format (what Java's SnappyOutputStream writes, and what
  real Firehose delivers), NOT the Snappy framing format: a 16-byte header
  (0x82 "SNAPPY" 0x00, u32 version, u32 compatible version), then blocks of
  u32 compressed length + raw Snappy block.
- HADOOP_SNAPPY: Hadoop's block format: blocks of u32 uncompressed length, then chunks of
  u32 compressed length + raw Snappy block until that many bytes came out.

All integers are big-endian. The raw Snappy blocks are decoded with cramjam; the containers are
parsed here, so a malformed object fails with ValueError saying where.
"""

from __future__ import annotations

import gzip
import io
import struct
import zipfile

import cramjam

SNAPPY_JAVA_MAGIC = b"\x82SNAPPY\x00"
SNAPPY_JAVA_HEADER_LEN = 16

FORMATS = ("UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY")


def decompress(format_name: str, data: bytes) -> bytes:
    """The batch that Firehose compressed as `format_name` (the model's exact spelling)."""
    if format_name == "UNCOMPRESSED":
        return bytes(data)
    if format_name == "GZIP":
        return gzip.decompress(data)
    if format_name == "ZIP":
        return _unzip(data)
    if format_name == "Snappy":
        return _snappy_java(data)
    if format_name == "HADOOP_SNAPPY":
        return _hadoop_snappy(data)
    raise ValueError(f"unknown CompressionFormat {format_name!r}; expected one of {FORMATS}")


def _unzip(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = archive.infolist()
        if len(entries) != 1:
            raise ValueError(f"zip object holds {len(entries)} entries, expected 1")
        return archive.read(entries[0])


def _snappy_java(data: bytes) -> bytes:
    if data[:len(SNAPPY_JAVA_MAGIC)] != SNAPPY_JAVA_MAGIC or len(data) < SNAPPY_JAVA_HEADER_LEN:
        raise ValueError(f"not a snappy-java stream: starts with {data[:16]!r}")
    out = bytearray()
    pos = SNAPPY_JAVA_HEADER_LEN
    while pos < len(data):
        length, pos = _u32(data, pos)
        out += _raw_block(data, pos, length)
        pos += length
    return bytes(out)


def _hadoop_snappy(data: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while pos < len(data):
        block_len, pos = _u32(data, pos)
        produced = 0
        while produced < block_len:
            chunk_len, pos = _u32(data, pos)
            chunk = _raw_block(data, pos, chunk_len)
            pos += chunk_len
            produced += len(chunk)
            out += chunk
        if produced != block_len:
            raise ValueError(f"hadoop-snappy block at {pos} declared {block_len} bytes, "
                             f"its chunks gave {produced}")
    return bytes(out)


def _u32(data: bytes, pos: int) -> tuple[int, int]:
    if pos + 4 > len(data):
        raise ValueError(f"truncated length at byte {pos} of {len(data)}")
    (value,) = struct.unpack_from(">I", data, pos)
    return value, pos + 4


def _raw_block(data: bytes, pos: int, length: int) -> bytes:
    if pos + length > len(data):
        raise ValueError(f"block of {length} bytes at {pos} runs past the end ({len(data)})")
    return bytes(cramjam.snappy.decompress_raw(data[pos:pos + length]))
