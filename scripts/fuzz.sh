#!/usr/bin/env bash
# Coverage-guided fuzzing of dlc's file readers with libFuzzer (docs/reliability.md).
#
#   scripts/fuzz.sh [--seconds N] [--runs R] [--timeout S] [--keep-going [--jobs J]]
#                   [TARGET...]
#
# Builds the targets of tools/dlc-fuzz with clang-19, -fsanitize=fuzzer,
# address,undefined into ${BUILD_DIR:-build-fuzz}, assembles each target's
# seed corpus and dictionary, runs each target N seconds (default 60, the
# smoke run; with --runs R, until R inputs ran, with no time limit unless
# --seconds is given too) one after the other and prints a table:
# executions, coverage, corpus size, findings. Targets: prototxt solver
# caffemodel npy npz module (all by default). Findings (crash, leak, timeout
# over S seconds per input, default 1, when it reproduces alone; more than
# 2 GiB) go to
# $BUILD_DIR/fuzz/findings/<target>/ and make the script fail; add each to
# test/tools/fuzz/Inputs with its test.
# --keep-going runs libFuzzer in fork mode, which goes on after a finding
# (the long runs of docs/reliability.md), with J jobs at a time (--jobs,
# default 1); by default the first finding stops it.
# The corpus grows in $BUILD_DIR/fuzz/corpus/<target>, so later runs resume.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
SECONDS_PER_TARGET=60
TIMEOUT=1
TARGETS=()
KEEP_GOING=()
JOBS=1
RUNS=()
SECONDS_SET=false
while (($#)); do
  case "$1" in
    --seconds|--runs|--timeout|--jobs)
      [[ ${2:-} =~ ^[0-9]+$ ]] || { echo "fuzz.sh: $1 needs a count" >&2; exit 2; } ;;
  esac
  case "$1" in
    --seconds) SECONDS_PER_TARGET=$2; SECONDS_SET=true; shift 2 ;;
    --runs) RUNS=(-runs="$2"); $SECONDS_SET || SECONDS_PER_TARGET=0; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --keep-going) KEEP_GOING=(-ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1); shift ;;
    --jobs) JOBS=$(( $2 > 0 ? $2 : 1 )); shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    prototxt|solver|caffemodel|npy|npz|module) TARGETS+=("$1"); shift ;;
    *) echo "fuzz.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
