/*
 * fit.c - alpha and beta of the DDK recurrence from a measured curve, on
 * the bounded trust-region solver.  See ddk_fit.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ddk_fit.h"
#include "ddk_rng.h"

struct ddk_fitter {
	size_t cap;                  /* values per buffer */
	double *x, *y, *z;           /* cap each: the curve being fitted */
	double *dz_dalpha, *dz_dbeta;
	ddk_lsq *lsq;                /* cap x 2 */
	size_t T;
	ddk_mode mode;
	double p_sens[2];            /* where dz_dalpha, dz_dbeta were taken */
	int have_sens;
	int fixed;                   /* -1, or the parameter held (0 alpha,
	                              * 1 beta) at fixed_v: the solver then
	                              * sees the other one alone */
	double fixed_v;
};

void ddk_fit_opts_default(ddk_fit_opts *o)
{
	memset(o, 0, sizeof *o);
	o->mode = DDK_RESET;
	o->alpha_hi = 1;
	o->beta_hi = 1;
	o->norm = DDK_FIT_MINMAX;
	o->x_const = 1;
	ddk_lsq_params_default(&o->lsq);
}

ddk_fitter *ddk_fitter_new(void)
{
	return calloc(1, sizeof(ddk_fitter));
}

static void release(ddk_fitter *f)
{
	free(f->x);
	f->x = f->y = f->z = f->dz_dalpha = f->dz_dbeta = NULL;
	ddk_lsq_free(&f->lsq);
	f->cap = 0;
}

void ddk_fitter_free(ddk_fitter **f)
{
	if (!f || !*f)
		return;
	release(*f);
	free(*f);
	*f = NULL;
}

/* Room for curves of T points: one buffer cut in five, and the solver. */
static ddk_status reserve(ddk_fitter *f, size_t T, ddk_err *err)
{
	size_t cap = f->cap;
	double *buf;

	if (T <= cap)
		return DDK_OK;
	while (cap < T)
		cap = cap ? 2 * cap : 256;
	release(f);
	buf = malloc(5 * cap * sizeof *buf);
	f->lsq = ddk_lsq_alloc(cap, 2);
	if (!buf || !f->lsq) {
		free(buf);
		ddk_lsq_free(&f->lsq);
		return ddk_fail(err, DDK_ENOMEM, "fit: no memory for a curve "
		                "of %zu points", T);
	}
	f->x = buf;
	f->y = buf + cap;
	f->z = buf + 2 * cap;
	f->dz_dalpha = buf + 3 * cap;
	f->dz_dbeta = buf + 4 * cap;
	f->cap = cap;
	return DDK_OK;
}

/* ---- the model for the solver -------------------------------------- */

/* The pair (alpha, beta) from the solver's parameters. */
static void pair_of(const ddk_fitter *f, const double *p, double *q)
{
	if (f->fixed < 0) {
		q[0] = p[0];
		q[1] = p[1];
	} else {
		q[f->fixed] = f->fixed_v;
		q[1 - f->fixed] = p[0];
	}
}

/*
 * r_t = z(t) - y_t; z never fails (the kinetics floor keeps it finite).
 * The sensitivities come in the same pass and are kept: the solver asks
 * for the Jacobian at the point it evaluated last, when it accepts it.
 */
static int resid(const double *p_solver, double *r, void *ctx)
{
	ddk_fitter *f = ctx;
	double p[2];

	pair_of(f, p_solver, p);
	ddk_row_forward_d(f->x, f->T, p[0], p[1], f->mode, r, f->dz_dalpha,
	                  f->dz_dbeta);
	for (size_t t = 0; t < f->T; t++)
		r[t] -= f->y[t];
	f->p_sens[0] = p[0];
	f->p_sens[1] = p[1];
	f->have_sens = 1;
	return 0;
}

