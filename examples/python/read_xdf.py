#!/usr/bin/env python3
"""A minimal XDF 1.0 reader (numpy and the standard library only), written from
docs/recording.md and the XDF 1.0 specification it points to, for Reflex recordings.

    /usr/bin/python3 examples/python/read_xdf.py run1.xdf [--json] [--emg-out emg.npy]

Prints each stream's id, name, type, nominal rate, channel labels, sample count and first/last
timestamp (seconds on the recording host's CLOCK_MONOTONIC), and reconstructs the raw EMG of
`reflex run --record` (stream "reflex emg.raw emg": samples x channels, float32) with its
per-sample stamps and its companion "... blocks" stream.

Options:
    --json          one JSON line per stream (STREAM {...}) and one for the EMG (EMG {...})
    --emg-out F     save the raw EMG as F (.npy, samples x channels float32) and F's .timestamps.npy
"""
import argparse
import hashlib
import json
import math
import struct
import sys
import xml.etree.ElementTree as ET

import numpy as np

TAG_FILE_HEADER, TAG_STREAM_HEADER, TAG_SAMPLES, TAG_CLOCK_OFFSET, TAG_BOUNDARY, TAG_FOOTER = 1, 2, 3, 4, 5, 6
# XDF channel_format -> numpy dtype (XDF is little-endian); string streams are handled apart.
DTYPES = {"float32": "<f4", "double64": "<f8", "int8": "i1", "int16": "<i2", "int32": "<i4", "int64": "<i8"}


class XdfError(Exception):
    pass


class Stream:
    def __init__(self, sid, info):
        self.id = sid
        self.info = info
        self.name = info.findtext("name", "")
        self.type = info.findtext("type", "")
        self.rate = float(info.findtext("nominal_srate", "0") or 0)
        self.format = info.findtext("channel_format", "")
        self.count = int(info.findtext("channel_count", "0"))
        chans = info.findall("./desc/channels/channel")
        self.labels = [c.findtext("label", "") for c in chans] or [""] * self.count
        self.units = [c.findtext("unit", "") for c in chans] or [""] * self.count
        meta = info.findtext("./desc/reflex")
        self.meta = json.loads(meta) if meta else {}
        self.stamps = []        # per sample: a float, or None where the file left it out
        self.chunks = []        # numeric: (n, count) arrays; string: lists
        self.clock_offsets = []
        if self.format not in DTYPES and self.format != "string":
            raise XdfError(f"stream {sid} ({self.name}): unknown channel_format {self.format!r}")

    def finish(self):
        """Samples as one array (or list of strings) and every stamp filled in."""
        if self.format == "string":
            self.data = [s for c in self.chunks for s in c]
        elif self.chunks:
            self.data = np.concatenate(self.chunks)
        else:
            self.data = np.zeros((0, self.count), dtype=DTYPES[self.format])
        # A sample written without a stamp follows the previous one by one nominal period
        # (XDF convention; Reflex leaves stamps out of blocks with no clock model yet).
        t = np.empty(len(self.stamps))
        prev = math.nan
        period = 1.0 / self.rate if self.rate > 0 else 0.0
        for i, s in enumerate(self.stamps):
            prev = s if s is not None else prev + period
            t[i] = prev
        self.timestamps = t


def varlen(buf, pos):
    """An XDF variable-length integer: a 1-byte width (1, 4 or 8), then the value."""
    width = buf[pos]
    if width == 1:
        return buf[pos + 1], pos + 2
    if width == 4:
        return struct.unpack_from("<I", buf, pos + 1)[0], pos + 5
    if width == 8:
        return struct.unpack_from("<Q", buf, pos + 1)[0], pos + 9
    raise XdfError(f"bad length width {width} at byte {pos}")


def read_stamp(s, buf, pos):
    """One sample's time stamp: a byte 8 then a double, or a byte 0 (deduced later)."""
    ts_bytes = buf[pos]
    pos += 1
    if ts_bytes == 8:
        s.stamps.append(struct.unpack_from("<d", buf, pos)[0])
        return pos + 8
    s.stamps.append(None)
    return pos


def read_samples(s, buf, pos, end):
    n, pos = varlen(buf, pos)
    if s.format == "string":
        out = []
        for _ in range(n):
            pos = read_stamp(s, buf, pos)
            for _ch in range(s.count):  # Reflex's string streams have one channel
                length, pos = varlen(buf, pos)
                text = bytes(buf[pos:pos + length]).decode("utf-8")
                pos += length
            out.append(text)
        s.chunks.append(out)
    else:
        dt = np.dtype(DTYPES[s.format])
        row = dt.itemsize * s.count
        arr = np.empty((n, s.count), dtype=dt)
        for i in range(n):
            pos = read_stamp(s, buf, pos)
            arr[i] = np.frombuffer(buf, dtype=dt, count=s.count, offset=pos)
            pos += row
        s.chunks.append(arr)
    if pos != end:
        raise XdfError(f"samples chunk of stream {s.id} ends at byte {pos}, its length says {end}")


