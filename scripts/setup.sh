#!/usr/bin/env bash
# Prepare this checkout on a Debian 12 machine: the Debian packages Fidelio needs, a virtual environment
# in .venv and the project in it. Idempotent: run it as often as you like, it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the broker the hub runs (the tests start the real one) and its command-line clients
# for the operator, a Python with venv support, tzdata for the shop's time zone, the font the voucher
# preview is drawn with; pcscd for PC/SC card readers, and what building pyscard needs (swig,
# libpcsclite-dev, a C compiler, Python headers). vsmartcard-vpcd is the virtual reader the tests tap
# cards on: test and development machines only, never a kiosk image (it listens on every interface). chromium: the staff web tests drive
# it headless through Playwright (the tests never download a browser).
# The kiosk's screens (Kivy's wheel bundles SDL2): Mesa's OpenGL (llvmpipe where there is no GPU), the X
# libraries SDL loads, mtdev (Kivy's input layer loads it); xvfb: the UI tests run the real app on it.
# The appliance: systemd-analyze checks the units (verify, security), shellcheck the image's scripts.
# libxtst6: the kiosk app benchmark touches the screen through the X server (XTest), as a finger would.
# openssh-client: ssh-keygen makes the real keys the maintenance-access tests read.
DEB_PACKAGES=(mosquitto mosquitto-clients python3 python3-venv tzdata ca-certificates fonts-dejavu-core
  pcscd swig libpcsclite-dev gcc python3-dev
  vsmartcard-vpcd
  chromium
  xvfb libgl1 libgl1-mesa-dri libegl1 libmtdev1 libx11-6 libxext6 libxcursor1 libxi6 libxrandr2 libxss1
  systemd shellcheck
  libxtst6 openssh-client)

missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "setup: these Debian packages are missing: ${missing[*]}; run this script as root, or install sudo" >&2
      exit 1
    fi
    SUDO="sudo"
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: Fidelio needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating the virtual environment .venv"
  "$PYTHON" -m venv .venv
fi

# Reinstall the project only when its dependencies changed.
stamp=.venv/.fidelio-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Fidelio and its dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  # pip's output goes to a log (setuptools' editable-install warnings are noise); shown on failure.
  if ! .venv/bin/python -m pip install -e ".[hub,kiosk,dev]" >.venv/pip-install.log 2>&1; then
    cat .venv/pip-install.log >&2
    echo "setup: installing the project failed (log above, kept in .venv/pip-install.log)" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi
