#!/usr/bin/env bash
# Installs every build and test dependency of dlc from Debian's archive.
# Idempotent: packages already installed are left as they are.
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build python3
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools
  libdnnl-dev ocl-icd-opencl-dev
  protobuf-compiler libprotobuf-dev
  libgtest-dev libcli11-dev nlohmann-json3-dev libfmt-dev zlib1g-dev libkissfft-dev
  python3-matplotlib  # bench/benchmarks.py's plots; the suite checks the harness
  # Training data (docs/training.md): Caffe's Data layer backends, HDF5Data,
  # ImageData's decoders.
  liblmdb-dev libleveldb-dev libhdf5-dev libpng-dev libjpeg-dev
  dataset-fashion-mnist  # the converter's tests and docs/training.md's runs
  # dlrun --distributed mpi (docs/distributed.md): Open MPI and its mpirun.
  libopenmpi-dev openmpi-bin
)
# Benchmarks only (PyTorch anchor); pass --bench to install them as well.
if [[ "${1:-}" == "--bench" ]]; then
  PKGS+=(python3-torch libopenblas0-openmp python3-numpy python3-protobuf)
fi
# Fuzzing only (scripts/fuzz.sh): clang with libFuzzer and LLVM's OpenMP.
if [[ "${1:-}" == "--fuzz" ]]; then
  PKGS+=(clang-19 libclang-rt-19-dev libomp-19-dev binutils time)
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
