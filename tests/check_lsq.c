/*
 * check_lsq.c - the bounded least-squares solver: known optima with and
 * without active bounds, finite differences at a bound, non-finite
 * residuals, callbacks, caps and argument errors.
 */
#include <float.h>
#include <stdio.h>
#include "check_util.h"
#include "ddk_lsq.h"

/* ---- test problems ------------------------------------------------ */

/* Rosenbrock: F = 100 (p2 - p1^2)^2 + (1 - p1)^2, minimum at (1, 1). */
static int rosen_f(const double *p, double *r, void *ctx)
{
	(void)ctx;
	r[0] = 10 * (p[1] - p[0] * p[0]);
	r[1] = 1 - p[0];
	return 0;
}

static int rosen_df(const double *p, const double *r, double *J, void *ctx)
{
	(void)r;
	(void)ctx;
	J[0] = -20 * p[0];
	J[1] = 10;
	J[2] = -1;
	J[3] = 0;
	return 0;
}

/* r = p - c: the bounded answer is c clipped to the box. */
static const double lin_c[3] = { -1, 2, 0.5 };

static int lin_f(const double *p, double *r, void *ctx)
{
	(void)ctx;
	for (int i = 0; i < 3; i++)
		r[i] = p[i] - lin_c[i];
	return 0;
}

/* y = 2 exp(-t/2) at t = 0..9, fitted by b1 exp(-b2 t). */
static int decay_f(const double *p, double *r, void *ctx)
{
	(void)ctx;
	for (int i = 0; i < 10; i++)
		r[i] = p[0] * exp(-p[1] * i) - 2 * exp(-0.5 * i);
	return 0;
}

static int decay_df(const double *p, const double *r, double *J, void *ctx)
{
	(void)r;
	(void)ctx;
	for (int i = 0; i < 10; i++) {
		J[2 * i] = exp(-p[1] * i);
		J[2 * i + 1] = -i * p[0] * exp(-p[1] * i);
	}
	return 0;
}

/* sqrt(1 - p) - 0.1: undefined past p = 1, answer p = 0.99. */
static int edge_f(const double *p, double *r, void *ctx)
{
	(void)ctx;
	r[0] = sqrt(1 - p[0]) - 0.1;
	return 0;
}

/* log(p) + 5: the Gauss-Newton step from p = 1 lands at p < 0. */
static int log_f(const double *p, double *r, void *ctx)
{
	(void)ctx;
	r[0] = log(p[0]) + 5;
	return 0;
}

/* r = (p - 1, 1e9): F is 5e17 and the step to p = 1 lowers it by 1/2,
 * far below the rounding of F. */
static int huge_f(const double *p, double *r, void *ctx)
{
	(void)ctx;
	r[0] = p[0] - 1;
	r[1] = 1e9;
	return 0;
}

static int huge_df(const double *p, const double *r, double *J, void *ctx)
{
	(void)p;
	(void)r;
	(void)ctx;
	J[0] = 1;
	J[1] = 0;
	return 0;
}

static int nan_f(const double *p, double *r, void *ctx)
{
	(void)p;
	(void)ctx;
	r[0] = NAN;
	return 0;
}

/* ---- helpers ------------------------------------------------------- */

/* max |projected gradient| of F at p, by the problem's own Jacobian. */
static double projected_gradient(const ddk_lsq_problem *pb, const double *p,
                                 ddk_lsq_jac_fn df)
{
	double r[16], J[64], worst = 0;

	pb->f(p, r, pb->ctx);
	df(p, r, J, pb->ctx);
	for (size_t j = 0; j < pb->n; j++) {
		double g = 0, tol = 1e-9;

		for (size_t i = 0; i < pb->m; i++)
			g += J[i * pb->n + j] * r[i];
		if (pb->lo && p[j] - pb->lo[j] < tol * (1 + fabs(pb->lo[j])))
			g = fmin(g, 0);
		if (pb->hi && pb->hi[j] - p[j] < tol * (1 + fabs(pb->hi[j])))
			g = fmax(g, 0);
		worst = fmax(worst, fabs(g));
	}
	return worst;
}

static ddk_lsq_info solve(const ddk_lsq_problem *pb, double *p)
{
	ddk_lsq_info info;
	ddk_err err = { "" };

	ck_assert_int_eq(ddk_lsq_solve(pb, NULL, p, &info, &err), DDK_OK);
	ck_assert_int_ne(info.result, DDK_LSQ_RUNNING);
	return info;
}

/* ---- tests --------------------------------------------------------- */

