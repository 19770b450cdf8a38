#!/bin/sh
# adc.sh MILLIVOLTS: the ADS1115's conversion register at 0x48 on i2c-0 (8 LSB per mV at
# ±4.096 V), byte-swapped into i2c-stub's SMBus word: the chip is big-endian.
v=$(( $1 * 8 ))
exec i2cset -y 0 0x48 0x00 $(( (v & 0xff) << 8 | (v >> 8 & 0xff) )) w
