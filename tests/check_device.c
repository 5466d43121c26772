/*
 * check_device.c - the drift-diffusion memristor: integration error
 * against a much finer fixed step, a stiff device that must settle where
 * drift and diffusion balance, the shape of RESET and SET curves, the
 * pinched hysteresis loop under a sinusoidal drive, and variation.
 */
#include <stdio.h>
#include <string.h>
#include "check_util.h"
#include "ddk.h"

enum { NP = 100 };

static const double pi = 3.14159265358979323846;

/* The conductance after each of NP identical pulses. */
static void train(const ddk_device *d, const ddk_pulses *p, float x,
                  float *g)
{
	float in[NP];
	ddk_rng rng;
	ddk_err err;

	for (size_t i = 0; i < NP; i++)
		in[i] = x;
	ddk_rng_seed(&rng, 1);
	ck_assert_int_eq(ddk_device_map(d, p, in, 1, NP, &rng, g, &err),
	                 DDK_OK);
}

START_TEST(test_integration_error)
{
	ddk_device d;
	const double v[] = { -3, -2, -0.5, 0.7, 2.5 };
	const double u0[] = { 0.999, 0.5, 0.05, 0.3, 0.2 };
	double worst = 0, coarse = 0, exact = 0;
	unsigned steps = 0, most = 0;

	ddk_device_default(&d);
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		for (int stiff = 0; stiff < 2; stiff++) {
			double ds = stiff ? 1e-3 : 1, w = stiff ? 1e-6 : 1e-7;
			double a = ddk_device_pulse(&d, u0[i], v[i], w, 1, ds,
			                            &steps);
			double ref = ddk_device_pulse_fixed(&d, u0[i], v[i], w,
			                                    1, ds, 200000);
			double one = ddk_device_pulse_fixed(&d, u0[i], v[i], w,
			                                    1, ds, 1);

			worst = fmax(worst, fabs(a - ref));
			coarse = fmax(coarse, fabs(one - ref));
			most = steps > most ? steps : most;
		}
	}
	printf("device: adaptive RK4 vs 200000 fixed steps: max |du| %.3g "
	       "(one RK4 step: %.3g), at most %u steps a pulse\n", worst,
	       coarse, most);
	ck_assert_double_lt(worst, 1e-8);

	/* the exact solution against the same references, and with no
	 * diffusion or no drift, where it is u0 + c t and sqrt(u0^2 + 2 b t) */
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		for (int stiff = 0; stiff < 2; stiff++) {
			double ds = stiff ? 1e-3 : 1, w = stiff ? 1e-6 : 1e-7;
			double e = ddk_device_pulse_exact(&d, u0[i], v[i], w,
			                                  1, ds);
			double ref = ddk_device_pulse_fixed(&d, u0[i], v[i], w,
			                                    1, ds, 200000);

			exact = fmax(exact, fabs(e - ref));
		}
	}
	printf("device: exact vs 200000 fixed steps: max |du| %.3g\n", exact);
	ck_assert_double_lt(exact, 1e-9);
	{
		ddk_device p = d;
		double L2 = d.thickness_m * d.thickness_m;
		double c = d.mobility_m2_vs * -2 / L2;
		double b = d.diffusion_m2_s / L2;

		p.diffusion_m2_s = 0;
		ck_assert_double_eq_tol(ddk_device_pulse_exact(&p, 0.9, -2,
		                        1e-7, 1, 1), 0.9 + c * 1e-7, 1e-12);
		ck_assert_double_eq_tol(ddk_device_pulse_exact(&d, 0.2, 0,
		                        1e-7, 1, 1),
		                        sqrt(0.04 + 2 * b * 1e-7), 1e-12);
	}
	ck_assert_double_gt(coarse, 100 * worst);
}
END_TEST

/* A device whose first whole step overshoots a bound: mobility 1e-9 at
 * -2.5 V moves u by 2.5 in one 100 ns step.  The step must be refused and
 * cut, not taken because both of its estimates meet the bound; the pulses
 * settle where drift and diffusion balance, u = D / (mu |v|) = 0.04. */
START_TEST(test_stiff_reaches_balance)
{
	ddk_device d;
	double u = 0.99, fixed = 0.99;
	unsigned steps = 0;

	ddk_device_default(&d);
	d.mobility_m2_vs = 1e-9;
	d.diffusion_m2_s = 1e-10;
	for (int i = 0; i < 5; i++) {
		unsigned n;

		u = ddk_device_pulse(&d, u, -2.5, 100e-9, 1, 1, &n);
		fixed = ddk_device_pulse_fixed(&d, fixed, -2.5, 100e-9, 1, 1,
		                               100000);
		steps += n;
	}
	printf("device: stiff RESET: u %.9f in %u steps, fixed steps %.9f\n",
	       u, steps, fixed);
	ck_assert_double_eq_tol(u, 0.04, 1e-7);
	ck_assert_double_eq_tol(fixed, 0.04, 1e-7);
	ck_assert_uint_gt(steps, 20);
}
END_TEST

