#!/usr/bin/env python3
"""The kernel's side of the TAP system tier: TCP clients on ordinary Linux sockets.

    peer.py discard HOST PORT BYTES          send BYTES, half-close, wait for the server's FIN
    peer.py chargen HOST PORT BYTES [--verify]  read BYTES (checking RFC 864's pattern)
    peer.py concurrent HOST PORT N BYTES     N echo connections at once, every octet checked
    peer.py refused HOST PORT                the connection must be refused (a RST)

Each prints one line of JSON (octets, seconds, megabytes per second) and exits non-zero on any
mismatch. Every socket has a timeout, so a stuck stack fails the run instead of hanging it.
"""

import json
import selectors
import socket
import sys
import time

TIMEOUT = 30.0
CHUNK = 256 * 1024


def chargen_pattern(length):
    """RFC 864: line i is the 72 characters of the ring '!'..'~',' ' from the i-th, then CRLF."""
    ring = bytes(range(ord("!"), ord("~") + 1)) + b" "
    out = bytearray()
    line = 0
    while len(out) < length:
        out += bytes(ring[(line + k) % 95] for k in range(72)) + b"\r\n"
        line += 1
    return bytes(out[:length])


def connect(host, port):
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    return s


def report(octets, seconds, **extra):
    line = {"octets": octets, "seconds": round(seconds, 4),
            "mb_per_s": round(octets / seconds / 1e6, 1) if seconds > 0 else None}
    line.update(extra)
    print(json.dumps(line))


def discard(host, port, total):
    block = bytes(CHUNK)
    start = time.monotonic()
    s = connect(host, port)
    sent = 0
    while sent < total:
        n = min(CHUNK, total - sent)
        s.sendall(block[:n])
        sent += n
    s.shutdown(socket.SHUT_WR)
    # The discard server closes after reading everything: its FIN ends the measurement.
    extra = s.recv(1)
    seconds = time.monotonic() - start
    s.close()
    if extra:
        sys.exit("discard server sent data")
    report(sent, seconds)


def chargen(host, port, total, verify):
    cycle = 95 * 74
    pattern = chargen_pattern(cycle + CHUNK) if verify else b""
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    start = time.monotonic()
    s = connect(host, port)
    got = 0
    while got < total:
        n = s.recv_into(view, min(CHUNK, total - got))
        if n == 0:
            sys.exit(f"chargen closed after {got} octets")
        if verify:
            offset = got % cycle
            if view[:n] != pattern[offset:offset + n]:
                sys.exit(f"chargen pattern differs in octets {got}..{got + n}")
        got += n
    seconds = time.monotonic() - start
    s.close()
    report(got, seconds, verified=verify)


def concurrent(host, port, count, total):
    sel = selectors.DefaultSelector()
    conns = []
    start = time.monotonic()
    ring = bytes(range(251)) * (total // 251 + 2)
    for i in range(count):
        s = connect(host, port)
        s.setblocking(False)
        # A different stretch of the ring per connection: crossed streams would show.
        data = ring[i % 251:i % 251 + total]
        c = {"sock": s, "data": data, "sent": 0, "back": bytearray(), "done": False}
        conns.append(c)
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    deadline = time.monotonic() + TIMEOUT
    remaining = count
    while remaining:
        if time.monotonic() > deadline:
            sys.exit(f"{remaining} of {count} echo connections unfinished")
        for key, events in sel.select(timeout=1.0):
            c = key.data
            s = c["sock"]
            if events & selectors.EVENT_WRITE and c["sent"] < total:
                try:
                    c["sent"] += s.send(c["data"][c["sent"]:c["sent"] + CHUNK])
                except BlockingIOError:
                    pass
                if c["sent"] == total:
                    s.shutdown(socket.SHUT_WR)
                    sel.modify(s, selectors.EVENT_READ, c)
            if events & selectors.EVENT_READ:
                try:
                    chunk = s.recv(CHUNK)
                except BlockingIOError:
                    continue
                if chunk:
                    c["back"] += chunk
                else:
                    sel.unregister(s)
                    s.close()
                    c["done"] = True
                    remaining -= 1
    seconds = time.monotonic() - start
    bad = [i for i, c in enumerate(conns) if bytes(c["back"]) != c["data"]]
    if bad:
        sys.exit(f"echo connections {bad} came back different")
    report(count * total, seconds, connections=count)


def refused(host, port):
    try:
        s = connect(host, port)
    except ConnectionRefusedError:
        print(json.dumps({"refused": True}))
        return
    s.close()
    sys.exit(f"connection to closed port {port} was accepted")


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd, host, port = argv[0], argv[1], int(argv[2])
    if cmd == "discard":
        discard(host, port, int(argv[3]))
    elif cmd == "chargen":
        chargen(host, port, int(argv[3]), "--verify" in argv)
    elif cmd == "concurrent":
        concurrent(host, port, int(argv[3]), int(argv[4]))
    elif cmd == "refused":
        refused(host, port)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
