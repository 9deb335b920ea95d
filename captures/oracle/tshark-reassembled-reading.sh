#!/bin/sh
# Like tshark-reading.sh, with IPv4 reassembly ON: the frame that completes a datagram carries
# the reassembled datagram's transport fields. Prints Wireshark's reading of a capture as TSV: one header line, then one line per packet,
# one column per field in fields.txt (first occurrence of each field: the outermost header).
# Usage: tshark-reading.sh CAPTURE > CAPTURE.tshark.tsv
set -e
here=$(dirname "$0")
args=""
for f in $(cat "$here/fields.txt"); do args="$args -e $f"; done
exec tshark -n -r "$1" -T fields -E header=y -E separator=/t -E occurrence=f -E quote=n \
  -o ip.defragment:TRUE -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
  -o tcp.check_checksum:TRUE -o tcp.relative_sequence_numbers:FALSE \
  -o tcp.analyze_sequence_numbers:FALSE -o tcp.desegment_tcp_streams:FALSE \
  -o udp.try_heuristic_first:FALSE $args 2>/dev/null
