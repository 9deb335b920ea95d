#!/usr/bin/env bash
# A short fuzz run of every target, for CI.
#
#   fuzz/run-ci.sh                     each target for 30 s
#   FUZZ_SECONDS=300 fuzz/run-ci.sh    longer
#   FUZZ_TARGETS="frame_decode reassemble" fuzz/run-ci.sh
#
# Installs cargo-fuzz if missing (needs a nightly toolchain), regenerates the seed corpora from
# captures/, builds all targets once, runs each for FUZZ_SECONDS (`-max_total_time`), and prints
# executions per second per target and the total time. Fails if any target finds a crash, a
# timeout (an input taking over FUZZ_TIMEOUT seconds: a loop) or an input using more than
# FUZZ_RSS_MB of memory; the crashing input is in fuzz/artifacts/<target>/ and the log says how
# to reproduce it (`cargo +nightly fuzz run <target> <artifact>`).
#
# Targets are built without a sanitizer by default (FUZZ_SANITIZER=none): the codec forbids
# unsafe code, so AddressSanitizer finds nothing there and costs 3 to 8 times the executions.
# Set FUZZ_SANITIZER=address to fuzz the dependencies' unsafe code too.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
seconds="${FUZZ_SECONDS:-30}"
sanitizer="${FUZZ_SANITIZER:-none}"
timeout="${FUZZ_TIMEOUT:-10}"
rss_mb="${FUZZ_RSS_MB:-1024}"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
started=$(date +%s)

cd "$root"

if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
    echo "== installing the $toolchain toolchain"
    rustup toolchain install "$toolchain" --profile minimal || exit 1
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked || exit 1
fi

echo "== seed corpora"
"$here/seed-corpus.sh" "$here/corpus" || exit 1

echo "== building the fuzz targets (sanitizer: $sanitizer)"
cargo "+$toolchain" fuzz build --sanitizer "$sanitizer" || exit 1

if [[ -n "${FUZZ_TARGETS:-}" ]]; then
    read -r -a targets <<<"$FUZZ_TARGETS"
else
    mapfile -t targets < <(cargo "+$toolchain" fuzz list)
fi

logs="$here/artifacts/logs"
mkdir -p "$logs"
declare -a report
failed=0
for target in "${targets[@]}"; do
    echo "== $target: ${seconds}s"
    log="$logs/$target.log"
    mkdir -p "$here/corpus/$target"
    extra=()
    if [[ -f "$here/dict/$target.dict" ]]; then
        extra+=(-dict="$here/dict/$target.dict")
    fi
    cargo "+$toolchain" fuzz run --sanitizer "$sanitizer" "$target" "$here/corpus/$target" -- \
        -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb="$rss_mb" \
        -print_final_stats=1 "${extra[@]}" >"$log" 2>&1
    status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [[ $status -eq 0 ]]; then
        result=ok
    else
        failed=1
        result="FAILED (exit $status)"
        grep -E "panicked at|ERROR: libFuzzer|SUMMARY|Test unit written|Base64" "$log" | head -12
        echo "   full log: $log"
    fi
    report+=("$(printf '%-20s %12s runs %10s exec/s   %s' "$target" "${runs:-?}" "${rate:-?}" "$result")")
done

echo
echo "== fuzz summary (${seconds}s per target, sanitizer $sanitizer)"
printf '%s\n' "${report[@]}"
echo "total time: $(($(date +%s) - started))s"
exit $failed