START_TEST(test_rosenbrock_free)
{
	ddk_lsq_problem pb = { 2, 2, rosen_f, rosen_df, NULL, NULL, NULL };
	double p[2] = { -1.2, 1 };
	ddk_lsq_info info = solve(&pb, p);

	ck_assert_double_eq_tol(p[0], 1, 1e-8);
	ck_assert_double_eq_tol(p[1], 1, 1e-8);
	ck_assert_double_lt(info.cost, 1e-20);
	ck_assert_uint_gt(info.iterations, 3);
}
END_TEST

/* p1 <= 0.5 excludes the minimum: the answer is (0.5, 0.25), F = 1/4. */
START_TEST(test_rosenbrock_upper_active)
{
	double lo[2] = { -2, -2 }, hi[2] = { 0.5, 2 };
	ddk_lsq_problem pb = { 2, 2, rosen_f, rosen_df, NULL, lo, hi };
	double p[2] = { -1.2, 1 };
	ddk_lsq_info info = solve(&pb, p);

	ck_assert_double_eq_tol(p[0], 0.5, 1e-7);
	ck_assert_double_eq_tol(p[1], 0.25, 1e-7);
	ck_assert_double_lt(p[0], 0.5);
	ck_assert_double_eq_tol(2 * info.cost, 0.25, 1e-7);
	ck_assert_double_lt(projected_gradient(&pb, p, rosen_df), 1e-6);
}
END_TEST

/* p1 >= 1.5 from below the bound: ends at (1.5, 2.25). */
START_TEST(test_rosenbrock_lower_active)
{
	double lo[2] = { 1.5, -INFINITY }, hi[2] = { 3, INFINITY };
	ddk_lsq_problem pb = { 2, 2, rosen_f, rosen_df, NULL, lo, hi };
	double p[2] = { 0, 0 };     /* outside: nudged in */

	solve(&pb, p);
	ck_assert_double_eq_tol(p[0], 1.5, 1e-7);
	ck_assert_double_eq_tol(p[1], 2.25, 1e-6);
	ck_assert_double_gt(p[0], 1.5);
	ck_assert_double_lt(projected_gradient(&pb, p, rosen_df), 1e-6);
}
END_TEST

static int lin_df(const double *p, const double *r, double *J, void *ctx)
{
	(void)p;
	(void)r;
	(void)ctx;
	for (int i = 0; i < 9; i++)
		J[i] = i % 4 == 0;
	return 0;
}

/* Both bounds of the unit box active at once, third coordinate free. */
START_TEST(test_linear_clipped)
{
	double lo[3] = { 0, 0, 0 }, hi[3] = { 1, 1, 1 };
	ddk_lsq_problem pb = { 3, 3, lin_f, NULL, NULL, lo, hi };
	double p[3] = { 0.5, 0.5, 0.9 };

	solve(&pb, p);
	ck_assert_double_eq_tol(p[0], 0, 1e-7);
	ck_assert_double_eq_tol(p[1], 1, 1e-7);
	ck_assert_double_eq_tol(p[2], 0.5, 1e-7);
	ck_assert_double_lt(projected_gradient(&pb, p, lin_df), 1e-6);
}
END_TEST

/* Decay rate held below its true 0.5: b2 ends on 0.3, b1 optimal for
 * it (the closed form of the one-parameter linear fit). */
START_TEST(test_decay_bound)
{
	double lo[2] = { 0, 0 }, hi[2] = { 10, 0.3 };
	ddk_lsq_problem pb = { 10, 2, decay_f, decay_df, NULL, lo, hi };
	double p[2] = { 1, 0.1 }, num = 0, den = 0;

	solve(&pb, p);
	ck_assert_double_eq_tol(p[1], 0.3, 1e-7);
	for (int i = 0; i < 10; i++) {
		num += exp(-0.3 * i) * 2 * exp(-0.5 * i);
		den += exp(-0.6 * i);
	}
	ck_assert_double_eq_tol(p[0], num / den, 1e-6);
	ck_assert_double_lt(projected_gradient(&pb, p, decay_df), 1e-6);
}
END_TEST

