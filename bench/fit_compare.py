#!/usr/bin/python3
"""fit_compare.py DDK.tsv SCIPY.tsv DDK_SECONDS

Compare ddk-fit's table with fit_scipy.py's, curve by curve: the share of
curves where ddk-fit's ssr is no worse than SciPy's within 1e-6 relative,
and the per-curve speed ratio (SciPy's mean seconds per curve over
ddk-fit's, from the whole run's wall time on one core).
"""
import sys


def table(path):
    rows = {}
    with open(path) as f:
        head = f.readline().rstrip('\n').split('\t')
        for line in f:
            d = dict(zip(head, line.rstrip('\n').split('\t')))
            rows[d['key']] = d
    return rows


def main():
    ddk, sp = table(sys.argv[1]), table(sys.argv[2])
    ddk_s = float(sys.argv[3])
    keys = sorted(sp)
    assert sorted(ddk) == keys, "the tables hold different curves"
    ok = better = worse_keys = 0
    worst = []
    for k in keys:
        a, b = float(ddk[k]['ssr']), float(sp[k]['ssr'])
        if a <= b * (1 + 1e-6) + 1e-300:
            ok += 1
        else:
            worst.append(((a - b) / b, k, a, b))
        if a < b * (1 - 1e-6):
            better += 1
    n = len(keys)
    sp_s = sum(float(sp[k]['seconds']) for k in keys)
    print("curves\t%d" % n)
    print("ddk_ssr_no_worse\t%d\t%.2f%%" % (ok, 100.0 * ok / n))
    print("ddk_ssr_better\t%d" % better)
    print("scipy_s_per_curve\t%.3g" % (sp_s / n))
    print("ddk_s_per_curve\t%.3g" % (ddk_s / n))
    print("speed_ratio\t%.0f" % (sp_s / ddk_s))
    for rel, k, a, b in sorted(worst, reverse=True)[:5]:
        print("worse\t%s\tddk %.9g\tscipy %.9g\t(+%.2g)" % (k, a, b, rel))


main()
