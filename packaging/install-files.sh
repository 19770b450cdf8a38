#!/usr/bin/env bash
# Installs replenishd's files under DESTDIR (the Debian package's root, or / for `make install`).
# usage: install-files.sh DESTDIR BINARY MANDIR COMPLETIONS_DIR [PREFIX]
# PREFIX (default /usr) places the binary, sysusers, tmpfiles and shared files; the unit and the
# udev rule go where systemd and udev look (/lib), the config to /etc.
set -euo pipefail
dest=$1 binary=$2 mandir=$3 completions=$4 prefix=${5:-/usr}
top=$(cd "$(dirname "$0")/.." && pwd)

install -D -m 0755 "$binary" "$dest$prefix/bin/replenishd"
install -d "$dest/lib/systemd/system"
sed "s|/usr/bin/replenishd|$prefix/bin/replenishd|g" "$top/systemd/replenishd.service" > "$dest/lib/systemd/system/replenishd.service"
chmod 0644 "$dest/lib/systemd/system/replenishd.service"
install -D -m 0644 "$top/systemd/replenishd.sysusers" "$dest$prefix/lib/sysusers.d/replenishd.conf"
install -D -m 0644 "$top/systemd/replenishd.tmpfiles" "$dest$prefix/lib/tmpfiles.d/replenishd.conf"
install -D -m 0644 "$top/systemd/replenishd.modules-load" "$dest$prefix/lib/modules-load.d/replenishd.conf"
install -D -m 0644 "$top/systemd/60-replenishd.rules" "$dest/lib/udev/rules.d/60-replenishd.rules"
if [ ! -e "$dest/etc/replenishd/replenishd.yaml" ]; then
    install -D -m 0644 "$top/packaging/replenishd.yaml" "$dest/etc/replenishd/replenishd.yaml"
fi
for profile in "$top"/Hardware/profiles/*.yaml; do
    install -D -m 0644 "$profile" "$dest$prefix/share/replenishd/profiles/$(basename "$profile")"
done
install -D -m 0644 "$top/README.md" "$dest$prefix/share/doc/replenishd/README.md"
install -D -m 0644 "$top/packaging/copyright" "$dest$prefix/share/doc/replenishd/copyright"
for page in "$mandir"/*.1; do
    install -D -m 0644 "$page" "$dest$prefix/share/man/man1/$(basename "$page")"
    gzip -9n -f "$dest$prefix/share/man/man1/$(basename "$page")"
done
install -D -m 0644 "$completions/replenishd.bash" "$dest$prefix/share/bash-completion/completions/replenishd"
install -D -m 0644 "$completions/_replenishd" "$dest$prefix/share/zsh/vendor-completions/_replenishd"
install -D -m 0644 "$completions/replenishd.fish" "$dest$prefix/share/fish/vendor_completions.d/replenishd.fish"
