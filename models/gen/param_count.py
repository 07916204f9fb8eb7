#!/usr/bin/env python3
# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""Parses Caffe prototxt files (python3, stdlib only), infers every blob's
shape with Caffe's rules for the layer types used in models/, and counts the
parameters. An independent check of the model files and the source of the
parameter column of models/README.md.

Usage:
  python3 models/gen/param_count.py models/*.prototxt            # one line per net
  python3 models/gen/param_count.py --shapes models/alexnet.prototxt  # every blob
Exit status 1 if a file does not parse or a shape rule fails.

Counted: parameter blobs (Convolution/InnerProduct/Embed/LSTM/RNN weights and biases,
Scale's scale and bias), each blob shared through param { name } once;
"trained" (printed when different) leaves out blobs with lr_mult 0.
BatchNorm's mean/variance/factor statistics are not learnable and are
reported separately ("stats").
"""
import argparse
import math
import re
import sys

TOKEN = re.compile(r"""\s+|\#[^\n]*|(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
                   r"""|(?P<sym>[{}:<>\[\],;])|(?P<word>[-+A-Za-z0-9_.]+)""")


class ParseError(Exception):
    pass


def tokenize(text):
    pos, out = 0, []
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            line = text.count("\n", 0, pos) + 1
            raise ParseError("line %d: unexpected character %r" % (line, text[pos]))
        pos = m.end()
        for kind in ("str", "sym", "word"):
            if m.group(kind) is not None:
                out.append((kind, m.group(kind)))
    return out


def parse_message(tokens, i, closing):
    """Returns (dict field -> list of values, next index). Values are str,
    int, float or nested dicts; enum identifiers stay strings."""
    msg = {}
    while i < len(tokens):
        kind, tok = tokens[i]
        if kind == "sym" and tok in "}>":
            if closing is None:
                raise ParseError("unbalanced %r" % tok)
            return msg, i + 1
        if kind != "word":
            raise ParseError("expected a field name, got %r" % tok)
        name = tok
        i += 1
        if i < len(tokens) and tokens[i] == ("sym", ":"):
            i += 1
        if i >= len(tokens):
            raise ParseError("field %s has no value" % name)
        kind, tok = tokens[i]
        if kind == "sym" and tok in "{<":
            val, i = parse_message(tokens, i + 1, "}" if tok == "{" else ">")
        elif kind == "str":
            val, i = tok[1:-1], i + 1
        elif kind == "word":
            val, i = scalar(tok), i + 1
        else:
            raise ParseError("bad value %r for field %s" % (tok, name))
        msg.setdefault(name, []).append(val)
        if i < len(tokens) and tokens[i][0] == "sym" and tokens[i][1] in ",;":
            i += 1
    if closing is not None:
        raise ParseError("missing %r" % closing)
    return msg, i


def scalar(tok):
    try:
        return int(tok)
    except ValueError:
        pass
    try:
        return float(tok)
    except ValueError:
        return tok  # enum or identifier (true/false, MAX, SUM, ...)


def parse(text):
    msg, _ = parse_message(tokenize(text), 0, None)
    return msg


def one(msg, field, default=None):
    v = msg.get(field)
    return v[-1] if v else default


def spatial(p, name, default):
    """Caffe's kernel_size/kernel_h/kernel_w (likewise stride, pad) for 2-D."""
    h, w = one(p, name + "_h"), one(p, name + "_w")
    if h is not None or w is not None:
        return [h, w]
    vals = p.get(name + "_size" if name == "kernel" else name, [])
    if not vals:
        return [default, default]
    return [vals[0], vals[0]] if len(vals) == 1 else list(vals[:2])


def prod(xs):
    r = 1
    for x in xs:
        r *= x
    return r


class Net:
    def __init__(self, text):
        self.msg = parse(text)
        self.blobs = {}          # name -> shape (latest)
        self.order = []          # (blob, shape) as produced, for --shapes
        self.learnable = 0
        self.trained = 0         # the part with lr_mult != 0
        self.stats = 0
        self.shared = {}         # param name -> count
        self.inputs = []
        self.consumed = {}       # blob -> consumed after its last write

    def produce(self, top, shape):
        self.blobs[top] = shape
        self.order.append((top, shape))
        self.consumed[top] = False

    def bottom(self, layer, b):
        if b not in self.blobs:
            raise ParseError("layer %s: unknown bottom %r" % (one(layer, "name"), b))
        self.consumed[b] = True
        return self.blobs[b]

    def add_params(self, layer, counts):
        specs = layer.get("param", [])
        for idx, c in enumerate(counts):
            spec = specs[idx] if idx < len(specs) else {}
            name = one(spec, "name")
            if name:
                if name in self.shared:
                    if self.shared[name] != c:
                        raise ParseError("shared param %s: %d vs %d values"
                                         % (name, self.shared[name], c))
                    continue
                self.shared[name] = c
            self.learnable += c
            if one(spec, "lr_mult", 1) != 0:
                self.trained += c

    def run(self):
        for layer in self.msg.get("layer", []):
            self.layer(layer)
        if "input" in self.msg:
            raise ParseError("legacy input: fields are not handled here")
        return self

    def layer(self, L):
        t = one(L, "type")
        name = one(L, "name")
        bottoms = [self.bottom(L, b) for b in L.get("bottom", [])]
        tops = L.get("top", [])
        x = bottoms[0] if bottoms else None
        if t == "Input":
            shapes = one(L, "input_param", {}).get("shape", [])
            if len(shapes) not in (1, len(tops)):
                raise ParseError("layer %s: %d shapes for %d tops" % (name, len(shapes), len(tops)))
            for i, top in enumerate(tops):
                s = list(shapes[i if len(shapes) > 1 else 0].get("dim", []))
                self.inputs.append((top, s))
                self.produce(top, s)
            return
        if t == "Convolution":
            p = one(L, "convolution_param", {})
            k, s, pd = spatial(p, "kernel", None), spatial(p, "stride", 1), spatial(p, "pad", 0)
            n, g = one(p, "num_output"), one(p, "group", 1)
            if x[1] % g or n % g:
                raise ParseError("layer %s: channels not divisible by group" % name)
            out = [x[0], n] + [(x[2 + i] + 2 * pd[i] - k[i]) // s[i] + 1 for i in range(2)]
            counts = [n * (x[1] // g) * k[0] * k[1]]
            if one(p, "bias_term", "true") not in (False, "false"):
                counts.append(n)
            self.add_params(L, counts)
        elif t == "Pooling":
            p = one(L, "pooling_param", {})
            if one(p, "global_pooling") in (True, "true"):
                out = x[:2] + [1, 1]
            else:
                k, s, pd = spatial(p, "kernel", None), spatial(p, "stride", 1), spatial(p, "pad", 0)
                out = x[:2]
                for i in range(2):
                    o = int(math.ceil((x[2 + i] + 2 * pd[i] - k[i]) / s[i])) + 1
                    # Caffe clips the last window only when there is padding.
                    if (pd[0] or pd[1]) and (o - 1) * s[i] >= x[2 + i] + pd[i]:
                        o -= 1
                    out.append(o)
        elif t == "InnerProduct":
            p = one(L, "inner_product_param", {})
            axis = one(p, "axis", 1)
            n, k = one(p, "num_output"), prod(x[axis:])
            out = x[:axis] + [n]
            counts = [n * k]
            if one(p, "bias_term", "true") not in (False, "false"):
                counts.append(n)
            self.add_params(L, counts)
        elif t == "Embed":
            p = one(L, "embed_param", {})
            n, k = one(p, "num_output"), one(p, "input_dim")
            out = x + [n]
            counts = [k * n]
            if one(p, "bias_term", "true") not in (False, "false"):
                counts.append(n)
            self.add_params(L, counts)
        elif t in ("LSTM", "RNN"):
            p = one(L, "recurrent_param", {})
            h, i = one(p, "num_output"), prod(x[2:])
            if len(bottoms) > 2:
                raise ParseError("layer %s: x_static is not handled" % name)
            out = x[:2] + [h]
            # Caffe's blobs: LSTM W_xc [4H, I], b_c [4H], W_hc [4H, H];
            # RNN W_xh [H, I], b_h [H], W_hh [H, H], W_ho [H, H], b_o [H].
            counts = ([4 * h * i, 4 * h, 4 * h * h] if t == "LSTM"
                      else [h * i, h, h * h, h * h, h])
            self.add_params(L, counts)
        elif t == "Reshape":
            p = one(L, "reshape_param", {})
            dims = list(one(p, "shape", {}).get("dim", []))
            axis, num = one(p, "axis", 0), one(p, "num_axes", -1)
            axis = axis if axis >= 0 else len(x) + 1 + axis
            end = len(x) if num == -1 else axis + num
            new = [x[axis + j] if d == 0 else d for j, d in enumerate(dims)]
            if -1 in new:
                known = prod([d for d in new if d != -1]) * prod(x[:axis]) * prod(x[end:])
                new[new.index(-1)] = prod(x) // known
            out = x[:axis] + new + x[end:]
        elif t in ("ReLU", "Sigmoid", "TanH", "Dropout", "LRN", "Softmax", "Power",
                   "AbsVal", "BNLL", "ELU"):
            out = x
        elif t == "BatchNorm":
            out = x
            self.stats += 2 * x[1] + 1
        elif t == "Scale" and len(bottoms) == 2:
            out = x  # the scale is the second bottom
        elif t == "Scale":
            out = x
            p = one(L, "scale_param", {})
            counts = [x[1]]
            if one(p, "bias_term") in (True, "true"):
                counts.append(x[1])
            self.add_params(L, counts)
        elif t == "Eltwise":
            if any(b != x for b in bottoms):
                raise ParseError("layer %s: Eltwise shapes differ: %s" % (name, bottoms))
            out = x
        elif t == "Concat":
            axis = one(one(L, "concat_param", {}), "axis", 1)
            out = list(x)
            out[axis] = sum(b[axis] for b in bottoms)
        elif t == "Flatten":
            out = x[:1] + [prod(x[1:])]
        elif t in ("EuclideanLoss", "SigmoidCrossEntropyLoss"):
            if prod(bottoms[0][1:]) != prod(bottoms[1][1:]):
                raise ParseError("layer %s: loss inputs differ: %s" % (name, bottoms))
            out = []
        elif t == "SoftmaxWithLoss":
            axis = one(one(L, "softmax_param", {}), "axis", 1)
            if prod(bottoms[1]) != prod(bottoms[0][:axis]) * prod(bottoms[0][axis + 1:]):
                raise ParseError("layer %s: label shape %s for logits %s" % (name, bottoms[1], bottoms[0]))
            out = []
        else:
            raise ParseError("layer %s: type %s not handled" % (name, t))
        if len(tops) != 1:
            raise ParseError("layer %s: expected one top" % name)
        self.produce(tops[0], out)

    def outputs(self):
        return [(b, self.blobs[b]) for b, c in self.consumed.items() if not c]


def fmt(shape):
    return "x".join(str(d) for d in shape) if shape else "scalar"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--shapes", action="store_true", help="print every blob's shape")
    args = ap.parse_args()
    status = 0
    for f in args.files:
        try:
            with open(f) as fh:
                net = Net(fh.read()).run()
        except (ParseError, OSError, TypeError, IndexError, KeyError) as e:
            print("%s: error: %s" % (f, e))
            status = 1
            continue
        ins = " ".join("%s=%s" % (b, fmt(s)) for b, s in net.inputs)
        outs = " ".join("%s=%s" % (b, fmt(s)) for b, s in net.outputs())
        extra = ""
        if net.trained != net.learnable:
            extra += " (trained %d)" % net.trained
        if net.stats:
            extra += ", stats %d" % net.stats
        print("%s: params %d%s; in %s; out %s" % (f, net.learnable, extra, ins, outs))
        if args.shapes:
            for b, s in net.order:
                print("  %-28s %s" % (b, fmt(s)))
    return status


if __name__ == "__main__":
    sys.exit(main())
