/*
 * check_fit.c - DDK curve fitting: known pairs come back from clean
 * curves (constant and varying inputs, RESET and SET), normalisation,
 * restarts, bounds, and every bad curve named by its key.
 */
#include <stdio.h>
#include "check_util.h"
#include "ddk_fit.h"

#define T_MAX 200

/* y = z(alpha, beta) for inputs x (NULL: all 1). */
static void curve(const double *x, size_t T, double alpha, double beta,
                  ddk_mode mode, double *y)
{
	double ones[T_MAX];

	for (size_t t = 0; t < T; t++)
		ones[t] = 1;
	ddk_row_forward_d(x ? x : ones, T, alpha, beta, mode, y, NULL, NULL);
}

static ddk_fit_opts raw_opts(void)
{
	ddk_fit_opts o;

	ddk_fit_opts_default(&o);
	o.norm = DDK_FIT_RAW;
	o.restarts = 2;
	return o;
}

START_TEST(test_recovers_constant_input)
{
	ddk_fitter *f = ddk_fitter_new();
	ddk_fit_opts o = raw_opts();
	ddk_fit_result res;
	double y[100];

	curve(NULL, 100, 0.01, 0.03, DDK_RESET, y);
	ck_assert_int_eq(ddk_fit_curve(f, &o, "a", NULL, y, 100, &res, NULL),
	                 DDK_OK);
	ck_assert_double_eq_tol(res.alpha, 0.01, 1e-7);
	ck_assert_double_eq_tol(res.beta, 0.03, 1e-7);
	ck_assert_double_lt(res.ssr, 1e-12);
	ck_assert_uint_gt(res.iterations, 0);
	ddk_fitter_free(&f);
	ck_assert_ptr_null(f);
}
END_TEST

START_TEST(test_recovers_varying_input_and_set)
{
	ddk_fitter *f = ddk_fitter_new();
	ddk_fit_opts o = raw_opts();
	ddk_fit_result res;
	double x[150], y[150];

	for (int t = 0; t < 150; t++)
		x[t] = 0.2 + 0.8 * (double)((t * 37) % 101) / 100;
	curve(x, 150, 0.004, 0.02, DDK_RESET, y);
	ck_assert_int_eq(ddk_fit_curve(f, &o, "v", x, y, 150, &res, NULL),
	                 DDK_OK);
	ck_assert_double_eq_tol(res.alpha, 0.004, 1e-7);
	ck_assert_double_eq_tol(res.beta, 0.02, 1e-7);

	o.mode = DDK_SET;
	curve(x, 150, 0.002, 0.01, DDK_SET, y);
	ck_assert_int_eq(ddk_fit_curve(f, &o, "s", x, y, 150, &res, NULL),
	                 DDK_OK);
	ck_assert_double_eq_tol(res.alpha, 0.002, 1e-7);
	ck_assert_double_eq_tol(res.beta, 0.01, 1e-7);
	ddk_fitter_free(&f);
}
END_TEST

/* A fixed window undoes an affine change of units exactly; min-max puts
 * the curve on [0, 1]. */
START_TEST(test_normalisation)
{
	ddk_fitter *f = ddk_fitter_new();
	ddk_fit_opts o = raw_opts();
	ddk_fit_result raw, win;
	double y[80], g[80];
	const double *xs, *ys, *zs;
	double lo = 1, hi = 0;
	size_t T;

	curve(NULL, 80, 0.01, 0.03, DDK_RESET, y);
	for (int t = 0; t < 80; t++)
		g[t] = 6e-6 + 2e-4 * y[t];     /* siemens */
	ck_assert_int_eq(ddk_fit_curve(f, &o, "k", NULL, y, 80, &raw, NULL),
	                 DDK_OK);
	o.norm = DDK_FIT_WINDOW;
	o.window_lo = 6e-6;
	o.window_hi = 6e-6 + 2e-4;
	ck_assert_int_eq(ddk_fit_curve(f, &o, "k", NULL, g, 80, &win, NULL),
	                 DDK_OK);
	ck_assert_double_eq_tol(win.alpha, raw.alpha, 1e-7);
	ck_assert_double_eq_tol(win.beta, raw.beta, 1e-7);

	o.norm = DDK_FIT_MINMAX;
	ck_assert_int_eq(ddk_fit_curve(f, &o, "k", NULL, g, 80, &win, NULL),
	                 DDK_OK);
	ddk_fit_last(f, &xs, &ys, &zs, &T);
	ck_assert_uint_eq(T, 80);
	for (size_t t = 0; t < T; t++) {
		lo = fmin(lo, ys[t]);
		hi = fmax(hi, ys[t]);
		ck_assert_double_eq(xs[t], 1);
	}
	ck_assert_double_eq_tol(lo, 0, 1e-15);
	ck_assert_double_eq_tol(hi, 1, 1e-15);

	/* z from ddk_fit_last is the model at the answer */
	{
		double z[80], r = 0;

		curve(NULL, 80, win.alpha, win.beta, DDK_RESET, z);
		for (int t = 0; t < 80; t++) {
			ck_assert_double_eq(z[t], zs[t]);
			r += (z[t] - ys[t]) * (z[t] - ys[t]);
		}
		ck_assert_double_lt(rel_diff(r, win.ssr, 1e-300), 1e-12);
	}
	ddk_fitter_free(&f);
}
END_TEST

