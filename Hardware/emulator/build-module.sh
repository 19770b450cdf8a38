#!/usr/bin/env bash
# Builds the emulator's two out-of-tree modules for Debian 12's kernel, from linux-source-6.1:
# - gpio-sim.ko (Debian ships without CONFIG_GPIO_SIM): gpio-sim.c and irq_sim.c in one module.
#   irq_to_desc is not exported to modules, so irq_sim's one call through it becomes
#   generic_handle_irq.
# - i2c-stub.ko, Debian's i2c-stub with its chip_addr parameter writable at run time
#   (/sys/module/i2c_stub/parameters/chip_addr). The stub looks a transfer's address up in that
#   array on every transfer, so rewriting it makes a chip stop answering (-ENODEV, as for an
#   absent device) and answer again with its registers intact: a sensor that drops off the bus.
# usage: build-module.sh KERNEL_VERSION OUTPUT_DIR   (writes OUTPUT_DIR/gpio-sim.ko, i2c-stub.ko)
set -euo pipefail
kver=$1 out=$2
work="$out/module-src"
rm -rf "$work" && mkdir -p "$work"
tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$work" --strip-components=1 \
    linux-source-6.1/drivers/gpio/gpio-sim.c linux-source-6.1/drivers/gpio/gpiolib.h \
    linux-source-6.1/kernel/irq/irq_sim.c linux-source-6.1/drivers/i2c/i2c-stub.c

mkdir -p "$work/gpio-sim"
cp "$work/drivers/gpio/gpio-sim.c" "$work/gpio-sim/gpio-sim-core.c"
cp "$work/drivers/gpio/gpiolib.h" "$work/kernel/irq/irq_sim.c" "$work/gpio-sim/"
grep -q 'handle_simple_irq(irq_to_desc(irqnum));' "$work/gpio-sim/irq_sim.c"
sed -i 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' "$work/gpio-sim/irq_sim.c"
printf 'obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-core.o irq_sim.o\n' > "$work/gpio-sim/Kbuild"
make -s -C "/lib/modules/$kver/build" M="$work/gpio-sim" modules
cp "$work/gpio-sim/gpio-sim.ko" "$out/gpio-sim.ko"

mkdir -p "$work/i2c-stub"
cp "$work/drivers/i2c/i2c-stub.c" "$work/i2c-stub/"
grep -q 'module_param_array(chip_addr, ushort, NULL, S_IRUGO);' "$work/i2c-stub/i2c-stub.c"
sed -i 's/module_param_array(chip_addr, ushort, NULL, S_IRUGO);/module_param_array(chip_addr, ushort, NULL, 0644);/' \
    "$work/i2c-stub/i2c-stub.c"
printf 'obj-m := i2c-stub.o\n' > "$work/i2c-stub/Kbuild"
make -s -C "/lib/modules/$kver/build" M="$work/i2c-stub" modules
cp "$work/i2c-stub/i2c-stub.ko" "$out/i2c-stub.ko"
