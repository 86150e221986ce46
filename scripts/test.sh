#!/usr/bin/env bash
# The whole test suite, with the real broker (installs what is missing first). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
mkdir -p test-artifacts
exec .venv/bin/pytest --junitxml=test-artifacts/junit.xml "$@"
