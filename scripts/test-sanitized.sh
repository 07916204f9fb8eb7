#!/usr/bin/env bash
# Builds dlc with sanitizers into ${BUILD_DIR:-build-asan} and runs the whole
# test suite under them (docs/reliability.md). SANITIZE=address,undefined
# (default) or SANITIZE=thread. Any report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
SANITIZE=${SANITIZE:-address,undefined}
BUILD_DIR=${BUILD_DIR:-build-$( [[ $SANITIZE == thread ]] && echo tsan || echo asan )}
scripts/install-deps.sh
cmake -G Ninja -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDLC_SANITIZE="$SANITIZE"
cmake --build "$BUILD_DIR"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=0}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
# Debian's libgomp is not built with TSan: OpenMP's synchronization is
# invisible to it, so every parallel loop would be a false race.
[[ $SANITIZE == thread ]] && export OMP_NUM_THREADS=1
cd "$BUILD_DIR"
ctest --output-on-failure -j "$(nproc)"
