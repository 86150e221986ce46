#!/bin/bash
# Build Fidelio's SD-card image: Raspberry Pi OS Lite bookworm arm64 from pi-gen (the tag pinned in
# pi-gen.lock) plus stage-fidelio. On a Debian bookworm (or recent Ubuntu) machine with internet
# access, as root: `sudo image-build/build.sh`. The image lands in image-build/work/pi-gen/deploy/.
# WORK=DIR puts the work tree elsewhere (it needs about 15 GB).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck disable=SC1091  # pi-gen.lock: KEY=value lines, beside this script
source "$HERE/pi-gen.lock"
WORK="${WORK:-$HERE/work}"
if [ "$(id -u)" -ne 0 ]; then
  echo "build.sh: pi-gen needs root (loop devices, chroot): run it with sudo" >&2
  exit 1
fi
if ! ls "$HERE"/release-keys/*.pub >/dev/null 2>&1; then
  echo "build.sh: no release public key in image-build/release-keys/ (see its README.md): an image" >&2
  echo "  that trusts no key could never be updated" >&2
  exit 1
fi
start=$(date +%s)

# pi-gen's own dependencies (its `depends` file), git, and pip for the project's wheel.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  coreutils quilt parted qemu-user-static debootstrap zerofree zip dosfstools libarchive-tools \
  libcap2-bin grep rsync xz-utils file git curl bc gpg pigz xxd arch-test kmod \
  python3 python3-pip python3-venv ca-certificates >/dev/null

mkdir -p "$WORK"
if [ ! -d "$WORK/pi-gen/.git" ]; then
  git clone --quiet "$PI_GEN_REPO" "$WORK/pi-gen"
fi
git -C "$WORK/pi-gen" fetch --quiet --tags origin
git -C "$WORK/pi-gen" checkout --quiet --force --detach "refs/tags/$PI_GEN_REF"
git -C "$WORK/pi-gen" clean --quiet -fdx -e work -e deploy
echo "build.sh: pi-gen $PI_GEN_REF ($(git -C "$WORK/pi-gen" rev-parse --short HEAD))"
touch "$WORK/pi-gen/stage2/SKIP_IMAGES"  # only stage-fidelio's image, not a plain Lite one

# The image's admin account: no usable password (locked by stage-fidelio); first boot never asks
# for one, and nothing is typed on the device.
cat >"$WORK/pi-gen/config" <<CONFIG
IMG_NAME=fidelio
RELEASE=bookworm
DEPLOY_COMPRESSION=xz
TARGET_HOSTNAME=fidelio
FIRST_USER_NAME=fidelio-admin
FIRST_USER_PASS=$(head -c 24 /dev/urandom | base64)
DISABLE_FIRST_BOOT_USER_RENAME=1
ENABLE_SSH=0
LOCALE_DEFAULT=fr_FR.UTF-8
KEYBOARD_KEYMAP=fr
KEYBOARD_LAYOUT="French"
TIMEZONE_DEFAULT=Europe/Paris
STAGE_LIST="stage0 stage1 stage2 $HERE/stage-fidelio"
CONFIG

(cd "$WORK/pi-gen" && ./build.sh -c config)
echo "build.sh: done in $(( ($(date +%s) - start) / 60 )) min:"
ls -l "$WORK"/pi-gen/deploy/*fidelio*.img* 2>/dev/null
