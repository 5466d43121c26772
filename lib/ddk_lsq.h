/*
 * ddk_lsq.h - bounded nonlinear least squares by trust-region reflection.
 *
 * Problem.  Given residuals r(p) = (r_1(p) .. r_m(p)) of n parameters p,
 * find
 *
 *     min_p  F(p) = 1/2 sum_i r_i(p)^2   subject to  lo <= p <= hi,
 *
 * where any bound may be infinite.  This is the problem behind curve
 * fitting: r_i = model(x_i; p) - y_i.
 *
 * Method.  The trust-region reflective algorithm of Coleman and Li ("An
 * interior trust region approach for nonlinear minimization subject to
 * bounds", SIAM J. Optim. 6, 1996), in the least-squares form of Branch,
 * Coleman and Li (SIAM J. Sci. Comput. 21, 1999):
 *
 *  - the gradient g = J'r is scaled by the Coleman-Li vector v (distance
 *    to the bound the gradient points at, 1 where there is none), so the
 *    first-order condition becomes |v_i g_i| -> 0 even at active bounds;
 *  - each step solves the trust-region subproblem in the scaled variables
 *    exactly, from a singular value decomposition of the augmented
 *    Jacobian [J D; diag(|g| |dv|)^(1/2)] (one-sided Jacobi, accurate for
 *    the small n this library meets), with a Levenberg parameter found
 *    by Newton's method on the secular equation;
 *  - a step that leaves the box is cut at the first bound it meets and
 *    reflected off it; the best of that reflected path, the cut step
 *    pulled back by theta, and the scaled steepest-descent step is
 *    taken, so iterates stay strictly inside the bounds;
 *  - starting points on or outside a bound are nudged inside;
 *  - residuals that come back non-finite (or whose sum of squares
 *    overflows, or a residual callback that returns nonzero) shrink the
 *    trust region to a quarter of the step;
 *  - the actual reduction of F is summed from the differences of the
 *    residuals, so steps that lower F by less than its rounding near a
 *    solution are still recognised.
 *
 * The Jacobian is the caller's, or forward differences with step
 * sqrt(eps) max(1, |p_j|), taken away from a bound that would be crossed.
 *
 * Tolerances (ddk_lsq_params_default):
 *   ftol 1e-8   stop when the cost fell by less than ftol * F in a step
 *               that the model predicted well (ratio > 1/4);
 *   xtol 1e-8   stop when |step| < xtol (xtol + |p|);
 *   gtol 1e-8   stop when max_i |v_i g_i| < gtol;
 *   max_eval 0  means 100 n residual evaluations at trial points
 *               (finite-difference evaluations are not counted).
 *
 * Ownership.  A ddk_lsq workspace is made by ddk_lsq_alloc for problems of
 * at most m_max residuals and n_max parameters and is reused for any
 * number of solves; ddk_lsq_free(&w) frees it and clears w.  The solver
 * keeps pointers to the problem's callbacks and context only during a
 * solve; it copies the bounds.  It never prints.
 *
 * Errors.  ddk_lsq_init and ddk_lsq_solve return a ddk_status: DDK_EINVAL
 * for sizes over the workspace, lo >= hi or a NaN bound, DDK_ENUMERIC when
 * the start is not finite or its residuals or Jacobian are not, DDK_ENOMEM
 * from ddk_lsq_solve; err says which.  How a solve ended (converged,
 * out of evaluations, stopped) is the separate ddk_lsq_result.
 */
#ifndef DDK_LSQ_H
#define DDK_LSQ_H

#include <stddef.h>
#include "ddk_base.h"

typedef enum ddk_lsq_result {
	/* The solve is still under way: call ddk_lsq_iterate again. */
	DDK_LSQ_RUNNING = 0,
	/* The scaled gradient max |v_i g_i| fell below gtol: a first-order
	 * point of the bounded problem. */
	DDK_LSQ_GTOL,
	/* The cost fell by less than ftol relative in a well-predicted
	 * step: converged in the objective. */
	DDK_LSQ_FTOL,
	/* The step was shorter than xtol relative to p: converged in the
	 * parameters (or the trust region collapsed). */
	DDK_LSQ_XTOL,
	/* The cap on residual evaluations was reached before convergence. */
	DDK_LSQ_MAXEVAL,
	/* The Jacobian at an accepted point was not finite, so no further
	 * step can be modelled. */
	DDK_LSQ_NONFINITE,
	/* A callback (Jacobian or per-iteration) returned nonzero. */
	DDK_LSQ_STOPPED
} ddk_lsq_result;

