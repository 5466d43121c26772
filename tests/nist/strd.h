/*
 * strd.h - the 27 NIST StRD nonlinear regression problems for the lsq
 * tests: a reader for the .dat files and the models, written once over
 * complex numbers so the Jacobian comes exact from the complex step
 * (Squire and Trapp 1998): d f / d b_j = Im f(b + i h e_j) / h.
 *
 * Shared, as static functions, by tests/check_nist.c and the make nist
 * report (tests/nist/report.c).
 */
#ifndef DDK_NIST_STRD_H
#define DDK_NIST_STRD_H

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ddk_lsq.h"

#define NIST_PMAX 9
#define NIST_PI 3.141592653589793238462643383279

typedef double complex cplx;
typedef cplx (*nist_model_fn)(const cplx *b, const double *x);

typedef struct nist_problem {
	char name[32];
	char level[16];            /* "Lower", "Average" or "Higher" */
	size_t n;                  /* parameters */
	size_t m;                  /* observations */
	size_t nx;                 /* predictors (2 for Nelson) */
	double start[2][NIST_PMAX];
	double cert[NIST_PMAX];
	double cert_sd[NIST_PMAX];
	double cert_ssr;
	double *y, *x;             /* m, m * nx */
	int log_y;                 /* Nelson fits log(y) */
	nist_model_fn model;
} nist_problem;

/* ---- the models --------------------------------------------------- */

static cplx m_misra1a(const cplx *b, const double *x)
{
	return b[0] * (1 - cexp(-b[1] * x[0]));
}

static cplx m_chwirut(const cplx *b, const double *x)
{
	return cexp(-b[0] * x[0]) / (b[1] + b[2] * x[0]);
}

static cplx m_danwood(const cplx *b, const double *x)
{
	return b[0] * cexp(b[1] * log(x[0]));
}

static cplx m_enso(const cplx *b, const double *x)
{
	double w = 2 * NIST_PI * x[0];

	return b[0] + b[1] * cos(w / 12) + b[2] * sin(w / 12) +
	       b[4] * ccos(w / b[3]) + b[5] * csin(w / b[3]) +
	       b[7] * ccos(w / b[6]) + b[8] * csin(w / b[6]);
}

static cplx m_eckerle4(const cplx *b, const double *x)
{
	cplx u = (x[0] - b[2]) / b[1];

	return b[0] / b[1] * cexp(-0.5 * u * u);
}

static cplx m_gauss(const cplx *b, const double *x)
{
	cplx u = x[0] - b[3], v = x[0] - b[6];

	return b[0] * cexp(-b[1] * x[0]) + b[2] * cexp(-u * u / (b[4] * b[4]))
	       + b[5] * cexp(-v * v / (b[7] * b[7]));
}

static cplx m_cubic(const cplx *b, const double *x)
{
	double t = x[0];

	return (b[0] + t * (b[1] + t * (b[2] + t * b[3]))) /
	       (1 + t * (b[4] + t * (b[5] + t * b[6])));
}

static cplx m_kirby2(const cplx *b, const double *x)
{
	double t = x[0];

	return (b[0] + t * (b[1] + t * b[2])) / (1 + t * (b[3] + t * b[4]));
}

static cplx m_lanczos(const cplx *b, const double *x)
{
	return b[0] * cexp(-b[1] * x[0]) + b[2] * cexp(-b[3] * x[0]) +
	       b[4] * cexp(-b[5] * x[0]);
}

static cplx m_mgh09(const cplx *b, const double *x)
{
	double t = x[0];

	return b[0] * (t * t + t * b[1]) / (t * t + t * b[2] + b[3]);
}

static cplx m_mgh10(const cplx *b, const double *x)
{
	return b[0] * cexp(b[1] / (x[0] + b[2]));
}

static cplx m_mgh17(const cplx *b, const double *x)
{
	return b[0] + b[1] * cexp(-x[0] * b[3]) + b[2] * cexp(-x[0] * b[4]);
}

static cplx m_misra1b(const cplx *b, const double *x)
{
	cplx u = 1 + b[1] * x[0] / 2;

	return b[0] * (1 - 1 / (u * u));
}

static cplx m_misra1c(const cplx *b, const double *x)
{
	return b[0] * (1 - 1 / csqrt(1 + 2 * b[1] * x[0]));
}

