#!/usr/bin/env bash
# Builds gpio-sim as an out-of-tree module for Debian 12's kernel (which ships without
# CONFIG_GPIO_SIM): gpio-sim.c and irq_sim.c from linux-source-6.1, in one module. irq_to_desc
# is not exported to modules, so irq_sim's one call through it becomes generic_handle_irq.
# usage: build-module.sh KERNEL_VERSION OUTPUT_DIR
set -euo pipefail
kver=$1 out=$2
work="$out/gpio-sim-src"
rm -rf "$work" && mkdir -p "$work"
tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$work" --strip-components=1 \
    linux-source-6.1/drivers/gpio/gpio-sim.c linux-source-6.1/drivers/gpio/gpiolib.h linux-source-6.1/kernel/irq/irq_sim.c
mkdir -p "$work/module"
cp "$work/drivers/gpio/gpio-sim.c" "$work/module/gpio-sim-core.c"
cp "$work/drivers/gpio/gpiolib.h" "$work/kernel/irq/irq_sim.c" "$work/module/"
grep -q 'handle_simple_irq(irq_to_desc(irqnum));' "$work/module/irq_sim.c"
sed -i 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' "$work/module/irq_sim.c"
printf 'obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-core.o irq_sim.o\n' > "$work/module/Kbuild"
make -s -C "/lib/modules/$kver/build" M="$work/module" modules
cp "$work/module/gpio-sim.ko" "$out/gpio-sim.ko"
