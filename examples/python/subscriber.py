#!/usr/bin/env python3
"""Reflex telemetry subscriber: pyzmq + cbor2 + numpy, written from docs/telemetry.md alone.

Connects to one or more Reflex runtimes, decodes every topic (RFC 8746 typed-array tags
become numpy arrays; packed blocks are joined with their stream descriptors), prints
per-topic rates and losses about once a second, and a JSON summary at the end.

    /usr/bin/python3 examples/python/subscriber.py tcp://rig-a.lab:5556 \
        --server-key rig-a.pub --client-key-file workstation.key --duration 10

Options:
    --topic T            only this topic (repeatable)
    --runtime R          only this runtime id (repeatable; needs --topic or uses all topics)
    --server-key K       publisher public key: 40-char z85 text or a .pub file (one for all endpoints)
    --client-key-file F  this workstation's keypair file from `reflex keygen`
    --duration S         stop after S seconds
    --count N            stop after N messages
    --quiet              no per-second lines
    --json               print the final summary as one JSON line
    --dump               print the first message of each topic as a JSON line (arrays as dtype + hex)
"""
import argparse
import json
import math
import os
import re
import sys
import time

import cbor2
import numpy as np
import zmq

TOPICS = ["emg.raw", "emg.features", "tracker", "prediction", "actuators", "loop", "clock", "health", "event"]
# Block topics: a map in frame 2 is a stream descriptor, an array is a packed block.
BLOCK_TOPICS = {"emg.raw", "emg.features", "tracker"}
# Element order of a packed block (docs/telemetry.md, section 4).
PACKED = ["v", "seq", "mono_ms", "desc", "samples", "first_sample", "block_seq",
          "device_time_us", "host_time_ms", "host_period_ms", "valid", "data"]

# RFC 8746 typed-array tags -> numpy dtypes (">" big-endian, "<" little-endian).
TYPED_ARRAY_TAGS = {
    64: "u1", 68: "u1", 72: "i1",
    65: ">u2", 66: ">u4", 67: ">u8", 69: "<u2", 70: "<u4", 71: "<u8",
    73: ">i2", 74: ">i4", 75: ">i8", 77: "<i2", 78: "<i4", 79: "<i8",
    80: ">f2", 81: ">f4", 82: ">f8", 84: "<f2", 85: "<f4", 86: "<f8",
}


def tag_hook(decoder, tag):
    dtype = TYPED_ARRAY_TAGS.get(tag.tag)
    if dtype is not None and isinstance(tag.value, (bytes, bytearray)):
        return np.frombuffer(tag.value, dtype=np.dtype(dtype))
    return tag


def decode(frame):
    return cbor2.loads(frame, tag_hook=tag_hook)


def is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def unpack_block(arr):
    """A packed block as a dict of its named fields, or None when it is not one."""
    if not isinstance(arr, list) or len(arr) < len(PACKED):
        return None
    b = dict(zip(PACKED, arr))  # later versions may append elements: ignored here
    counts = ("v", "seq", "desc", "samples", "first_sample", "block_seq")
    if not all(isinstance(b[k], int) and not isinstance(b[k], bool) and b[k] >= 0 for k in counts):
        return None
    if not all(is_number(b[k]) for k in ("mono_ms", "device_time_us", "host_time_ms", "host_period_ms")):
        return None
    if not isinstance(b["valid"], bool) or not isinstance(b["data"], np.ndarray):
        return None
    return b


def block_body(b, d):
    """A block's full body: its descriptor's stream, rate, unit and channels plus its own fields."""
    body = {"stream": d["stream"], "rate": d["rate"], "unit": d["unit"], "channels": d["channels"]}
    body.update((k, b[k]) for k in PACKED[4:])
    return body


ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def parse_topic_frame(frame):
    """Frame 1 is b"<topic>/<runtime>/<board>"; returns (topic, runtime, board) or None."""
    try:
        parts = frame.decode("ascii").split("/")
    except UnicodeDecodeError:
        return None
    if len(parts) != 3 or parts[0] not in TOPICS or not all(ID_RE.fullmatch(p) for p in parts[1:]):
        return None
    return tuple(parts)


