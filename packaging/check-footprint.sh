#!/usr/bin/env bash
# Fails when a built replenishd links full Foundation or ICU: one stray API (String(format:),
# JSONSerialization, Thread, a named TimeZone through Foundation, Yams) pulls in Foundation,
# FoundationInternationalization and ICU's 32 MiB data table, 42 MB in all. Looks at the
# unstripped binary's symbols (Swift mangles module Foundation as 10Foundation) and for ICU's data
# table, and prints the size it is about.
# usage: check-footprint.sh BINARY [MAX_STRIPPED_MB]
set -euo pipefail
binary=$1 max_mb=${2:-20}
fail() { echo "check-footprint: $*" >&2; exit 1; }
[ -x "$binary" ] || fail "$binary: no such executable (make release first)"
symbols=$(nm "$binary" 2>/dev/null || true)
[ -n "$symbols" ] || fail "$binary has no symbol table; give the unstripped build"
foundation=$(grep -cE '\$s10Foundation|31FoundationInternationalization' <<< "$symbols" || true)
icu=$(grep -ciE 'icudt[0-9]+_dat|ucal_open|ubrk_open' <<< "$symbols" || true)
stripped=$(mktemp)
trap 'rm -f "$stripped"' EXIT
strip -o "$stripped" "$binary"
size=$(stat -c %s "$stripped")
echo "check-footprint: $binary: $((size / 1024)) KiB stripped; full-Foundation symbols: $foundation; ICU symbols: $icu"
if [ "$foundation" -gt 0 ]; then
    fail "full Foundation is linked; first of them: $(grep -m1 -E '\$s10Foundation|31FoundationInternationalization' <<< "$symbols" | awk '{print $NF}')"
fi
[ "$icu" -eq 0 ] || fail "ICU is linked: $(grep -m1 -iE 'icudt[0-9]+_dat|ucal_open|ubrk_open' <<< "$symbols" | awk '{print $NF}')"
[ "$size" -le $((max_mb * 1000 * 1000)) ] || fail "stripped binary is $size bytes, more than $max_mb MB"
echo "check-footprint: no full Foundation, no ICU, within $max_mb MB"
