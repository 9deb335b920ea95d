#!/usr/bin/env bash
# record.sh — record wirecheck's own reference captures in private network namespaces.
#
# Usage:   sudo captures/record.sh [SCENARIO...]      (no argument: every scenario)
#          captures/record.sh --list                   (print the scenario names)
#
# Needs:   root (network namespaces), iproute2, tcpdump, ethtool, iputils ping/arping, socat,
#          hping3, python3. Nothing here touches the host's own interfaces: every packet is sent
#          inside three namespaces this script creates and deletes again (also on error, by trap).
#
# Topology (fixed MAC addresses so that every recording has the same structure):
#
#     wc-alpha                    wc-delta (router, ip_forward=1)               wc-epsilon
#     a0 10.1.0.2/24  <--veth-->  d0 10.1.0.1/24   d1 10.2.0.1/24  <--veth-->  e0 10.2.0.2/24
#     02:00:00:00:01:02           02:00:00:00:01:01 02:00:00:00:02:01          02:00:00:00:02:02
#     default via 10.1.0.1                                                      default via 10.2.0.1
#
#   The d1/e0 link gets a 576-byte MTU in the scenarios that need one (ping-mtu576, frag-needed).
#
# Each scenario gets a freshly built topology (so no PMTU, neighbour or route cache leaks from one
# scenario into the next) and one capture: tcpdump -i a0 -s 0 -U -w, inside wc-alpha, i.e. on
# alpha's side of the alpha—delta link. Files go to captures/recorded/NAME.pcap (overwritten:
# running the script again re-records everything with the same structure; timestamps, IP IDs,
# ICMP ident, TCP ISNs/timestamps and ephemeral values differ from run to run).
#
# Settings chosen for small, focused, reproducible captures:
#   - tcpdump runs with --immediate-mode (otherwise libpcap holds packets in the TPACKET_V3 ring
#     block for up to 1 s and a quick SIGINT loses them);
#   - IPv6 disabled in the namespaces (no MLD / router solicitations in the captures);
#   - permanent neighbour entries on both links, so no ARP appears except in the arp scenario
#     (which deletes them first);
#   - net.ipv4.icmp_ratelimit=0 (no ICMP error is suppressed by rate limiting);
#   - checksum/segmentation offloads OFF on every veth (ethtool -K ... tx off rx off tso off
#     gso off gro off), so the checksums in the captures are the final ones. The single exception
#     is tcp-transfer-offloaded, recorded on purpose with the kernel's default offloads: alpha's
#     TCP checksums there are partial (pseudo-header sum only) and its segments may be GSO/TSO
#     super-frames larger than the MTU.
#
# After recording, run captures/regenerate-readings.sh to refresh the *.tshark.tsv readings.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/recorded"

NS_A=wc-alpha
NS_D=wc-delta
NS_E=wc-epsilon
MAC_A0=02:00:00:00:01:02
MAC_D0=02:00:00:00:01:01
MAC_D1=02:00:00:00:02:01
MAC_E0=02:00:00:00:02:02
IP_A=10.1.0.2
IP_D0=10.1.0.1
IP_D1=10.2.0.1
IP_E=10.2.0.2
GROUP=239.1.2.3

SCENARIOS=(ping ping-fragmented ping-mtu576 frag-needed arp arp-gratuitous ttl-exceeded
  net-unreachable udp udp-port-unreachable record-route ip-timestamp icmp-timestamp
  icmp-address-mask igmpv2-join igmpv3-join igmpv3-ssm-join igmpv2-query igmpv3-query
  tcp-transfer tcp-transfer-offloaded tcp-refused)

TMP=""
CAPTURE_PID=""

in_a() { ip netns exec "$NS_A" "$@"; }
in_d() { ip netns exec "$NS_D" "$@"; }
in_e() { ip netns exec "$NS_E" "$@"; }

log() { printf '[record] %s\n' "$*" >&2; }

