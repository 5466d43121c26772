#!/usr/bin/python3
"""The tests' reference for ddk-extract: a straightforward double-precision
evaluation of the DDK recurrence, vectorised over rows with NumPy, compared
with the text stream ddk-extract wrote.

  extract_ref.py check IN.tsv OUT.tsv --alpha A[,A..] --beta B[,B..]
                 [--set] [--per-row] [--params TABLE] [--tol T]
  extract_ref.py finite OUT.tsv
  extract_ref.py device OUT.tsv (decreasing|increasing)

check: every record of OUT must hold, for each channel k, the map of the
matching record of IN under (alpha_k, beta_k) (or, with --per-row, one pair
per row; with --params, the pair of the record's key in a ddk-fit table),
to relative difference TOL (1e-5).  Prints the largest difference seen.
"""
import sys
import numpy as np


def records(path):
    with open(path) as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            p = line.rstrip('\n').split('\t')
            rows, cols = int(p[2]), int(p[3])
            v = np.array([float(s) for s in p[4:]], dtype=np.float64)
            if v.size != rows * cols:
                sys.exit('%s: key %s: %d values for %d x %d'
                         % (path, p[0], v.size, rows, cols))
            yield p[0], p[1], v.reshape(rows, cols)


def ddk(x, alpha, beta, sign):
    """z(t) = z(t-1) + alpha/z(t-1) + sign beta x(t-1), z(0) = 1, per row;
    alpha and beta are arrays over the rows."""
    z = np.ones(x.shape[0])
    out = np.empty_like(x)
    for t in range(x.shape[1]):
        z = z + alpha / z + sign * beta * x[:, t]
        out[:, t] = z
    return out


def read_params(path):
    with open(path) as f:
        head = f.readline().rstrip('\n').split('\t')
        ik, ia, ib = head.index('key'), head.index('alpha'), head.index('beta')
        table = {}
        for line in f:
            p = line.rstrip('\n').split('\t')
            table[p[ik]] = (float(p[ia]), float(p[ib]))
    return table


def check(args):
    inp, outp = args[0], args[1]
    opts = dict(tol='1e-5')
    flags = set()
    i = 2
    while i < len(args):
        if args[i] in ('--set', '--per-row'):
            flags.add(args[i])
            i += 1
        else:
            opts[args[i][2:]] = args[i + 1]
            i += 2
    sign = 1.0 if '--set' in flags else -1.0
    tol = float(opts['tol'])
    table = read_params(opts['params']) if 'params' in opts else None
    worst, n = 0.0, 0
    got = records(outp)
    for key, label, x in records(inp):
        okey, olabel, z = next(got)
        if (okey, olabel) != (key, label):
            sys.exit('record %d: key/label %s/%s, wanted %s/%s'
                     % (n + 1, okey, olabel, key, label))
        U = x.shape[0]
        if table is not None:
            pa, pb = table[key] if len(table) > 1 else \
                next(iter(table.values()))
            alphas, betas = [pa], [pb]
        else:
            alphas = [float(s) for s in opts['alpha'].split(',')]
            betas = [float(s) for s in opts['beta'].split(',')]
        if '--per-row' in flags:
            K = len(alphas) // U
            a = np.array(alphas).reshape(K, U)
            b = np.array(betas).reshape(K, U)
        else:
            K = len(alphas)
            a = np.repeat(np.array(alphas)[:, None], U, axis=1)
            b = np.repeat(np.array(betas)[:, None], U, axis=1)
        if z.shape != (K * U, x.shape[1]):
            sys.exit('key %s: shape %s, wanted %s'
                     % (key, z.shape, (K * U, x.shape[1])))
        for k in range(K):
            ref = ddk(x, a[k], b[k], sign)
            d = np.abs(z[k * U:(k + 1) * U] - ref) / np.maximum(
                np.abs(ref), 1e-30)
            worst = max(worst, float(d.max()))
        n += 1
    if next(got, None) is not None:
        sys.exit('more output records than input records')
    print('extract_ref: %d records, max rel diff %.3g' % (n, worst))
    if not worst <= tol:
        sys.exit('max rel diff %.3g above %g' % (worst, tol))


def finite(args):
    n = 0
    for key, label, z in records(args[0]):
        if not np.all(np.isfinite(z)):
            sys.exit('key %s: non-finite feature' % key)
        n += 1
    print('extract_ref: %d records, all finite' % n)


def device(args):
    want = args[1]
    for key, label, g in records(args[0]):
        d = np.diff(g, axis=1)
        # SET saturates at the top of the window, so it may level off
        ok = np.all(d < 0) if want == 'decreasing' else \
            np.all(d >= 0) and np.all(g[:, -1] > 2 * g[:, 0])
        if not ok:
            sys.exit('key %s: conductance is not %s' % (key, want))


if __name__ == '__main__':
    {'check': check, 'finite': finite, 'device': device}[sys.argv[1]](
        sys.argv[2:])
