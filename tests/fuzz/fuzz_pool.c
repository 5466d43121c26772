/*
 * fuzz_pool.c - libFuzzer harness for pooling: the bytes give options
 * (pool op, normalisation, length, utterances, window) and then 16-bit
 * samples of one signal.  An accepted map must equal a plain reference
 * written here (each window summed in order, in double) to float
 * rounding, and lie in [0, 1] whenever it is normalised.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ddk.h"

/* The window of p samples from a, zero past n, reduced by op. */
static double window(const float *x, size_t n, size_t a, size_t p,
                     ddk_pool_op op)
{
	double acc = op == DDK_POOL_MAX ? -INFINITY : 0;

	for (size_t j = 0; j < p; j++) {
		double v = a + j < n ? x[a + j] : 0;

		acc = op == DDK_POOL_MAX ? fmax(acc, v)
		    : op == DDK_POOL_MEAN ? acc + v
		    : op == DDK_POOL_ABSMEAN ? acc + fabs(v) : acc + v * v;
	}
	return op == DDK_POOL_MAX ? acc
	     : op == DDK_POOL_RMS ? sqrt(acc / (double)p) : acc / (double)p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ddk_pool_opts o;
	ddk_record r;
	ddk_err err;
	size_t n, U, T;
	float *x;

	if (size < 6)
		return 0;
	memset(&o, 0, sizeof o);
	o.op = (ddk_pool_op)(data[0] & 3);
	o.norm = (ddk_norm)((data[0] >> 2) % 3);
	o.utterances = 1 + data[1] % 8;
	o.pool = 1 + data[2] % 64;
	o.length = (data[3] | data[4] << 8) % 3000;
	n = (size - 5) / 2;
	if (n == 0)
		return 0;
	if (!(x = malloc(n * sizeof *x)))
		abort();
	for (size_t i = 0; i < n; i++)
		x[i] = (float)(int16_t)(data[5 + 2 * i] |
		                        data[6 + 2 * i] << 8) / 32768.0f;
	ddk_record_init(&r);
	if (ddk_pool_map(&r, "k", "", x, 1, n, &o, -1, 1, &err) == DDK_OK) {
		size_t len = o.length ? o.length : n, step;
		double *want, lo, hi, flo, fhi;

		U = r.rows;
		T = r.cols;
		step = len / o.utterances;
		if (U != o.utterances || T != step / o.pool)
			abort();
		if (!(want = malloc(U * T * sizeof *want + 1)))
			abort();
		for (size_t u = 0; u < U; u++)
			for (size_t t = 0; t < T; t++)
				want[u * T + t] = window(x, n,
				        u * step + t * o.pool, o.pool, o.op);
		/* the fixed range of sound, folded for absmean and rms */
		flo = o.op == DDK_POOL_ABSMEAN || o.op == DDK_POOL_RMS ? 0 : -1;
		fhi = 1;
		for (size_t u = 0; u < U; u++) {
			double *w = want + u * T;

			lo = INFINITY;
			hi = -INFINITY;
			for (size_t t = 0; t < T; t++) {
				w[t] = (float)w[t];
				lo = fmin(lo, w[t]);
				hi = fmax(hi, w[t]);
			}
			for (size_t t = 0; t < T; t++) {
				if (o.norm == DDK_NORM_ROW)
					w[t] = hi > lo ? (w[t] - lo) / (hi - lo)
					               : 0;
				else if (o.norm == DDK_NORM_FULL)
					w[t] = (w[t] - flo) / (fhi - flo);
			}
			/* a row's range near float rounding magnifies a last
			 * bit of the sums: there only the bounds are checked */
			if (o.norm == DDK_NORM_ROW && hi - lo < 1e-2)
				for (size_t t = 0; t < T; t++)
					w[t] = NAN;
		}
		for (size_t i = 0; i < U * T; i++) {
			if (!isnan(want[i]) &&
			    !(fabs(r.v[i] - want[i]) <= 1e-5))
				abort();
			if (o.norm != DDK_NORM_NONE &&
			    !(r.v[i] >= 0 && r.v[i] <= 1))
				abort();
		}
		free(want);
	}
	ddk_record_free(&r);
	free(x);
	return 0;
}
