#!/usr/bin/python3
"""fit_nist_scipy.py FILE.dat...: SciPy's least_squares(method='trf') on
NIST StRD nonlinear problems, as make nist runs ddk's lsq: both certified
starts, no bounds, ftol = xtol = gtol = 1e-15, at most 5000 evaluations,
the Jacobian exact from the complex step.  Prints TSV
problem start lre status nfev (lre as in tests/nist/strd.h, 0..15;
status named as make nist names ddk's).
"""
import math
import os
import sys
import warnings
import numpy as np
from scipy.optimize import least_squares

PI = math.pi
STATUS = {-1: 'error', 0: 'maxeval', 1: 'gtol', 2: 'ftol', 3: 'xtol',
          4: 'ftol+xtol'}


def cubic(b, x):
    return (b[0] + x * (b[1] + x * (b[2] + x * b[3]))) / \
        (1 + x * (b[4] + x * (b[5] + x * b[6])))


def gauss(b, x):
    return b[0] * np.exp(-b[1] * x) + \
        b[2] * np.exp(-(x - b[3]) ** 2 / b[4] ** 2) + \
        b[5] * np.exp(-(x - b[6]) ** 2 / b[7] ** 2)


def enso(b, x):
    w = 2 * PI * x
    return b[0] + b[1] * np.cos(w / 12) + b[2] * np.sin(w / 12) + \
        b[4] * np.cos(w / b[3]) + b[5] * np.sin(w / b[3]) + \
        b[7] * np.cos(w / b[6]) + b[8] * np.sin(w / b[6])


def lanczos(b, x):
    return b[0] * np.exp(-b[1] * x) + b[2] * np.exp(-b[3] * x) + \
        b[4] * np.exp(-b[5] * x)


def misra1a(b, x):
    return b[0] * (1 - np.exp(-b[1] * x))


def chwirut(b, x):
    return np.exp(-b[0] * x) / (b[1] + b[2] * x)


MODELS = {
    'Misra1a': misra1a, 'BoxBOD': misra1a,
    'Chwirut1': chwirut, 'Chwirut2': chwirut,
    'DanWood': lambda b, x: b[0] * np.exp(b[1] * np.log(x)),
    'ENSO': enso,
    'Eckerle4': lambda b, x: b[0] / b[1] * np.exp(
        -0.5 * ((x - b[2]) / b[1]) ** 2),
    'Gauss1': gauss, 'Gauss2': gauss, 'Gauss3': gauss,
    'Hahn1': cubic, 'Thurber': cubic,
    'Kirby2': lambda b, x: (b[0] + x * (b[1] + x * b[2])) /
    (1 + x * (b[3] + x * b[4])),
    'Lanczos1': lanczos, 'Lanczos2': lanczos, 'Lanczos3': lanczos,
    'MGH09': lambda b, x: b[0] * (x * x + x * b[1]) /
    (x * x + x * b[2] + b[3]),
    'MGH10': lambda b, x: b[0] * np.exp(b[1] / (x + b[2])),
    'MGH17': lambda b, x: b[0] + b[1] * np.exp(-x * b[3]) +
    b[2] * np.exp(-x * b[4]),
    'Misra1b': lambda b, x: b[0] * (1 - 1 / (1 + b[1] * x / 2) ** 2),
    'Misra1c': lambda b, x: b[0] * (1 - 1 / np.sqrt(1 + 2 * b[1] * x)),
    'Misra1d': lambda b, x: b[0] * b[1] * x / (1 + b[1] * x),
    'Nelson': lambda b, x: b[0] - b[1] * x[0] * np.exp(-b[2] * x[1]),
    'Rat42': lambda b, x: b[0] / (1 + np.exp(b[1] - b[2] * x)),
    'Rat43': lambda b, x: b[0] / (1 + np.exp(b[1] - b[2] * x)) **
    (1 / b[3]),
    'Roszman1': lambda b, x: b[0] - b[1] * x -
    np.arctan(b[2] / (x - b[3])) / PI,
    'Bennett5': lambda b, x: b[0] * (b[1] + x) ** (-1 / b[2]),
}


def read(path):
    """Starts, certified values, difficulty and data of a .dat file."""
    starts, cert, level, data, in_data = [[], []], [], '', [], False
    for line in open(path):
        w = line.split()
        if in_data:
            try:
                data.append([float(v) for v in w])
            except ValueError:
                pass
        elif len(w) >= 6 and w[0][0] == 'b' and w[1] == '=':
            starts[0].append(float(w[2]))
            starts[1].append(float(w[3]))
            cert.append(float(w[4]))
        elif 'Level of Difficulty' in line:
            level = w[0]
        elif line.startswith('Data:') and len(w) > 1 and w[1] == 'y':
            in_data = True
    data = np.array([d for d in data if len(d) >= 2])
    return starts, np.array(cert), level, data[:, 0], data[:, 1:].T


def lre(est, cert):
    worst = 15.0
    for e, c in zip(est, cert):
        if not math.isfinite(e):
            return 0.0
        err = abs(e - c) / abs(c) if c != 0 else abs(e)
        v = 15.0 if err == 0 else min(15.0, max(0.0, -math.log10(err)))
        worst = min(worst, v)
    return worst


def main():
    warnings.simplefilter('ignore')
    print("problem\tstart\tlre\tstatus\tnfev")
    for path in sys.argv[1:]:
        name = os.path.basename(path).split('.')[0]
        starts, cert, level, y, x = read(path)
        model = MODELS[name]
        if name == 'Nelson':
            y = np.log(y)
        else:
            x = x[0]

        def fun(b):
            return np.real(model(b, x)) - y

        def jac(b):
            J = np.empty((len(y), len(b)))
            for j in range(len(b)):
                h = 1e-20 * (abs(b[j]) if b[j] != 0 else 1)
                bc = b.astype(complex)
                bc[j] += 1j * h
                J[:, j] = np.imag(model(bc, x)) / h
            return J

        for s in (0, 1):
            try:
                r = least_squares(fun, np.array(starts[s]), jac=jac,
                                  method='trf', ftol=1e-15, xtol=1e-15,
                                  gtol=1e-15, max_nfev=5000)
                print("%s\t%d\t%.1f\t%s\t%d" % (name, s + 1,
                      lre(r.x, cert), STATUS[r.status], r.nfev))
            except ValueError as e:
                print("%s\t%d\t0.0\terror: %s\t0" % (name, s + 1, e))
            sys.stdout.flush()


main()
