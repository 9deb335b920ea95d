#!/usr/bin/env bash
# Whole-process comparison of `wirecheck decode --format json` with `tshark -T fields` (the same
# fields: shared oracle's fields.txt) and `tcpdump -n -r`, on one large capture, in one run:
# packets per second and peak memory (maximum resident set size) of each.
#
# Usage: conformance/bench/decode-vs-tshark.sh [CAPTURE]
#   CAPTURE defaults to a 1 GiB file made by make-big-capture.py (in $TMPDIR, reused if there).
# Needs: tshark, tcpdump, GNU time (/usr/bin/time), python3; builds wirecheck in release mode.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
capture=${1:-${TMPDIR:-/tmp}/wirecheck-big.pcap}
if [[ ! -s "$capture" ]]; then
    python3 "$here/make-big-capture.py" "$capture" 1024
fi
for tool in tshark tcpdump /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 2; }
done
cargo build --release -q -p wirecheck-conformance --manifest-path "$root/Cargo.toml"
wirecheck="$root/target/release/wirecheck"

fields=()
while read -r f; do fields+=(-e "$f"); done <"$root/captures/oracle/fields.txt"

# run NAME COMMAND...: prints "NAME seconds max_rss_kb output_lines"
run() {
    local name=$1; shift
    local stats
    stats=$(mktemp)
    local lines
    lines=$( { /usr/bin/time -f '%e %M' -o "$stats" "$@" 2>/dev/null; } | wc -l)
    read -r secs rss <"$stats"
    rm -f "$stats"
    printf '%s %s %s %s\n' "$name" "$secs" "$rss" "$lines"
}

# Read the file once first so that every tool finds it in the page cache (the first tool
# would otherwise pay for the disk alone).
cat "$capture" >/dev/null
packets=$("$wirecheck" verify -q "$capture" | sed -n 's/.*: \([0-9]*\) packets.*/\1/p')
size=$(stat -c %s "$capture")
echo "capture: $capture, $size bytes, $packets packets, $(nproc) cores"
results=$(
    run wirecheck "$wirecheck" decode --format json "$capture"
    run tshark tshark -n -r "$capture" -T fields -E header=y -E separator=/t -E occurrence=f \
        -o ip.defragment:FALSE -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
        -o tcp.check_checksum:TRUE -o tcp.relative_sequence_numbers:FALSE \
        -o tcp.analyze_sequence_numbers:FALSE -o tcp.desegment_tcp_streams:FALSE "${fields[@]}"
    run tcpdump tcpdump -n -r "$capture"
)
echo "$results" | awk -v packets="$packets" '
    { name[NR] = $1; secs[NR] = $2; rss[NR] = $3; lines[NR] = $4 }
    END {
        printf "%-10s %10s %14s %14s %12s\n", "tool", "seconds", "packets/s", "peak RSS MiB", "lines out"
        for (i = 1; i <= NR; i++)
            printf "%-10s %10.2f %14.0f %14.1f %12d\n", name[i], secs[i], packets / secs[i], rss[i] / 1024, lines[i]
        printf "\nwirecheck vs tshark: %.1fx packets/s, %.2fx peak memory\n", secs[2] / secs[1], rss[1] / rss[2]
        printf "wirecheck vs tcpdump: %.1fx packets/s, %.2fx peak memory\n", secs[3] / secs[1], rss[1] / rss[3]
    }'
