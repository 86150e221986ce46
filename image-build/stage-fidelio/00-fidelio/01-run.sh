#!/bin/bash -e
# pi-gen, on the build host: put the payload (made by image-build/build.sh) into the image, install it
# from inside the image, and leave the card's free space for first boot's /data partition.
"$(dirname "$0")/files/stage-payload.sh" "${ROOTFS_DIR}"
on_chroot /opt/fidelio/image/install.sh
# Templates for the installer, on the partition they see from their PC (first boot ignores sub-folders).
install -d "${ROOTFS_DIR}/boot/firmware/fidelio-exemples"
install -m 0644 "$(dirname "$0")"/files/templates/*.toml "${ROOTFS_DIR}/boot/firmware/fidelio-exemples/"
# Raspberry Pi OS grows the root partition over the whole card on first boot; Fidelio's first boot
# grows it to a fixed size instead and makes /data of the rest (fidelio-data-partition.service).
sed -i 's| init=/usr/lib/raspberrypi-sys-mods/firstboot||' "${ROOTFS_DIR}/boot/firmware/cmdline.txt"
# The image's admin account gets no usable password (build.sh gave it a random one): nobody logs in
# with a password on a shop's device (see image-build/README.md, "Maintenance").
on_chroot passwd --lock "${FIRST_USER_NAME}"