/* Restarts keep the best: never worse than the first start alone, and
 * the same key and seed give the same bits. */
START_TEST(test_restarts_and_determinism)
{
	ddk_fitter *f = ddk_fitter_new();
	ddk_fit_opts o;
	ddk_fit_result one, many, again;
	double y[60];

	ddk_fit_opts_default(&o);
	curve(NULL, 60, 0.02, 0.06, DDK_RESET, y);
	for (int t = 0; t < 60; t++)
		y[t] += 0.02 * sin(7.0 * t);
	for (uint64_t seed = 0; seed < 8; seed++) {
		o.seed = seed;
		o.restarts = 0;
		ck_assert_int_eq(ddk_fit_curve(f, &o, "n", NULL, y, 60, &one,
		                               NULL), DDK_OK);
		o.restarts = 5;
		ck_assert_int_eq(ddk_fit_curve(f, &o, "n", NULL, y, 60, &many,
		                               NULL), DDK_OK);
		ck_assert_double_le(many.ssr, one.ssr);
		ck_assert_uint_gt(many.nfev, one.nfev);
		ck_assert_int_eq(ddk_fit_curve(f, &o, "n", NULL, y, 60,
		                               &again, NULL), DDK_OK);
		ck_assert(memcmp(&many, &again, sizeof many) == 0);
	}
	ddk_fitter_free(&f);
}
END_TEST

/* A beta bound below the truth: beta ends on it. */
START_TEST(test_active_bound)
{
	ddk_fitter *f = ddk_fitter_new();
	ddk_fit_opts o = raw_opts();
	ddk_fit_result res;
	double y[100];

	curve(NULL, 100, 0.01, 0.03, DDK_RESET, y);
	o.beta_hi = 0.02;
	ck_assert_int_eq(ddk_fit_curve(f, &o, "b", NULL, y, 100, &res, NULL),
	                 DDK_OK);
	ck_assert_double_eq_tol(res.beta, 0.02, 1e-7);
	ck_assert_double_le(res.beta, 0.02);
	ck_assert_double_gt(res.ssr, 1e-6);
	ddk_fitter_free(&f);
}
END_TEST

/* R of the pair (a, b) on y, inputs all 1. */
static double ssr_of(double a, double b, const double *y, size_t T)
{
	double z[T_MAX], r = 0;

	curve(NULL, T, a, b, DDK_RESET, z);
	for (size_t t = 0; t < T; t++)
		r += (z[t] - y[t]) * (z[t] - y[t]);
	return r;
}

/* LO = HI holds a parameter there and fits the other alone: the truth
 * comes back with the true value held, and with a wrong one the fit is
 * no worse than any point of a fine grid over the free parameter.  beta
 * is bounded to the stable side (beta^2 < 2 alpha), where the cost is
 * smooth. */
START_TEST(test_fixed_parameter)
{
	ddk_fitter *f = ddk_fitter_new();
	ddk_fit_opts o = raw_opts();
	ddk_fit_result res;
	ddk_err err = { "" };
	double y[100];

	curve(NULL, 100, 0.01, 0.03, DDK_RESET, y);
	for (int held = 0; held < 2; held++) {
		double *lo = held ? &o.beta_lo : &o.alpha_lo;
		double *hi = held ? &o.beta_hi : &o.alpha_hi;

		o = raw_opts();
		o.beta_hi = 0.14;
		*lo = *hi = held ? 0.03 : 0.01;
		ck_assert_int_eq(ddk_fit_curve(f, &o, "a", NULL, y, 100, &res,
		                               NULL), DDK_OK);
		ck_assert(held ? res.beta == 0.03 : res.alpha == 0.01);
		ck_assert_double_eq_tol(res.alpha, 0.01, 1e-6);
		ck_assert_double_eq_tol(res.beta, 0.03, 1e-6);
	}

	o = raw_opts();
	o.alpha_lo = o.alpha_hi = 0.02;
	o.beta_hi = 0.2;
	ck_assert_int_eq(ddk_fit_curve(f, &o, "c", NULL, y, 100, &res, NULL),
	                 DDK_OK);
	ck_assert(res.alpha == 0.02);
	ck_assert_double_eq_tol(res.ssr, ssr_of(0.02, res.beta, y, 100),
	                        1e-12);
	ck_assert_double_gt(res.ssr, 1e-6);
	for (int i = 0; i <= 2000; i++)
		ck_assert_double_le(res.ssr, ssr_of(0.02, i * 0.2 / 2000, y,
		                                    100) * (1 + 1e-9));

	o.beta_lo = o.beta_hi = 0.5;
	ck_assert_int_eq(ddk_fit_curve(f, &o, "d", NULL, y, 100, &res, &err),
	                 DDK_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "both held"));
	ddk_fitter_free(&f);
}
END_TEST

