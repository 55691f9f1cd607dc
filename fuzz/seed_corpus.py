#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from real files: every file under the fixture roots is classified by its
CodecUtil header (codec name) or, for repository data, by name; compound files are split into their sub-files
(.cfe entries, paired with the .cfs whose header carries the same segment id). Seeds are named by content hash,
so reruns add nothing twice. The `shard` target gets small whole indices written by lucene-gen (when LUCENE_GEN
names it), packed as [u8 name length, name, u32 LE length, data]*; `lz4` gets hand-made blocks.
Usage: seed_corpus.py CORPUS_DIR FIXTURE_DIR..."""

import hashlib
import os
import struct
import subprocess
import sys
import tempfile
import zlib

MAGIC = b"\x3f\xd7\x6c\x17"
MAX_SEED = 64 << 10
DAT_CODECS = {"snapshot", "metadata", "index-metadata", "snapshots"}


def vint(data, pos):
    value, shift = 0, 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def header(data):
    """(codec, version, end of plain header, end of index header) or None."""
    if not data.startswith(MAGIC) or len(data) < 6:
        return None
    try:
        n, pos = vint(data, 4)
        codec = data[pos : pos + n].decode()
        version = struct.unpack(">I", data[pos + n : pos + n + 4])[0]
        plain = pos + n + 4
        index = plain + 16 + 1 + data[plain + 16]
        return codec, version, plain, index
    except (IndexError, UnicodeDecodeError, struct.error):
        return None


class Seeder:
    def __init__(self, corpus):
        self.corpus = corpus
        self.counts = {}
        self.cfe = []  # (id, data)
        self.cfs = {}  # id -> data

    def emit(self, target, data):
        if not data or len(data) > MAX_SEED:
            return
        d = os.path.join(self.corpus, target)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, hashlib.sha1(data).hexdigest())
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
            self.counts[target] = self.counts.get(target, 0) + 1

    def file(self, name, data):
        h = header(data)
        if h is None:
            if name.startswith("index-") and data[:1] == b"{":
                self.emit("repository_data", data)
            return
        codec, version, plain, index = h
        seg_id = data[plain : plain + 16]
        if codec in DAT_CODECS:
            self.emit("dat", data)
            body = data[plain:-16]
            if body.startswith(b"DFL\0"):
                try:
                    body = zlib.decompressobj(-15).decompress(body[4:])
                except zlib.error:
                    return
            if body.startswith(b":)\n"):
                self.emit("smile", body)
        elif codec == "segments":
            self.emit("segments_n", data)
        elif codec.endswith("SegmentInfo"):
            self.emit("segment_info", data)
        elif codec.endswith("CompoundEntries"):
            self.emit("compound_entries", data)
            self.cfe.append((seg_id, codec, index, data))
        elif codec.endswith("CompoundData"):
            self.cfs[seg_id] = data
        elif codec.endswith("FieldInfos"):
            self.emit("field_infos", data)
        elif codec.endswith("LiveDocs"):
            self.emit("live_docs", data)
        elif codec.endswith("DocValuesMetadata"):
            self.emit("doc_values", data)
        elif codec.endswith("DocValuesData"):
            self.emit("doc_values", data[index:])
        elif "StoredFields" in codec and codec.endswith("Data"):
            # The chunk entry point starts at the first chunk (after the chunk size and packed-ints version
            # of Lucene50 before version 3); a few KB of it is plenty.
            pos = index
            if codec.startswith("Lucene50") and version < 3:
                _, pos = vint(data, pos)
                _, pos = vint(data, pos)
            self.emit("stored_fields", data[pos : pos + (16 << 10)])

    def split_compound(self):
        for seg_id, codec, pos, cfe in self.cfe:
            cfs = self.cfs.get(seg_id)
            if cfs is None:
                continue
            fmt = "<qq" if codec.startswith("Lucene90") else ">qq"
            try:
                count, pos = vint(cfe, pos)
                for _ in range(count):
                    n, pos = vint(cfe, pos)
                    suffix = cfe[pos : pos + n].decode()
                    offset, length = struct.unpack(fmt, cfe[pos + n : pos + n + 16])
                    pos += n + 16
                    self.file("_x" + suffix, cfs[offset : offset + length])
            except (IndexError, UnicodeDecodeError, struct.error):
                continue


def pack_dir(path):
    """A Lucene directory as one `shard` fuzz input."""
    out = bytearray()
    for name in sorted(os.listdir(path)):
        if name == "write.lock":
            continue
        with open(os.path.join(path, name), "rb") as f:
            data = f.read()
        out += bytes([len(name)]) + name.encode() + struct.pack("<I", len(data)) + data
    return bytes(out)


def seed_shards(seeder, lucene_gen):
    """Small indices in every layout the reader handles: both Lucene versions and modes, compound or not,
    several segments, hard deletes."""
    with tempfile.TemporaryDirectory() as tmp:
        for v in ("v8", "v9"):
            for mode in ("BEST_SPEED", "BEST_COMPRESSION"):
                for extra in ([], ["--cfs", "--delete-every", "3", "--max-buffered-docs", "4"]):
                    d = os.path.join(tmp, f"{v}-{mode}-{len(extra)}")
                    cmd = [lucene_gen, v, "write", "--dir", d, "--n", "10", "--mode", mode, "--doc-bytes", "300"]
                    subprocess.run(cmd + extra, check=True, stdout=subprocess.DEVNULL)
                    seeder.emit("shard", pack_dir(d))


def seed_lz4(seeder):
    """Blocks as `[dictionary length, produce lo, produce hi, block...]` (see lucene::fuzzing::lz4)."""
    text = bytes((i * 13) % 97 for i in range(64))
    block = bytes([0xF3, 49]) + text + bytes([20, 0, 0x1F, 33, 3, 0, 10, 0x00, 106, 0, 0x40, 1, 2, 3, 4])
    seeder.emit("lz4", bytes([16, 109, 0]) + block)
    seeder.emit("lz4", bytes([0, 9, 0, 0x32]) + b"abc" + bytes([3, 0]))
    short = b"".join(bytes([0x31, 48 + i % 10, 120, 121, 20, 0]) for i in range(30)) + bytes([0x20, 33, 33])
    seeder.emit("lz4", bytes([40, 242, 0]) + short)


def main():
    corpus, roots = sys.argv[1], sys.argv[2:]
    seeder = Seeder(corpus)
    for root in roots:
        for dirpath, _, names in os.walk(root):
            for name in sorted(names):
                with open(os.path.join(dirpath, name), "rb") as f:
                    seeder.file(name, f.read())
    seeder.split_compound()
    seed_lz4(seeder)
    if os.environ.get("LUCENE_GEN"):
        seed_shards(seeder, os.environ["LUCENE_GEN"])
    for target, n in sorted(seeder.counts.items()):
        print(f"seeded {target}: {n} files")


if __name__ == "__main__":
    main()
