#!/usr/bin/python3
"""fit_compare.py DDK_WALL DDK_CPU DDK.tsv SCIPY.tsv [SCIPY.tsv ...]

Compare ddk-fit's table with fit_scipy.py's, curve by curve: the share of
curves where ddk-fit's ssr is no worse than SciPy's within 1e-6 relative,
and the per-curve speed ratio.  DDK_WALL and DDK_CPU list ddk-fit's wall
and CPU seconds of each run, comma-separated, one per SciPy table (runs
made alternately); ratio i is SciPy's total seconds in run i over
ddk-fit's, and the median is reported, for CPU and for wall time.  So is
the wall ratio against SciPy's own work alone (its time less that spent
in our Python residual and Jacobian callbacks).
"""
import statistics
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
    ddk_s = [float(s) for s in sys.argv[1].split(',')]
    ddk_c = [float(s) for s in sys.argv[2].split(',')]
    ddk = table(sys.argv[3])
    sps = [table(p) for p in sys.argv[4:]]
    sp = sps[0]
    keys = sorted(sp)
    assert sorted(ddk) == keys, "the tables hold different curves"
    assert len(ddk_s) == len(sps), "one ddk time per SciPy table"
    ok = better = 0
    worst = []
    for k in keys:
        a, b = float(ddk[k]['ssr']), float(sp[k]['ssr'])
        for other in sps[1:]:
            assert other[k]['ssr'] == sp[k]['ssr'], "SciPy runs differ"
        if a <= b * (1 + 1e-6) + 1e-300:
            ok += 1
        else:
            worst.append(((a - b) / b, k, a, b))
        if a < b * (1 - 1e-6):
            better += 1
    n = len(keys)
    tot = [sum(float(t[k]['seconds']) for k in keys) for t in sps]
    cpu = [sum(float(t[k]['cpu_s']) for k in keys) for t in sps]
    ratio_cpu = [s / d for s, d in zip(cpu, ddk_c)]
    own = [sum(float(t[k]['seconds']) - float(t[k]['callback_s'])
               for k in keys) for t in sps]
    ratio = [s / d for s, d in zip(tot, ddk_s)]
    ratio_own = [s / d for s, d in zip(own, ddk_s)]
    maxed = sum(sp[k]['status'] == '0' for k in keys)
    print("curves\t%d" % n)
    print("ddk_ssr_no_worse\t%d\t%.2f%%" % (ok, 100.0 * ok / n))
    print("ddk_ssr_better\t%d" % better)
    print("scipy_kept_start_hit_max_nfev\t%d" % maxed)
    print("runs\t%d" % len(sps))
    print("scipy_cpu_s_per_curve\t%.3g\t(median of runs)"
          % (statistics.median(cpu) / n))
    print("ddk_cpu_s_per_curve\t%.3g" % (statistics.median(ddk_c) / n))
    print("speed_ratio_cpu\t%.0f\t(median; runs %s)" % (
        statistics.median(ratio_cpu),
        ", ".join("%.0f" % r for r in ratio_cpu)))
    print("scipy_s_per_curve\t%.3g\t(wall, median of runs)"
          % (statistics.median(tot) / n))
    print("scipy_own_s_per_curve\t%.3g\t(callbacks excluded)"
          % (statistics.median(own) / n))
    print("ddk_s_per_curve\t%.3g" % (statistics.median(ddk_s) / n))
    print("speed_ratio_wall\t%.0f\t(median; runs %s)" % (
        statistics.median(ratio), ", ".join("%.0f" % r for r in ratio)))
    print("speed_ratio_scipy_own\t%.0f\t(median; runs %s)" % (
        statistics.median(ratio_own),
        ", ".join("%.0f" % r for r in ratio_own)))
    for rel, k, a, b in sorted(worst, reverse=True)[:5]:
        print("worse\t%s\tddk %.9g\tscipy %.9g\t(+%.2g)" % (k, a, b, rel))


main()