/* Finite differences agree with the analytic Jacobian's answer. */
START_TEST(test_fd_matches_analytic)
{
	ddk_lsq_problem pa = { 10, 2, decay_f, decay_df, NULL, NULL, NULL };
	ddk_lsq_problem pf = { 10, 2, decay_f, NULL, NULL, NULL, NULL };
	double a[2] = { 1, 0.1 }, f[2] = { 1, 0.1 };

	solve(&pa, a);
	solve(&pf, f);
	ck_assert_double_eq_tol(a[0], 2, 1e-8);
	ck_assert_double_eq_tol(a[1], 0.5, 1e-8);
	ck_assert_double_lt(rel_diff(a[0], f[0], 1e-12), 1e-6);
	ck_assert_double_lt(rel_diff(a[1], f[1], 1e-12), 1e-6);
}
END_TEST

/* A start on the bound of a function undefined beyond it: the start is
 * nudged in and the differences step away from the bound. */
START_TEST(test_fd_one_sided_at_bound)
{
	double hi[1] = { 1 };
	ddk_lsq_problem pb = { 1, 1, edge_f, NULL, NULL, NULL, hi };
	double p[1] = { 1 };
	ddk_lsq_info info = solve(&pb, p);

	ck_assert_double_eq_tol(p[0], 0.99, 1e-7);
	ck_assert_double_lt(info.cost, 1e-14);
}
END_TEST

/* Non-finite residuals at a trial point shrink the region; the solve
 * still reaches exp(-5). */
START_TEST(test_nonfinite_shrinks)
{
	ddk_lsq_problem pb = { 1, 1, log_f, NULL, NULL, NULL, NULL };
	double p[1] = { 1 };
	ddk_lsq_info info = solve(&pb, p);

	ck_assert_double_lt(rel_diff(p[0], exp(-5), 1e-300), 1e-7);
	ck_assert_uint_gt(info.nfev, info.iterations);
}
END_TEST

static int stop_at_two(const ddk_lsq_state *s, void *ctx)
{
	int *calls = ctx;

	ck_assert_ptr_nonnull(s->p);
	ck_assert(s->cost >= 0);
	(*calls)++;
	return s->iteration >= 2;
}

START_TEST(test_callback_stops)
{
	ddk_lsq_problem pb = { 2, 2, rosen_f, rosen_df, NULL, NULL, NULL };
	ddk_lsq_params par;
	double p[2] = { -1.2, 1 };
	ddk_lsq_info info;
	int calls = 0;

	ddk_lsq_params_default(&par);
	par.on_iter = stop_at_two;
	par.iter_ctx = &calls;
	ck_assert_int_eq(ddk_lsq_solve(&pb, &par, p, &info, NULL), DDK_OK);
	ck_assert_int_eq(info.result, DDK_LSQ_STOPPED);
	ck_assert_uint_eq(info.iterations, 2);
	ck_assert_int_eq(calls, 2);
}
END_TEST

START_TEST(test_max_eval)
{
	ddk_lsq_problem pb = { 2, 2, rosen_f, rosen_df, NULL, NULL, NULL };
	ddk_lsq_params par;
	double p[2] = { -1.2, 1 };
	ddk_lsq_info info;

	ddk_lsq_params_default(&par);
	par.max_eval = 4;
	ck_assert_int_eq(ddk_lsq_solve(&pb, &par, p, &info, NULL), DDK_OK);
	ck_assert_int_eq(info.result, DDK_LSQ_MAXEVAL);
	ck_assert_uint_le(info.nfev, 4);
}
END_TEST

/* A reduction below eps F is still a reduction: F(x) - F(x_new) would
 * round to 0 and call the step a failure; the solver must take it. */
START_TEST(test_reduction_below_rounding)
{
	ddk_lsq_problem pb = { 2, 1, huge_f, huge_df, NULL, NULL, NULL };
	double p[1] = { 0 };
	ddk_lsq_info info = solve(&pb, p);

	ck_assert_double_eq_tol(p[0], 1, 1e-12);
	ck_assert_uint_ge(info.iterations, 1);
	ck_assert_uint_le(info.nfev, 3);
}
END_TEST

START_TEST(test_zero_residual_gtol)
{
	ddk_lsq_problem pb = { 3, 3, lin_f, NULL, NULL, NULL, NULL };
	double p[3] = { -1, 2, 0.5 };
	ddk_lsq_info info = solve(&pb, p);

	ck_assert_int_eq(info.result, DDK_LSQ_GTOL);
	ck_assert_uint_eq(info.iterations, 0);
}
END_TEST