def read_xdf(path):
    """(file header <info> element, {id: Stream}, truncated byte count)."""
    with open(path, "rb") as f:
        buf = memoryview(f.read())
    if bytes(buf[:4]) != b"XDF:":
        raise XdfError(f"{path}: not XDF (no 'XDF:' at the start)")
    pos = 4
    header = None
    streams = {}
    truncated = 0
    while pos < len(buf):
        start = pos
        try:
            if buf[pos] == 0:
                # zero bytes a power cut can leave after the last whole chunk
                if not any(buf[pos:]):
                    truncated = len(buf) - start
                    break
            length, pos = varlen(buf, pos)
            if pos + length > len(buf) or length < 2:
                raise IndexError
        except (IndexError, struct.error, XdfError):
            truncated = len(buf) - start  # the last chunk is cut short (crash, kill -9): ignore it
            break
        end = pos + length
        tag = struct.unpack_from("<H", buf, pos)[0]
        pos += 2
        if tag == TAG_FILE_HEADER:
            header = ET.fromstring(bytes(buf[pos:end]))
        elif tag == TAG_STREAM_HEADER:
            sid = struct.unpack_from("<I", buf, pos)[0]
            streams[sid] = Stream(sid, ET.fromstring(bytes(buf[pos + 4:end])))
        elif tag == TAG_SAMPLES:
            sid = struct.unpack_from("<I", buf, pos)[0]
            if sid not in streams:
                raise XdfError(f"samples of stream {sid} before its header at byte {start}")
            read_samples(streams[sid], buf, pos + 4, end)
        elif tag == TAG_CLOCK_OFFSET:
            sid, coll, off = struct.unpack_from("<Idd", buf, pos)
            if sid in streams:
                streams[sid].clock_offsets.append((coll, off))
        # boundary chunks (5) and footers (6) carry nothing this reader needs
        pos = end
    for s in streams.values():
        s.finish()
    return header, streams, truncated


def finite_or_str(x):
    return x if math.isfinite(x) else str(x)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p.add_argument("--emg-out")
    a = p.parse_args(argv)
    try:
        header, streams, truncated = read_xdf(a.file)
    except (OSError, XdfError, ET.ParseError) as e:
        print(f"read_xdf: {e}", file=sys.stderr)
        return 2
    if truncated:
        print(f"read_xdf: ignored {truncated} bytes of a cut last chunk", file=sys.stderr)
    for s in sorted(streams.values(), key=lambda s: s.id):
        n = len(s.timestamps)
        first = float(s.timestamps[0]) if n else math.nan
        last = float(s.timestamps[-1]) if n else math.nan
        if a.json:
            print("STREAM " + json.dumps({"id": s.id, "name": s.name, "type": s.type, "rate": s.rate, "format": s.format,
                                          "labels": s.labels, "samples": n, "first": finite_or_str(first), "last": finite_or_str(last)}))
        else:
            print(f"{s.id:3d} {s.name!r} type={s.type} rate={s.rate:g} format={s.format} samples={n} "
                  f"first={first:.6f} last={last:.6f}\n    labels: {', '.join(s.labels)}")

    raw = next((s for s in streams.values() if s.name == "reflex emg.raw emg"), None)
    if raw is None:
        print("read_xdf: no raw EMG stream (reflex emg.raw emg) in this file", file=sys.stderr)
        return 0
    blocks = next((s for s in streams.values() if s.meta.get("companion_of") == raw.name), None)
    x = raw.data  # samples x channels, in the stream's unit
    if a.emg_out:
        np.save(a.emg_out, x)
        np.save(a.emg_out.removesuffix(".npy") + ".timestamps.npy", raw.timestamps)
    unit = raw.units[0] if raw.units else ""
    # Blocks are contiguous runs of samples: the companion's `samples` column adds up to the data's.
    per_block = blocks.data[:, blocks.labels.index("samples")].astype(int) if blocks is not None else None
    emg = {"samples": int(x.shape[0]), "channels": int(x.shape[1]), "unit": unit, "labels": raw.labels,
           "blocks": int(per_block.size) if per_block is not None else None,
           "block_samples": int(per_block.sum()) if per_block is not None else None,
           "sha256": hashlib.sha256(np.ascontiguousarray(x, dtype="<f4").tobytes()).hexdigest(),
           "min": [float(v) for v in x.min(axis=0)] if x.shape[0] else [],
           "max": [float(v) for v in x.max(axis=0)] if x.shape[0] else []}
    if a.json:
        print("EMG " + json.dumps(emg))
    else:
        print(f"raw EMG: {emg['samples']} samples x {emg['channels']} channels ({unit}) in {emg['blocks']} blocks")
        for i, label in enumerate(raw.labels):
            print(f"    {label:8s} min {emg['min'][i]:10.3f} max {emg['max'][i]:10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