static cplx m_misra1d(const cplx *b, const double *x)
{
	return b[0] * b[1] * x[0] / (1 + b[1] * x[0]);
}

static cplx m_nelson(const cplx *b, const double *x)
{
	return b[0] - b[1] * x[0] * cexp(-b[2] * x[1]);
}

static cplx m_rat42(const cplx *b, const double *x)
{
	return b[0] / (1 + cexp(b[1] - b[2] * x[0]));
}

static cplx m_rat43(const cplx *b, const double *x)
{
	return b[0] / cpow(1 + cexp(b[1] - b[2] * x[0]), 1 / b[3]);
}

static cplx m_roszman1(const cplx *b, const double *x)
{
	return b[0] - b[1] * x[0] - catan(b[2] / (x[0] - b[3])) / NIST_PI;
}

static cplx m_bennett5(const cplx *b, const double *x)
{
	return b[0] * cpow(b[1] + x[0], -1 / b[2]);
}

static const struct {
	const char *name;
	nist_model_fn fn;
} nist_models[] = {
	{ "Misra1a", m_misra1a }, { "BoxBOD", m_misra1a },
	{ "Chwirut1", m_chwirut }, { "Chwirut2", m_chwirut },
	{ "DanWood", m_danwood }, { "ENSO", m_enso },
	{ "Eckerle4", m_eckerle4 }, { "Gauss1", m_gauss },
	{ "Gauss2", m_gauss }, { "Gauss3", m_gauss },
	{ "Hahn1", m_cubic }, { "Thurber", m_cubic },
	{ "Kirby2", m_kirby2 }, { "Lanczos1", m_lanczos },
	{ "Lanczos2", m_lanczos }, { "Lanczos3", m_lanczos },
	{ "MGH09", m_mgh09 }, { "MGH10", m_mgh10 }, { "MGH17", m_mgh17 },
	{ "Misra1b", m_misra1b }, { "Misra1c", m_misra1c },
	{ "Misra1d", m_misra1d }, { "Nelson", m_nelson },
	{ "Rat42", m_rat42 }, { "Rat43", m_rat43 },
	{ "Roszman1", m_roszman1 }, { "Bennett5", m_bennett5 },
};

/* ---- reading a .dat file ------------------------------------------ */

static void nist_free(nist_problem *pb)
{
	free(pb->y);
	free(pb->x);
	pb->y = pb->x = NULL;
}

/* Read path into pb; 0 on success, else -1 with why[] set. */
static int nist_read(nist_problem *pb, const char *path, char *why,
                     size_t why_len)
{
	FILE *fp = fopen(path, "r");
	char line[512];
	const char *base = strrchr(path, '/');
	size_t cap = 0, len;
	int in_data = 0;

	memset(pb, 0, sizeof *pb);
	if (!fp) {
		snprintf(why, why_len, "%.200s: cannot open", path);
		return -1;
	}
	base = base ? base + 1 : path;
	len = strcspn(base, ".");
	if (len >= sizeof pb->name)
		len = sizeof pb->name - 1;
	memcpy(pb->name, base, len);

	while (fgets(line, sizeof line, fp)) {
		int k;
		double s1, s2, c, sd, v[3];
		char w1[16];

		if (in_data) {
			int got = sscanf(line, "%lf %lf %lf", &v[0], &v[1],
			                 &v[2]);

			if (got < 2)
				continue;
			if (pb->m == cap) {
				cap = cap ? 2 * cap : 64;
				pb->y = realloc(pb->y, cap * sizeof *pb->y);
				pb->x = realloc(pb->x, 2 * cap * sizeof *pb->x);
				if (!pb->y || !pb->x)
					break;
			}
			pb->nx = (size_t)got - 1;
			pb->y[pb->m] = v[0];
			for (size_t i = 0; i < pb->nx; i++)
				pb->x[pb->m * pb->nx + i] = v[1 + i];
			pb->m++;
		} else if (sscanf(line, " b%d = %lf %lf %lf %lf", &k, &s1,
		                  &s2, &c, &sd) == 5 && k >= 1 &&
		           k <= NIST_PMAX) {
			pb->start[0][k - 1] = s1;
			pb->start[1][k - 1] = s2;
			pb->cert[k - 1] = c;
			pb->cert_sd[k - 1] = sd;
			if ((size_t)k > pb->n)
				pb->n = (size_t)k;
		} else if (sscanf(line, " %15s Level of Difficulty", w1) == 1
		           && strstr(line, "Level of Difficulty")) {
			snprintf(pb->level, sizeof pb->level, "%s", w1);
		} else if (strncmp(line, "Residual Sum of Squares:", 24) == 0) {
			pb->cert_ssr = strtod(line + 24, NULL);
		} else if (strncmp(line, "Data:", 5) == 0 &&
		           sscanf(line + 5, " %15s", w1) == 1 &&
		           w1[0] == 'y') {
			in_data = 1;
		}
	}
	fclose(fp);

	for (size_t i = 0; i < sizeof nist_models / sizeof nist_models[0];
	     i++)
		if (strcmp(nist_models[i].name, pb->name) == 0)
			pb->model = nist_models[i].fn;
	pb->log_y = strcmp(pb->name, "Nelson") == 0;
	if (!pb->model || pb->n == 0 || pb->m == 0 || !pb->y) {
		snprintf(why, why_len, "%.200s: not a known StRD "
		         "problem", path);
		nist_free(pb);
		return -1;
	}
	return 0;
}