/* Far too stiff for RK4 at any step (a 1 pm device: rates of 1e24 per
 * second): the integrator hands the pulse to the exact solution, which
 * lands on the balance D / (mu |v|) = 0.4 in RESET, on the upper bound in
 * SET, and on the lower bound without diffusion, in a few steps. */
START_TEST(test_too_stiff_is_exact)
{
	ddk_device d;
	unsigned n;
	double u;

	ddk_device_default(&d);
	d.thickness_m = 1e-12;
	d.mobility_m2_vs = 1;
	d.diffusion_m2_s = 1;
	u = ddk_device_pulse(&d, 0.99, -2.5, 100e-9, 1, 1, &n);
	ck_assert_double_eq_tol(u, 0.4, 1e-12);
	ck_assert_uint_lt(n, 20);
	u = ddk_device_pulse(&d, 0.01, -2.5, 100e-9, 1, 1, &n);
	ck_assert_double_eq_tol(u, 0.4, 1e-12);
	ck_assert_double_eq(ddk_device_pulse(&d, 0.3, 2.5, 100e-9, 1, 1, &n),
	                    1);
	d.diffusion_m2_s = 0;
	ck_assert_double_eq(ddk_device_pulse(&d, 0.3, -2.5, 100e-9, 1, 1, &n),
	                    DDK_W_MIN);
	d.diffusion_m2_s = 1e-12;     /* balance 4e-13, below the bound */
	ck_assert_double_eq(ddk_device_pulse(&d, 0.3, -2.5, 100e-9, 1, 1, &n),
	                    DDK_W_MIN);
}
END_TEST

START_TEST(test_reset_monotone)
{
	ddk_device d;
	ddk_pulses p;
	float g[NP];
	double g_min, g_max;

	ddk_device_default(&d);
	ddk_pulses_default(&p);
	g_min = 1 / d.r_off_ohm;
	g_max = 1 / d.r_on_ohm;
	train(&d, &p, 0.5f, g);    /* 2.5 V, 100 ns */
	ck_assert_double_lt(g[0], 1 / d.r_init_ohm);
	for (size_t i = 1; i < NP; i++)
		ck_assert_float_lt(g[i], g[i - 1]);

	/* the train sweeps much of the window */
	printf("device: 100 RESET pulses of 2.5 V: %.1f uS -> %.1f uS\n",
	       1e6 / d.r_init_ohm, 1e6 * g[NP - 1]);
	ck_assert_double_lt(g[NP - 1] - g_min, 0.25 * (g_max - g_min));
	ck_assert_double_gt(g[NP - 1], g_min);
}
END_TEST

START_TEST(test_set_monotone)
{
	ddk_device d;
	ddk_pulses p;
	float g[NP];

	ddk_device_default(&d);
	ddk_pulses_default(&p);
	p.mode = DDK_SET;
	d.r_init_ohm = 100e3;
	train(&d, &p, 0.5f, g);
	ck_assert_double_gt(g[0], 1 / d.r_init_ohm);
	for (size_t i = 1; i < NP; i++)
		ck_assert_float_ge(g[i], g[i - 1]);
	ck_assert_double_gt(g[NP - 1], 0.9 / d.r_on_ohm);
}
END_TEST

/* Larger amplitude (x maps to 2..3 V) and wider pulses reset faster. */
START_TEST(test_faster_reset)
{
	ddk_device d;
	ddk_pulses p;
	float lo[NP], hi[NP];

	ddk_device_default(&d);
	ddk_pulses_default(&p);
	train(&d, &p, 0, lo);
	train(&d, &p, 1, hi);
	for (size_t i = 0; i < NP; i++)
		ck_assert_float_lt(hi[i], lo[i]);

	p.map = DDK_PULSE_WIDTH;
	train(&d, &p, 0, lo);
	train(&d, &p, 1, hi);
	for (size_t i = 0; i < NP; i++)
		ck_assert_float_lt(hi[i], lo[i]);
}
END_TEST

/*
 * v(t) = V sin(2 pi t / P) as a fine staircase.  The current i = v / R(w)
 * is 0 whenever v is (the pinch), the loop encloses area, and the rising
 * and falling branches carry different currents at the same voltage.
 */