static void expect_bad(ddk_fitter *f, const ddk_fit_opts *o,
                       const double *x, const double *y, size_t T,
                       ddk_status want, const char *text)
{
	ddk_fit_result res;
	ddk_err err = { "" };

	ck_assert_int_eq(ddk_fit_curve(f, o, "curve-7", x, y, T, &res, &err),
	                 want);
	ck_assert_msg(strstr(err.msg, "curve-7") && strstr(err.msg, text),
	              "message '%s' lacks '%s'", err.msg, text);
}

START_TEST(test_bad_curves)
{
	ddk_fitter *f = ddk_fitter_new();
	ddk_fit_opts o;
	double y[5] = { 1, 0.8, 0.6, 0.5, 0.4 }, c[5] = { 3, 3, 3, 3, 3 };
	double x3[3] = { 1, 1, 1 };

	ddk_fit_opts_default(&o);
	expect_bad(f, &o, NULL, y, 2, DDK_ERANGE, "at least 3");
	expect_bad(f, &o, NULL, c, 5, DDK_ERANGE, "constant curve");
	y[2] = NAN;
	expect_bad(f, &o, NULL, y, 5, DDK_ENUMERIC, "y_3");
	y[2] = 0.6;
	c[1] = INFINITY;
	expect_bad(f, &o, c, y, 5, DDK_ENUMERIC, "x(1)");
	o.x_list = x3;
	o.x_len = 3;
	expect_bad(f, &o, NULL, y, 5, DDK_EINVAL, "3 values");
	o.x_list = NULL;
	o.alpha_lo = 0.5;
	o.alpha_hi = 0.2;
	expect_bad(f, &o, NULL, y, 5, DDK_EINVAL, "alpha bounds");
	ddk_fit_opts_default(&o);
	o.beta_hi = INFINITY;
	expect_bad(f, &o, NULL, y, 5, DDK_EINVAL, "beta bounds");
	ddk_fit_opts_default(&o);
	o.norm = DDK_FIT_WINDOW;
	o.window_lo = o.window_hi = 1;
	expect_bad(f, &o, NULL, y, 5, DDK_EINVAL, "window");
	ddk_fitter_free(&f);
}
END_TEST

START_TEST(test_records)
{
	ddk_fitter *f = ddk_fitter_new();
	ddk_fit_opts o = raw_opts();
	ddk_fit_result res;
	ddk_record r;
	ddk_err err = { "" };
	double x[40], y[40];

	for (int t = 0; t < 40; t++)
		x[t] = t % 2 ? 1 : 0.5;
	curve(x, 40, 0.01, 0.04, DDK_RESET, y);
	ddk_record_init(&r);
	ck_assert_int_eq(ddk_record_set(&r, "two", "", 2, 40, NULL), DDK_OK);
	for (int t = 0; t < 40; t++) {
		r.v[t] = (float)x[t];
		r.v[40 + t] = (float)y[t];
	}
	ck_assert_int_eq(ddk_fit_record(f, &o, &r, &res, &err), DDK_OK);
	ck_assert_double_eq_tol(res.alpha, 0.01, 1e-5);
	ck_assert_double_eq_tol(res.beta, 0.04, 1e-5);

	ck_assert_int_eq(ddk_record_set(&r, "three", "", 3, 10, NULL),
	                 DDK_OK);
	ck_assert_int_eq(ddk_fit_record(f, &o, &r, &res, &err), DDK_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "three: 3 rows"));
	ddk_record_free(&r);
	ddk_fitter_free(&f);
}
END_TEST

static Suite *fit_suite(void)
{
	Suite *s = suite_create("fit");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_recovers_constant_input);
	tcase_add_test(tc, test_recovers_varying_input_and_set);
	tcase_add_test(tc, test_normalisation);
	tcase_add_test(tc, test_restarts_and_determinism);
	tcase_add_test(tc, test_active_bound);
	tcase_add_test(tc, test_fixed_parameter);
	tcase_add_test(tc, test_bad_curves);
	tcase_add_test(tc, test_records);
	suite_add_tcase(s, tc);
	return s;
}

DDK_CHECK_MAIN(fit_suite)
