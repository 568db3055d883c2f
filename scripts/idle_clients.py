#!/usr/bin/env python3
"""Open N idle PostgreSQL client connections and hold them.

Each connection sends a v3 StartupMessage (user, database), expects trust
authentication (AuthenticationOk) and reads until ReadyForQuery ('Z'). The
connections then stay open without sending anything. When all are up, the
script writes "READY <n>" to --ready-file (atomically) and holds them until it
gets SIGTERM/SIGINT or --hold seconds pass (so it always stops by itself).

Standard library only (Python 3.11).

    idle_clients.py --host 127.0.0.1 --port 6432 --user root --db test \
        -n 1000 --ready-file /tmp/ready --hold 300
"""

import argparse
import os
import resource
import signal
import socket
import struct
import sys
import time


def startup_message(user: str, db: str) -> bytes:
    body = struct.pack("!I", 196608)  # protocol 3.0
    for k, v in (("user", user), ("database", db), ("application_name", "idle_clients")):
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    return struct.pack("!I", len(body) + 4) + body


def recv_exact(s: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("server closed the connection during startup")
        buf += chunk
    return bytes(buf)


def error_text(body: bytes) -> str:
    fields = {}
    for part in body.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode(errors="replace")
    return f"{fields.get('S', '?')} {fields.get('C', '?')}: {fields.get('M', '?')}"


def open_idle(host: str, port: int, user: str, db: str, timeout: float) -> socket.socket:
    s = socket.create_connection((host, port), timeout=timeout)
    s.sendall(startup_message(user, db))
    while True:
        header = recv_exact(s, 5)
        tag, length = header[:1], struct.unpack("!I", header[1:])[0]
        body = recv_exact(s, length - 4)
        if tag == b"R":
            code = struct.unpack("!I", body[:4])[0]
            if code != 0:
                raise ConnectionError(f"server asked for authentication method {code}; only trust is supported")
        elif tag == b"E":
            raise ConnectionError(error_text(body))
        elif tag == b"Z":
            s.settimeout(None)
            return s
        # 'S' ParameterStatus, 'K' BackendKeyData, 'N' notices: ignore


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", default="root")
    ap.add_argument("--db", default="test")
    ap.add_argument("-n", "--count", type=int, default=1000)
    ap.add_argument("--ready-file", required=True, help="written with 'READY <n>' once all connections are up")
    ap.add_argument("--hold", type=float, default=300.0, help="seconds to hold the connections at most")
    ap.add_argument("--timeout", type=float, default=30.0, help="per-connection startup timeout, seconds")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.count + 64
    if soft < want:
        new_soft = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))

    stop = False

    def on_signal(signum, frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    socks = []
    started = time.monotonic()
    try:
        for i in range(args.count):
            if stop:
                break
            socks.append(open_idle(args.host, args.port, args.user, args.db, args.timeout))
    except Exception as e:  # report and exit non-zero; the caller reads the ready file
        print(f"idle_clients: connection {len(socks) + 1} of {args.count} failed: {e}", file=sys.stderr)
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"FAILED {len(socks)} {e}\n")
        os.replace(tmp, args.ready_file)
        for s in socks:
            s.close()
        return 1

    took = time.monotonic() - started
    tmp = args.ready_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"READY {len(socks)} {took:.2f}\n")
    os.replace(tmp, args.ready_file)

    deadline = time.monotonic() + args.hold
    while not stop and time.monotonic() < deadline:
        time.sleep(0.2)
    for s in socks:
        try:
            s.sendall(b"X\0\0\0\4")  # Terminate
        except OSError:
            pass
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