teardown() {
  local ns
  for ns in "$NS_A" "$NS_D" "$NS_E"; do
    if ip netns pids "$ns" >/dev/null 2>&1; then
      # End only the processes started inside our own namespaces, by their ids.
      local p
      for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
      ip netns del "$ns" 2>/dev/null || true
    fi
  done
}

cleanup() {
  local rc=$?
  if [[ -n "$CAPTURE_PID" ]]; then kill -INT "$CAPTURE_PID" 2>/dev/null || true; fi
  teardown
  if [[ -n "$TMP" && -d "$TMP" ]]; then rm -rf "$TMP"; fi
  exit "$rc"
}

# setup [MTU_OF_SECOND_LINK] [offload]
setup() {
  local mtu2=${1:-1500} offload=${2:-off} ns
  teardown
  for ns in "$NS_A" "$NS_D" "$NS_E"; do
    ip netns add "$ns"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0
    ip netns exec "$ns" ip link set lo up
  done
  in_d sysctl -qw net.ipv4.ip_forward=1

  ip link add a0 netns "$NS_A" address "$MAC_A0" type veth peer name d0 netns "$NS_D" address "$MAC_D0"
  ip link add d1 netns "$NS_D" address "$MAC_D1" type veth peer name e0 netns "$NS_E" address "$MAC_E0"

  in_a ip addr add "$IP_A/24" dev a0
  in_d ip addr add "$IP_D0/24" dev d0
  in_d ip addr add "$IP_D1/24" dev d1
  in_e ip addr add "$IP_E/24" dev e0
  in_d ip link set d1 mtu "$mtu2"
  in_e ip link set e0 mtu "$mtu2"

  if [[ "$offload" == off ]]; then
    in_a ethtool -K a0 rx off tx off tso off gso off gro off >/dev/null 2>&1
    in_d ethtool -K d0 rx off tx off tso off gso off gro off >/dev/null 2>&1
    in_d ethtool -K d1 rx off tx off tso off gso off gro off >/dev/null 2>&1
    in_e ethtool -K e0 rx off tx off tso off gso off gro off >/dev/null 2>&1
  fi

  in_a ip link set a0 up
  in_d ip link set d0 up
  in_d ip link set d1 up
  in_e ip link set e0 up
  in_a ip route add default via "$IP_D0"
  in_e ip route add default via "$IP_D1"

  # Permanent neighbours: no ARP traffic unless a scenario asks for it.
  in_a ip neigh replace "$IP_D0" lladdr "$MAC_D0" dev a0 nud permanent
  in_d ip neigh replace "$IP_A" lladdr "$MAC_A0" dev d0 nud permanent
  in_d ip neigh replace "$IP_E" lladdr "$MAC_E0" dev d1 nud permanent
  in_e ip neigh replace "$IP_D1" lladdr "$MAC_D1" dev e0 nud permanent
  # Settle (veth carrier comes up asynchronously).
  sleep 0.5
}

start_capture() {
  local name=$1
  mkdir -p "$OUT"
  rm -f "$OUT/$name.pcap" "$TMP/tcpdump.err"
  ip netns exec "$NS_A" tcpdump -i a0 -s 0 -U --immediate-mode -n -Z root -w "$OUT/$name.pcap" 2>"$TMP/tcpdump.err" &
  CAPTURE_PID=$!
  local i
  for i in $(seq 1 50); do
    grep -q 'listening on' "$TMP/tcpdump.err" 2>/dev/null && break
    sleep 0.1
  done
  grep -q 'listening on' "$TMP/tcpdump.err" || { cat "$TMP/tcpdump.err" >&2; return 1; }
  sleep 0.2
}

stop_capture() {
  sleep "${1:-0.5}"
  kill -INT "$CAPTURE_PID"
  wait "$CAPTURE_PID" || true
  CAPTURE_PID=""
  grep -E 'packets? captured' "$TMP/tcpdump.err" | sed 's/^/[record]   /' >&2 || true
}

wait_tcp_listen() { # NS PORT
  local i
  for i in $(seq 1 50); do
    ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q . && return 0
    sleep 0.1
  done
  return 1
}

