#!/bin/bash
# On the build host: copy what the image needs from this checkout into ROOTFS/opt/fidelio (the
# project's wheel, units, system files, examples, the installer's guide, the in-image install script).
# Used by pi-gen's stage (01-run.sh) and by image-build/verify.sh on plain Debian alike.
set -euo pipefail
ROOTFS="${1:?usage: stage-payload.sh ROOTFS}"
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../../../.." && pwd)"
PYTHON="${PYTHON:-python3}"
# The public keys the image trusts for updates (fidelio/update): the project's release key, from
# image-build/release-keys/ unless FIDELIO_RELEASE_KEYS names another folder (verify.sh's own key).
KEYS="${FIDELIO_RELEASE_KEYS:-$REPO/image-build/release-keys}"
image="$ROOTFS/opt/fidelio/image"
if ! ls "$KEYS"/*.pub >/dev/null 2>&1; then
  echo "stage-payload: no release public key (*.pub) in $KEYS: an image that could never be updated" >&2
  echo "  is not built. See image-build/release-keys/README.md." >&2
  exit 1
fi

rm -rf "$image"
install -d "$image/wheels" "$image/release-keys" "$image/systemd" "$image/system" "$ROOTFS/opt/fidelio/examples" "$ROOTFS/opt/fidelio/docs"
# The project itself is pure Python: one wheel for every architecture; its dependencies are installed
# inside the image, for its architecture.
# Built from a clean copy: a checkout's build/ or *.egg-info would otherwise decide what goes in.
src="$(mktemp -d)"
trap 'rm -rf "$src"' EXIT
tar -C "$REPO" --exclude=./.git --exclude=./.venv --exclude=./build --exclude='*.egg-info' \
  --exclude=__pycache__ --exclude=./image-build/work --exclude=./test-artifacts -cf - . | tar -C "$src" -xf -
"$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$image/wheels" "$src"
install -m 0644 "$REPO"/systemd/*.service "$REPO"/systemd/*.timer "$image/systemd/"
install -m 0644 "$REPO/systemd/journald.conf.d/fidelio.conf" "$image/systemd/journald-fidelio.conf"
install -m 0644 "$REPO"/kiosk/hardware/system/* "$image/system/"
install -m 0644 "$HERE/../00-packages" "$image/packages"
install -m 0755 "$HERE/install.sh" "$HERE/fidelio-data-partition" "$image/"
install -m 0644 "$HERE/fidelio-data-partition.service" "$HERE/fidelio.issue" "$image/"
install -m 0644 "$KEYS"/*.pub "$image/release-keys/"
install -m 0644 "$REPO"/examples/*.toml "$ROOTFS/opt/fidelio/examples/"
install -m 0644 "$REPO/docs/install.md" "$ROOTFS/opt/fidelio/docs/"
echo "stage-payload: $(ls "$image/wheels") and the system files are in $image"