/* ---- residuals and Jacobian for the solver ------------------------ */

static double nist_target(const nist_problem *pb, size_t i)
{
	return pb->log_y ? log(pb->y[i]) : pb->y[i];
}

static int nist_resid(const double *p, double *r, void *ctx)
{
	const nist_problem *pb = ctx;
	cplx b[NIST_PMAX];

	for (size_t j = 0; j < pb->n; j++)
		b[j] = p[j];
	for (size_t i = 0; i < pb->m; i++)
		r[i] = creal(pb->model(b, pb->x + i * pb->nx)) -
		       nist_target(pb, i);
	return 0;
}

static int nist_jac(const double *p, const double *r, double *J, void *ctx)
{
	const nist_problem *pb = ctx;
	cplx b[NIST_PMAX];

	(void)r;
	for (size_t j = 0; j < pb->n; j++)
		b[j] = p[j];
	for (size_t j = 0; j < pb->n; j++) {
		double h = 1e-20 * (p[j] != 0 ? fabs(p[j]) : 1);

		b[j] = p[j] + I * h;
		for (size_t i = 0; i < pb->m; i++)
			J[i * pb->n + j] =
				cimag(pb->model(b, pb->x + i * pb->nx)) / h;
		b[j] = p[j];
	}
	return 0;
}

/* Log relative error of est against cert, capped at 15 (exact). */
static double nist_lre1(double est, double cert)
{
	double e;

	if (!isfinite(est))
		return 0;
	e = cert != 0 ? fabs(est - cert) / fabs(cert) : fabs(est);
	if (e == 0)
		return 15;
	e = -log10(e);
	return e < 0 ? 0 : e > 15 ? 15 : e;
}

/* The smallest LRE over the parameters. */
static double nist_lre(const nist_problem *pb, const double *p)
{
	double lre = 15;

	for (size_t j = 0; j < pb->n; j++)
		lre = fmin(lre, nist_lre1(p[j], pb->cert[j]));
	return lre;
}

/* Tolerances for the certified runs: tight, so the answer is as close as
 * double precision allows, and a generous evaluation cap. */
static void nist_params(ddk_lsq_params *par)
{
	ddk_lsq_params_default(par);
	par->ftol = 1e-15;
	par->xtol = 1e-15;
	par->gtol = 1e-15;
	par->max_eval = 5000;
}

/* Solve pb from start s (0 or 1), optionally boxed; p gets the answer. */
static ddk_status nist_solve(const nist_problem *pb, int s, int use_fd,
                             const double *lo, const double *hi, double *p,
                             ddk_lsq_info *info, ddk_err *err)
{
	ddk_lsq_problem lp = {
		pb->m, pb->n, nist_resid, use_fd ? NULL : nist_jac,
		(void *)pb, lo, hi
	};
	ddk_lsq_params par;

	nist_params(&par);
	memcpy(p, pb->start[s], pb->n * sizeof *p);
	return ddk_lsq_solve(&lp, &par, p, info, err);
}

#endif