START_TEST(test_bad_arguments)
{
	double lo[2] = { 0, 1 }, hi[2] = { 1, 1 }, p[2] = { 0.5, 0.5 };
	ddk_lsq_problem pb = { 2, 2, rosen_f, rosen_df, NULL, lo, hi };
	ddk_lsq_problem pn = { 1, 1, nan_f, NULL, NULL, NULL, NULL };
	ddk_lsq *w = ddk_lsq_alloc(2, 2);
	ddk_err err = { "" };

	ck_assert_int_eq(ddk_lsq_solve(&pb, NULL, p, NULL, &err), DDK_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "parameter 2"));
	hi[1] = 2;
	lo[0] = NAN;
	ck_assert_int_eq(ddk_lsq_solve(&pb, NULL, p, NULL, &err), DDK_EINVAL);
	lo[0] = 0;
	p[0] = INFINITY;
	ck_assert_int_eq(ddk_lsq_solve(&pb, NULL, p, NULL, &err),
	                 DDK_ENUMERIC);
	p[0] = 0;
	ck_assert_int_eq(ddk_lsq_solve(&pn, NULL, p, NULL, &err),
	                 DDK_ENUMERIC);
	ck_assert_ptr_nonnull(strstr(err.msg, "start"));
	pb.m = 3;
	ck_assert_int_eq(ddk_lsq_run(w, &pb, NULL, p, NULL, &err),
	                 DDK_EINVAL);
	ddk_lsq_free(&w);
	ck_assert_ptr_null(w);
	ddk_lsq_free(&w);
	ck_assert_ptr_null(ddk_lsq_alloc(0, 2));
}
END_TEST

/* One workspace, many solves, smaller problems too: same bits each time,
 * and the iterate interface walks the same path as run. */
START_TEST(test_workspace_reuse)
{
	ddk_lsq *w = ddk_lsq_alloc(10, 3);
	ddk_lsq_problem pd = { 10, 2, decay_f, decay_df, NULL, NULL, NULL };
	ddk_lsq_problem pr = { 2, 2, rosen_f, rosen_df, NULL, NULL, NULL };
	double a[2] = { 1, 0.1 }, b[2] = { 1, 0.1 }, r[2] = { -1.2, 1 };
	const double start[2] = { 1, 0.1 };
	ddk_lsq_info ia, ib;
	ddk_lsq_result res;
	size_t steps = 0;

	ck_assert_int_eq(ddk_lsq_run(w, &pd, NULL, a, &ia, NULL), DDK_OK);
	ck_assert_int_eq(ddk_lsq_run(w, &pr, NULL, r, NULL, NULL), DDK_OK);
	ck_assert_int_eq(ddk_lsq_run(w, &pd, NULL, b, &ib, NULL), DDK_OK);
	ck_assert(memcmp(a, b, sizeof a) == 0);
	ck_assert_uint_eq(ia.nfev, ib.nfev);

	ck_assert_int_eq(ddk_lsq_init(w, &pd, NULL, start, NULL), DDK_OK);
	while ((res = ddk_lsq_iterate(w)) == DDK_LSQ_RUNNING)
		steps++;
	ck_assert_int_eq(ddk_lsq_iterate(w), res);
	ck_assert(memcmp(ddk_lsq_p(w), a, sizeof a) == 0);
	ck_assert_uint_ge(steps + 1, ia.iterations);
	ddk_lsq_free(&w);
}
END_TEST

START_TEST(test_result_names)
{
	for (int r = DDK_LSQ_RUNNING; r <= DDK_LSQ_STOPPED; r++) {
		ck_assert_str_ne(ddk_lsq_result_name(r), "unknown");
		ck_assert_str_ne(ddk_lsq_strresult(r), "unknown result");
		for (int q = 0; q < r; q++)
			ck_assert_str_ne(ddk_lsq_result_name(r),
			                 ddk_lsq_result_name(q));
	}
}
END_TEST

static Suite *lsq_suite(void)
{
	Suite *s = suite_create("lsq");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_rosenbrock_free);
	tcase_add_test(tc, test_rosenbrock_upper_active);
	tcase_add_test(tc, test_rosenbrock_lower_active);
	tcase_add_test(tc, test_linear_clipped);
	tcase_add_test(tc, test_decay_bound);
	tcase_add_test(tc, test_fd_matches_analytic);
	tcase_add_test(tc, test_fd_one_sided_at_bound);
	tcase_add_test(tc, test_nonfinite_shrinks);
	tcase_add_test(tc, test_callback_stops);
	tcase_add_test(tc, test_max_eval);
	tcase_add_test(tc, test_reduction_below_rounding);
	tcase_add_test(tc, test_zero_residual_gtol);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_workspace_reuse);
	tcase_add_test(tc, test_result_names);
	suite_add_tcase(s, tc);
	return s;
}

DDK_CHECK_MAIN(lsq_suite)
