#!/usr/bin/env bash
# regenerate-readings.sh — Wireshark's reading of every capture, stored next to the capture.
#
# Usage:   captures/regenerate-readings.sh            rewrite all readings
#          captures/regenerate-readings.sh --check    compare with the stored readings; exit 1 on
#                                                      any difference, missing or orphan reading
#
# For every *.pcap / *.pcapng below captures/recorded/ and captures/third-party/:
#   - if tshark reads it:  NAME.tshark.tsv = oracle/tshark-reading.sh FILE
#   - if that reading shows IPv4 fragments: NAME.tshark.reassembled.tsv, the same reading with
#     Wireshark's IPv4 reassembly on (oracle/tshark-reassembled-reading.sh)
#   - if tshark refuses it: NAME.tshark.unreadable = tshark's error message (the file name replaced
#     by FILE), so tests know which files the reference reader rejects.
# NAME is the file name without its .pcap/.pcapng extension; when two captures in one folder share
# that stem (third-party/tcpdump/empty.pcap and empty.pcapng) NAME is the full file name instead
# (empty.pcap.tshark.tsv, empty.pcapng.tshark.tsv).
#
# oracle/tshark-reading.sh and oracle/fields.txt are copies of /work/shared/oracle/ (the project's
# reference reading, see ORACLE.md there); set TSHARK_READING=/path/to/tshark-reading.sh to use
# another copy. Personal Wireshark preferences are ignored (WIRESHARK_CONFIG_DIR points to an
# empty folder). The tshark version that made the stored readings is in TSHARK_VERSION; --check
# warns when the installed one differs, since a different Wireshark may read some fields
# differently. Regenerating rewrites TSHARK_VERSION.
#
# Needs: tshark (Debian: apt-get install -y tshark). Does not need root.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
READING=${TSHARK_READING:-$HERE/oracle/tshark-reading.sh}
REASSEMBLED_READING=$HERE/oracle/tshark-reassembled-reading.sh
CHECK=0
case "${1:-}" in
  --check) CHECK=1 ;;
  "") ;;
  -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

command -v tshark >/dev/null || { echo "regenerate-readings.sh: tshark not found" >&2; exit 2; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/config"
export WIRESHARK_CONFIG_DIR="$TMP/config"

version=$(tshark -v 2>/dev/null | head -n 1)

cd "$HERE"
mapfile -t captures < <(find recorded third-party -type f \( -name '*.pcap' -o -name '*.pcapng' \) | LC_ALL=C sort)

# reading base name (without .tshark.*) for a capture
base_of() {
  local f=$1 stem
  stem=${f%.*}
  if [[ -e "$stem.pcap" && -e "$stem.pcapng" ]]; then printf '%s\n' "$f"; else printf '%s\n' "$stem"; fi
}

# make_reading CAPTURE OUTDIR_PREFIX -> writes PREFIX.tshark.tsv or PREFIX.tshark.unreadable
make_reading() {
  local f=$1 out=$2 rc=0
  "$READING" "$f" >"$TMP/out.tsv" || rc=$?
  if [[ $rc -eq 0 ]]; then
    mv "$TMP/out.tsv" "$out.tshark.tsv"
    # Captures holding IPv4 fragments also get the reading with reassembly on.
    if awk -F'\t' 'NR==1 { for (i = 1; i <= NF; i++) { if ($i == "ip.flags.mf") mf = i; if ($i == "ip.frag_offset") off = i } next }
                   ($mf == "1" || $mf == "True" || ($off != "" && $off != "0")) { found = 1 } END { exit !found }' "$out.tshark.tsv"; then
      "$REASSEMBLED_READING" "$f" >"$out.tshark.reassembled.tsv"
    fi
  else
    # tshark refuses the file: keep its message (without the root warning and the file name).
    tshark -n -r "$f" -c 1 2>&1 >/dev/null | grep -v '^Running as user' | sed "s|$f|FILE|g" >"$out.tshark.unreadable" || true
  fi
}

status=0
declare -A expected=()
for f in "${captures[@]}"; do
  b=$(base_of "$f")
  if [[ $CHECK -eq 1 ]]; then
    mkdir -p "$TMP/new/$(dirname "$b")"
    make_reading "$f" "$TMP/new/$b"
    for kind in tsv unreadable reassembled.tsv; do
      new="$TMP/new/$b.tshark.$kind" old="$b.tshark.$kind"
      if [[ -e "$new" ]]; then
        expected[$old]=1
        if [[ ! -e "$old" ]]; then echo "missing: $old"; status=1
        elif ! cmp -s "$new" "$old"; then
          echo "differs: $old"; { diff "$old" "$new" || true; } | head -n 10 | sed "s/^/    /"; status=1
        fi
      fi
    done
  else
    rm -f "$b.tshark.tsv" "$b.tshark.unreadable" "$b.tshark.reassembled.tsv"
    make_reading "$f" "$b"
    for kind in tsv unreadable reassembled.tsv; do [[ -e "$b.tshark.$kind" ]] && expected[$b.tshark.$kind]=1; done
  fi
done

# readings whose capture is gone
while IFS= read -r r; do
  if [[ -z "${expected[$r]:-}" ]]; then
    if [[ $CHECK -eq 1 ]]; then echo "orphan: $r"; status=1; else rm -f "$r"; echo "removed orphan: $r"; fi
  fi
done < <(find recorded third-party -type f \( -name '*.tshark.tsv' -o -name '*.tshark.unreadable' -o -name '*.tshark.reassembled.tsv' \) | LC_ALL=C sort)

if [[ $CHECK -eq 1 ]]; then
  stored=$(cat TSHARK_VERSION 2>/dev/null || true)
  if [[ "$stored" != "$version" ]]; then
    echo "warning: readings were made with '$stored', installed is '$version'" >&2
  fi
  if [[ $status -eq 0 ]]; then echo "readings: ${#captures[@]} captures, all current"; fi
  exit $status
fi

printf '%s\n' "$version" >TSHARK_VERSION
echo "readings: ${#captures[@]} captures, $(find recorded third-party -name '*.tshark.tsv' | wc -l) readings, $(find recorded third-party -name '*.tshark.unreadable' | wc -l) unreadable"
