/*
 * fuzz_fit.c - libFuzzer harness for the curve fitter: the bytes are a
 * curve (one byte of options, then 16-bit samples of y, or of x and y
 * when the options say so).  Every fit ends, with an error status or with
 * alpha and beta finite inside their bounds and a finite, non-negative R
 * that is the misfit of the model the fitter reports at the answer.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ddk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ddk_fitter *f;
	ddk_fit_opts o;
	ddk_fit_result res;
	ddk_err err;
	double *x = NULL, *y;
	size_t T;
	int two_rows;

	if (size < 1 + 2 * DDK_FIT_MIN_T || size > 4096)
		return 0;
	ddk_fit_opts_default(&o);
	o.mode = data[0] & 1 ? DDK_SET : DDK_RESET;
	o.norm = (data[0] >> 1) % 3;
	o.window_lo = 0;
	o.window_hi = 1;
	o.restarts = (data[0] >> 3) & 3;
	two_rows = (data[0] >> 5) & 1;
	if (data[0] >> 6 & 1)
		o.beta_hi = 0.25;
	if (data[0] >> 7 & 1)                  /* alpha held, beta alone */
		o.alpha_lo = o.alpha_hi = 0.01;
	T = (size - 1) / 2 / (two_rows ? 2 : 1);
	y = malloc(T * sizeof *y);
	if (two_rows)
		x = malloc(T * sizeof *x);
	if (!y || (two_rows && !x))
		abort();
	for (size_t t = 0; t < T; t++) {
		const uint8_t *p = data + 1 + 2 * t;

		y[t] = (p[0] | p[1] << 8) / 65535.0;
		if (two_rows) {
			p += 2 * T;
			x[t] = (p[0] | p[1] << 8) / 65535.0;
		}
	}
	if (!(f = ddk_fitter_new()))
		abort();
	if (ddk_fit_curve(f, &o, "fuzz", x, y, T, &res, &err) == DDK_OK) {
		const double *fx, *fy, *fz;
		size_t n;
		double r = 0;

		if (!isfinite(res.alpha) || !isfinite(res.beta) ||
		    res.alpha < o.alpha_lo || res.alpha > o.alpha_hi ||
		    res.beta < o.beta_lo || res.beta > o.beta_hi ||
		    !(res.ssr >= 0) || !isfinite(res.ssr))
			abort();
		ddk_fit_last(f, &fx, &fy, &fz, &n);
		if (n != T)
			abort();
		/* R is the model's misfit at the answer, as reported */
		for (size_t t = 0; t < n; t++)
			r += (fz[t] - fy[t]) * (fz[t] - fy[t]);
		if (!(fabs(r - res.ssr) <= 1e-9 + 1e-6 * res.ssr))
			abort();
	}
	ddk_fitter_free(&f);
	free(x);
	free(y);
	return 0;
}
