#!/bin/bash -e
# pi-gen, on the build host: put the payload (made by image-build/build.sh) into the image, install it
# from inside the image, and leave the card's free space for first boot's /data partition.
"$(dirname "$0")/files/stage-payload.sh" "${ROOTFS_DIR}"
on_chroot /opt/fidelio/image/install.sh
# Raspberry Pi OS grows the root partition over the whole card on first boot; Fidelio's first boot
# grows it to a fixed size instead and makes /data of the rest (fidelio-data-partition.service).
sed -i 's| init=/usr/lib/raspberrypi-sys-mods/firstboot||' "${ROOTFS_DIR}/boot/firmware/cmdline.txt"
