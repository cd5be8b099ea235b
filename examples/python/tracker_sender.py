#!/usr/bin/env python3
"""Feed Reflex tracker samples over ZeroMQ (format: docs/tracker.md, "ZeroMQ messages").

Runs with the system Python and its ZeroMQ binding (Debian: python3-zmq):

    /usr/bin/python3 examples/python/tracker_sender.py --endpoint tcp://*:5570 --rate 100

Each message is two frames: the topic, then a 16-byte little-endian header and D float32
values. Replace `read_pose()` with your mocap or workstation's pose source.
"""
import argparse
import math
import struct
import sys
import time

import zmq

VERSION = 1
FLAG_HAS_TIME = 1    # t_us is filled in
FLAG_HOST_CLOCK = 2  # t_us is CLOCK_MONOTONIC of the machine Reflex runs on (same machine only)
FLAG_INVALID = 4     # the pose is not valid (occluded, lost tracking)


def pack(seq, t_us, values, flags):
    """Header: version u8, flags u8, dims u16, seq u32, t_us u64; then dims x float32."""
    return struct.pack('<BBHIQ%df' % len(values), VERSION, flags, len(values), seq & 0xFFFFFFFF, t_us, *values)


def read_pose(seq, rate, dims):
    """Stand-in pose: slow sines, one phase per dimension. Returns (values, valid)."""
    return [math.sin(2 * math.pi * 0.5 * seq / rate + d) for d in range(dims)], True


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--endpoint', default='tcp://*:5570', help='ZeroMQ endpoint (default tcp://*:5570)')
    p.add_argument('--connect', action='store_true', help='connect to the endpoint instead of binding (when Reflex binds)')
    p.add_argument('--topic', default='tracker', help='first frame; Reflex subscribes to a prefix of it')
    p.add_argument('--rate', type=float, default=100.0, help='samples per second')
    p.add_argument('--dims', type=int, default=2, help='values per sample')
    p.add_argument('--count', type=int, default=0, help='samples to send, 0 = until interrupted')
    p.add_argument('--clock', choices=['host', 'sender', 'none'], default='sender',
                   help='host: stamp CLOCK_MONOTONIC (same machine as Reflex); sender: stamp our own clock; none: no stamp')
    p.add_argument('--wait', type=float, default=0.5, help='seconds to let subscribers connect before sending')
    a = p.parse_args()

    ctx = zmq.Context()
    sock = ctx.socket(zmq.PUB)
    sock.setsockopt(zmq.LINGER, 1000)
    if a.connect:
        sock.connect(a.endpoint)
    else:
        sock.bind(a.endpoint)
    time.sleep(a.wait)  # a PUB drops messages until subscriptions arrive

    topic = a.topic.encode()
    period = 1.0 / a.rate
    next_send = time.monotonic()
    seq = 0
    try:
        while a.count == 0 or seq < a.count:
            values, valid = read_pose(seq, a.rate, a.dims)
            # Stamp when the pose was measured, as close to the measurement as you can.
            t_us = time.monotonic_ns() // 1000
            flags = 0 if valid else FLAG_INVALID
            if a.clock == 'host':
                flags |= FLAG_HAS_TIME | FLAG_HOST_CLOCK
            elif a.clock == 'sender':
                flags |= FLAG_HAS_TIME
            else:
                t_us = 0
            sock.send_multipart([topic, pack(seq, t_us, values, flags)])
            seq += 1
            next_send += period
            delay = next_send - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    except KeyboardInterrupt:
        pass
    sock.close()
    ctx.term()
    print('sent %d samples' % seq, file=sys.stderr)


if __name__ == '__main__':
    main()