def read_key_file(path, field):
    with open(path, "r", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("#") or "=" not in line:
                continue
            k, v = (s.strip() for s in line.split("=", 1))
            if k == field:
                return v
    raise SystemExit(f"{path}: no '{field} = ...' line")


def public_key(text_or_file):
    # z85 uses "." and "/" too, so decide by whether such a file exists.
    if os.path.isfile(text_or_file):
        return read_key_file(text_or_file, "public-key")
    if len(text_or_file) == 40:
        return text_or_file
    raise SystemExit(f"--server-key {text_or_file}: neither a key file nor a 40-character z85 key")


def jsonable(value):
    """For --dump: numpy arrays as {dtype, hex}; NaN/inf as strings so the output is strict JSON."""
    if isinstance(value, np.ndarray):
        little = value.astype(value.dtype.newbyteorder("<"), copy=False)
        return {"dtype": str(value.dtype.name), "len": int(value.size), "hex": little.tobytes().hex()}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("endpoints", nargs="+")
    ap.add_argument("--topic", action="append", default=[])
    ap.add_argument("--runtime", action="append", default=[])
    ap.add_argument("--server-key")
    ap.add_argument("--client-key-file")
    ap.add_argument("--duration", type=float)
    ap.add_argument("--count", type=int)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--dump", action="store_true")
    args = ap.parse_args()

    for t in args.topic:
        if t not in TOPICS:
            raise SystemExit(f"unknown topic {t}; topics are {', '.join(TOPICS)}")
    # Frame 1 is "<topic>/<runtime>/<board>", so prefixes select topics and runtimes.
    if args.runtime:
        prefixes = [f"{t}/{r}/" for t in (args.topic or TOPICS) for r in args.runtime]
    elif args.topic:
        prefixes = [f"{t}/" for t in args.topic]
    else:
        prefixes = [""]

    ctx = zmq.Context.instance()
    poller = zmq.Poller()
    sockets = {}
    for ep in args.endpoints:
        s = ctx.socket(zmq.SUB)
        s.setsockopt(zmq.RCVHWM, 10000)
        if args.server_key:
            if not args.client_key_file:
                raise SystemExit("--server-key needs --client-key-file")
            s.curve_serverkey = public_key(args.server_key).encode()
            s.curve_publickey = read_key_file(args.client_key_file, "public-key").encode()
            s.curve_secretkey = read_key_file(args.client_key_file, "secret-key").encode()
        for p in prefixes:
            s.setsockopt(zmq.SUBSCRIBE, p.encode())
        s.connect(ep)
        poller.register(s, zmq.POLLIN)
        sockets[s] = ep

    last_seq = {}    # (endpoint, runtime, topic) -> last sequence number
    descriptors = {}  # (endpoint, frame 1) -> latest stream descriptor of that block topic
    frame_cache = {}  # frame 1 bytes -> (topic, runtime, board), or None when malformed
    stats = {}       # "topic runtime/board" -> counters
    totals = {"received": 0, "lost": 0, "malformed": 0, "restarts": 0, "descriptors": 0, "undescribed": 0}
    dumped = set()
    start = time.monotonic()
    next_print = start + 1.0
    window_start = start

    def print_rates(now):
        dt = max(now - window_start, 1e-3)
        print(f"--- received={totals['received']} lost={totals['lost']} malformed={totals['malformed']}", flush=True)
        for key in sorted(stats):
            st = stats[key]
            print(f"{key:32s} rate={st['window'] / dt:.1f}/s total={st['total']} lost={st['lost']}", flush=True)
            st["window"] = 0

    try:
        while True:
            now = time.monotonic()
            if args.duration is not None and now - start >= args.duration:
                break
            if args.count is not None and totals["received"] >= args.count:
                break
            if now >= next_print:
                if not args.quiet:
                    print_rates(now)
                else:
                    for st in stats.values():
                        st["window"] = 0
                window_start = now
                next_print = now + 1.0
            for s, _ in poller.poll(timeout=100):
                # Drain what is ready without blocking so a fast publisher is read in batches.
                while True:
                    try:
                        frames = s.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    if len(frames) < 2:
                        totals["malformed"] += 1
                        continue
                    # Frame 1 names the topic and the source; frame 2 holds v, seq, times and body
                    # (frames 2, 3, ... joined, when the runtime sent a large array uncopied).
                    source = frame_cache.get(frames[0], False)
                    if source is False:
                        source = parse_topic_frame(frames[0])
                        if len(frame_cache) < 4096:  # bounded: a hostile publisher must not grow it
                            frame_cache[frames[0]] = source
                    if source is None:
                        totals["malformed"] += 1
                        continue
                    topic, runtime, board = source
                    try:
                        msg = decode(frames[1] if len(frames) == 2 else b"".join(frames[1:]))
                    except Exception:  # noqa: BLE001 - any undecodable frame is counted, not fatal
                        totals["malformed"] += 1
                        continue
                    # Frame 2 is a map (envelope) or, on block topics, an array (packed block).
                    packed = unpack_block(msg) if topic in BLOCK_TOPICS else None
                    if packed is not None:
                        seq, v, body = packed["seq"], packed["v"], None
                    elif isinstance(msg, dict) and isinstance(msg.get("seq"), int) and isinstance(msg.get("body"), dict):
                        seq, v, body = msg["seq"], msg.get("v"), msg["body"]
                    else:
                        totals["malformed"] += 1
                        continue
                    key = (sockets[s], runtime, topic)
                    dkey = (sockets[s], frames[0])
                    prev = last_seq.get(key)
                    lost = 0
                    if prev is not None:
                        if seq > prev:
                            lost = seq - prev - 1
                        else:
                            totals["restarts"] += 1
                            descriptors.pop(dkey, None)  # a restarted publisher describes its streams anew
                    last_seq[key] = seq
                    totals["lost"] += lost
                    if topic in BLOCK_TOPICS and packed is None:
                        # A stream descriptor: kept to read the blocks that name it, not counted as received.
                        if not all(k in body for k in ("desc", "stream", "rate", "unit", "channels")):
                            totals["malformed"] += 1
                            continue
                        if len(descriptors) < 4096 or dkey in descriptors:  # bounded, like frame_cache
                            descriptors[dkey] = body
                        totals["descriptors"] += 1
                        st = stats.setdefault(f"{topic} {runtime}/{board}", {"total": 0, "lost": 0, "window": 0})
                        st["lost"] += lost
                        continue
                    if packed is not None:
                        d = descriptors.get(dkey)
                        if d is None or d["desc"] != packed["desc"]:
                            totals["undescribed"] += 1  # just subscribed: its descriptor is on its way
                            continue
                        if packed["data"].size != len(d["channels"]) * packed["samples"]:
                            totals["malformed"] += 1
                            continue
                        body = block_body(packed, d)
                    totals["received"] += 1
                    st = stats.setdefault(f"{topic} {runtime}/{board}", {"total": 0, "lost": 0, "window": 0})
                    st["total"] += 1
                    st["lost"] += lost
                    st["window"] += 1
                    if args.dump and topic not in dumped:
                        dumped.add(topic)
                        print("DUMP " + json.dumps({"topic": topic, "runtime": runtime, "board": board, "seq": seq, "v": v, "body": jsonable(body)}), flush=True)
                    if args.count is not None and totals["received"] >= args.count:
                        break
    except KeyboardInterrupt:
        pass
    finally:
        for s in sockets:
            s.close(linger=0)
    elapsed = time.monotonic() - start
    if not args.quiet:
        print_rates(time.monotonic())
    summary = dict(totals, elapsed_s=round(elapsed, 3), topics={k: {"total": v["total"], "lost": v["lost"]} for k, v in stats.items()})
    if args.json:
        print("SUMMARY " + json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
