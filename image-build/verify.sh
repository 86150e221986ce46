#!/bin/bash
# The appliance, verified by booting it (issue 7 §5), on a Debian 12 amd64 machine as root, with no
# Raspberry Pi archive: a Debian bookworm arm64 root file system (debootstrap under qemu-user-static)
# with stage-fidelio's own scripts run in it (stage-payload.sh, install.sh), put on a disk laid out as
# the SD card is (FAT boot partition, ext4 root, free space for /data), booted with
# `qemu-system-aarch64 -M virt` and Debian's arm64 kernel; a check unit inside (verification only,
# never in the real image) writes FIDELIO-CHECK lines to the serial console and to a report file on
# the boot partition (read here once the VM is off; kernel messages can tear console lines):
#   boot 1, hub role: fidelio-hub.toml + wifi.toml on the boot partition -> provisioning applied, the
#     files gone from the boot partition, /data its own partition, fidelio-mosquitto and fidelio-hub
#     active, a kiosk answered through the TLS listener, the hub SIGSTOPped and restarted by its watchdog,
#     an update imported and deployed on the hub and installed by fidelio-update.service, then a release
#     whose hub cannot start rolled back by itself;
#   boot 2, kiosk role (a fresh disk): the file the hub made -> the kiosk service started and notified
#     READY (its launcher, headless: no display in the VM), the credentials in /data, gone from boot.
# Usage: image-build/verify.sh [--keep]   (WORK=DIR, default /var/tmp/fidelio-verify;
#        FIDELIO_VERIFY_CACHE=DIR reuses the debootstrapped root of an earlier run)
set -euo pipefail
# All of it in one function, read whole before it runs: editing this file during a run changes nothing.
main() {
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
WORK="${WORK:-/var/tmp/fidelio-verify}"
ROOT="$WORK/rootfs"
FILES="$HERE/stage-fidelio/00-fidelio/files"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
KEEP="${1:-}"
# FIDELIO_VERIFY_CACHE=DIR keeps the debootstrapped root between runs (development; CI starts afresh).
CACHE="${FIDELIO_VERIFY_CACHE:-}"
t0=$(date +%s)
failed=0
say() { echo "verify: [$(( $(date +%s) - t0 ))s] $*"; }

if [ "$(id -u)" -ne 0 ]; then echo "verify.sh: run as root" >&2; exit 1; fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  debootstrap qemu-user-static qemu-system-arm dosfstools mtools e2fsprogs fdisk >/dev/null

# arm64 programs run through qemu-user-static: register it with the kernel if nobody has.
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  cat /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register
fi

# The Debian mirror this machine already uses.
MIRROR="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
MIRROR="${MIRROR:-$(awk '/^deb / { print $2; exit }' /etc/apt/sources.list)}"

cleanup_mounts() {
  for m in dev/pts dev proc sys; do
    mountpoint -q "$ROOT/$m" && umount -l "$ROOT/$m"
  done
  return 0
}
trap cleanup_mounts EXIT

# --- 1. the root file system ------------------------------------------------------------------------
rm -rf "$WORK"
mkdir -p "$WORK"
if [ -n "$CACHE" ] && [ -f "$CACHE/bootstrap.tar" ]; then
  say "debootstrapped root from $CACHE/bootstrap.tar"
  mkdir -p "$ROOT"
  tar -C "$ROOT" -xpf "$CACHE/bootstrap.tar"
else
  say "debootstrap bookworm arm64 from $MIRROR"
  debootstrap --arch=arm64 --variant=minbase \
    --include=systemd,systemd-sysv,udev,dbus,kmod,iproute2,linux-image-arm64,initramfs-tools,ca-certificates,python3,python3-venv,e2fsprogs,dosfstools,fdisk,util-linux,procps \
    bookworm "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || { tail -30 "$WORK/debootstrap.log"; exit 1; }
  say "debootstrap done"
  if [ -n "$CACHE" ]; then mkdir -p "$CACHE" && tar -C "$ROOT" -cpf "$CACHE/bootstrap.tar" .; fi
fi

for m in proc sys dev dev/pts; do mkdir -p "$ROOT/$m"; done
mount -t proc proc "$ROOT/proc"
mount --rbind /sys "$ROOT/sys"
mount --rbind /dev "$ROOT/dev"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
echo fidelio >"$ROOT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tfidelio\n' >"$ROOT/etc/hosts"

# --- 2. stage-fidelio's scripts, as pi-gen runs them --------------------------------------------------
# This run's own release key (never the project's): the image trusts it, the update check signs with it.
install -d "$WORK/keys/trusted"
"$PYTHON" -m fidelio.update.cli keygen "$WORK/keys/verify-release.key" >/dev/null
cp "$WORK/keys/verify-release.key.pub" "$WORK/keys/trusted/verify-release.pub"
say "stage-payload.sh + install.sh (inside the arm64 root)"
PYTHON="$PYTHON" FIDELIO_RELEASE_KEYS="$WORK/keys/trusted" "$FILES/stage-payload.sh" "$ROOT"
# This machine may reach PyPI through a proxy with its own certificate authority: the root's pip is
# given this machine's CA bundle, for the verification only (the image build has plain internet).
cp /etc/ssl/certs/ca-certificates.crt "$ROOT/tmp/host-ca.crt"
# A clean environment: nothing of this machine's (its pip settings, its CA variables) leaks in.
chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 PIP_CERT=/tmp/host-ca.crt \
  /opt/fidelio/image/install.sh >"$WORK/install.log" 2>&1 ||
  { tail -40 "$WORK/install.log"; exit 1; }
rm -f "$ROOT/tmp/host-ca.crt"
tail -1 "$WORK/install.log"
# The kiosk's screen on a Pi is SDL2's KMS/DRM back end: the SDL2 that Kivy's arm64 wheel bundles must have it.
sdl="$(find "$ROOT/opt/fidelio/releases" -path '*/Kivy.libs/libSDL2-2*' | head -1)"
if [ -n "$sdl" ] && grep -aq KMSDRM_VideoInit "$sdl"; then
  say "  ok  kivy sdl2 kmsdrm ($(basename "$sdl"))"
else
  say "  MISSING kivy sdl2 kmsdrm (${sdl:-no libSDL2 in Kivy.libs})"; failed=1
fi
# Two updates for the hub's boot, made from the image's own arm64 wheelhouse: a good one, and one whose
# hub cannot start (for the rollback); signed with this run's key (tests/update_support.py).
say "update bundles from the image's wheelhouse"
install -d -m 0755 "$ROOT/var/lib/fidelio-verify"
(cd "$REPO" && "$PYTHON" - "$ROOT/opt/fidelio/image/wheelhouse" "$WORK/keys/verify-release.key" \
  "$ROOT/var/lib/fidelio-verify" <<'PY') >"$ROOT/var/lib/fidelio-verify/bundles.txt"
import sys
from pathlib import Path
from tests.update_support import verification_bundles
house, key, out = map(Path, sys.argv[1:4])
print("\n".join(verification_bundles(house, key, out, platform="linux_aarch64", python="3.11")))
PY
chmod 0644 "$ROOT"/var/lib/fidelio-verify/*
# A maintainer's SSH key (made in the root, by its own ssh-keygen): its public half goes on the hub's boot
# partition as authorized_keys, its private half stays in the root for the check to log in with.
chroot "$ROOT" ssh-keygen -q -t ed25519 -N '' -C verify-maintainer -f /var/lib/fidelio-verify/maint-key
sed 's/^/verify:   /' "$ROOT/var/lib/fidelio-verify/bundles.txt"
# What Raspberry Pi OS has and minbase lacks: the boot partition's mount point (the Pi's firmware
# partition) and a console on the VM's serial port.
install -d "$ROOT/boot/firmware"
cat >>"$ROOT/etc/fstab" <<'FSTAB'
/dev/vda2 / ext4 defaults,noatime 0 1
/dev/vda1 /boot/firmware vfat defaults 0 2
FSTAB
# --- the verification's own check unit (never in the real image) ----------------------------------
install -m 0755 "$HERE/verify-check.sh" "$ROOT/usr/local/sbin/fidelio-check"
cat >"$ROOT/etc/systemd/system/fidelio-check.service" <<'UNIT'
[Unit]
Description=Fidelio verification: report on the serial console, then power off
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/fidelio-check
StandardOutput=tty
TTYPath=/dev/ttyAMA0
[Install]
WantedBy=multi-user.target
UNIT
# the console's login prompt would hang the serial line up under the check's feet (agetty's vhangup)
chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c \
  'systemctl enable fidelio-check.service && systemctl mask serial-getty@ttyAMA0.service' >/dev/null 2>&1
# An emulated CPU is 10 to 20 times slower than a Raspberry Pi's: more time to start (not to answer
# the watchdog, which stays the real unit's).
install -d "$ROOT/etc/systemd/system/fidelio-hub.service.d"
printf '[Service]\nTimeoutStartSec=600\n' >"$ROOT/etc/systemd/system/fidelio-hub.service.d/verify.conf"
# The VM has no display: the kiosk runs headless (the launcher execs fidelio-kiosk, which reads
# commands from a console); its screen, READY and watchdog are tested on Xvfb (tests/test_appliance_screen.py).
install -d "$ROOT/etc/systemd/system/fidelio-kiosk.service.d"
cat >"$ROOT/etc/systemd/system/fidelio-kiosk.service.d/verify.conf" <<'UNIT'
[Service]
Environment=SDL_VIDEODRIVER=dummy
Type=simple
StandardInput=tty-force
TTYPath=/dev/tty2
DeviceAllow=/dev/tty2 rw
UNIT
cleanup_mounts
rm -f "$ROOT/etc/resolv.conf"
say "root file system ready ($(du -sh --exclude=proc --exclude=sys --exclude=dev "$ROOT" | cut -f1))"

# The provisioning files: a hub file for boot 1; boot 2's kiosk file is made by that hub.
cp "$ROOT"/boot/vmlinuz-* "$WORK/vmlinuz"
cp "$ROOT"/boot/initrd.img-* "$WORK/initrd.img"

# --- 3. a disk laid out like the SD card ------------------------------------------------------------
make_disk() { # make_disk DISK BOOTDIR
  local disk="$1" bootdir="$2" boot_mib=256 root_mib size_mib
  root_mib=$(( $(du -sm --exclude=proc --exclude=sys --exclude=dev "$ROOT" | cut -f1) + 1024 ))
  size_mib=$(( 4 + boot_mib + root_mib + 2048 ))  # + free space for /data
  rm -f "$disk" "$WORK/boot.vfat" "$WORK/root.ext4"
  truncate -s "${size_mib}M" "$disk"
  printf 'label: dos\nstart=8192, size=%dMiB, type=c\nsize=%dMiB, type=83\n' "$boot_mib" "$root_mib" | sfdisk -q "$disk"
  mkfs.vfat -n BOOTFS -C "$WORK/boot.vfat" $(( boot_mib * 1024 )) >/dev/null
  if [ -n "$(ls -A "$bootdir")" ]; then mcopy -s -i "$WORK/boot.vfat" "$bootdir"/* ::/; fi
  mkfs.ext4 -q -d "$ROOT" -E root_owner=0:0 "$WORK/root.ext4" "${root_mib}M"
  dd if="$WORK/boot.vfat" of="$disk" bs=1M seek=4 conv=notrunc status=none
  dd if="$WORK/root.ext4" of="$disk" bs=1M seek=$(( 4 + boot_mib )) conv=notrunc status=none
  rm -f "$WORK/boot.vfat" "$WORK/root.ext4"
}

boot_vm() { # boot_vm DISK LOG: boots, returns when the VM powers off (or after 45 min)
  timeout 2700 qemu-system-aarch64 -M virt -cpu max -smp 2 -m 2048 -nographic -no-reboot \
    -kernel "$WORK/vmlinuz" -initrd "$WORK/initrd.img" \
    -append "root=/dev/vda2 rw console=ttyAMA0 systemd.show_status=0 quiet" \
    -drive "file=$1,if=virtio,format=raw" -nic none -serial "file:$2" -monitor none </dev/null || true
}

report() { # report DISK CONSOLE OUT: the check unit's report, from the disk's boot partition, printed
  rm -f "$3"
  if mcopy -n -i "$1@@4M" ::/fidelio-check.log "$3" 2>/dev/null && grep -q "^FIDELIO-CHECK end " "$3"; then
    grep -a "FIDELIO-CHECK" "$3" || true
  else
    # the VM was stopped before the check ended (boot_vm's timeout): what the console caught, for the log
    say "MISSING the check unit's whole report (fidelio-check.log) on the boot partition; from the console:"
    tr -d '\r' <"$2" | grep -a "FIDELIO-CHECK" | sed 's/^/console: /' || true
    : >"$3"
  fi
}

expect() { # expect REPORT TEXT...: each check line must be there
  local log="$1"; shift
  local line ok=0 clean
  # No `tr | grep -q` here: under pipefail, grep leaving at its first match can kill tr with SIGPIPE,
  # and the pipeline then "fails" (that made a present line MISSING once in CI).
  clean="$log.clean"
  tr -d '\r' <"$log" >"$clean"
  for line in "$@"; do
    # the whole line ("kiosk answered" is not "kiosk answered after update"), as fixed text
    if grep -qxF -- "FIDELIO-CHECK ok ${line}" "$clean"; then say "  ok  $line"; else say "  MISSING $line"; ok=1; fi
  done
  rm -f "$clean"
  return $ok
}

# --- boot 1: a hub ----------------------------------------------------------------------------------
mkdir -p "$WORK/boot-hub"
printf 'shop = "boulangerie-verif"\nprogram = "bakery"\nkiosks = ["comptoir"]\n[admin]\nname = "marie"\npassword = "pain-au-chocolat"\n' \
  >"$WORK/boot-hub/fidelio-hub.toml"
printf 'ssid = "Boulangerie"\npsk = "croissant-2026"\ncountry = "FR"\n' >"$WORK/boot-hub/wifi.toml"
cp "$ROOT/var/lib/fidelio-verify/maint-key.pub" "$WORK/boot-hub/authorized_keys"
make_disk "$WORK/hub.img" "$WORK/boot-hub"
say "boot 1 (hub)"
boot_vm "$WORK/hub.img" "$WORK/hub-console.log"
say "boot 1 ended"
report "$WORK/hub.img" "$WORK/hub-console.log" "$WORK/hub-check.log"
expect "$WORK/hub-check.log" "role hub" "status ok" "boot partition clean" "data partition" \
  "data partition 1 GiB" "wifi keyfile 0600" "fidelio-mosquitto active" "fidelio-hub active" \
  "kiosk answered" "watchdog restarted fidelio-hub" "kiosk update endpoint" "update installed" "update hub active" \
  "kiosk answered after update" "update rolled back" "update hub active after rollback" \
  "kiosk answered after rollback" "hub ledger sound" "backup timer" "update timer" "ssh key login" \
  "ssh keys only" "ssh root refused" "ssh maintainer sudo" || failed=1

# The kiosk's file the hub wrote on its boot partition.
mcopy -i "$WORK/hub.img@@4M" ::/fidelio-kiosks/comptoir.toml "$WORK/comptoir.toml" 2>/dev/null || true

# --- boot 2: a kiosk --------------------------------------------------------------------------------
mkdir -p "$WORK/boot-kiosk"
if [ -s "$WORK/comptoir.toml" ]; then
  cp "$WORK/comptoir.toml" "$WORK/boot-kiosk/fidelio-kiosk.toml"
  make_disk "$WORK/kiosk.img" "$WORK/boot-kiosk"
  say "boot 2 (kiosk)"
  boot_vm "$WORK/kiosk.img" "$WORK/kiosk-console.log"
  say "boot 2 ended"
  report "$WORK/kiosk.img" "$WORK/kiosk-console.log" "$WORK/kiosk-check.log"
  expect "$WORK/kiosk-check.log" "role kiosk" "status ok" "boot partition clean" "data partition" \
    "data partition 1 GiB" "kiosk credentials 0600 kiosk" "fidelio-kiosk active" "kiosk app running" \
    "kiosk app stays up" "update timer" "ssh off" || failed=1
else
  say "MISSING the hub did not write fidelio-kiosks/comptoir.toml"
  failed=1
fi

say "total $(( $(date +%s) - t0 ))s"
[ "$KEEP" = "--keep" ] || rm -rf "$ROOT" "$WORK"/*.img
exit $failed
}
main "$@"
