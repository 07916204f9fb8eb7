#!/usr/bin/env bash
# Converts Debian's dataset-fashion-mnist into the LMDBs Caffe's MNIST
# examples read (docs/training.md):
#   scripts/fashion-mnist.sh [DIR]   (default: the current directory)
# writes DIR/examples/mnist/mnist_train_lmdb (60,000 records) and
# DIR/examples/mnist/mnist_test_lmdb (10,000), so that the zoo's
# mnist/lenet_solver.prototxt compiles and trains unchanged from DIR:
#   cd DIR && dlc compile --solver .../zoo/mnist/lenet_solver.prototxt -o lenet.dlcm
# Existing databases are left as they are. DLC_DATA=path/to/dlc-data.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-.}
DATA=/usr/share/datasets/fashion-mnist
TOOL=${DLC_DATA:-$SRC/build/bin/dlc-data}
if [[ ! -f $DATA/train-images-idx3-ubyte.gz ]]; then
  echo "fashion-mnist.sh: $DATA not found; install Debian's dataset-fashion-mnist" \
       "(scripts/install-deps.sh)" >&2
  exit 1
fi
[[ -x $TOOL ]] || { echo "fashion-mnist.sh: $TOOL not found; build dlc first" >&2; exit 1; }
mkdir -p "$DIR/examples/mnist"
for split in train:train t10k:test; do
  src=${split%%:*} dst=$DIR/examples/mnist/mnist_${split##*:}_lmdb
  if [[ -d $dst ]]; then
    echo "$dst: exists, kept"
  else
    "$TOOL" convert-mnist "$DATA/$src-images-idx3-ubyte.gz" "$DATA/$src-labels-idx1-ubyte.gz" "$dst"
  fi
done
