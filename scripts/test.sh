#!/usr/bin/env bash
# Installs the dependencies, builds dlc and runs every test (GoogleTest + lit) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)"
