#!/bin/sh
# The board's sensors, at every boot before replenishd starts: a gpio-sim chip with the lines of a
# three-switch level ladder (GPIO5, GPIO6, GPIO13, all wet), and an ADS1115 at 0x48 on i2c-stub
# reading 1500 mV. The ADC's register is set only when /dev/i2c-0 exists: i2c-dev is the
# package's to load (modules-load.d), and the test checks that it did.
set -eu
modprobe configfs
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
modprobe gpio-sim
G=/sys/kernel/config/gpio-sim/board
if [ ! -d $G ]; then
    mkdir $G $G/bank0
    echo 32 > $G/bank0/num_lines
    for n in 5 6 13; do mkdir $G/bank0/line$n; echo GPIO$n > $G/bank0/line$n/name; done
    echo 1 > $G/live
fi
SIM=$(ls -d /sys/devices/platform/gpio-sim.*/gpiochip* | head -1)
for n in 5 6 13; do echo pull-up > "$SIM/sim_gpio$n/pull"; done
modprobe i2c-stub chip_addr=0x48
udevadm settle
if [ -e /dev/i2c-0 ]; then
    /var/lib/systemtest/adc.sh 1500
fi