static int jac(const double *p_solver, const double *r, double *J,
               void *ctx)
{
	ddk_fitter *f = ctx;
	const double *col = f->fixed == 0 ? f->dz_dbeta : f->dz_dalpha;
	double p[2];

	(void)r;
	pair_of(f, p_solver, p);
	if (!f->have_sens || p[0] != f->p_sens[0] || p[1] != f->p_sens[1])
		ddk_row_forward_d(f->x, f->T, p[0], p[1], f->mode, f->z,
		                  f->dz_dalpha, f->dz_dbeta);
	for (size_t t = 0; t < f->T && f->fixed >= 0; t++)
		J[t] = col[t];
	for (size_t t = 0; t < f->T && f->fixed < 0; t++) {
		J[2 * t] = f->dz_dalpha[t];
		J[2 * t + 1] = f->dz_dbeta[t];
	}
	return 0;
}

/* ---- checks and normalisation ------------------------------------- */

static ddk_status check_opts(const ddk_fit_opts *o, const char *key,
                             ddk_err *err)
{
	if (!(o->alpha_lo <= o->alpha_hi) || !isfinite(o->alpha_lo) ||
	    !isfinite(o->alpha_hi))
		return ddk_fail(err, DDK_EINVAL, "%s: alpha bounds [%g, %g] "
		                "are not a finite interval", key, o->alpha_lo,
		                o->alpha_hi);
	if (!(o->beta_lo <= o->beta_hi) || !isfinite(o->beta_lo) ||
	    !isfinite(o->beta_hi))
		return ddk_fail(err, DDK_EINVAL, "%s: beta bounds [%g, %g] "
		                "are not a finite interval", key, o->beta_lo,
		                o->beta_hi);
	if (o->alpha_lo == o->alpha_hi && o->beta_lo == o->beta_hi)
		return ddk_fail(err, DDK_EINVAL, "%s: alpha and beta are both "
		                "held: nothing to fit", key);
	if (o->norm == DDK_FIT_WINDOW && !(o->window_lo < o->window_hi &&
	    isfinite(o->window_lo) && isfinite(o->window_hi)))
		return ddk_fail(err, DDK_EINVAL, "%s: window [%g, %g] is "
		                "empty", key, o->window_lo, o->window_hi);
	return DDK_OK;
}

/* Copy x and y into f (x from the caller, the list or the constant),
 * checking them, and normalise y. */
static ddk_status load_curve(ddk_fitter *f, const ddk_fit_opts *o,
                             const char *key, const double *x,
                             const double *y, size_t T, ddk_err *err)
{
	double lo = INFINITY, hi = -INFINITY;

	if (T < DDK_FIT_MIN_T)
		return ddk_fail(err, DDK_ERANGE, "%s: %zu points; a curve "
		                "needs at least %d", key, T, DDK_FIT_MIN_T);
	if (!x && o->x_list && o->x_len != T)
		return ddk_fail(err, DDK_EINVAL, "%s: the x sequence has %zu "
		                "values for a curve of %zu points", key,
		                o->x_len, T);
	if (reserve(f, T, err) != DDK_OK)
		return DDK_ENOMEM;

	for (size_t t = 0; t < T; t++) {
		f->x[t] = x ? x[t] : o->x_list ? o->x_list[t] : o->x_const;
		f->y[t] = y[t];
		if (!isfinite(f->x[t]))
			return ddk_fail(err, DDK_ENUMERIC, "%s: x(%zu) is not "
			                "finite", key, t);
		if (!isfinite(y[t]))
			return ddk_fail(err, DDK_ENUMERIC, "%s: y_%zu is not "
			                "finite", key, t + 1);
		lo = fmin(lo, y[t]);
		hi = fmax(hi, y[t]);
	}

	if (o->norm == DDK_FIT_WINDOW) {
		lo = o->window_lo;
		hi = o->window_hi;
	} else if (o->norm == DDK_FIT_RAW) {
		lo = 0;
		hi = 1;
	} else if (!(hi > lo)) {
		return ddk_fail(err, DDK_ERANGE, "%s: constant curve (every "
		                "y is %g) cannot be normalised", key, lo);
	}
	for (size_t t = 0; t < T; t++)
		f->y[t] = (f->y[t] - lo) / (hi - lo);
	f->T = T;
	return DDK_OK;
}