wait_udp_bound() { # NS PORT
  local i
  for i in $(seq 1 50); do
    ip netns exec "$1" ss -Hlun "sport = :$2" | grep -q . && return 0
    sleep 0.1
  done
  return 1
}

# --- python helpers (IGMP) ------------------------------------------------------------------

# join GROUP [SOURCE] ; hold HOLD seconds ; leave ; wait AFTER seconds
PY_JOIN='
import socket, struct, sys, time
group, iface_addr, source, hold, after = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if source == "-":
    mreq = socket.inet_aton(group) + socket.inet_aton(iface_addr)
    add, drop = socket.IP_ADD_MEMBERSHIP, socket.IP_DROP_MEMBERSHIP
else:
    # struct ip_mreq_source (Linux order): multiaddr, interface, sourceaddr
    mreq = socket.inet_aton(group) + socket.inet_aton(iface_addr) + socket.inet_aton(source)
    add, drop = 39, 40   # IP_ADD_SOURCE_MEMBERSHIP, IP_DROP_SOURCE_MEMBERSHIP
s.setsockopt(socket.IPPROTO_IP, add, mreq)
time.sleep(hold)
s.setsockopt(socket.IPPROTO_IP, drop, mreq)
time.sleep(after)
'

# send an IGMP general query (v2: 8 bytes, v3: 12 bytes) to 224.0.0.1 with Router Alert, TTL 1
PY_QUERY='
import socket, struct, sys
version, iface_addr = sys.argv[1], sys.argv[2]
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
max_resp = 10  # 1 s
if version == "2":
    msg = struct.pack("!BBH4s", 0x11, max_resp, 0, socket.inet_aton("0.0.0.0"))
else:
    # resv/S/QRV = 0x02 (QRV 2), QQIC = 125 s, 0 sources
    msg = struct.pack("!BBH4sBBH", 0x11, max_resp, 0, socket.inet_aton("0.0.0.0"), 0x02, 125, 0)
msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, b"\x94\x04\x00\x00")
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(iface_addr))
s.sendto(msg, ("224.0.0.1", 0))
'

# one UDP datagram with the checksum left at zero (SO_NO_CHECK)
PY_UDP_NOCHECK='
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 11, 1)   # SO_NO_CHECK
s.bind(("0.0.0.0", int(sys.argv[3])))
s.sendto(b"wirecheck udp, checksum 0\n", (sys.argv[1], int(sys.argv[2])))
'

# --- scenarios ------------------------------------------------------------------------------

sc_ping() { # echo request/reply through the router to epsilon (reply TTL 63)
  setup; start_capture ping
  in_a ping -n -c 2 -i 0.2 "$IP_E" >/dev/null
  stop_capture
}

sc_ping-fragmented() { # 4000-byte payload: alpha fragments its request, epsilon its reply (MTU 1500)
  setup; start_capture ping-fragmented
  in_a ping -n -c 1 -M dont -s 4000 "$IP_E" >/dev/null
  stop_capture
}

sc_ping-mtu576() { # 1000-byte payload, DF clear: delta fragments the request onto the 576-MTU link;
                   # epsilon (MTU 576) fragments the reply, delta forwards the fragments to alpha
  setup 576; start_capture ping-mtu576
  in_a ping -n -c 1 -M dont -s 1000 "$IP_E" >/dev/null
  stop_capture
}

sc_frag-needed() { # DF set, too big for the 576 link: delta answers ICMP 3/4 with next-hop MTU 576
  setup 576; start_capture frag-needed
  in_a ping -n -c 1 -W 1 -M do -s 1000 "$IP_E" >/dev/null 2>&1 || true
  stop_capture
}

sc_arp() { # kernel ARP resolution (neighbour entries deleted first), then iputils arping x2
  setup
  in_a ip neigh flush dev a0 nud all
  in_d ip neigh del "$IP_A" dev d0
  start_capture arp
  in_a ping -n -c 1 "$IP_D0" >/dev/null
  in_a arping -c 2 -I a0 "$IP_D0" >/dev/null
  stop_capture
}

