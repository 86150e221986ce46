#!/bin/bash
# Inside the image (pi-gen's chroot, or a plain Debian bookworm arm64 root): install Fidelio from
# /opt/fidelio/image (put there by stage-payload.sh). Idempotent. Both roles: first boot picks one.
set -euo pipefail
IMAGE=/opt/fidelio/image
# Releases side by side (fidelio/update/releases.py): /opt/fidelio/venv -> releases/<version>
RELEASES=/opt/fidelio/releases
VENV=/opt/fidelio/venv
WHEELHOUSE=$IMAGE/wheelhouse
export DEBIAN_FRONTEND=noninteractive
# What building pyscard and evdev needs; removed again at the end (no compiler on an appliance).
BUILD_DEPS=(gcc swig libpcsclite-dev python3-dev linux-libc-dev)

mapfile -t packages < <(grep -v '^\s*#' "$IMAGE/packages" | grep -v '^\s*$')
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" "${BUILD_DEPS[@]}"

# Users: the hub's (reads the broker's root:mosquitto files), the kiosk's (device groups).
getent group fidelio >/dev/null || groupadd --system fidelio
id -u fidelio >/dev/null 2>&1 || useradd --system --gid fidelio --home-dir /data/hub --no-create-home \
  --shell /usr/sbin/nologin --comment "Fidelio hub" fidelio
usermod -a -G mosquitto fidelio
mapfile -t kiosk_groups < <(grep -v '^\s*#' "$IMAGE/system/groups.conf" | grep -v '^\s*$')
for group in "${kiosk_groups[@]}"; do
  getent group "$group" >/dev/null || groupadd --system "$group"
done
getent group kiosk >/dev/null || groupadd --system kiosk
id -u kiosk >/dev/null 2>&1 || useradd --system --gid kiosk --home-dir /data/kiosk --no-create-home \
  --shell /usr/sbin/nologin --comment "Fidelio kiosk" kiosk
usermod -a -G "$(IFS=,; echo "${kiosk_groups[*]}")" kiosk

# The project and every dependency as wheels for this architecture (pyscard and evdev compiled here,
# once): the factory release is installed from this wheelhouse exactly as an update is, offline.
wheel="$(ls "$IMAGE"/wheels/fidelio-*.whl)"
version="$(basename "$wheel" | cut -d- -f2)"
builder="$(mktemp -d)"
python3 -m venv "$builder"
"$builder/bin/pip" install --quiet --no-cache-dir --upgrade pip
rm -rf "$WHEELHOUSE"
"$builder/bin/pip" wheel --quiet --no-cache-dir --wheel-dir "$WHEELHOUSE" "${wheel}[hub,kiosk]"
rm -rf "$builder"
# The factory release, without the test extras, then made the current one by its own updater.
release="$RELEASES/$version"
rm -rf "$release" "$VENV"
python3 -m venv "$release"
"$release/bin/pip" install --quiet --no-cache-dir --no-index --find-links "$WHEELHOUSE" "fidelio[hub,kiosk]==$version"
for test_only in pytest hypothesis playwright schemathesis ruff; do
  if "$release/bin/pip" show --quiet "$test_only" 2>/dev/null; then
    echo "install.sh: the test-only package $test_only must not be in the image" >&2
    exit 1
  fi
done
"$release/bin/fidelio-update" --root /opt/fidelio adopt
# the boot-time undo of an interrupted update, kept out of the releases it may undo
install -m 0755 "$("$release/bin/python" -c 'import fidelio.update.bootcheck as m; print(m.__file__)')" \
  /usr/local/sbin/fidelio-update-bootcheck
install -d -m 0755 /etc/fidelio/release-keys
install -m 0644 "$IMAGE"/release-keys/*.pub /etc/fidelio/release-keys/

# System files from kiosk/hardware/system and systemd/.
install -m 0644 "$IMAGE/system/60-fidelio-kiosk.rules" /etc/udev/rules.d/60-fidelio-kiosk.rules
install -m 0644 "$IMAGE/system/blacklist-pn533.conf" /etc/modprobe.d/fidelio-blacklist-pn533.conf
install -m 0644 "$IMAGE"/systemd/*.service "$IMAGE"/systemd/*.timer "$IMAGE/fidelio-data-partition.service" \
  /etc/systemd/system/
install -d /etc/systemd/journald.conf.d /var/log/journal /etc/issue.d /usr/local/sbin
install -m 0644 "$IMAGE/systemd/journald-fidelio.conf" /etc/systemd/journald.conf.d/fidelio.conf
install -m 0755 "$IMAGE/fidelio-data-partition" /usr/local/sbin/fidelio-data-partition
install -m 0644 "$IMAGE/fidelio.issue" /etc/issue.d/fidelio.issue
ln -sf "$VENV/bin/fidelio-hub" /usr/local/bin/fidelio-hub
ln -sf "$VENV/bin/fidelio-kiosk" /usr/local/bin/fidelio-kiosk
ln -sf "$VENV/bin/fidelio-update" /usr/local/bin/fidelio-update

# /data: its own partition, made by first boot in the card's free space.
install -d -m 0755 /data
grep -q 'LABEL=fidelio-data' /etc/fstab 2>/dev/null ||
  echo 'LABEL=fidelio-data /data ext4 defaults,noatime,nofail,x-systemd.device-timeout=60s 0 2' >>/etc/fstab

# Services: first boot and /data always; the roles' units are enabled by first boot. Debian's own
# mosquitto would listen on 1883 without authentication: masked, ours runs the shop's config.
systemctl mask mosquitto.service
systemctl enable fidelio-data-partition.service fidelio-firstboot.service fidelio-update-bootcheck.service NetworkManager.service \
  avahi-daemon.service pcscd.socket
# SSH off: first boot turns it on, keys only, when the installer puts the maintainers' keys on the boot
# partition (`authorized_keys`, fidelio/appliance/ssh.py). Raspberry Pi OS's own switch (an `ssh` file
# turning on password logins) is masked; no host key is baked into the image (each device makes its own).
for unit in ssh.service ssh.socket; do
  if systemctl list-unit-files "$unit" >/dev/null 2>&1; then systemctl disable "$unit" >/dev/null 2>&1 || true; fi
done
systemctl mask sshswitch.service >/dev/null 2>&1 || true
rm -f /etc/ssh/ssh_host_*
# The maintenance account (pi-gen's first user; made here on plain Debian), its password locked.
id -u fidelio-admin >/dev/null 2>&1 || useradd --create-home --shell /bin/bash --comment "Fidelio maintenance" fidelio-admin
passwd --lock fidelio-admin >/dev/null
# Its one way to root, once a maintainer's key let them in (pi-gen gives its first user the same).
printf 'fidelio-admin ALL=(ALL) NOPASSWD: ALL\n' >/etc/sudoers.d/010_fidelio-admin
chmod 0440 /etc/sudoers.d/010_fidelio-admin
visudo -cq -f /etc/sudoers.d/010_fidelio-admin

apt-get purge -y -qq "${BUILD_DEPS[@]}" >/dev/null
apt-get autoremove -y -qq --purge >/dev/null
apt-get clean
if [ "$(dpkg-query -W -f='${Status}' vsmartcard-vpcd 2>/dev/null || true)" = "install ok installed" ]; then
  echo "install.sh: vsmartcard-vpcd (a test reader listening on every interface) must not be in the image" >&2
  exit 1
fi
echo "install.sh: Fidelio $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("fidelio"))') installed"
