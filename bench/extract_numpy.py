#!/usr/bin/python3
"""The peer of bench/extract_bench.sh: the DDK recurrence (RESET form)

    z(0) = 1,  z(t) = max(z(t-1) + alpha / z(t-1) - beta x(t-1), 0.001)

in NumPy float32, vectorised over rows, on a binary tensor stream
(man/ddk-stream.5), writing the feature maps as a binary stream.

  extract_numpy.py ALPHA BETA IN.ddk OUT.ddk [--batch N]

Without --batch, each record is read, mapped and written on its own, as
ddk-extract does: a loop over the T steps, each step one NumPy operation
over the record's rows.  With --batch N, the rows of N records of one
shape are stacked first, so each step runs over N times as many rows (the
best case for NumPy, at the cost of memory that grows with N).

The operations are ddk-extract's, in its order and in float32
((z + alpha / z) + (-beta) x, then the floor and the ceiling), so the
output has the same bytes; extract_bench.sh checks that with cmp.
"""
import struct
import sys

import numpy as np

FLOOR = np.float32(1e-3)
CEIL = np.float32(1e30)
HEAD = struct.Struct("<4s5I")


def records(f):
    """Yield (head bytes with key and label, rows, cols, values)."""
    while True:
        head = f.read(HEAD.size)
        if not head:
            return
        magic, version, kn, ln, rows, cols = HEAD.unpack(head)
        if magic != b"DDKS" or version != 1:
            sys.exit("extract_numpy.py: not a version 1 binary stream")
        names = f.read(kn + ln)
        x = np.frombuffer(f.read(4 * rows * cols), dtype="<f4")
        yield head + names, rows, cols, x.reshape(rows, cols)


def ddk(x, alpha, beta):
    """The map of every row of x (float32, rows x T)."""
    z = np.ones(x.shape[0], dtype=np.float32)
    out = np.empty_like(x)
    b = np.float32(-beta)
    for t in range(x.shape[1]):
        u = z + alpha / z
        u += b * x[:, t]
        np.maximum(u, FLOOR, out=u)
        np.minimum(u, CEIL, out=u)
        out[:, t] = z = u
    return out


def one_by_one(f, out, alpha, beta):
    for head, rows, cols, x in records(f):
        out.write(head)
        out.write(ddk(x, alpha, beta).tobytes())


def batched(f, out, alpha, beta, n):
    heads, maps = [], []

    def flush():
        if not maps:
            return
        z = ddk(np.concatenate(maps), alpha, beta)
        r = 0
        for head, x in zip(heads, maps):
            out.write(head)
            out.write(z[r:r + x.shape[0]].tobytes())
            r += x.shape[0]
        heads.clear()
        maps.clear()

    for head, rows, cols, x in records(f):
        if maps and (len(maps) == n or maps[0].shape[1] != cols):
            flush()
        heads.append(head)
        maps.append(x)
    flush()


def main(argv):
    if len(argv) not in (5, 7) or (len(argv) == 7 and argv[5] != "--batch"):
        sys.exit(__doc__)
    alpha, beta = np.float32(argv[1]), np.float32(argv[2])
    with open(argv[3], "rb") as f, open(argv[4], "wb") as out:
        if len(argv) == 7:
            batched(f, out, alpha, beta, int(argv[6]))
        else:
            one_by_one(f, out, alpha, beta)


if __name__ == "__main__":
    main(sys.argv)
