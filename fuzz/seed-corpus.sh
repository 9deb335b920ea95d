#!/usr/bin/env bash
# Regenerates the fuzz targets' seed corpora from the captures in captures/ (recorded and
# third-party): every frame into the frame and per-protocol targets' corpora, whole files into
# capture_read's; scenario files into scenario_parse's; scripted TCP sessions (every connection
# state; wirecheck_stack::fuzzing::tcp_sessions) into stack_drive's. Idempotent: seeds are named
# by a hash of their content.
#
#   fuzz/seed-corpus.sh [CORPUS_DIR]      (default: fuzz/corpus)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
corpus="${1:-$here/corpus}"
mkdir -p "$corpus"
cargo run --quiet --manifest-path "$here/seeds/Cargo.toml" -- \
    "$corpus" "$root/captures/recorded" "$root/captures/third-party"
# The scenario parser's seeds: wirecheck's scenarios and, when it is beside the repository,
# FreeBSD's packetdrill suite (named by content hash, like the others).
mkdir -p "$corpus/scenario_parse"
for f in "$root"/conformance/scenarios/*/*.pkt "$root"/../shared/peer-suites/freebsd-tcp-testsuite/*/*.pkt \
    "$root"/../shared/peer-suites/freebsd-tcp-testsuite/*/*/*.pkt; do
    [[ -f "$f" ]] || continue
    cp "$f" "$corpus/scenario_parse/$(sha1sum "$f" | cut -c1-40)"
done
