#!/usr/bin/env bash
# Checks the built .deb: its control data, every file with owner and mode, the conffile, that
# the binary needs no Swift runtime and runs, that the default config passes `check`, and (as
# root, unless CHECK_DEB_INSTALL=0) a real install and purge with the maintainer scripts.
# usage: check-deb.sh PACKAGE.deb
set -euo pipefail
deb=$1
fail() { echo "check-deb: $*" >&2; exit 1; }

info=$(dpkg-deb -I "$deb")
contents=$(dpkg-deb -c "$deb")
echo "$info"
echo "$contents"

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = replenishd ] || fail "Package is $(field Package)"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture is $(field Architecture)"
for dep in libc6 libmosquitto1 libgpiod2 libsqlite3-0 libsystemd0; do
    field Depends | grep -q "$dep" || fail "Depends lacks $dep: $(field Depends)"
done
echo "$info" | grep -Eq ' conffiles +$' || fail "no conffiles member"

# path, mode: every one present, owned by root, with exactly this mode.
expect() {
    local mode=$1 path=$2 line
    line=$(echo "$contents" | awk -v p="./$path" '$6 == p') || true
    [ -n "$line" ] || fail "missing $path"
    [ "$(echo "$line" | awk '{print $1}')" = "$mode" ] || fail "$path has mode $(echo "$line" | awk '{print $1}'), want $mode"
    [ "$(echo "$line" | awk '{print $2}')" = root/root ] || fail "$path is owned by $(echo "$line" | awk '{print $2}')"
}
expect -rwxr-xr-x usr/bin/replenishd
expect -rw-r--r-- lib/systemd/system/replenishd.service
expect -rw-r--r-- usr/lib/sysusers.d/replenishd.conf
expect -rw-r--r-- usr/lib/tmpfiles.d/replenishd.conf
expect -rw-r--r-- lib/udev/rules.d/60-replenishd.rules
expect -rw-r--r-- etc/replenishd/replenishd.yaml
expect -rw-r--r-- usr/share/man/man1/replenishd.1.gz
expect -rw-r--r-- usr/share/man/man1/replenishd.status.1.gz
expect -rw-r--r-- usr/share/bash-completion/completions/replenishd
expect -rw-r--r-- usr/share/zsh/vendor-completions/_replenishd
expect -rw-r--r-- usr/share/fish/vendor_completions.d/replenishd.fish
expect -rw-r--r-- usr/share/doc/replenishd/copyright
for profile in coffee-machine laser-printer water-filter battery-camera; do
    expect -rw-r--r-- "usr/share/replenishd/profiles/$profile.yaml"
done

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
dpkg-deb -x "$deb" "$scratch/root"
dpkg-deb -e "$deb" "$scratch/control"
grep -qx /etc/replenishd/replenishd.yaml "$scratch/control/conffiles" || fail "the config is not a conffile"
for script in postinst prerm postrm; do
    [ -x "$scratch/control/$script" ] || fail "$script missing or not executable"
    sh -n "$scratch/control/$script" || fail "$script does not parse"
done
binary="$scratch/root/usr/bin/replenishd"
if ldd "$binary" | grep -q libswift; then fail "the binary links the Swift runtime: $(ldd "$binary" | grep libswift)"; fi
"$binary" --version | grep -q "$(field Version)" || fail "--version does not say $(field Version)"
"$binary" check --config "$scratch/root/etc/replenishd/replenishd.yaml" || fail "the default config does not pass check"
for profile in "$scratch"/root/usr/share/replenishd/profiles/*.yaml; do "$binary" check --config "$profile" >/dev/null; done
zcat "$scratch/root/usr/share/man/man1/replenishd.1.gz" | grep -q '^\.Dt REPLENISHD 1' || fail "the man page has no .Dt header"
grep -q complete "$scratch/root/usr/share/bash-completion/completions/replenishd" || fail "empty bash completion"
size=$(field Installed-Size)
echo "check-deb: $(basename "$deb"): $(stat -c %s "$deb") bytes, Installed-Size ${size} KiB, $(echo "$contents" | grep -c '^-') files"

if [ "$(id -u)" = 0 ] && [ "${CHECK_DEB_INSTALL:-1}" != 0 ]; then
    if dpkg -s replenishd >/dev/null 2>&1; then fail "replenishd is already installed here; not touching it"; fi
    dpkg -i "$deb"
    id replenishd | grep -q gpio || fail "the service user is not in group gpio: $(id replenishd)"
    id replenishd | grep -q i2c || fail "the service user is not in group i2c: $(id replenishd)"
    [ "$(stat -c %U:%a /var/lib/replenishd)" = replenishd:750 ] || fail "/var/lib/replenishd is $(stat -c %U:%a /var/lib/replenishd)"
    replenishd check --config /etc/replenishd/replenishd.yaml
    dpkg -P replenishd
    [ ! -e /usr/bin/replenishd ] && [ ! -e /var/lib/replenishd ] || fail "purge left files behind"
    echo "check-deb: installed, checked and purged for real"
fi
