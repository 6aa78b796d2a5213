"""A small EBML/Matroska walker for test assertions on Kinesis Video media: segments, their
TimecodeScale and tracks, clusters (timecode, blocks with track, absolute timecode and key flag),
and Tags with their SimpleTag name/value pairs, in stream order (so a GetMedia chunk's
AWS_KINESISVIDEO_* tags are read next to its cluster). Unknown sizes (the producer SDK's Segment
and Clusters, GetMedia's Segments) are handled: an unknown-size element ends at the next element
that cannot be its child.

Also rewrites one cluster's Timecode in place, for negative PutMedia tests (4004).

Independent of spate-mkv on purpose: the tests check the Rust code with a second reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EBML = 0x1A45DFA3
SEGMENT = 0x18538067
SEEK_HEAD = 0x114D9B74
INFO = 0x1549A966
TRACKS = 0x1654AE6B
CLUSTER = 0x1F43B675
CUES = 0x1C53BB6B
TAGS = 0x1254C367
CHAPTERS = 0x1043A770
ATTACHMENTS = 0x1941A469
TIMECODE_SCALE = 0x2AD7B1
TRACK_ENTRY = 0xAE
TRACK_NUMBER = 0xD7
TRACK_TYPE = 0x83
CODEC_ID = 0x86
TIMECODE = 0xE7
SIMPLE_BLOCK = 0xA3
BLOCK_GROUP = 0xA0
BLOCK = 0xA1
REFERENCE_BLOCK = 0xFB
TAG = 0x7373
SIMPLE_TAG = 0x67C8
TAG_NAME = 0x45A3
TAG_STRING = 0x4487

LEVEL_1 = {SEEK_HEAD, INFO, TRACKS, CLUSTER, CUES, TAGS, CHAPTERS, ATTACHMENTS}
TRACK_TYPES = {1: "video", 2: "audio"}


class MkvError(ValueError):
    pass


def read_id(data: bytes, pos: int) -> tuple[int, int]:
    """An element ID (marker bits kept) and its length."""
    if pos >= len(data):
        raise MkvError(f"truncated element ID at {pos}")
    first = data[pos]
    length = 8 - first.bit_length() + 1 if first else 0
    if not 1 <= length <= 4 or pos + length > len(data):
        raise MkvError(f"bad element ID at {pos}")
    return int.from_bytes(data[pos:pos + length], "big"), length


def read_size(data: bytes, pos: int) -> tuple[int | None, int]:
    """A data size (None = unknown) and its length."""
    if pos >= len(data) or data[pos] == 0:
        raise MkvError(f"bad size at {pos}")
    length = 8 - data[pos].bit_length() + 1
    if pos + length > len(data):
        raise MkvError(f"truncated size at {pos}")
    value = int.from_bytes(data[pos:pos + length], "big") & ((1 << (7 * length)) - 1)
    return (None if value == (1 << (7 * length)) - 1 else value), length


@dataclass
class Element:
    id: int
    start: int
    data_start: int
    end: int  # for unknown sizes: where it was found to end


def header_at(data: bytes, pos: int) -> tuple[int, int | None, int]:
    element_id, id_len = read_id(data, pos)
    size, size_len = read_size(data, pos + id_len)
    return element_id, size, pos + id_len + size_len


def children(data: bytes, start: int, end: int) -> list[Element]:
    """The known-size children of data[start:end]."""
    out = []
    pos = start
    while pos < end:
        element_id, size, data_start = header_at(data, pos)
        if size is None or data_start + size > end:
            raise MkvError(f"element {element_id:#x} at {pos} of unknown size or overrunning")
        out.append(Element(element_id, pos, data_start, data_start + size))
        pos = data_start + size
    return out


def uint(data: bytes, element: Element) -> int:
    return int.from_bytes(data[element.data_start:element.end], "big")


def string(data: bytes, element: Element) -> str:
    return data[element.data_start:element.end].rstrip(b"\0").decode("utf-8", "replace")


@dataclass
class Block:
    track: int
    timecode: int  # cluster timecode + relative, TimecodeScale units
    key: bool
    size: int  # frame bytes (after the block header)


@dataclass
class Cluster:
    start: int
    timecode: int
    timecode_element: Element
    blocks: list[Block] = field(default_factory=list)
    end: int = 0  # just past its last child

    def count(self, track: int) -> int:
        return sum(1 for b in self.blocks if b.track == track)

    def first_of(self, track: int) -> Block | None:
        return next((b for b in self.blocks if b.track == track), None)


@dataclass
class Segment:
    timecode_scale: int = 1_000_000
    tracks: list[dict] = field(default_factory=list)
    # In stream order: ("cluster", Cluster) and ("tags", [(name, value), ...]).
    items: list[tuple[str, object]] = field(default_factory=list)

    @property
    def clusters(self) -> list[Cluster]:
        return [item for kind, item in self.items if kind == "cluster"]

    @property
    def tags(self) -> list[list[tuple[str, str]]]:
        return [item for kind, item in self.items if kind == "tags"]

    def track_number(self, kind: str) -> int | None:
        return next((t["number"] for t in self.tracks if t["type"] == kind), None)

    def all_tags(self) -> dict[str, str]:
        """Every SimpleTag of the segment, later values winning."""
        return {name: value for pairs in self.tags for name, value in pairs}


def parse_block(data: bytes, start: int, end: int, cluster_timecode: int,
                key: bool | None) -> Block:
    first = data[start]
    track_len = 8 - first.bit_length() + 1
    track = int.from_bytes(data[start:start + track_len], "big") & ((1 << (7 * track_len)) - 1)
    relative = int.from_bytes(data[start + track_len:start + track_len + 2], "big", signed=True)
    flags = data[start + track_len + 2]
    return Block(track, cluster_timecode + relative,
                 bool(flags & 0x80) if key is None else key, end - start - track_len - 3)


def parse_tags(data: bytes, element: Element) -> list[tuple[str, str]]:
    pairs = []
    for tag in children(data, element.data_start, element.end):
        if tag.id != TAG:
            continue
        for simple in children(data, tag.data_start, tag.end):
            if simple.id != SIMPLE_TAG:
                continue
            name = value = ""
            for part in children(data, simple.data_start, simple.end):
                if part.id == TAG_NAME:
                    name = string(data, part)
                elif part.id == TAG_STRING:
                    value = string(data, part)
            pairs.append((name, value))
    return pairs


def parse_tracks(data: bytes, element: Element) -> list[dict]:
    tracks = []
    for entry in children(data, element.data_start, element.end):
        if entry.id != TRACK_ENTRY:
            continue
        track = {"number": 0, "type": "other", "codec": ""}
        for part in children(data, entry.data_start, entry.end):
            if part.id == TRACK_NUMBER:
                track["number"] = uint(data, part)
            elif part.id == TRACK_TYPE:
                track["type"] = TRACK_TYPES.get(uint(data, part), "other")
            elif part.id == CODEC_ID:
                track["codec"] = string(data, part)
        tracks.append(track)
    return tracks


def parse_cluster(data: bytes, start: int, data_start: int, end: int | None) -> Cluster:
    """A cluster from data_start to `end` (None: unknown size, ends at a level-0/1 ID)."""
    cluster = None
    pending: list[tuple[int, int, bool | None]] = []
    pos = data_start
    limit = len(data) if end is None else end
    while pos < limit:
        element_id, size, child_start = header_at(data, pos)
        if end is None and (element_id in LEVEL_1 or element_id in (EBML, SEGMENT)):
            break
        if size is None or child_start + size > limit:
            raise MkvError(f"cluster child {element_id:#x} at {pos} of unknown size or overrunning")
        child = Element(element_id, pos, child_start, child_start + size)
        if element_id == TIMECODE:
            cluster = Cluster(start, uint(data, child), child)
        elif element_id == SIMPLE_BLOCK:
            pending.append((child.data_start, child.end, None))
        elif element_id == BLOCK_GROUP:
            parts = children(data, child.data_start, child.end)
            block = next((p for p in parts if p.id == BLOCK), None)
            if block is None:
                raise MkvError(f"BlockGroup without Block at {pos}")
            key = not any(p.id == REFERENCE_BLOCK for p in parts)
            pending.append((block.data_start, block.end, key))
        pos = child.end
    if cluster is None:
        raise MkvError(f"Cluster at {start} without Timecode")
    cluster.blocks = [parse_block(data, s, e, cluster.timecode, k) for s, e, k in pending]
    cluster.end = pos
    return cluster


def parse(data: bytes) -> list[Segment]:
    """Every segment of an MKV stream (GetMedia output has one per fragment)."""
    segments = []
    pos = 0
    while pos < len(data):
        element_id, size, data_start = header_at(data, pos)
        if element_id != EBML:
            raise MkvError(f"expected an EBML header at {pos}, found {element_id:#x}")
        pos = data_start + size
        element_id, size, data_start = header_at(data, pos)
        if element_id != SEGMENT:
            raise MkvError(f"expected a Segment at {pos}, found {element_id:#x}")
        end = len(data) if size is None else data_start + size
        segment, pos = parse_segment(data, data_start, end, size is None)
        segments.append(segment)
    return segments


def parse_segment(data: bytes, pos: int, end: int, unknown: bool) -> tuple[Segment, int]:
    segment = Segment()
    while pos < end:
        element_id, size, data_start = header_at(data, pos)
        if unknown and element_id in (EBML, SEGMENT):
            break
        if element_id == CLUSTER:
            cluster = parse_cluster(data, pos, data_start, None if size is None else data_start + size)
            segment.items.append(("cluster", cluster))
            pos = cluster.end
            continue
        if size is None:
            raise MkvError(f"segment child {element_id:#x} at {pos} of unknown size")
        element = Element(element_id, pos, data_start, data_start + size)
        if element_id == INFO:
            for part in children(data, element.data_start, element.end):
                if part.id == TIMECODE_SCALE:
                    segment.timecode_scale = uint(data, part)
        elif element_id == TRACKS:
            segment.tracks = parse_tracks(data, element)
        elif element_id == TAGS:
            segment.items.append(("tags", parse_tags(data, element)))
        pos = element.end
    return segment, pos


def parse_file(path) -> list[Segment]:
    with open(path, "rb") as f:
        return parse(f.read())


def rewrite_cluster_timecode(data: bytes, index: int, timecode: int) -> bytes:
    """`data` with the Timecode of its cluster number `index` (0-based, over all segments) set to
    `timecode`, written in the same number of bytes (so no size changes anywhere)."""
    clusters = [c for segment in parse(data) for c in segment.clusters]
    element = clusters[index].timecode_element
    length = element.end - element.data_start
    if timecode < 0 or timecode >= 1 << (8 * length):
        raise MkvError(f"timecode {timecode} does not fit the {length} bytes of the original")
    return data[:element.data_start] + timecode.to_bytes(length, "big") + data[element.end:]


def encode_size(size: int | None) -> bytes:
    """A data size in its shortest form (None: the 8-byte unknown size)."""
    if size is None:
        return b"\x01\xff\xff\xff\xff\xff\xff\xff"
    length = 1
    while size >= (1 << (7 * length)) - 1:
        length += 1
    return (size | (1 << (7 * length))).to_bytes(length, "big")


def element(element_id: int, data: bytes = b"", unknown_size: bool = False) -> bytes:
    """One element: ID (marker bits kept), size, data."""
    id_bytes = element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")
    return id_bytes + encode_size(None if unknown_size else len(data)) + data


def uint_element(element_id: int, value: int) -> bytes:
    return element(element_id, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def tags_element(pairs: list[tuple[str, str]]) -> bytes:
    """Tags { Tag { SimpleTag { TagName, TagString }... } }, as GetMedia writes its tags."""
    simple = b"".join(element(SIMPLE_TAG, element(TAG_NAME, name.encode())
                              + element(TAG_STRING, value.encode())) for name, value in pairs)
    return element(TAGS, element(TAG, simple))
