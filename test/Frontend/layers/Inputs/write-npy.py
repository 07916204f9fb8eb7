#!/usr/bin/env python3
# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
# Writes a float32 .npy file without numpy (tests only):
#   write-npy.py OUT.npy 2x3 1,2,3,4,5,6
import struct
import sys

out, dims, values = sys.argv[1], sys.argv[2], sys.argv[3]
shape = tuple(int(d) for d in dims.split("x"))
data = [float(v) for v in values.split(",")] if values else []
n = 1
for d in shape:
    n *= d
if len(data) != n:
    sys.exit("write-npy.py: %d values for shape %s" % (len(data), dims))
shape_txt = "(%s)" % (str(shape[0]) + "," if len(shape) == 1 else ", ".join(map(str, shape)))
header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % shape_txt
pad = 64 - (10 + len(header) + 1) % 64
header += " " * pad + "\n"
with open(out, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
    f.write(struct.pack("<%df" % n, *data))
