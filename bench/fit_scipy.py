#!/usr/bin/python3
"""fit_scipy.py [--restarts N] [--seed S] [--no-normalize] FILE

The ddk-fit problem through SciPy: least_squares(method='trf') with the
same residuals z(t) - y_t, the same analytic Jacobian (forward
sensitivities, zero where z sits on the floor), the same bounds [0, 1],
tolerances (SciPy's defaults, which ddk-fit shares) and the same starts:
ddk_rng_for_key is re-implemented below, so start k of a curve is the
pair ddk-fit draws.  Reads the text tensor stream; writes
key alpha beta ssr seconds (per-curve wall time of all starts).
"""
import argparse
import time
import numpy as np
from scipy.optimize import least_squares

M64 = (1 << 64) - 1
FLOOR, CEIL = 1e-3, 1e30


def splitmix64(state):
    state = (state + 0x9e3779b97f4a7c15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
    return state, z ^ (z >> 31)


class Rng:
    """xoshiro256** seeded like ddk_rng_for_key(seed, key)."""

    def __init__(self, seed, key):
        h = 0xcbf29ce484222325
        for c in key.encode():
            h ^= c
            h = (h * 0x100000001b3) & M64
        _, mix = splitmix64(h)
        x = seed ^ mix
        self.s = []
        for _ in range(4):
            x, v = splitmix64(x)
            self.s.append(v)

    def u64(self):
        s = self.s
        rotl = lambda v, k: ((v << k) | (v >> (64 - k))) & M64
        r = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return r

    def uniform(self):
        return (self.u64() >> 11) * 2.0 ** -53


def forward(p, x):
    """z(1..T) and its sensitivities, floor and ceiling as in ddk."""
    alpha, beta = p
    T = len(x)
    z = np.empty(T)
    J = np.empty((T, 2))
    zp, da, db = 1.0, 0.0, 0.0
    for t in range(T):
        u = zp + alpha / zp - beta * x[t]
        if u <= FLOOR or u >= CEIL or u != u:
            zp, da, db = (CEIL if u >= CEIL else FLOOR), 0.0, 0.0
        else:
            g = 1.0 - alpha / (zp * zp)
            da, db = g * da + 1.0 / zp, g * db - x[t]
            zp = u
        z[t] = zp
        J[t, 0], J[t, 1] = da, db
    return z, J


def fit(key, x, y, restarts, seed):
    cache = {}

    def fun(p):
        z, J = forward(p, x)
        cache['J'] = J
        return z - y

    def jac(p):
        return forward(p, x)[1]

    rng = Rng(seed, key)
    best = None
    for _ in range(restarts + 1):
        p0 = np.array([rng.uniform(), rng.uniform()])
        r = least_squares(fun, p0, jac=jac, bounds=([0, 0], [1, 1]),
                          method='trf')
        ssr = 2 * r.cost
        if best is None or ssr < best[2]:
            best = (r.x[0], r.x[1], ssr)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--restarts', type=int, default=0)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--no-normalize', action='store_true')
    ap.add_argument('file')
    a = ap.parse_args()
    print("key\talpha\tbeta\tssr\tseconds")
    for line in open(a.file):
        if line.startswith('#') or not line.strip():
            continue
        f = line.rstrip('\n').split('\t')
        key, rows, cols = f[0], int(f[2]), int(f[3])
        # the stream holds float32: round exactly as ddk-fit reads it
        v = np.array(f[4:], dtype=np.float64).astype(np.float32)
        v = v.astype(np.float64)
        x = v[:cols] if rows == 2 else np.ones(cols)
        y = v[(rows - 1) * cols:]
        if not a.no_normalize:
            y = (y - y.min()) / (y.max() - y.min())
        t0 = time.perf_counter()
        alpha, beta, ssr = fit(key, x, y, a.restarts, a.seed)
        dt = time.perf_counter() - t0
        print("%s\t%.12g\t%.12g\t%.12g\t%.6f" % (key, alpha, beta, ssr, dt))


main()
