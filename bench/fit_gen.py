#!/usr/bin/python3
"""fit_gen.py N SEED: N synthetic device curves as a text tensor stream.

Each curve runs the DDK recurrence (RESET, z(0) = 1, the floor at 1e-3 as
in ddk_kinetics.h) with alpha, beta drawn from a plausible device range,
T = 100 pulses, and adds Gaussian read noise (sigma 0.01).  Even curves
have constant input x = 1 (one row); odd curves have inputs uniform in
[0.2, 1] (two rows, x then y).  The true pair goes in the label.
"""
import sys
import numpy as np


def ddk(x, alpha, beta):
    z, out = 1.0, np.empty(len(x))
    for t, xt in enumerate(x):
        z = min(max(z + alpha / z - beta * xt, 1e-3), 1e30)
        out[t] = z
    return out


def main():
    n, seed = int(sys.argv[1]), int(sys.argv[2])
    rng = np.random.default_rng(seed)
    T = 100
    for i in range(n):
        alpha = rng.uniform(0.0005, 0.02)
        beta = rng.uniform(0.005, 0.05)
        varying = i % 2 == 1
        x = rng.uniform(0.2, 1.0, T) if varying else np.ones(T)
        y = ddk(x, alpha, beta) + rng.normal(0, 0.01, T)
        vals = (list(x) if varying else []) + list(y)
        print("curve%05d\t%.6g,%.6g\t%d\t%d\t%s" % (
            i, alpha, beta, 2 if varying else 1, T,
            "\t".join("%.9g" % v for v in vals)))


main()
