#!/usr/bin/env python3
# Writes the .npy seeds of scripts/fuzz.sh's npy target into DIR: every
# format version, both dtypes, scalars, empty and multi-dimensional shapes.
# Python's standard library only (numpy need not be installed).
# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
import os
import struct
import sys


def npy(version, descr, shape, values):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, "".join(f"{d}, " for d in shape) if len(shape) == 1 else ", ".join(map(str, shape)))
    width = 4 if version > 1 else 2
    pad = 16 - (6 + 2 + width + len(header) + 1) % 16
    header = (header + " " * (pad % 16) + "\n").encode("utf-8" if version == 3 else "latin1")
    fmt = "<f" if descr == "<f4" else "<d"
    data = b"".join(struct.pack(fmt, v) for v in values)
    size = struct.pack("<H" if width == 2 else "<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + size + header + data


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    cases = {
        "v1-f4-2x3": (1, "<f4", (2, 3)),
        "v1-f8-4": (1, "<f8", (4,)),
        "v1-f4-scalar": (1, "<f4", ()),
        "v1-f4-empty": (1, "<f4", (0, 3)),
        "v2-f4-1x2x2x2": (2, "<f4", (1, 2, 2, 2)),
        "v3-f8-3x1": (3, "<f8", (3, 1)),
    }
    for name, (version, descr, shape) in cases.items():
        n = 1
        for d in shape:
            n *= d
        with open(os.path.join(out, name + ".npy"), "wb") as f:
            f.write(npy(version, descr, shape, [0.5 * i - 1 for i in range(n)]))


if __name__ == "__main__":
    main()