START_TEST(test_pinched_hysteresis)
{
	enum { N = 4000 };
	ddk_device d;
	double period_s = 20e-6, v_amp = 2.5, u, area = 0, i_max = 0;
	double v[N + 1], i[N + 1];

	ddk_device_default(&d);
	u = 0.5;
	for (int n = 0; n <= N; n++) {
		double t = period_s * n / N;

		v[n] = v_amp * sin(2 * pi * t / period_s);
		i[n] = v[n] * ddk_device_g(&d, u);
		u = ddk_device_pulse(&d, u, v_amp * sin(2 * pi *
		                     (t + period_s / (2 * N)) / period_s),
		                     period_s / N, 1, 1, NULL);
		i_max = fmax(i_max, fabs(i[n]));
	}
	for (int n = 0; n < N; n++)
		area += (i[n] + i[n + 1]) / 2 * (v[n + 1] - v[n]);

	/* zero crossings of v: n = 0, N/2, N */
	ck_assert_double_lt(fabs(i[N / 2]), 1e-9 * i_max);
	ck_assert_double_lt(fabs(i[N]), 1e-9 * i_max);
	/* same voltage, v_amp / sqrt(2), rising (n = N/8) and falling
	 * (n = 3N/8): after the SET half the device conducts more */
	ck_assert_double_lt(fabs(v[N / 8] - v[3 * N / 8]), 1e-9);
	ck_assert_double_gt(i[3 * N / 8], 1.05 * i[N / 8]);
	printf("device: sine drive, loop area %.3g V A (%.2f%% of "
	       "i_max v_amp)\n", area, 100 * fabs(area) / (i_max * v_amp));
	ck_assert_double_gt(fabs(area), 1e-3 * i_max * v_amp);
}
END_TEST

START_TEST(test_variation)
{
	enum { R = 4, N = 30 };
	ddk_device d;
	ddk_pulses p;
	float x[R * N], g1[R * N], g2[R * N];
	ddk_rng rng;
	ddk_err err;

	ddk_device_default(&d);
	ddk_pulses_default(&p);
	for (size_t i = 0; i < R * N; i++)
		x[i] = 0.5f;

	/* no variation: every row is the same device */
	ddk_rng_seed(&rng, 5);
	ck_assert_int_eq(ddk_device_map(&d, &p, x, R, N, &rng, g1, &err),
	                 DDK_OK);
	ck_assert_mem_eq(g1, g1 + N, (R - 1) * N * sizeof *g1);

	/* device-to-device: rows differ, and the same seed repeats */
	p.d2d = 0.2;
	ddk_rng_seed(&rng, 5);
	ddk_device_map(&d, &p, x, R, N, &rng, g1, &err);
	ddk_rng_seed(&rng, 5);
	ddk_device_map(&d, &p, x, R, N, &rng, g2, &err);
	ck_assert_mem_eq(g1, g2, sizeof g1);
	ck_assert(memcmp(g1, g1 + N, N * sizeof *g1) != 0);

	/* cycle-to-cycle alone: still monotone for modest sigma */
	p.d2d = 0;
	p.c2c = 0.1;
	ddk_rng_seed(&rng, 6);
	ddk_device_map(&d, &p, x, R, N, &rng, g1, &err);
	ck_assert(memcmp(g1, g1 + N, N * sizeof *g1) != 0);
	for (size_t i = 1; i < N; i++)
		ck_assert_float_lt(g1[i], g1[i - 1]);
}
END_TEST

START_TEST(test_bad_values)
{
	ddk_device d;
	ddk_pulses p;
	float x[6] = { 0, 0.5f, 1, 0.2f, 1.5f, 0 }, g[6];
	ddk_rng rng;
	ddk_err err;

	ddk_device_default(&d);
	ddk_pulses_default(&p);
	ck_assert_int_eq(ddk_device_check(&d, &p, &err), DDK_OK);
	ddk_rng_seed(&rng, 1);
	ck_assert_int_eq(ddk_device_map(&d, &p, x, 2, 3, &rng, g, &err),
	                 DDK_ERANGE);
	ck_assert_ptr_nonnull(strstr(err.msg, "row 2, column 2"));
	x[4] = NAN;
	ck_assert_int_eq(ddk_device_map(&d, &p, x, 2, 3, &rng, g, &err),
	                 DDK_ERANGE);

	d.r_init_ohm = 1;
	ck_assert_int_eq(ddk_device_check(&d, &p, &err), DDK_ERANGE);
	ck_assert_ptr_nonnull(strstr(err.msg, "r_init_ohm"));
	ddk_device_default(&d);
	p.v_hi_volts = 1;
	ck_assert_int_eq(ddk_device_check(&d, &p, &err), DDK_ERANGE);
	ck_assert_ptr_nonnull(strstr(err.msg, "v_hi_volts"));
}
END_TEST

static Suite *device_suite(void)
{
	Suite *s = suite_create("device");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_integration_error);
	tcase_add_test(tc, test_stiff_reaches_balance);
	tcase_add_test(tc, test_too_stiff_is_exact);
	tcase_add_test(tc, test_reset_monotone);
	tcase_add_test(tc, test_set_monotone);
	tcase_add_test(tc, test_faster_reset);
	tcase_add_test(tc, test_pinched_hysteresis);
	tcase_add_test(tc, test_variation);
	tcase_add_test(tc, test_bad_values);
	suite_add_tcase(s, tc);
	return s;
}

DDK_CHECK_MAIN(device_suite)
