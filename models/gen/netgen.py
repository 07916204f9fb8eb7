# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""Small helpers that write Caffe prototxt layers in the style of
models/lenet.prototxt (python3, stdlib only). Used by the generators in this
directory; each function returns the text of one `layer { ... }` block."""


def header(lines, name):
    """The leading comment block (one '# ' line per entry) and the net name."""
    out = ["# " + l if l else "#" for l in lines]
    out.append('name: "%s"' % name)
    return "\n".join(out) + "\n"


def _dims(shape):
    return " ".join("dim: %d" % d for d in shape)


def input_layer(tops, shapes, name="data"):
    """An Input layer; tops and shapes are parallel lists."""
    s = ["layer {", '  name: "%s"' % name, '  type: "Input"']
    s += ['  top: "%s"' % t for t in tops]
    s.append("  input_param {")
    s += ["    shape { %s }" % _dims(sh) for sh in shapes]
    s.append("  }")
    s.append("}")
    return "\n".join(s) + "\n"


def _filler(kind, f):
    # f is a dict like {"type": "gaussian", "std": 0.01}.
    parts = ['type: "%s"' % f["type"]]
    for k in ("value", "mean", "std", "min", "max"):
        if k in f:
            parts.append("%s: %s" % (k, _num(f[k])))
    if "variance_norm" in f:
        parts.append("variance_norm: %s" % f["variance_norm"])
    return "    %s_filler { %s }" % (kind, " ".join(parts))


def _num(v):
    if isinstance(v, int):
        return str(v)
    r = repr(float(v))
    return r[:-2] if r.endswith(".0") else r


def _params(specs):
    """specs: list of dicts with optional name / lr_mult / decay_mult."""
    out = []
    for p in specs:
        parts = []
        if "name" in p:
            parts.append('name: "%s"' % p["name"])
        for k in ("lr_mult", "decay_mult"):
            if k in p:
                parts.append("%s: %s" % (k, _num(p[k])))
        out.append("  param { %s }" % " ".join(parts))
    return out


def _head(name, type_, bottoms, tops):
    s = ["layer {", '  name: "%s"' % name, '  type: "%s"' % type_]
    s += ['  bottom: "%s"' % b for b in bottoms]
    s += ['  top: "%s"' % t for t in tops]
    return s


DEFAULT_PARAMS = [{"lr_mult": 1}, {"lr_mult": 2}]


def conv(name, bottom, top, num_output, kernel, stride=1, pad=0, group=1,
         weight_filler=None, bias_filler=None, bias_term=True, params=None):
    weight_filler = weight_filler or {"type": "xavier"}
    if params is None:
        params = DEFAULT_PARAMS if bias_term else DEFAULT_PARAMS[:1]
    s = _head(name, "Convolution", [bottom], [top]) + _params(params)
    s.append("  convolution_param {")
    s.append("    num_output: %d" % num_output)
    if not bias_term:
        s.append("    bias_term: false")
    if pad:
        s.append("    pad: %d" % pad)
    s.append("    kernel_size: %d" % kernel)
    s.append("    stride: %d" % stride)
    if group != 1:
        s.append("    group: %d" % group)
    s.append(_filler("weight", weight_filler))
    if bias_term:
        s.append(_filler("bias", bias_filler or {"type": "constant"}))
    s += ["  }", "}"]
    return "\n".join(s) + "\n"


def inner_product(name, bottom, top, num_output, weight_filler=None,
                  bias_filler=None, params=None, transpose=False):
    weight_filler = weight_filler or {"type": "xavier"}
    params = DEFAULT_PARAMS if params is None else params
    s = _head(name, "InnerProduct", [bottom], [top]) + _params(params)
    s.append("  inner_product_param {")
    s.append("    num_output: %d" % num_output)
    if transpose:
        s.append("    transpose: true")
    s.append(_filler("weight", weight_filler))
    s.append(_filler("bias", bias_filler or {"type": "constant"}))
    s += ["  }", "}"]
    return "\n".join(s) + "\n"


def simple(name, type_, bottoms, tops, body=None):
    """A layer with no parameters; body is an optional list of extra lines
    (already without indentation), e.g. ['eltwise_param { operation: SUM }']."""
    if isinstance(bottoms, str):
        bottoms = [bottoms]
    if isinstance(tops, str):
        tops = [tops]
    s = _head(name, type_, bottoms, tops)
    s += ["  " + l for l in (body or [])]
    s.append("}")
    return "\n".join(s) + "\n"


def pool(name, bottom, top, kind, kernel=None, stride=None, global_=False):
    if global_:
        body = ["pooling_param { pool: %s global_pooling: true }" % kind]
    else:
        body = ["pooling_param { pool: %s kernel_size: %d stride: %d }"
                % (kind, kernel, stride)]
    return simple(name, "Pooling", bottom, top, body)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
