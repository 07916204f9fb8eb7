#!/usr/bin/env python3
# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""npy_close.py TOL A.npy B.npy [A2.npy B2.npy ...]: each pair of float32
.npy files has the same shape and max |a - b| <= TOL * max |a| (no numpy:
the suite's Python has only the standard library). Prints each ratio; exit
status 1 when a pair differs more (or in shape), 2 on a malformed file."""
import ast
import struct
import sys


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        sys.exit(f"{path}: not a .npy file")
    major = data[6]
    if major == 1:
        (hlen,), start = struct.unpack("<H", data[8:10]), 10
    else:
        (hlen,), start = struct.unpack("<I", data[8:12]), 12
    header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
    if header["descr"] != "<f4" or header["fortran_order"]:
        sys.exit(f"{path}: expected little-endian float32 in C order, got {header}")
    body = data[start + hlen:]
    n = len(body) // 4
    return header["shape"], struct.unpack(f"<{n}f", body)


def main():
    tol, files = float(sys.argv[1]), sys.argv[2:]
    if len(files) < 2 or len(files) % 2:
        sys.exit("usage: npy_close.py TOL A.npy B.npy [A2.npy B2.npy ...]")
    ok = True
    for a_path, b_path in zip(files[::2], files[1::2]):
        (sa, a), (sb, b) = load(a_path), load(b_path)
        if sa != sb:
            print(f"{a_path} {sa} vs {b_path} {sb}: shapes differ")
            ok = False
            continue
        scale = max((abs(x) for x in a), default=0.0)
        diff = max((abs(x - y) for x, y in zip(a, b)), default=0.0)
        ratio = diff / scale if scale > 0 else diff
        good = ratio <= tol
        print(f"{a_path} vs {b_path}: max |a-b| / max |a| = {ratio:.3g} "
              f"({'ok' if good else 'over ' + str(tol)})")
        ok = ok and good
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
