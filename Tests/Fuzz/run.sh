#!/usr/bin/env bash
# Runs the libFuzzer targets built by `make fuzz` for RUNS executions each, starting from the
# corpus kept in the repo (Tests/Fuzz/Corpus/<target>), then merges the inputs that found new
# coverage back into it (libFuzzer's -merge=1: only what adds coverage is kept). A crash stops the
# run with libFuzzer's report; the input is saved under .build/fuzz/artifacts/ to replay with
#   .build/fuzz/debug/fuzz-<target> .build/fuzz/artifacts/crash-...
# usage: [FUZZ_TARGETS="commands config sequence"] Tests/Fuzz/run.sh RUNS
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-1000000}
build="$top/.build/fuzz"
mkdir -p "$build/artifacts"
summary=()
for target in ${FUZZ_TARGETS:-commands config sequence}; do
    # Inputs a little over each decoder's own bound (4 KiB command payloads), so the bound is hit.
    case $target in commands) max_len=4200 ;; config) max_len=8192 ;; sequence) max_len=8192 ;; esac
    corpus="$top/Tests/Fuzz/Corpus/$target" scratch="$build/corpus-$target"
    rm -rf "$scratch" && mkdir -p "$scratch"
    log="$build/fuzz-$target.log"
    echo "fuzz: $target, $runs runs (log $log)"
    started=$(date +%s)
    if ! "$build/debug/fuzz-$target" -runs="$runs" -max_len=$max_len -print_final_stats=1 \
            -artifact_prefix="$build/artifacts/$target-" "$scratch" "$corpus" > "$log" 2>&1; then
        tail -40 "$log" >&2
        echo "fuzz: $target FAILED; the input is in $build/artifacts/" >&2
        exit 1
    fi
    seconds=$(( $(date +%s) - started ))
    done_line=$(grep -E '^Done [0-9]+ runs' "$log" | tail -1)
    cov=$(grep -E '^#[0-9]+.*DONE' "$log" | tail -1 | grep -o 'cov: [0-9]*' || true)
    before=$(ls "$corpus" | wc -l)
    "$build/debug/fuzz-$target" -merge=1 -max_len=$max_len "$corpus" "$scratch" > "$build/merge-$target.log" 2>&1
    after=$(ls "$corpus" | wc -l)
    summary+=("| $target | ${done_line#Done } | $seconds s | 0 | ${cov#cov: } | $before -> $after |")
done
echo
echo "| target | executions | wall time | crashes | edges covered | corpus files (repo) |"
echo "|---|---|---:|---:|---:|---|"
printf '%s\n' "${summary[@]}"
