#!/usr/bin/env python3
"""Writes a large pcap by repeating the recorded traffic in captures/recorded/.

Usage: make-big-capture.py OUT.pcap [SIZE_MB]   (default 1024 MB)

Each repetition shifts the second and third octets of every IPv4 address (so flows are
distinct), moves timestamps forward, and fixes the IPv4 header checksum and the UDP/TCP/ICMP
checksums incrementally (RFC 1624), so the capture stays valid: a decoder that verifies
checksums does the same work on it as on real traffic. Ethernet frames only (ARP frames are
copied as they are). Needs nothing but Python 3.
"""

import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RECORDED = HERE.parent.parent / "captures" / "recorded"


def read_pcap(path):
    data = path.read_bytes()
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        raise SystemExit(f"{path}: only little-endian pcap is expected here")
    link = struct.unpack_from("<I", data, 20)[0]
    if link != 1:
        return []
    frames, at = [], 24
    while at + 16 <= len(data):
        sec, usec, caplen, _orig = struct.unpack_from("<IIII", data, at)
        frames.append((sec * 1_000_000 + usec, data[at + 16 : at + 16 + caplen]))
        at += 16 + caplen
    return frames


def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def update(checksum, old_words, new_words):
    """RFC 1624 eqn. 3 over several 16-bit words."""
    s = (~checksum) & 0xFFFF
    for o, n in zip(old_words, new_words):
        s += ((~o) & 0xFFFF) + n
    return (~fold(s)) & 0xFFFF


def rewrite(frame, k):
    """The frame with both IPv4 addresses shifted by k, checksums fixed."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return frame
    f = bytearray(frame)
    ip = 14
    ihl = (f[ip] & 0x0F) * 4
    old = struct.unpack_from(">4H", f, ip + 12)
    src = bytearray(f[ip + 12 : ip + 16])
    dst = bytearray(f[ip + 16 : ip + 20])
    for a in (src, dst):
        a[1] = (a[1] + (k >> 8)) & 0xFF
        a[2] = (a[2] + k) & 0xFF
    f[ip + 12 : ip + 16] = src
    f[ip + 16 : ip + 20] = dst
    new = struct.unpack_from(">4H", f, ip + 12)
    (hc,) = struct.unpack_from(">H", f, ip + 10)
    struct.pack_into(">H", f, ip + 10, update(hc, old, new))
    proto = f[ip + 9]
    frag = struct.unpack_from(">H", f, ip + 6)[0] & 0x1FFF
    t = ip + ihl
    # The pseudo-header covers the addresses: UDP and TCP checksums change with them.
    where = {6: 16, 17: 6}.get(proto)
    if where is not None and frag == 0 and len(f) >= t + where + 2:
        (c,) = struct.unpack_from(">H", f, t + where)
        if not (proto == 17 and c == 0):
            c2 = update(c, old, new)
            if proto == 17 and c2 == 0:
                c2 = 0xFFFF
            struct.pack_into(">H", f, t + where, c2)
    return bytes(f)


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    out = Path(sys.argv[1])
    size = int(sys.argv[2]) * 1024 * 1024 if len(sys.argv) > 2 else 1024 * 1024 * 1024
    frames = []
    for p in sorted(RECORDED.glob("*.pcap")):
        if "offloaded" in p.name:
            continue  # partial checksums and a TSO frame: not what a wire carries
        frames.extend(read_pcap(p))
    if not frames:
        raise SystemExit("no recorded frames found")
    base = frames[0][0]
    span = max(t for t, _ in frames) - min(t for t, _ in frames) + 1_000_000
    written, k, packets = 24, 0, 0
    with out.open("wb") as w:
        w.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        while written < size:
            shift = k * span
            for t, frame in frames:
                data = rewrite(frame, k)
                ts = t - base + shift + 1_700_000_000 * 1_000_000
                w.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(data), len(data)))
                w.write(data)
                written += 16 + len(data)
                packets += 1
            k += 1
    print(f"{out}: {packets} packets, {written} bytes, {k} repetitions of {len(frames)} frames")


if __name__ == "__main__":
    main()
