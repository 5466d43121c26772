#!/usr/bin/python3
"""fit_scipy.py [--restarts N] [--seed S] [--no-normalize] FILE

The ddk-fit problem through SciPy: least_squares(method='trf') with the
same residuals z(t) - y_t, the same analytic Jacobian (forward
sensitivities, zero where z sits on the floor), the same bounds [0, 1],
tolerances (SciPy's defaults, which ddk-fit shares) and the same starts:
ddk_rng_for_key is re-implemented in ddk_rng.py, so start k of a curve is the
pair ddk-fit draws.  Reads the text tensor stream; writes
key alpha beta ssr status nfev seconds cpu_s callback_s: the kept
start's SciPy status and evaluations, the per-curve wall and CPU time of
all starts inside least_squares (parsing excluded), and the wall time
of it spent in our residual and Jacobian callbacks.
"""
import argparse
import time
import numpy as np
from scipy.optimize import least_squares

from ddk_rng import Rng

FLOOR, CEIL = 1e-3, 1e30


def forward(p, x):
    """z(1..T) and its sensitivities, floor and ceiling as in ddk.

    x is a Python list: plain floats in the loop are twice as fast as
    indexing NumPy arrays, so SciPy is not slowed by our model code.
    """
    alpha, beta = float(p[0]), float(p[1])
    z, J = [], []
    zp, da, db = 1.0, 0.0, 0.0
    for xt in x:
        u = zp + alpha / zp - beta * xt
        if FLOOR < u < CEIL:
            g = 1.0 - alpha / (zp * zp)
            da, db = g * da + 1.0 / zp, g * db - xt
            zp = u
        else:                       # NaN falls to the floor too
            zp, da, db = (CEIL if u >= CEIL else FLOOR), 0.0, 0.0
        z.append(zp)
        J.append((da, db))
    return np.array(z), np.array(J)


def fit(key, x, y, restarts, seed):
    """Best of restarts + 1 starts; also the seconds spent in our
    residual and Jacobian callbacks (the rest is SciPy's own)."""
    cache = {'p': None, 'J': None, 'cb': 0.0}

    def fun(p):
        t0 = time.perf_counter()
        z, J = forward(p, x)
        cache['p'], cache['J'] = p.copy(), J
        cache['cb'] += time.perf_counter() - t0
        return z - y

    def jac(p):
        # trf asks for J at the point it evaluated last: reuse it, as
        # ddk-fit does
        t0 = time.perf_counter()
        if cache['p'] is None or not np.array_equal(p, cache['p']):
            cache['p'], cache['J'] = p.copy(), forward(p, x)[1]
        cache['cb'] += time.perf_counter() - t0
        return cache['J']

    rng = Rng(seed, key)
    best = None
    for _ in range(restarts + 1):
        p0 = np.array([rng.uniform(), rng.uniform()])
        r = least_squares(fun, p0, jac=jac, bounds=([0, 0], [1, 1]),
                          method='trf')
        ssr = 2 * r.cost
        if best is None or ssr < best[2]:
            best = (r.x[0], r.x[1], ssr, r.status, r.nfev)
    return best, cache['cb']


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--restarts', type=int, default=0)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--no-normalize', action='store_true')
    ap.add_argument('file')
    a = ap.parse_args()
    print("key\talpha\tbeta\tssr\tstatus\tnfev\tseconds\tcpu_s\t"
          "callback_s")
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
        t0, c0 = time.perf_counter(), time.process_time()
        (alpha, beta, ssr, status, nfev), cb = fit(key, x.tolist(), y,
                                                   a.restarts, a.seed)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        print("%s\t%.12g\t%.12g\t%.12g\t%d\t%d\t%.6f\t%.6f\t%.6f" % (
            key, alpha, beta, ssr, status, nfev, dt, dc, cb))


main()
