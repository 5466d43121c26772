/*
 * ddk_fit.h - fit the two DDK kinetic parameters to a measured curve.
 *
 * Problem.  A device gets T pulses of inputs x(0..T-1); after each, its
 * conductance y_t is read.  Find alpha, beta in their bounds minimising
 *
 *     R = sum_{t=1..T} (z(t) - y_t)^2,
 *     z(0) = 1,  z(t) = z(t-1) + alpha / z(t-1) -+ beta x(t-1)
 *
 * (minus for RESET, plus for SET; ddk_kinetics.h, with its floor), on y
 * normalised to [0, 1] by the curve's own minimum and maximum or by a
 * fixed conductance window, as in Shi et al., Nature Communications 16
 * (2025), which fits with trust-region reflection from random starts.
 *
 * Method.  ddk_lsq (trust-region reflective) on the residuals z(t) - y_t
 * with the analytic Jacobian from the forward sensitivities dz/dalpha and
 * dz/dbeta.  Starting guesses are uniform in the bounds, drawn from
 * ddk_rng_for_key(seed, key), so a curve's fit never depends on the other
 * curves; of 1 + restarts starts the lowest R is kept (the first on ties).
 * A parameter whose bounds are equal is held there and the other is
 * fitted alone (a problem of one unknown).
 *
 * Ownership.  A ddk_fitter is a reusable workspace (it grows with T);
 * ddk_fitter_free(&f) frees it and clears f.  Callers own the curves.
 *
 * Errors.  DDK_EINVAL for options that cannot work (reversed or infinite
 * bounds, both parameters held, a fixed window with lo >= hi, an x list
 * of the wrong length, a record with other than 1 or 2 rows); DDK_ERANGE
 * for a curve with fewer than DDK_FIT_MIN_T points or one that is
 * constant, so cannot be normalised; DDK_ENUMERIC for NaN or infinite
 * values; DDK_ENOMEM.  err names the key.  How the solver ended is in
 * ddk_fit_result.result.
 */
#ifndef DDK_FIT_H
#define DDK_FIT_H

#include <stddef.h>
#include <stdint.h>
#include "ddk_base.h"
#include "ddk_kinetics.h"
#include "ddk_lsq.h"
#include "ddk_stream.h"

#define DDK_FIT_MIN_T 3

typedef enum ddk_fit_norm {
	DDK_FIT_MINMAX = 0,      /* (y - min y) / (max y - min y) */
	DDK_FIT_WINDOW,          /* (y - lo) / (hi - lo), fixed window */
	DDK_FIT_RAW              /* y as it is */
} ddk_fit_norm;

typedef struct ddk_fit_opts {
	ddk_mode mode;                 /* DDK_RESET (default) or DDK_SET */
	double alpha_lo, alpha_hi;     /* default [0, 1]; lo = hi holds it */
	double beta_lo, beta_hi;       /* default [0, 1]; lo = hi holds it */
	ddk_fit_norm norm;
	double window_lo, window_hi;   /* with DDK_FIT_WINDOW */
	double x_const;                /* x for one-row records (1) */
	const double *x_list;          /* or this sequence, x_len long */
	size_t x_len;
	unsigned restarts;             /* extra random starts (0) */
	uint64_t seed;                 /* (0) */
	ddk_lsq_params lsq;            /* ddk_lsq_params_default */
} ddk_fit_opts;

void ddk_fit_opts_default(ddk_fit_opts *o);

typedef struct ddk_fit_result {
	double alpha, beta;
	double ssr;                    /* R on the normalised scale */
	size_t iterations;             /* of the kept start */
	size_t nfev;                   /* of all starts */
	ddk_lsq_result result;         /* how the kept start ended */
} ddk_fit_result;

typedef struct ddk_fitter ddk_fitter;

ddk_fitter *ddk_fitter_new(void);
void ddk_fitter_free(ddk_fitter **f);

/*
 * Fit y[0..T-1] (y_1..y_T, raw: normalised here as o says) driven by
 * x[0..T-1] (x(0)..x(T-1)); x NULL means o's x_list or x_const.
 * key seeds the starts and names the curve in err.
 */
ddk_status ddk_fit_curve(ddk_fitter *f, const ddk_fit_opts *o,
                         const char *key, const double *x, const double *y,
                         size_t T, ddk_fit_result *res, ddk_err *err);

/* A tensor-stream record: one row y, or two rows x then y. */
ddk_status ddk_fit_record(ddk_fitter *f, const ddk_fit_opts *o,
                          const ddk_record *r, ddk_fit_result *res,
                          ddk_err *err);

/*
 * After a successful fit: the curve as fitted (x, normalised y and the
 * model z at the answer), T values each, owned by f until its next use.
 */
void ddk_fit_last(const ddk_fitter *f, const double **x, const double **y,
                  const double **z, size_t *T);

#endif
