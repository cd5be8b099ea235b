#!/usr/bin/env python3
"""Deploy a model directory to a running Reflex runtime: pyzmq + cbor2, written from
docs/deploy.md and docs/telemetry.md (section 7, remote control) alone.

    /usr/bin/python3 examples/python/deploy_model.py models/mine tcp://127.0.0.1:5557
    /usr/bin/python3 examples/python/deploy_model.py models/mine tcp://10.0.0.5:5557 \
        --server-key board.pub --client-key-file ~/.reflex/me.key

Sends every file (deploy.begin, deploy.chunk, deploy.commit), follows the deploy to its end
(deploy.status while the runtime answers "verifying"), and prints one JSON line: the outcome,
the stored hash and where the model runs from. A refused model prints the runtime's error code
and message and exits 1; a directory that is not a model directory (checked here first) or bad
flags exit 2.

Options:
    --server-key K       the runtime's public key: 40-char z85 text or a .pub file from `reflex keygen`
    --client-key-file F  this workstation's keypair file from `reflex keygen`
    --insecure           send in plaintext to a non-loopback endpoint
    --timeout S          seconds for each reply (default 10)
    --quiet              no progress on stderr
"""
import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import sys
import time

import cbor2
import zmq

NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
MAX_FILES = 32
KEY_RE = re.compile(r"^\s*(public-key|secret-key)\s*=\s*(\S{40})\s*$")


