#!/usr/bin/env python3
# Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
"""fails_within.py SECONDS COMMAND...: runs COMMAND, prints its stdout and
stderr, and succeeds only when it exits with a non-zero status within
SECONDS (a hang or a success is a failure of the test)."""
import subprocess
import sys

seconds, cmd = float(sys.argv[1]), sys.argv[2:]
try:
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=seconds)
except subprocess.TimeoutExpired as e:
    sys.stdout.write((e.stdout or b"").decode(errors="replace"))
    print(f"fails_within: still running after {seconds:g} s")
    sys.exit(1)
sys.stdout.write(p.stdout.decode(errors="replace"))
print(f"fails_within: exit status {p.returncode}")
sys.exit(0 if p.returncode != 0 else 1)