/* ---- the fit --------------------------------------------------------- */

ddk_status ddk_fit_curve(ddk_fitter *f, const ddk_fit_opts *o,
                         const char *key, const double *x, const double *y,
                         size_t T, ddk_fit_result *res, ddk_err *err)
{
	double lo[2] = { o->alpha_lo, o->beta_lo };
	double hi[2] = { o->alpha_hi, o->beta_hi };
	ddk_lsq_problem pb = { T, 2, resid, jac, f, lo, hi };
	ddk_rng rng;
	ddk_err why;
	ddk_status st;

	if ((st = check_opts(o, key, err)) != DDK_OK ||
	    (st = load_curve(f, o, key, x, y, T, err)) != DDK_OK)
		return st;
	f->mode = o->mode;
	f->have_sens = 0;
	memset(res, 0, sizeof *res);
	res->ssr = INFINITY;

	/* A parameter with lo = hi is held there; the solver fits the other
	 * alone, in slot 0 of lo, hi and its p. */
	f->fixed = lo[0] == hi[0] ? 0 : lo[1] == hi[1] ? 1 : -1;
	if (f->fixed >= 0) {
		f->fixed_v = lo[f->fixed];
		lo[0] = lo[1 - f->fixed];
		hi[0] = hi[1 - f->fixed];
		pb.n = 1;
	}

	/* Every start from the key's own stream: shards agree. */
	ddk_rng_for_key(&rng, o->seed, key);
	for (unsigned k = 0; k <= o->restarts; k++) {
		double p[2], q[2];
		ddk_lsq_info info;

		p[0] = lo[0] + ddk_rng_uniform(&rng) * (hi[0] - lo[0]);
		p[1] = lo[1] + ddk_rng_uniform(&rng) * (hi[1] - lo[1]);
		st = ddk_lsq_run(f->lsq, &pb, &o->lsq, p, &info, &why);
		if (st != DDK_OK)
			return ddk_fail(err, st, "%s: %s", key, why.msg);
		res->nfev += info.nfev;
		if (2 * info.cost < res->ssr) {
			pair_of(f, p, q);
			res->alpha = q[0];
			res->beta = q[1];
			res->ssr = 2 * info.cost;
			res->iterations = info.iterations;
			res->result = info.result;
		}
	}
	ddk_row_forward_d(f->x, T, res->alpha, res->beta, f->mode, f->z,
	                  NULL, NULL);
	return DDK_OK;
}

ddk_status ddk_fit_record(ddk_fitter *f, const ddk_fit_opts *o,
                          const ddk_record *r, ddk_fit_result *res,
                          ddk_err *err)
{
	size_t T = r->cols;
	double *xv, *yv;

	if (r->rows != 1 && r->rows != 2)
		return ddk_fail(err, DDK_EINVAL, "%s: %u rows; a curve is one "
		                "row (y) or two (x, then y)", r->key, r->rows);
	if (r->rows == 2 && o->x_list)
		return ddk_fail(err, DDK_EINVAL, "%s: has its own x row and "
		                "an x sequence was given too", r->key);
	if (reserve(f, T, err) != DDK_OK)
		return DDK_ENOMEM;

	/* The float values go through the sensitivity buffers, which are
	 * free until load_curve has copied the curve out of them. */
	xv = f->dz_dalpha;
	yv = f->dz_dbeta;
	for (size_t t = 0; t < T; t++) {
		xv[t] = r->rows == 2 ? r->v[t] : 0;
		yv[t] = r->v[(r->rows - 1) * T + t];
	}
	return ddk_fit_curve(f, o, r->key, r->rows == 2 ? xv : NULL, yv, T,
	                     res, err);
}

void ddk_fit_last(const ddk_fitter *f, const double **x, const double **y,
                  const double **z, size_t *T)
{
	*x = f->x;
	*y = f->y;
	*z = f->z;
	*T = f->T;
}