sc_arp-gratuitous() { # gratuitous ARP: unsolicited request (-U) and unsolicited reply (-A)
  setup; start_capture arp-gratuitous
  in_a arping -U -c 1 -I a0 "$IP_A" >/dev/null || true
  in_a arping -A -c 1 -I a0 "$IP_A" >/dev/null || true
  stop_capture
}

sc_ttl-exceeded() { # TTL 1 past delta: ICMP time exceeded (11/0) from 10.1.0.1 quoting the request
  setup; start_capture ttl-exceeded
  in_a ping -n -c 1 -W 1 -t 1 "$IP_E" >/dev/null 2>&1 || true
  stop_capture
}

sc_net-unreachable() { # delta has no route to 10.3.0.0/16: ICMP destination unreachable 3/0
  setup; start_capture net-unreachable
  in_a ping -n -c 1 -W 1 10.3.0.1 >/dev/null 2>&1 || true
  stop_capture
}

sc_udp() { # two UDP datagrams to an open port: one with a checksum, one with checksum 0
  setup
  in_e socat -u UDP4-RECV:5000 OPEN:/dev/null &
  wait_udp_bound "$NS_E" 5000
  start_capture udp
  printf 'wirecheck udp, with checksum\n' | in_a socat -u - UDP4-SENDTO:"$IP_E":5000,sourceport=40000
  in_a python3 -c "$PY_UDP_NOCHECK" "$IP_E" 5000 40001
  stop_capture
}

sc_udp-port-unreachable() { # UDP to a closed port: ICMP 3/3 from epsilon quoting the UDP header
  setup; start_capture udp-port-unreachable
  printf 'wirecheck udp to a closed port\n' | in_a socat -u - UDP4-SENDTO:"$IP_E":9,sourceport=40000
  stop_capture
}

sc_record-route() { # IP Record Route option (type 7) filled by delta and epsilon
  setup; start_capture record-route
  in_a ping -n -c 1 -R "$IP_E" >/dev/null
  stop_capture
}

sc_ip-timestamp() { # IP Timestamp option (type 68): flag 0 (tsonly), then flag 1 (tsandaddr)
  setup; start_capture ip-timestamp
  in_a ping -n -c 1 -T tsonly "$IP_E" >/dev/null
  in_a ping -n -c 1 -T tsandaddr "$IP_E" >/dev/null
  stop_capture
}

sc_icmp-timestamp() { # ICMP timestamp request (13) and epsilon's reply (14), sent with hping3
  setup; start_capture icmp-timestamp
  in_a hping3 -1 --icmp-ts -c 1 -I a0 "$IP_E" >/dev/null 2>&1 || true
  stop_capture 1
}

sc_icmp-address-mask() { # ICMP address mask request (17); Linux does not answer (RFC 1122 allows it)
  setup; start_capture icmp-address-mask
  in_a hping3 -1 --icmp-addr -c 1 -I a0 "$IP_E" >/dev/null 2>&1 || true
  stop_capture 1
}

sc_igmpv2-join() { # IGMPv2 membership reports for 239.1.2.3 (initial + repeat), then leave to 224.0.0.2
  setup
  in_a sysctl -qw net.ipv4.conf.a0.force_igmp_version=2
  in_a sysctl -qw net.ipv4.conf.a0.igmpv2_unsolicited_report_interval=1000
  start_capture igmpv2-join
  in_a python3 -c "$PY_JOIN" "$GROUP" "$IP_A" - 2.5 0.5
  stop_capture
}

sc_igmpv3-join() { # IGMPv3 reports to 224.0.0.22: TO_EX {} on join (x2), TO_IN {} on leave (x2)
  setup
  in_a sysctl -qw net.ipv4.conf.a0.force_igmp_version=3
  in_a sysctl -qw net.ipv4.conf.a0.igmpv3_unsolicited_report_interval=1000
  start_capture igmpv3-join
  in_a python3 -c "$PY_JOIN" "$GROUP" "$IP_A" - 2.5 2.5
  stop_capture
}

