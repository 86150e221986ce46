#!/usr/bin/env bash
# The main job: a broker, a hub and a simulated kiosk, in one command (installs what is missing first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/fidelio demo "$@"
