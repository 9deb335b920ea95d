#!/usr/bin/env bash
# System tier: `wirecheck host` on a TAP device in a network namespace of its own, with the
# Linux kernel of that namespace as its peer, checked with the ordinary tools (ping, arping,
# nc, socat) and peer.py's kernel-socket clients. Needs root and /dev/net/tun.
#
#   tap.sh WIRECHECK                          functional checks
#   tap.sh WIRECHECK --bench SMOLTCP_HOST     throughput beside smoltcp (release builds!)
#
# Functional checks: ping (and ping -s 4000, fragmented both ways), arping, UDP echo (nc -u),
# TCP echo (nc, socat), 100 MB into discard and 100 MB out of chargen with byte counts checked,
# 50 concurrent echo connections, a RST for a closed port (seen in the --pcap capture), a clean
# stop on SIGINT, clear errors for a missing device and for a user without permission.
#
# Bench: the kernel sends 100 MB to discard and reads 100 MB from chargen, against wirecheck
# on one TAP device and smoltcp 0.14 (conformance/examples/smoltcp_host.rs) on another in the
# same namespace, alternating, ROUNDS times; medians and ratios are printed.
#
# Traffic never leaves the namespace: the addresses are documentation prefixes on TAP devices
# whose only other end is this script's processes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
peer="python3 $here/peer.py"
wirecheck=${1:?usage: tap.sh WIRECHECK [--bench SMOLTCP_HOST]}
bench=
if [ "${2:-}" = "--bench" ]; then
    bench=${3:?--bench needs the smoltcp_host binary}
fi
: "${BYTES:=100000000}"
: "${ROUNDS:=3}"

if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
    echo "system tier not run: needs root and /dev/net/tun" >&2
    exit 77
fi
missing=
for tool in ip ping arping nc socat tcpdump python3 awk; do
    command -v "$tool" >/dev/null || missing="$missing $tool"
done
if [ -n "$missing" ]; then
    echo "system tier not run: missing tools:$missing (apt-get install iproute2 iputils-ping iputils-arping netcat-openbsd socat tcpdump python3)" >&2
    exit 77
fi

ns=wirecheck-tap-$$
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
    sleep 0.2
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

nsx() { ip netns exec "$ns" "$@"; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
pass=0
ok() { pass=$((pass + 1)); printf '  ok   %s\n' "$*"; }
fail() { printf '  FAIL %s\n' "$*" >&2; [ -f "$tmp/host.log" ] && sed 's/^/       host: /' "$tmp/host.log" >&2; exit 1; }

ip netns add "$ns"
ip -n "$ns" link set lo up
# The TAP device and the kernel's side of the link: 192.0.2.1 is the kernel, .2 our host.
ip -n "$ns" tuntap add dev wc0 mode tap
ip -n "$ns" addr add 192.0.2.1/24 dev wc0
ip -n "$ns" link set wc0 up

# Starts a host in the background; waits until it answers ping.
start_host() { # name address log cmd...
    local name=$1 address=$2 log=$3
    shift 3
    ip netns exec "$ns" "$@" 2>"$log" & # not through nsx: $! must be the host itself
    pids+=($!)
    for _ in $(seq 50); do
        if nsx ping -c 1 -W 1 -q "$address" >/dev/null 2>&1; then return 0; fi
        kill -0 "${pids[-1]}" 2>/dev/null || { cat "$log" >&2; fail "$name did not start"; }
        sleep 0.1
    done
    fail "$name does not answer ping at $address"
}

# Stops the last started host with SIGINT and waits (bounded) for it.
stop_host() {
    local pid=${pids[-1]}
    kill -INT "$pid"
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && fail "host did not stop on SIGINT"
    wait "$pid" || fail "host exited with status $? after SIGINT"
    unset 'pids[-1]'
}

if [ -z "$bench" ]; then
    echo "==> wirecheck host on a TAP device, the Linux kernel as its peer"
    out=$("$wirecheck" host --tap wc-missing0 --addr 192.0.2.9/24 2>&1) && fail "a missing device was accepted"
    echo "$out" | grep -q "no TAP device wc-missing0" || fail "unclear error for a missing device: $out"
    ok "a missing device is a clear error: $out"

    if command -v setpriv >/dev/null; then
        # An unprivileged user: a copy of the binary it can run, the device owned by root.
        chmod 755 "$tmp" && install -m 755 "$wirecheck" "$tmp/wirecheck-unprivileged"
        out=$(nsx setpriv --reuid=65534 --regid=65534 --clear-groups \
            "$tmp/wirecheck-unprivileged" host --tap wc0 --addr 192.0.2.2/24 2>&1) \
            && fail "an unprivileged user attached to wc0"
        echo "$out" | grep -q "permission denied attaching to TAP device wc0" \
            || fail "unclear error without permission: $out"
        ok "no permission is a clear error: $out"
    fi

    start_host wirecheck 192.0.2.2 "$tmp/host.log" \
        "$wirecheck" host --tap wc0 --addr 192.0.2.2/24 --pcap "$tmp/host.pcap"

    out=$(nsx ping -c 3 -i 0.2 -W 1 192.0.2.2) || fail "ping: $out"
    echo "$out" | grep -q " 0% packet loss" || fail "ping lost packets: $out"
    ok "ping: $(echo "$out" | tail -1)"

    out=$(nsx ping -c 2 -i 0.2 -W 1 -s 4000 192.0.2.2) || fail "ping -s 4000: $out"
    echo "$out" | grep -q "4008 bytes from 192.0.2.2" || fail "ping -s 4000: $out"
    ok "ping -s 4000 (fragmented both ways): $(echo "$out" | tail -1)"

    out=$(nsx arping -c 2 -w 3 -I wc0 192.0.2.2) || fail "arping: $out"
    echo "$out" | grep -qi "reply from 192.0.2.2 \[02:00:C0:00:02:02\]" || fail "arping: $out"
    ok "arping: $(echo "$out" | grep -ci reply) replies from 02:00:c0:00:02:02"

    out=$(echo "udp echo $$" | nsx nc -u -w 1 192.0.2.2 7) || true
    [ "$out" = "udp echo $$" ] || fail "UDP echo with nc -u gave '$out'"
    ok "UDP echo (nc -u)"

    out=$(printf 'tcp echo %s\n' $$ | nsx nc -N -w 5 192.0.2.2 7) || fail "nc: $out"
    [ "$out" = "tcp echo $$" ] || fail "TCP echo with nc gave '$out'"
    ok "TCP echo (nc)"
    head -c 1000000 /dev/urandom >"$tmp/random"
    nsx socat -t 5 -T 10 - TCP:192.0.2.2:7,shut-down <"$tmp/random" >"$tmp/echoed"
    cmp -s "$tmp/random" "$tmp/echoed" || fail "TCP echo with socat: 1 MB came back different"
    ok "TCP echo (socat, 1 MB of random octets)"

    start=$(date +%s.%N)
    head -c "$BYTES" /dev/zero | nsx socat -u -T 30 - TCP:192.0.2.2:9
    ok "$BYTES octets into discard (socat; counted by the host below) in $(elapsed "$start") s"

    start=$(date +%s.%N)
    # socat fails on the pipe head closes: only the count matters.
    got=$(set +o pipefail; nsx socat -u -T 30 TCP:192.0.2.2:19 - 2>/dev/null | head -c "$BYTES" | wc -c)
    [ "$got" = "$BYTES" ] || fail "chargen gave $got octets, not $BYTES"
    ok "$BYTES octets out of chargen (socat | head | wc -c) in $(elapsed "$start") s"
    out=$(nsx $peer chargen 192.0.2.2 19 10000000 --verify) || fail "chargen pattern: $out"
    ok "chargen pattern is RFC 864's over 10 MB: $out"

    out=$(nsx $peer concurrent 192.0.2.2 7 50 65536) || fail "50 concurrent echo connections: $out"
    ok "50 concurrent TCP echo connections, 64 KiB each, every octet back: $out"

    out=$(nsx $peer refused 192.0.2.2 8) || fail "closed port: $out"
    nsx nc -z -w 2 192.0.2.2 8 && fail "nc connected to a closed port"
    ok "the kernel's connect to closed port 8 is refused"

    stop_host
    grep -q "wirecheck host: stopped" "$tmp/host.log" || fail "no summary after SIGINT"
    ok "SIGINT stops the host cleanly: $(grep 'stopped' "$tmp/host.log" | cut -c1-80)…"
    # Discard counted every octet: socat's BYTES, plus none from anywhere else.
    grep -q "discard $BYTES octets" "$tmp/host.log" || fail "discard did not count $BYTES octets"
    ok "discard counted exactly $BYTES octets"
    rsts=$(tcpdump -nr "$tmp/host.pcap" 'src host 192.0.2.2 and tcp src port 8 and tcp[tcpflags] & tcp-rst != 0' 2>/dev/null | wc -l)
    [ "$rsts" -ge 2 ] || fail "no RST from port 8 in the capture"
    frames=$(tcpdump -nr "$tmp/host.pcap" 2>/dev/null | wc -l)
    grep -q "wirecheck host: $frames frames written" "$tmp/host.log" || fail "the capture has $frames frames, the host says otherwise"
    ok "--pcap recorded all $frames frames, among them $rsts RSTs from port 8"
    frags=$(tcpdump -nr "$tmp/host.pcap" 'src host 192.0.2.2 and icmp and (ip[6:2] & 0x3fff != 0)' 2>/dev/null | wc -l)
    [ "$frags" -ge 4 ] || fail "the 4000-octet echo replies were not fragmented ($frags fragments)"
    ok "echo replies to ping -s 4000 went out in $frags fragments"
    echo "$pass passed, 0 failed"
    exit 0
fi

echo "==> throughput: the kernel against wirecheck and smoltcp 0.14, $BYTES octets, $ROUNDS rounds"
ip -n "$ns" tuntap add dev wc1 mode tap
ip -n "$ns" addr add 198.51.100.1/24 dev wc1
ip -n "$ns" link set wc1 up
start_host wirecheck 192.0.2.2 "$tmp/host.log" "$wirecheck" host --tap wc0 --addr 192.0.2.2/24
start_host smoltcp 198.51.100.2 "$tmp/smoltcp.log" "$bench" --tap wc1 --addr 198.51.100.2/24

# CPU time (user + system, clock ticks) of a process: the host's own work and the kernel work
# done in its context (the kernel's TCP handling what the host writes). Less sensitive to other
# load on the machine than wall-clock throughput.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
tick=$(getconf CLK_TCK)

measure() { # direction address pid → "MB/s CPU-ms-per-100MB"
    local out before after
    before=$(cpu_ticks "$3")
    if [ "$1" = discard ]; then
        out=$(nsx $peer discard "$2" 9 "$BYTES") || fail "$1 to $2: $out"
    else
        out=$(nsx $peer chargen "$2" 19 "$BYTES") || fail "$1 from $2: $out"
    fi
    after=$(cpu_ticks "$3")
    python3 -c 'import json,sys; print(json.loads(sys.argv[1])["mb_per_s"], round((int(sys.argv[3]) - int(sys.argv[2])) * 1000 / int(sys.argv[4]) * 1e8 / int(sys.argv[5])))' \
        "$out" "$before" "$after" "$tick" "$BYTES"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

ours_pid=${pids[0]}
theirs_pid=${pids[1]}
declare -A results
for direction in discard chargen; do
    ours=() theirs=() ours_cpu=() theirs_cpu=()
    for round in $(seq "$ROUNDS"); do
        read -r rate cpu <<<"$(measure $direction 192.0.2.2 "$ours_pid")"
        ours+=("$rate") ours_cpu+=("$cpu")
        read -r rate cpu <<<"$(measure $direction 198.51.100.2 "$theirs_pid")"
        theirs+=("$rate") theirs_cpu+=("$cpu")
    done
    o=$(median "${ours[@]}")
    t=$(median "${theirs[@]}")
    oc=$(median "${ours_cpu[@]}")
    tc=$(median "${theirs_cpu[@]}")
    ratio=$(python3 -c "print(f'{$o / $t:.2f}')")
    cpu_ratio=$(python3 -c "print(f'{$tc / max($oc, 1):.2f}')")
    results[$direction]="$o $t $ratio"
    label=$([ $direction = discard ] && echo "kernel → discard" || echo "chargen → kernel")
    printf '  %-17s wirecheck %7s MB/s   smoltcp %7s MB/s   ratio %sx   (rounds: %s | %s)\n' \
        "$label" "$o" "$t" "$ratio" "${ours[*]}" "${theirs[*]}"
    printf '  %-17s host CPU per 100 MB: wirecheck %s ms, smoltcp %s ms (smoltcp/wirecheck %sx)\n' \
        "" "$oc" "$tc" "$cpu_ratio"
done
for direction in discard chargen; do
    read -r _ _ ratio <<<"${results[$direction]}"
    if python3 -c "import sys; sys.exit(0 if $ratio >= 1.0 else 1)"; then
        echo "  $direction: wirecheck at ${ratio}x smoltcp (goal >= 1.0x): met"
    else
        echo "  $direction: wirecheck at ${ratio}x smoltcp (goal >= 1.0x): NOT met"
    fi
done
