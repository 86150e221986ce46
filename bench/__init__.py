"""Fidelio's benchmarks: `bash bench/run.sh` (or `.venv/bin/python -m bench.hub_bench`) from the repo root.

Every figure is measured in the run that prints it, against the real Mosquitto and the real hub; see
bench/README.md for what each one measures and the last figures.
"""