class Refused(Exception):
    """An error reply from the runtime: its code and message."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class BadUsage(Exception):
    pass


# --- the model directory and its content hash (docs/deploy.md, "The content hash") ---

def model_files(model_dir):
    """[(name, bytes)] in byte order of the names; BadUsage when it is not a deployable directory."""
    if not os.path.isdir(model_dir):
        raise BadUsage(f"{model_dir} is not a directory")
    names = sorted(os.listdir(model_dir), key=lambda n: n.encode("utf-8"))
    if len(names) > MAX_FILES:
        raise BadUsage(f"{model_dir} holds {len(names)} files; at most {MAX_FILES} deploy")
    files = []
    for name in names:
        path = os.path.join(model_dir, name)
        if not NAME_RE.match(name):
            raise BadUsage(f"{path}: the name does not match [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}")
        if os.path.islink(path) or not os.path.isfile(path):
            raise BadUsage(f"{path} is not a regular file (only flat directories of plain files deploy)")
        with open(path, "rb") as f:
            files.append((name, f.read()))
    listed = {n for n, _ in files}
    for required in ("model.json", "reflex-model.json"):
        if required not in listed:
            raise BadUsage(f"{model_dir} has no {required}: not a model directory")
    return files


def content_hash(entries):
    """sha256 of the sha256sum-style manifest of [{name, size, sha256}] (sorted by name bytes)."""
    manifest = "".join(f"{e['sha256']}  {e['name']}\n" for e in entries)
    return hashlib.sha256(manifest.encode("utf-8")).hexdigest()


# --- keys (docs/telemetry.md, section 6) ---

def read_key_file(path):
    keys = {}
    with open(path, encoding="ascii") as f:
        for line in f:
            m = KEY_RE.match(line)
            if m:
                keys[m.group(1)] = m.group(2)
    return keys


def server_key(arg):
    if len(arg) == 40 and not os.path.exists(arg):
        return arg
    pub = read_key_file(arg).get("public-key")
    if pub is None:
        raise BadUsage(f"{arg}: no 'public-key = <40 chars>' line")
    return pub


def is_loopback(endpoint):
    if endpoint.startswith(("ipc://", "inproc://")):
        return True
    m = re.match(r"^tcp://(\[[^\]]*\]|[^:]*):", endpoint)
    host = m.group(1) if m else ""
    return host.startswith("127.") or host in ("[::1]", "localhost", "lo")


# --- control requests (docs/telemetry.md, section 7) ---

class Control:
    def __init__(self, endpoint, timeout_s, curve=None):
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        if curve is not None:
            srv, pub, sec = curve
            self.sock.curve_serverkey = srv.encode("ascii")
            self.sock.curve_publickey = pub.encode("ascii")
            self.sock.curve_secretkey = sec.encode("ascii")
        self.sock.connect(endpoint)
        self.timeout_s = timeout_s
        self.next_id = 0
        self.prefix = secrets.token_hex(4)

    def close(self):
        self.sock.close(0)
        self.ctx.term()

    def request(self, cmd, args, timeout_s=None):
        """The result of one request; Refused on an error reply. E_BUSY is retried with backoff."""
        backoff = 0.02
        while True:
            try:
                return self._once(cmd, args, timeout_s or self.timeout_s)
            except Refused as e:
                if e.code != "E_BUSY":
                    raise
                time.sleep(backoff)  # "too fast": the doc's backoff, 20 ms doubling to 1 s
                backoff = min(backoff * 2, 1.0)

    def _once(self, cmd, args, timeout_s):
        self.next_id += 1
        rid = f"{self.prefix}-{self.next_id}"
        self.sock.send(cbor2.dumps({"id": rid, "cmd": cmd, "args": args}))
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.sock.poll(int(left * 1000), zmq.POLLIN):
                raise TimeoutError(f"no reply to {cmd} within {timeout_s:g} s")
            frames = self.sock.recv_multipart()
            reply = cbor2.loads(frames[-1])  # a DEALER gets the reply alone; tolerate a leading delimiter
            if not isinstance(reply, dict):
                continue
            if reply.get("id") is None and reply.get("ok") is False:
                err = reply.get("error") or {}
                raise Refused(err.get("code", "E_?"), err.get("message", ""))
            if reply.get("id") != rid:
                continue  # a late reply to an earlier request that timed out
            if reply.get("ok") is True:
                return reply.get("result")
            err = reply.get("error") or {}
            raise Refused(err.get("code", "E_?"), err.get("message", ""))


def deploy(ctl, files, progress, verify_timeout_s):
    entries = [{"name": n, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()} for n, b in files]
    digest = content_hash(entries)
    begun = ctl.request("deploy.begin", {"files": entries, "hash": digest})
    dep_id = begun["id"]
    total = sum(e["size"] for e in entries)
    sent = 0
    if not begun.get("stored"):
        step = int(begun["chunk_bytes"])
        try:
            for name, data in files:
                offset = 0
                while offset < len(data):
                    chunk = data[offset:offset + step]
                    try:
                        ctl.request("deploy.chunk", {"id": dep_id, "file": name, "offset": offset,
                                                     "data": base64.b64encode(chunk).decode("ascii")})
                    except Refused as e:
                        if e.code != "E_DEPLOY_OFFSET":
                            raise
                        # the deploy goes on: resend from the byte the runtime expects
                        want = re.search(r"resend from byte (\d+)", e.message)
                        if want is None or int(want.group(1)) > len(data):
                            raise
                        sent -= offset - int(want.group(1))
                        offset = int(want.group(1))
                        continue
                    offset += len(chunk)
                    sent += len(chunk)
                    progress(f"sent {sent}/{total} bytes")
        except (Refused, TimeoutError):
            try:
                ctl.request("deploy.abort", {"id": dep_id})
            except (Refused, TimeoutError):
                pass  # the runtime dropped it already (fatal refusal) or will on its idle timeout
            raise
    progress("committing")
    result = ctl.request("deploy.commit", {"id": dep_id}, verify_timeout_s)
    while result.get("state") == "verifying":
        progress("verifying")
        time.sleep(0.2)
        result = ctl.request("deploy.status", {"id": dep_id}, verify_timeout_s)
    result = dict(result)
    result["sentBytes"] = sent
    result["files"] = [e["name"] for e in entries]
    return result


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model_dir")
    p.add_argument("endpoint")
    p.add_argument("--server-key")
    p.add_argument("--client-key-file")
    p.add_argument("--insecure", action="store_true")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--quiet", action="store_true")
    try:
        a = p.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0

    def progress(msg):
        if not a.quiet:
            print(f"deploy: {msg}", file=sys.stderr, flush=True)

    try:
        files = model_files(a.model_dir)
        curve = None
        if a.server_key or a.client_key_file:
            if not (a.server_key and a.client_key_file):
                raise BadUsage("CURVE needs both --server-key and --client-key-file")
            kp = read_key_file(a.client_key_file)
            if "public-key" not in kp or "secret-key" not in kp:
                raise BadUsage(f"{a.client_key_file}: needs 'public-key = ' and 'secret-key = ' lines")
            curve = (server_key(a.server_key), kp["public-key"], kp["secret-key"])
        elif not is_loopback(a.endpoint) and not a.insecure:
            raise BadUsage(f"{a.endpoint} is not loopback: give --server-key and --client-key-file (or --insecure)")
    except (BadUsage, OSError) as e:
        print(f"deploy_model: {e}", file=sys.stderr)
        return 2

    ctl = Control(a.endpoint, a.timeout, curve)
    try:
        result = deploy(ctl, files, progress, a.timeout * 12)
    except Refused as e:
        print(json.dumps({"ok": False, "code": e.code, "message": e.message}))
        return 1
    except TimeoutError as e:
        print(json.dumps({"ok": False, "code": "E_TIMEOUT", "message": f"{e} (is the runtime at {a.endpoint}, with the same CURVE setting, and this key allowed?)"}))
        return 1
    finally:
        ctl.close()
    print(json.dumps({"ok": True, **result}))
    return 0 if result.get("state") == "done" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
