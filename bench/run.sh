#!/usr/bin/env bash
# Fidelio's benchmarks: prepare the checkout (scripts/setup.sh), then run every benchmark against the real
# Mosquitto and print the figures, the targets (PASS/MISS) and the machine. About 3 minutes on 2 cores
# (4.5 with --profile).
#   bash bench/run.sh              the full run (bench/README.md shows the last one, with --profile)
#   bash bench/run.sh --quick      a short smoke run (figures not comparable)
#   bash bench/run.sh --only latency,ingest,costs,replay,soak,hardware,outbox   a subset;  --profile  also profile the hub
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m bench.hub_bench "$@"
