#!/bin/sh
# Compiles the GPIO shim against libgpiod 2.x headers, which Debian 12 does not ship: PyPI's
# `gpiod` sdist vendors libgpiod's include/ and lib/. Checks the 2.x path both when forced with
# -DREPLENISH_GPIOD_V2 and when detected from the headers alone; then compiles and links the shim
# against the vendored 2.x library sources, so a missing or misspelled symbol fails too.
#
# Usage: Hardware/gpiod2/check.sh [WORKDIR]   (downloads go to WORKDIR, default /tmp/replenish-gpiod2)
# Env:   GPIOD_SDIST_VERSION pins the sdist (default: newest); CC (default gcc).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shims="$root/Sources/CLinuxShims"
work=${1:-/tmp/replenish-gpiod2}
cc=${CC:-gcc}
spec=gpiod${GPIOD_SDIST_VERSION:+==$GPIOD_SDIST_VERSION}

mkdir -p "$work/dl"
if ! ls "$work"/dl/gpiod-*.tar.gz >/dev/null 2>&1; then
    pip download --quiet --no-binary :all: --no-deps "$spec" -d "$work/dl"
fi
sdist=$(ls "$work"/dl/gpiod-*.tar.gz | sort -V | tail -n 1)
src="$work/src"
rm -rf "$src" && mkdir -p "$src"
tar -xzf "$sdist" -C "$src"
header=$(find "$src" -path '*/include/gpiod.h' | head -n 1)
[ -n "$header" ] || { echo "check.sh: no include/gpiod.h in $sdist" >&2; exit 1; }
include=$(dirname "$header")
lib=$(dirname "$include")/lib
version=$(cat "$(dirname "$include")/libgpiod-version.txt" 2>/dev/null || echo unknown)
echo "libgpiod $version headers: $include"

flags="-std=gnu11 -Wall -Wextra -Werror -I$include -I$shims/include"
out="$work/out" && mkdir -p "$out"

# 1. Forced and detected 2.x: both must compile cleanly.
$cc $flags -DREPLENISH_GPIOD_V2 -c "$shims/gpio.c" -o "$out/gpio-forced.o"
$cc $flags -c "$shims/gpio.c" -o "$out/gpio-detected.o"
if ! nm "$out/gpio-detected.o" | grep -q gpiod_chip_get_line_offset_from_name; then
    echo "check.sh: 2.x headers were not detected without -DREPLENISH_GPIOD_V2" >&2
    exit 1
fi
for file in "$shims"/*.c; do
    $cc $flags -c "$file" -o "$out/$(basename "$file" .c).o"
done
echo "compiled: $(cd "$shims" && ls *.c | tr '\n' ' ')against libgpiod $version"

# 2. Link against libgpiod 2.x built from the vendored sources, so every symbol the shim uses exists.
if [ -d "$lib" ]; then
    for file in "$lib"/*.c; do
        $cc -std=gnu11 -w -D_GNU_SOURCE -DGPIOD_VERSION_STR="\"$version\"" -DGPIOD_API_VERSION_STR="\"$version\"" -I"$include" -I"$lib" \
            -c "$file" -o "$out/lib-$(basename "$file" .c).o"
    done
    cat > "$out/main.c" <<'C'
#include "CLinuxShims.h"
#include <stdio.h>
int main(void) {
    rpl_gpio_chip *chip = rpl_gpio_chip_open("replenish-no-such-chip");
    printf("libgpiod API %d; opening a missing chip: %s\n", rpl_gpio_api_major(), chip ? "found?!" : "not found, as expected");
    return chip ? 1 : 0;
}
C
    $cc $flags -c "$out/main.c" -o "$out/main.o"
    $cc -o "$out/shim-v2" "$out/main.o" "$out/gpio.o" "$out/wake.o" "$out/i2c.o" "$out/device.o" "$out"/lib-*.o
    "$out/shim-v2"
fi
echo "gpiod 2.x check: OK"