/* A sentence describing r, and a short lower-case name ("gtol", "ftol",
 * "xtol", "maxeval", "nonfinite", "stopped", "running") for tables. */
const char *ddk_lsq_strresult(ddk_lsq_result r);
const char *ddk_lsq_result_name(ddk_lsq_result r);

/* Residuals r[0..m-1] at p[0..n-1].  Return 0, or nonzero when p cannot
 * be evaluated (treated like non-finite residuals). */
typedef int (*ddk_lsq_resid_fn)(const double *p, double *r, void *ctx);

/* Jacobian at p, row-major m x n: J[i*n + j] = d r_i / d p_j.  r holds
 * the residuals at p.  Return 0, or nonzero to stop the solve. */
typedef int (*ddk_lsq_jac_fn)(const double *p, const double *r, double *J,
                              void *ctx);

typedef struct ddk_lsq_problem {
	size_t m, n;             /* residuals, parameters (m >= 1, n >= 1) */
	ddk_lsq_resid_fn f;
	ddk_lsq_jac_fn df;       /* NULL: forward differences */
	void *ctx;               /* passed to f and df */
	const double *lo, *hi;   /* n bounds each, or NULL for -inf / +inf */
} ddk_lsq_problem;

/* What the per-iteration callback sees, after each accepted step. */
typedef struct ddk_lsq_state {
	size_t iteration;        /* steps accepted so far */
	size_t nfev;             /* residual evaluations at trial points */
	const double *p;         /* current point (n) */
	double cost;             /* F(p) = ssr / 2 */
	double gnorm;            /* max_i |v_i g_i| before the step */
	double radius;           /* trust-region radius, scaled variables */
} ddk_lsq_state;

typedef int (*ddk_lsq_iter_fn)(const ddk_lsq_state *s, void *ctx);

typedef struct ddk_lsq_params {
	double ftol, xtol, gtol; /* 0 disables a test; see above */
	size_t max_eval;         /* 0: 100 n */
	ddk_lsq_iter_fn on_iter; /* NULL or called after each step; */
	void *iter_ctx;          /* nonzero return stops the solve */
} ddk_lsq_params;

/* Fill par with the defaults listed above. */
void ddk_lsq_params_default(ddk_lsq_params *par);

/* How a solve ended. */
typedef struct ddk_lsq_info {
	ddk_lsq_result result;
	double cost;             /* F at the returned point */
	double gnorm;            /* max_i |v_i g_i| there */
	size_t iterations;       /* accepted steps */
	size_t nfev;             /* residual evaluations at trial points */
	size_t njev;             /* Jacobian evaluations */
} ddk_lsq_info;

typedef struct ddk_lsq ddk_lsq;

/* A workspace for problems up to m_max x n_max, or NULL when out of
 * memory (or a size is 0). */
ddk_lsq *ddk_lsq_alloc(size_t m_max, size_t n_max);
void ddk_lsq_free(ddk_lsq **w);

/*
 * Start a solve of pb from p0 (n values, copied) with par (NULL for the
 * defaults).  pb must stay valid until the solve ends.  Then call
 * ddk_lsq_iterate until it returns something other than DDK_LSQ_RUNNING.
 */
ddk_status ddk_lsq_init(ddk_lsq *w, const ddk_lsq_problem *pb,
                        const ddk_lsq_params *par, const double *p0,
                        ddk_err *err);

/* One accepted step (or the end).  Returns DDK_LSQ_RUNNING or the
 * result, which further calls repeat. */
ddk_lsq_result ddk_lsq_iterate(ddk_lsq *w);

/* The current point (n values, owned by w) and a summary. */
const double *ddk_lsq_p(const ddk_lsq *w);
void ddk_lsq_get_info(const ddk_lsq *w, ddk_lsq_info *info);

/*
 * init + iterate to the end on workspace w.  p holds the start on entry
 * and the solution on return; info (may be NULL) says how it ended.
 */
ddk_status ddk_lsq_run(ddk_lsq *w, const ddk_lsq_problem *pb,
                       const ddk_lsq_params *par, double *p,
                       ddk_lsq_info *info, ddk_err *err);

/* ddk_lsq_run with a workspace of its own. */
ddk_status ddk_lsq_solve(const ddk_lsq_problem *pb,
                         const ddk_lsq_params *par, double *p,
                         ddk_lsq_info *info, ddk_err *err);

#endif
