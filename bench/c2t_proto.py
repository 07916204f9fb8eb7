# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""Caffe prototxt parsing for caffe2torch.py: compiles dlc's own schema
(lib/Caffe/caffe.proto) with `protoc --python_out` at run time, parses the
text format, upgrades V1 `layers` files and applies NetStateRule filtering.
"""

import functools
import importlib.util
import os
import subprocess
import sys
import tempfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_PROTO = os.path.join(REPO_ROOT, "lib", "Caffe", "caffe.proto")


class CaffeError(Exception):
    """A net this module cannot build (bad file, unsupported layer, ...)."""


@functools.lru_cache(maxsize=None)
def caffe_pb2(proto_path=DEFAULT_PROTO):
    """Compiles caffe.proto (and the caffe_*.proto files it imports, from its
    directory) with protoc into a temporary directory and imports the
    generated caffe_pb2 module."""
    if not os.path.isfile(proto_path):
        raise CaffeError(f"{proto_path}: Caffe schema not found")
    tmp = tempfile.mkdtemp(prefix="caffe2torch-")
    src_dir, name = os.path.split(os.path.abspath(proto_path))
    parts = sorted(f for f in os.listdir(src_dir) if f.startswith("caffe_") and f.endswith(".proto"))
    try:
        subprocess.run(["protoc", f"--proto_path={src_dir}", f"--python_out={tmp}", name, *parts],
                       check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise CaffeError("protoc not found (Debian package protobuf-compiler)") from None
    except subprocess.CalledProcessError as e:
        raise CaffeError(f"protoc failed on {proto_path}:\n{e.stderr}") from None
    sys.path.insert(0, tmp)  # caffe_pb2 imports caffe_common_pb2 and caffe_layers_pb2
    mod_name = os.path.splitext(name)[0] + "_pb2"
    spec = importlib.util.spec_from_file_location(mod_name, os.path.join(tmp, mod_name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def parse_prototxt(path, proto_path=DEFAULT_PROTO):
    """Returns the caffe.NetParameter of a prototxt (text format)."""
    from google.protobuf import text_format
    pb2 = caffe_pb2(proto_path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise CaffeError(f"{path}: cannot read: {e.strerror}") from None
    net = pb2.NetParameter()
    try:
        text_format.Parse(text, net)
    except text_format.ParseError as e:
        raise CaffeError(f"{path}:{e}") from None
    return net


# V1 LayerType enum name -> V2 type string (the ones this module can build;
# others map to a readable name and are reported as unsupported later).
_V1_TYPES = {
    "ABSVAL": "AbsVal", "ACCURACY": "Accuracy", "ARGMAX": "ArgMax", "BNLL": "BNLL",
    "CONCAT": "Concat", "CONTRASTIVE_LOSS": "ContrastiveLoss", "CONVOLUTION": "Convolution",
    "DATA": "Data", "DECONVOLUTION": "Deconvolution", "DROPOUT": "Dropout",
    "DUMMY_DATA": "DummyData", "EUCLIDEAN_LOSS": "EuclideanLoss", "ELTWISE": "Eltwise",
    "EXP": "Exp", "FLATTEN": "Flatten", "HDF5_DATA": "HDF5Data", "HDF5_OUTPUT": "HDF5Output",
    "HINGE_LOSS": "HingeLoss", "IM2COL": "Im2col", "IMAGE_DATA": "ImageData",
    "INFOGAIN_LOSS": "InfogainLoss", "INNER_PRODUCT": "InnerProduct", "LRN": "LRN",
    "MEMORY_DATA": "MemoryData", "MULTINOMIAL_LOGISTIC_LOSS": "MultinomialLogisticLoss",
    "MVN": "MVN", "POOLING": "Pooling", "POWER": "Power", "RELU": "ReLU", "SIGMOID": "Sigmoid",
    "SIGMOID_CROSS_ENTROPY_LOSS": "SigmoidCrossEntropyLoss", "SILENCE": "Silence",
    "SOFTMAX": "Softmax", "SOFTMAX_LOSS": "SoftmaxWithLoss", "SPLIT": "Split", "SLICE": "Slice",
    "TANH": "TanH", "WINDOW_DATA": "WindowData", "THRESHOLD": "Threshold",
}


def upgrade_v1(net, pb2):
    """Converts V1 `layers` entries to V2 `layer` entries in place (type enum
    to string; every *_param / include / exclude / bottom / top field with
    the same name and type is copied)."""
    if not net.layers:
        return
    if net.layer:
        raise CaffeError("net mixes V1 'layers' and V2 'layer' entries")
    v2_fields = pb2.LayerParameter.DESCRIPTOR.fields_by_name
    for old in net.layers:
        new = net.layer.add()
        if old.HasField("layer"):
            raise CaffeError(f"layer '{old.name}': V0 layer definitions are not supported")
        enum = pb2.V1LayerParameter.LayerType.Name(old.type)
        new.type = _V1_TYPES.get(enum, enum)
        for fd, value in old.ListFields():
            if fd.name in ("type", "blobs_lr", "weight_decay", "param", "blob_share_mode", "blobs"):
                continue
            tgt = v2_fields.get(fd.name)
            if tgt is None or tgt.type != fd.type:
                continue
            if fd.label == fd.LABEL_REPEATED:
                getattr(new, fd.name).extend(value)
            elif fd.type == fd.TYPE_MESSAGE:
                getattr(new, fd.name).CopyFrom(value)
            else:
                setattr(new, fd.name, value)
    del net.layers[:]


def _rule_matches(rule, phase, level, stages):
    if rule.HasField("phase") and rule.phase != phase:
        return False
    if rule.HasField("min_level") and level < rule.min_level:
        return False
    if rule.HasField("max_level") and level > rule.max_level:
        return False
    if any(s not in stages for s in rule.stage):
        return False
    if any(s in stages for s in rule.not_stage):
        return False
    return True


def layer_included(layer, phase, level=0, stages=()):
    """Caffe's NetStateRule filtering (Net::StateMeetsRule)."""
    if layer.include and layer.exclude:
        raise CaffeError(f"layer '{layer.name}': both include and exclude rules")
    if layer.include:
        return any(_rule_matches(r, phase, level, stages) for r in layer.include)
    return not any(_rule_matches(r, phase, level, stages) for r in layer.exclude)