sc_igmpv3-ssm-join() { # source-specific join: ALLOW {10.2.0.2} for 232.1.2.3, then BLOCK {10.2.0.2}
  setup
  in_a sysctl -qw net.ipv4.conf.a0.force_igmp_version=3
  in_a sysctl -qw net.ipv4.conf.a0.igmpv3_unsolicited_report_interval=1000
  start_capture igmpv3-ssm-join
  in_a python3 -c "$PY_JOIN" 232.1.2.3 "$IP_A" "$IP_E" 2.5 2.5
  stop_capture
}

sc_igmpv2-query() { # delta sends an IGMPv2 general query; alpha (member of 239.1.2.3) answers a report
  setup
  in_a sysctl -qw net.ipv4.conf.a0.force_igmp_version=2
  in_a python3 -c "$PY_JOIN" "$GROUP" "$IP_A" - 6 0 &
  local joiner=$!
  sleep 2.5    # let the unsolicited reports pass before the capture starts
  start_capture igmpv2-query
  in_d python3 -c "$PY_QUERY" 2 "$IP_D0"
  stop_capture 1.5
  wait "$joiner" || true
}

sc_igmpv3-query() { # delta sends an IGMPv3 general query; alpha answers a current-state report (IS_EX)
  setup
  in_a sysctl -qw net.ipv4.conf.a0.force_igmp_version=3
  in_a python3 -c "$PY_JOIN" "$GROUP" "$IP_A" - 6 0 &
  local joiner=$!
  sleep 2.5
  start_capture igmpv3-query
  in_d python3 -c "$PY_QUERY" 3 "$IP_D0"
  stop_capture 1.5
  wait "$joiner" || true
}

make_payload() { # 5,376 bytes of numbered text lines (128 x 42)
  awk 'BEGIN { for (i = 0; i < 128; i++) printf "wirecheck tcp line %04d: 0123456789abcdef\n", i }' >"$TMP/payload"
}

tcp_transfer() { # NAME OFFLOAD
  setup 1500 "$2"
  make_payload
  in_e socat -u TCP4-LISTEN:5001,reuseaddr OPEN:/dev/null &
  wait_tcp_listen "$NS_E" 5001
  start_capture "$1"
  in_a socat -u OPEN:"$TMP/payload" TCP4:"$IP_E":5001,sourceport=40001
  stop_capture 1
}

sc_tcp-transfer() { # handshake (MSS/SACK-perm/TS/WS), 5.3 KB alpha -> epsilon, FIN close both ways
  tcp_transfer tcp-transfer off
}

sc_tcp-transfer-offloaded() { # the same with default offloads: partial TCP checksums (on purpose)
  tcp_transfer tcp-transfer-offloaded on
}

sc_tcp-refused() { # SYN to a closed port: RST,ACK from epsilon
  setup; start_capture tcp-refused
  in_a socat -u OPEN:/dev/null TCP4:"$IP_E":5002,sourceport=40002 2>/dev/null || true
  stop_capture
}

# --- main -----------------------------------------------------------------------------------

main() {
  if [[ "${1:-}" == --list ]]; then printf '%s\n' "${SCENARIOS[@]}"; return 0; fi
  if [[ $(id -u) -ne 0 ]]; then echo "record.sh: needs root (network namespaces)" >&2; return 1; fi
  local tool
  for tool in ip tcpdump ethtool ping arping socat hping3 python3 ss awk; do
    command -v "$tool" >/dev/null || { echo "record.sh: missing tool: $tool" >&2; return 1; }
  done
  local todo=("$@")
  if [[ ${#todo[@]} -eq 0 ]]; then todo=("${SCENARIOS[@]}"); fi
  local sc
  for sc in "${todo[@]}"; do
    declare -F "sc_$sc" >/dev/null || { echo "record.sh: unknown scenario: $sc" >&2; return 1; }
  done
  TMP=$(mktemp -d)
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  for sc in "${todo[@]}"; do
    log "$sc"
    "sc_$sc"
    teardown
  done
}

main "$@"
