#!/usr/bin/env bash
# Checks the built .deb: its control data, every file with owner and mode, the conffile, that
# the binary needs no Swift runtime and links nothing Depends does not name, that it runs and
# the default config passes `check`, and (as root, unless CHECK_DEB_INSTALL=0) a real install,
# reinstall, remove and purge through the maintainer scripts.
# usage: check-deb.sh PACKAGE.deb
set -euo pipefail
deb=$1
fail() { echo "check-deb: $*" >&2; exit 1; }
# Any other failing command says where it stopped (a bare exit status says nothing in CI's log).
trap 'echo "check-deb: line $LINENO failed with status $?: $BASH_COMMAND" >&2' ERR
# No `command | grep -q`: grep -q leaves at the first match and the writer can die of SIGPIPE,
# which pipefail turns into a failure. Outputs are captured first and searched as here-strings.

info=$(dpkg-deb -I "$deb")
contents=$(dpkg-deb -c "$deb")
echo "$info"
echo "$contents"

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = replenishd ] || fail "Package is $(field Package)"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture is $(field Architecture)"
for dep in libc6 libmosquitto1 libgpiod2 libsqlite3-0 libsystemd0 libyaml-0-2 tzdata; do
    grep -q "$dep" <<< "$(field Depends)" || fail "Depends lacks $dep: $(field Depends)"
done
grep -Eq ' conffiles +$' <<< "$info" || fail "no conffiles member"

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
expect -rw-r--r-- usr/lib/modules-load.d/replenishd.conf
expect -rw-r--r-- lib/udev/rules.d/60-replenishd.rules
expect -rw-r--r-- etc/replenishd/replenishd.yaml
expect -rw-r--r-- usr/share/man/man1/replenishd.1.gz
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
linkage=$(ldd "$binary")
if grep -q libswift <<< "$linkage"; then fail "the binary links the Swift runtime: $(grep libswift <<< "$linkage")"; fi
# Every library the binary links comes from a package in Depends, so a new link dependency
# cannot ship undeclared.
depends=$(field Depends | tr ',' '\n' | awk '{print $1}') linked= cache=$(ldconfig -p)
for lib in $(objdump -p "$binary" | awk '$1 == "NEEDED" {print $2}'); do
    path=$(awk -v l="$lib" '$1 == l {print $NF; exit}' <<< "$cache")
    [ -n "$path" ] || fail "$lib: not found by ldconfig"
    package=$(dpkg -S "$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")") || fail "$lib: no package owns $path"
    package=${package%%:*}
    grep -qx "$package" <<< "$depends" || fail "$lib comes from $package, which Depends does not list"
    linked="$linked $lib ($package)"
done
echo "check-deb: links$linked"
grep -q "$(field Version)" <<< "$("$binary" --version)" || fail "--version does not say $(field Version)"
# Before installing, /var/lib/replenishd may not exist here: the files alone (after installing, in full).
"$binary" check --file-only --config "$scratch/root/etc/replenishd/replenishd.yaml" || fail "the default config does not pass check"
for profile in "$scratch"/root/usr/share/replenishd/profiles/*.yaml; do "$binary" check --file-only --config "$profile" >/dev/null; done
man=$(zcat "$scratch/root/usr/share/man/man1/replenishd.1.gz")
grep -q '^\.Dt REPLENISHD 1' <<< "$man" || fail "the man page has no .Dt header"
for command in run check reload probe status reset alexa-discovery demo version; do
    grep -qx "\.It Em $command" <<< "$man" || fail "the man page does not describe '$command'"
done
grep -q complete "$scratch/root/usr/share/bash-completion/completions/replenishd" || fail "empty bash completion"
size=$(field Installed-Size)
echo "check-deb: $(basename "$deb"): $(stat -c %s "$deb") bytes, Installed-Size ${size} KiB, $(echo "$contents" | grep -c '^-') files"

if [ "$(id -u)" = 0 ] && [ "${CHECK_DEB_INSTALL:-1}" != 0 ]; then
    if dpkg -s replenishd >/dev/null 2>&1; then fail "replenishd is already installed here; not touching it"; fi
    # Installed twice: the second run takes the upgrade path of the maintainer scripts.
    dpkg -i "$deb"
    dpkg -i "$deb"
    grep -q gpio <<< "$(id replenishd)" || fail "the service user is not in group gpio: $(id replenishd)"
    grep -q i2c <<< "$(id replenishd)" || fail "the service user is not in group i2c: $(id replenishd)"
    [ "$(stat -c %U:%a /var/lib/replenishd)" = replenishd:750 ] || fail "/var/lib/replenishd is $(stat -c %U:%a /var/lib/replenishd)"
    replenishd check --config /etc/replenishd/replenishd.yaml
    verify=$(systemd-analyze verify /lib/systemd/system/replenishd.service 2>&1) || fail "systemd-analyze verify: $verify"
    [ -z "$verify" ] || fail "systemd-analyze verify: $verify"
    # Remove keeps the edited config (a conffile) and the state; purge takes both.
    echo "# edited" >> /etc/replenishd/replenishd.yaml
    dpkg -r replenishd
    [ ! -e /usr/bin/replenishd ] || fail "remove left /usr/bin/replenishd"
    grep -q '^# edited' /etc/replenishd/replenishd.yaml || fail "remove did not keep the edited config"
    [ -d /var/lib/replenishd ] || fail "remove took the state directory"
    dpkg -P replenishd
    [ ! -e /etc/replenishd/replenishd.yaml ] && [ ! -e /var/lib/replenishd ] || fail "purge left files behind"
    echo "check-deb: installed, checked and purged for real"
fi
if [ "$(id -u)" != 0 ]; then echo "check-deb: not root, so no real install (the extracted copy was checked)"; fi
