#!/bin/busybox sh
# /init of the system test's initramfs: mounts the appliance's root from the first virtio disk,
# puts the test's payload (the .deb, the board's scripts and units, the test) under
# /var/lib/systemtest on every boot, and hands over to the root's systemd.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk \
         crc32c_generic crc16 mbcache jbd2 ext4; do
    insmod /modules/$m.ko
done
i=0; while [ ! -b /dev/vda ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
mount -t ext4 -o rw /dev/vda /root || { echo "SYSTEM FAIL cannot mount the root file system"; poweroff -f; }
mkdir -p /root/var/lib/systemtest
cp -a /payload/. /root/var/lib/systemtest/
for unit in board.service systemtest.service; do
    cp /payload/$unit /root/etc/systemd/system/$unit
    ln -sf ../$unit /root/etc/systemd/system/multi-user.target.wants/$unit
done
umount /proc /sys
mount --move /dev /root/dev
exec switch_root /root /sbin/init