((${#TARGETS[@]})) || TARGETS=(prototxt solver caffemodel npy npz module)
((${#KEEP_GOING[@]})) && KEEP_GOING=(-fork="$JOBS" "${KEEP_GOING[@]}")
BUILD_DIR=${BUILD_DIR:-build-fuzz}
ZOO=${DLC_ZOO_DIR:-$SRC/../shared/zoo}

scripts/install-deps.sh --fuzz
t0=$(date +%s)
if [[ ! -f $BUILD_DIR/build.ninja ]]; then
  CC=clang-19 CXX=clang++-19 cmake -G Ninja -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1" \
    -DDLC_FUZZ=ON -DDLC_ENABLE_TESTS=OFF
fi
# dlc itself only makes the module target's seeds.
NEED_DLC=$([[ " ${TARGETS[*]} " == *" module "* ]] && echo dlc || true)
cmake --build "$BUILD_DIR" --target $NEED_DLC $(printf 'dlc-fuzz-%s ' "${TARGETS[@]}")
echo "build: $(( $(date +%s) - t0 )) s"
BIN=$BUILD_DIR/bin
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
WORK=$BUILD_DIR/fuzz
mkdir -p "$WORK"

# --- Seeds and dictionaries -------------------------------------------------
seed() { # seed TARGET FILE...: copies files into the corpus (names by content)
  local dir=$WORK/corpus/$1; shift
  mkdir -p "$dir"
  for f in "$@"; do
    [[ -f $f ]] && cp "$f" "$dir/seed-$(sha1sum "$f" | cut -c1-16)"
  done
  return 0
}
dict_line() { # escapes a string for a libFuzzer dictionary
  printf '"%s"\n' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

for t in "${TARGETS[@]}"; do
  case $t in
  prototxt)
    mapfile -t files < <(find "$ZOO" models test -name '*.prototxt' 2>/dev/null)
    seed prototxt "${files[@]}"
    {
      # Every field name of caffe.proto (with ':' and ' {') and enum value.
      sed -nE 's/^\s*(optional|repeated|required)\s+\S+\s+(\w+)\s*=.*/\2/p' lib/Caffe/*.proto |
        sort -u | while read -r f; do dict_line "$f:"; dict_line "$f {"; done
      sed -nE 's/^\s*([A-Z][A-Z0-9_]+)\s*=\s*[0-9]+.*/\1/p' lib/Caffe/*.proto | sort -u |
        while read -r v; do dict_line "$v"; done
      # Layer types as the seeds spell them.
      cat "${files[@]}" | grep -oE 'type: *"[A-Za-z0-9]+"' | sort -u |
        while read -r l; do dict_line "$l"; done
      for s in '{' '}' '"' '#' 'layer {' 'layers {' 'input_shape {' 'dim:' 'bottom:' 'top:' \
               'name:' 'param {' 'true' 'false' '-1' '0' '1e38' '4294967296' '2147483647'; do
        dict_line "$s"
      done
    } >"$WORK/prototxt.dict" ;;
  solver)
    # The zoo's solvers, the tests' (split-file cases too), and solvers with
    # inline nets.
    mapfile -t files < <(grep -rlE '^(net|train_net|base_lr|lr_policy|test_iter):' "$ZOO" test \
                           --include='*.prototxt' 2>/dev/null)
    seed solver "${files[@]}"
    awk -v dir="$TMP/solver-cases" 'BEGIN { system("mkdir -p " dir) }
      /^\/\/--- / { out = dir "/" $2; next } out { print > out }' test/Caffe/solver-errors.test \
      test/Target/compile-solver.test
    seed solver "$TMP"/solver-cases/*
    {
      sed -nE '/^message SolverParameter/,/^}/s/^\s*(optional|repeated)\s+\S+\s+(\w+)\s*=.*/\2/p' \
        lib/Caffe/caffe.proto | sort -u |
        while read -r f; do dict_line "$f:"; dict_line "$f {"; done
      for s in SGD Nesterov AdaGrad RMSProp AdaDelta Adam fixed step exp inv multistep poly \
               sigmoid L1 L2 TRAIN TEST 'layer {' 'stage:' 'level:' 'phase:' '{' '}' '"'; do
        dict_line "$s"
      done
    } >"$WORK/solver.dict" ;;
  caffemodel)
    for txt in tools/dlc-fuzz/caffemodel-seed.txt tools/dlc-fuzz/caffemodel-seed-v1.txt \
               test/Target/Inputs/tiny-ip-weights.txt test/Target/Inputs/tiny-ip-badweights.txt; do
      protoc --encode=caffe.NetParameter -I lib/Caffe caffe.proto <"$txt" >"$TMP/$(basename "$txt").bin"
    done
    seed caffemodel "$TMP"/*.bin
    : >"$WORK/caffemodel.dict"
    for s in conv1 bn1 scale1 ip1 ip2 ip3 shared; do dict_line "$s" >>"$WORK/caffemodel.dict"; done ;;
  npy)
    python3 tools/dlc-fuzz/make-npy-seeds.py "$TMP/npy"
    seed npy "$TMP"/npy/*.npy
    printf '%s\n' '"\x93NUMPY"' '"descr"' '"<f4"' '"<f8"' '"fortran_order"' '"shape"' \
      '"False"' '"True"' '"\x01\x00"' '"\x02\x00"' '"\x03\x00"' >"$WORK/npy.dict" ;;
  npz)
    seed npz test/Target/Inputs/*.npz
    printf '%s\n' '"PK\x03\x04"' '"PK\x01\x02"' '"PK\x05\x06"' '"PK\x06\x06"' '"PK\x06\x07"' \
      '".npy"' '"\xff\xff\xff\xff"' '"\x01\x00"' '"\x08\x00"' '"\x93NUMPY"' >"$WORK/npz.dict" ;;
  module)
    # Modules of small nets (each loads well within the 1 s per input under
    # ASan; ResNet-56 does not): forward, gradient, with and without native
    # code, with stored weights.
    i=0
    for net in models/lenet.prototxt models/ae1.prototxt models/lstm-imdb.prototxt \
               test/Target/Inputs/bn-scale-block.prototxt test/Target/Inputs/tiny-ip.prototxt \
               test/Conversion/Inputs/pointwise-chain.prototxt; do
      for flags in "" "--gradient" "--no-codegen --gradient"; do
        "$BIN/dlc" compile "$net" $flags -o "$TMP/m$((i++)).dlcm" 2>/dev/null || true
      done
    done
    "$BIN/dlc" compile test/Target/Inputs/tiny-ip.prototxt \
      --weights test/Target/Inputs/tiny-ip-weights.npz -o "$TMP/weights.dlcm"
    seed module "$TMP"/*.dlcm
    { dict_line DLCM; strings -n 4 "$TMP"/*.dlcm | grep -vE '[/":]' | sort -u | head -300 |
        while read -r s; do dict_line "$s"; done; } >"$WORK/module.dict" ;;
  esac
done

# --- Runs ---------------------------------------------------------------------
# libFuzzer's timeout handler allocates; when the alarm lands inside the
# sanitizer's allocator, the fuzzer deadlocks and sleeps for ever. The
# watchdog kills a fuzzer process (in fork mode, the job) whose CPU time has
# not moved for 5 minutes; fork mode then goes on with the next job.
watchdog() { # watchdog PID TARGET: runs in the background until PID exits
  local pid=$1 target=$2 pattern="^[^ ]*/dlc-fuzz-$2 "
  # Fork mode: the jobs only (the parent waits on them, sleeping).
  ((${#KEEP_GOING[@]})) && pattern+=".*-features_dir="
  (
    declare -A cpu idle
    while kill -0 "$pid" 2>/dev/null; do
      sleep 60
      for p in $(pgrep -f "$pattern"); do
        [[ -r /proc/$p/stat ]] || continue
        now=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) || continue
        if [[ ${cpu[$p]:-} == "$now" ]]; then
          idle[$p]=$(( ${idle[$p]:-0} + 1 ))
          if (( idle[$p] >= 5 )); then
            echo "watchdog: killing $(tr '\0' ' ' </proc/$p/cmdline | cut -c1-60) (pid $p): no CPU time for 5 minutes" >&2
            kill -KILL "$p" 2>/dev/null
          fi
        else
          idle[$p]=0
        fi
        cpu[$p]=$now
      done
    done
  ) &
}
status=0
rows=()
for t in "${TARGETS[@]}"; do
  mkdir -p "$WORK/findings/$t"
  log=$WORK/$t.log
  echo "fuzzing $t: ${SECONDS_PER_TARGET} s (0: no limit) ${RUNS[*]} (log: $log)"
  set +e
  /usr/bin/time -f '%U %S' -o "$WORK/$t.cpu" "$BIN/dlc-fuzz-$t" "$WORK/corpus/$t" \
    -dict="$WORK/$t.dict" -max_total_time="$SECONDS_PER_TARGET" -timeout="$TIMEOUT" \
    -rss_limit_mb=2048 -malloc_limit_mb=2048 -close_fd_mask=3 -print_final_stats=1 \
    -artifact_prefix="$WORK/findings/$t/" "${KEEP_GOING[@]}" "${RUNS[@]}" >"$log" 2>&1 &
  watchdog $! "$t"
  wait $!
  rc=$?
  set -e
  # The last status line: "#N DONE cov: C ft: F corp: K/..." or, with
  # --keep-going (fork mode), "#N: cov: C ft: F corp: K exec/s: R ...".
  last=$(sed -nE '/^#[0-9]+/p' "$log" | tail -1)
  field() { sed -nE "s|.* $1: ([0-9]+).*|\\1|p" <<<"$last"; }
  execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
  cpu=$(tail -1 "$WORK/$t.cpu" | awk '{printf "%.0f", $1 + $2}' 2>/dev/null || echo '?')
  rss=$(field rss)
  # A timeout counts when it reproduces alone: on a loaded machine the
  # largest seeds (ResNet-152's net) come close to the limit under ASan.
  mkdir -p "$WORK/slow/$t"
  for f in "$WORK/findings/$t"/timeout-*; do
    [[ -f $f ]] || continue
    if "$BIN/dlc-fuzz-$t" -timeout="$TIMEOUT" -runs=1 -close_fd_mask=3 "$f" >/dev/null 2>&1; then
      mv "$f" "$WORK/slow/$t/"
    fi
  done
  findings=$(find "$WORK/findings/$t" -type f | wc -l)
  rows+=("$(printf '%-11s %8s %12s %9s %7s %8s %7s %8s %9s' "$t" "$cpu" "${execs:-?}" \
    "$(field exec/s)" "$(field cov)" "$(field ft)" "$(field corp)" "${rss:--}" "$findings")")
  if ((rc != 0 || findings != 0)); then
    status=1
    echo "$t: FINDING (exit $rc); see $log and $WORK/findings/$t" >&2
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -5 >&2 || true
  fi
done
printf '\n%-11s %8s %12s %9s %7s %8s %7s %8s %9s\n' target 'cpu s' executions 'exec/s' cov \
  features corpus 'rss MiB' findings
printf '%s\n' "${rows[@]}"
exit $status
