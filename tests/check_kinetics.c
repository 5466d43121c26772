/*
 * check_kinetics.c - the DDK recurrence against a straightforward
 * evaluation, its derivatives against central finite differences, the
 * float map against the double row, and the floor rule everywhere.
 */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check_util.h"
#include "ddk.h"

enum { TMAX = 200 };

/* Deterministic inputs in [0, 1) (an LCG, independent of ddk_rng). */
static void fill_inputs(double *x, size_t n, unsigned seed)
{
	unsigned long s = seed * 2654435761ul + 1;

	for (size_t i = 0; i < n; i++) {
		s = s * 6364136223846793005ul + 1442695040888963407ul;
		x[i] = (double)(s >> 11 & 0xfffffff) / (double)0x10000000;
	}
}

/* The recurrence as written in the paper, no floor: the reference. */
static void naive_row(const double *x, size_t T, double alpha, double beta,
                      ddk_mode mode, double *z)
{
	double zp = 1;

	for (size_t t = 0; t < T; t++) {
		double step = mode == DDK_SET ? beta * x[t] : -beta * x[t];

		z[t] = zp + alpha / zp + step;
		zp = z[t];
	}
}

static double max_rel(const double *a, const double *b, size_t n)
{
	double m = 0;

	for (size_t i = 0; i < n; i++) {
		double d = rel_diff(a[i], b[i], 1e-8);

		if (d > m)
			m = d;
	}
	return m;
}

START_TEST(test_row_matches_naive)
{
	double x[TMAX], z[TMAX], ref[TMAX];
	const double ab[][2] = { { 0.3, 0.2 }, { 0.05, 0.3 }, { 1, 1 },
	                         { 0.5, 0.99 }, { 0, 0 } };

	fill_inputs(x, TMAX, 1);
	for (size_t k = 0; k < sizeof ab / sizeof ab[0]; k++) {
		for (int mode = DDK_RESET; mode <= DDK_SET; mode++) {
			ddk_row_forward_d(x, TMAX, ab[k][0], ab[k][1],
			                  (ddk_mode)mode, z, NULL, NULL);
			naive_row(x, TMAX, ab[k][0], ab[k][1],
			          (ddk_mode)mode, ref);
			ck_assert_double_eq_tol(max_rel(z, ref, TMAX), 0,
			                        1e-15);
		}
	}
}
END_TEST

/* Compare the float map with the double row, rows x T of mixed sizes so
 * that full 32-lane blocks, 8-lane blocks and partial chunks all run. */
static double map_vs_row(size_t rows, size_t T, ddk_mode mode,
                         int per_row)
{
	double *xd = malloc(rows * T * sizeof *xd), zd[TMAX], xr[TMAX];
	float *x = malloc(rows * T * sizeof *x), *z = malloc(rows * T * 4);
	float alpha[80] = { 0 }, beta[80] = { 0 };
	double worst = 0;

	fill_inputs(xd, rows * T, (unsigned)(rows * 1000 + T));
	for (size_t i = 0; i < rows * T; i++)
		x[i] = (float)xd[i];
	for (size_t r = 0; r < rows; r++) {
		/* stable: beta^2 < 2 alpha */
		alpha[r] = per_row ? 0.05f + 0.01f * (float)r : 0.2f;
		beta[r] = per_row ? 0.3f - 0.002f * (float)r : 0.35f;
	}
	ddk_map_forward(x, rows, T, alpha, beta, mode, z);

	for (size_t r = 0; r < rows; r++) {
		for (size_t t = 0; t < T; t++)
			xr[t] = x[r * T + t];
		naive_row(xr, T, alpha[r], beta[r], mode, zd);
		for (size_t t = 0; t < T; t++) {
			double d = rel_diff(z[r * T + t], zd[t], 1e-8);

			worst = d > worst ? d : worst;
		}
	}
	free(xd);
	free(x);
	free(z);
	return worst;
}

START_TEST(test_map_matches_double)
{
	const size_t rows[] = { 1, 7, 8, 9, 31, 32, 33, 40, 71 };
	const size_t T[] = { 1, 31, 32, 33, 100, TMAX };
	double worst = 0;

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		for (size_t j = 0; j < sizeof T / sizeof T[0]; j++)
			for (int m = 0; m < 4; m++) {
				double d = map_vs_row(rows[i], T[j],
				                      (ddk_mode)(m & 1), m >> 1);

				worst = d > worst ? d : worst;
			}
	printf("kinetics: float map vs double, max rel diff %.3g\n", worst);
	ck_assert_double_lt(worst, 1e-5);
}
END_TEST

/* The SIMD path and the portable loops give the same bits, for every
 * block shape, both modes, stable and unstable pairs. */
START_TEST(test_simd_same_bits)
{
	enum { R = 77, N = 83 };
	static float x[R * N], z1[R * N], z2[R * N];
	float alpha[R], beta[R];
	double xd[R * N];
	const size_t rows[] = { 1, 7, 8, 9, 12, 16, 20, 24, 28, 31, 32, 40,
	                        64, 77 };
	const size_t T[] = { 1, 3, 4, 5, 7, 8, 9, 12, 15, 16, 28, 33, 83 };

	fill_inputs(xd, R * N, 13);
	for (size_t i = 0; i < R * N; i++)
		x[i] = (float)xd[i];
	for (size_t r = 0; r < R; r++) {
		alpha[r] = 0.002f + 0.01f * (float)(r % 11);
		beta[r] = 0.05f + 0.1f * (float)(r % 9);
	}
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		for (size_t j = 0; j < sizeof T / sizeof T[0]; j++)
			for (int m = 0; m < 4; m++) {
				size_t n = rows[i] * T[j];
				ddk_mode mode = (ddk_mode)(m & 1);

				/* m >> 1: the best path, then plain AVX2 */
				ddk_kinetics_use_simd(1 + (m >> 1));
				ddk_map_forward(x, rows[i], T[j], alpha, beta,
				                mode, z1);
				ddk_kinetics_use_simd(0);
				ddk_map_forward(x, rows[i], T[j], alpha, beta,
				                mode, z2);
				ck_assert_mem_eq(z1, z2, n * sizeof *z1);
			}
	ddk_kinetics_use_simd(1);
}
END_TEST

/* The adjoint chain on every path against its defining loop, bit for
 * bit: row counts around the blocks of 8 and 32, step counts around the
 * chunks of 4 and 8, carries that grow, shrink and change sign. */
START_TEST(test_chain_same_bits)
{
	enum { R = 77, N = 83 };
	static float dz[R * N], k[R * N], s[R * N], want[R * N];
	const size_t rows[] = { 1, 7, 8, 9, 16, 28, 31, 32, 33, 77 };
	const size_t T[] = { 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 28, 33, 83 };
	double v[2 * R * N];

	fill_inputs(v, 2 * R * N, 17);
	for (size_t i = 0; i < R * N; i++) {
		dz[i] = (float)(2 * v[i] - 1);
		k[i] = (float)(2.5 * v[R * N + i] - 1.2);
		if (i % 13 == 0)
			k[i] = 0;      /* a clamped step */
	}
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		for (size_t j = 0; j < sizeof T / sizeof T[0]; j++) {
			size_t n = rows[i] * T[j];

			for (size_t r = 0; r < rows[i]; r++) {
				const float *d = dz + r * T[j], *q = k + r * T[j];
				float *o = want + r * T[j], c = 0;

				for (size_t t = T[j]; t-- > 0;) {
					o[t] = d[t] + c;
					c = o[t] * q[t];
				}
			}
			for (int m = 0; m < 3; m++) {
				memset(s, 0xff, n * sizeof *s);
				ddk_kinetics_use_simd(m);
				ddk_map_chain(dz, k, rows[i], T[j], s);
				ck_assert_mem_eq(s, want, n * sizeof *s);
			}
		}
	ddk_kinetics_use_simd(1);
}
END_TEST

/* Unstable pairs and absurd inputs: every value finite, within bounds. */
START_TEST(test_finite_everywhere)
{
	enum { R = 11, N = 150 };
	static float x[R * N], z[R * N];
	float alpha[R], beta[R];
	double xd[N], zd[N], sa[N], sb[N];
	size_t floors = 0;

	for (size_t i = 0; i < R * N; i++)
		x[i] = (float)(i % 7) / 6;
	for (size_t i = 0; i < N; i++)
		x[5 * N + i] = i % 2 ? FLT_MAX : -FLT_MAX;
	for (size_t r = 0; r < R; r++) {
		alpha[r] = r == 3 ? 0 : 0.001f * (float)r;
		beta[r] = 1;
	}
	for (int mode = DDK_RESET; mode <= DDK_SET; mode++) {
		ddk_map_forward(x, R, N, alpha, beta, (ddk_mode)mode, z);
		for (size_t i = 0; i < R * N; i++) {
			ck_assert(isfinite(z[i]));
			ck_assert(z[i] >= (float)DDK_Z_FLOOR);
			ck_assert(z[i] <= (float)DDK_Z_CEIL);
			floors += z[i] == (float)DDK_Z_FLOOR;
		}
	}
	ck_assert_uint_gt(floors, 100);

	for (size_t i = 0; i < N; i++)
		xd[i] = i % 3 ? 1e300 : -1e300;
	ddk_row_forward_d(xd, N, 1, 1, DDK_SET, zd, sa, sb);
	for (size_t i = 0; i < N; i++)
		ck_assert(isfinite(zd[i]) && isfinite(sa[i]) &&
		          isfinite(sb[i]));
}
END_TEST

/* A case: alpha, beta, mode, input seed. */
struct grad_case {
	const char *name;
	double alpha, beta;
	ddk_mode mode;
	unsigned seed;
	int want_floor;     /* the trajectory must touch the floor */
};

static const struct grad_case cases[] = {
	{ "stable", 0.3, 0.2, DDK_RESET, 3, 0 },
	{ "stable set", 0.1, 0.4, DDK_SET, 4, 0 },
	{ "near instability", 0.02, 0.199, DDK_RESET, 5, 0 },
	{ "unstable", 0.02, 0.3, DDK_RESET, 6, 0 },
	{ "floor", 0.002, 0.9, DDK_RESET, 7, 1 },
};

enum { TG = 60 };

/*
 * The finite differences run on a separate long double evaluation with
 * the same floor rule.  Past the stability edge the map is chaotic:
 * sensitivities reach 1e3 and more, which magnifies both the truncation
 * error of a central difference (so h must be small, and the difference
 * is the fourth-order one) and the rounding of the trajectory (so double
 * would not be precise enough at that h).
 */
static const long double fd_h = 1e-8L;

/* f'(0) from f(-2h), f(-h), f(h), f(2h), error O(h^4). */
static double fd4(long double m2, long double m1, long double p1,
                  long double p2, long double h)
{
	return (double)((8 * (p1 - m1) - (p2 - m2)) / (12 * h));
}

static void eval(const double *x, const long double *dx, long double a,
                 long double b, ddk_mode m, long double *z)
{
	long double zp = 1, s = m == DDK_SET ? 1 : -1;

	for (size_t t = 0; t < TG; t++) {
		long double xt = x[t] + (dx ? dx[t] : 0);
		long double u = zp + a / zp + s * b * xt;

		if (!(u > DDK_Z_FLOOR))
			u = DDK_Z_FLOOR;
		z[t] = zp = u;
	}
}

START_TEST(test_forward_sensitivities)
{
	const struct grad_case *c = &cases[_i];
	double x[TG], z[TG], sa[TG], sb[TG], fa[TG], fb[TG];
	long double z1[4][TG], h = fd_h, a = c->alpha, b = c->beta;
	size_t floors = 0;

	fill_inputs(x, TG, c->seed);
	ddk_row_forward_d(x, TG, c->alpha, c->beta, c->mode, z, sa, sb);

	for (int k = 0; k < 4; k++)
		eval(x, NULL, a + (k - 2 + (k > 1)) * h, b, c->mode, z1[k]);
	for (size_t t = 0; t < TG; t++)
		fa[t] = fd4(z1[0][t], z1[1][t], z1[2][t], z1[3][t], h);
	for (int k = 0; k < 4; k++)
		eval(x, NULL, a, b + (k - 2 + (k > 1)) * h, c->mode, z1[k]);
	for (size_t t = 0; t < TG; t++)
		fb[t] = fd4(z1[0][t], z1[1][t], z1[2][t], z1[3][t], h);

	for (size_t t = 0; t < TG; t++) {
		if (z[t] == DDK_Z_FLOOR) {
			floors++;
			ck_assert(sa[t] == 0 && sb[t] == 0);
		}
	}
	ck_assert(c->want_floor ? floors > 0 : floors == 0);
	printf("kinetics: forward sensitivities, %s: max rel err "
	       "dz/dalpha %.3g, dz/dbeta %.3g\n", c->name,
	       max_rel(sa, fa, TG), max_rel(sb, fb, TG));
	ck_assert_double_lt(max_rel(sa, fa, TG), 1e-6);
	ck_assert_double_lt(max_rel(sb, fb, TG), 1e-6);
}
END_TEST

/* L = sum_t w(t) z(t) for fixed weights w, in long double. */
static long double loss(const double *x, const long double *dx,
                        long double a, long double b, ddk_mode m,
                        const double *w)
{
	long double z[TG], L = 0;

	eval(x, dx, a, b, m, z);
	for (size_t t = 0; t < TG; t++)
		L += w[t] * z[t];
	return L;
}

START_TEST(test_reverse_pass)
{
	const struct grad_case *c = &cases[_i];
	double x[TG], z[TG], w[TG], dx[TG], fdx[TG], sa[TG], sb[TG];
	double da = 0, db = 0, fda, fdb, ja = 0, jb = 0, err_x;
	long double h = fd_h, a = c->alpha, b = c->beta, xh[TG] = { 0 };
	long double la[4], lb[4];
	ddk_mode m = c->mode;

	fill_inputs(x, TG, c->seed);
	fill_inputs(w, TG, c->seed + 100);
	ddk_row_forward_d(x, TG, c->alpha, c->beta, m, z, sa, sb);
	ddk_row_backward_d(x, z, w, TG, c->alpha, c->beta, m, &da, &db, dx);

	/* the adjoint must agree with the forward sensitivities, too */
	for (size_t t = 0; t < TG; t++) {
		ja += w[t] * sa[t];
		jb += w[t] * sb[t];
	}
	ck_assert_double_lt(rel_diff(da, ja, 1e-8), 1e-12);
	ck_assert_double_lt(rel_diff(db, jb, 1e-8), 1e-12);

	/* steps -2h, -h, h, 2h */
	for (int k = 0; k < 4; k++) {
		long double d = (k - 2 + (k > 1)) * h;

		la[k] = loss(x, NULL, a + d, b, m, w);
		lb[k] = loss(x, NULL, a, b + d, m, w);
	}
	fda = fd4(la[0], la[1], la[2], la[3], h);
	fdb = fd4(lb[0], lb[1], lb[2], lb[3], h);
	for (size_t t = 0; t < TG; t++) {
		for (int k = 0; k < 4; k++) {
			xh[t] = (k - 2 + (k > 1)) * h;
			la[k] = loss(x, xh, a, b, m, w);
		}
		xh[t] = 0;
		fdx[t] = fd4(la[0], la[1], la[2], la[3], h);
	}
	err_x = max_rel(dx, fdx, TG);
	printf("kinetics: reverse pass, %s: max rel err dL/dalpha %.3g, "
	       "dL/dbeta %.3g, dL/dx %.3g\n", c->name,
	       rel_diff(da, fda, 1e-8), rel_diff(db, fdb, 1e-8), err_x);
	ck_assert_double_lt(rel_diff(da, fda, 1e-8), 1e-6);
	ck_assert_double_lt(rel_diff(db, fdb, 1e-8), 1e-6);
	ck_assert_double_lt(err_x, 1e-6);
}
END_TEST

/* The float reverse pass against the double one, all block shapes. */
START_TEST(test_map_backward)
{
	enum { R = 45, N = 77 };
	static float x[R * N], z[R * N], dz[R * N], dx[R * N];
	float alpha[R], beta[R];
	double xd[R * N], da[R], db[R], worst = 0, worst_x = 0;

	fill_inputs(xd, R * N, 9);
	for (size_t i = 0; i < R * N; i++) {
		x[i] = (float)xd[i];
		dz[i] = (float)(xd[(i * 7) % (R * N)] - 0.5);
	}
	for (size_t r = 0; r < R; r++) {
		alpha[r] = 0.1f + 0.01f * (float)r;
		beta[r] = r == 44 ? 1 : 0.3f;   /* row 44 hits the floor */
		da[r] = db[r] = 1;   /* the pass adds, it does not store */
	}
	ddk_map_forward(x, R, N, alpha, beta, DDK_RESET, z);
	ddk_map_backward(x, z, dz, R, N, alpha, beta, DDK_RESET, da, db, dx);

	for (size_t r = 0; r < R; r++) {
		double xr[N], zr[N], gr[N], dxr[N], ra = 1, rb = 1;

		for (size_t t = 0; t < N; t++) {
			xr[t] = x[r * N + t];
			zr[t] = z[r * N + t];
			gr[t] = dz[r * N + t];
		}
		ddk_row_backward_d(xr, zr, gr, N, alpha[r], beta[r],
		                   DDK_RESET, &ra, &rb, dxr);
		worst = fmax(worst, rel_diff(da[r], ra, 1e-3));
		worst = fmax(worst, rel_diff(db[r], rb, 1e-3));
		for (size_t t = 0; t < N; t++) {
			worst_x = fmax(worst_x,
			               rel_diff(dx[r * N + t], dxr[t], 1e-3));
			if (z[r * N + t] == (float)DDK_Z_FLOOR)
				ck_assert(dx[r * N + t] == 0);
		}
	}
	printf("kinetics: float reverse pass vs double, max rel diff "
	       "dalpha/dbeta %.3g, dx %.3g\n", worst, worst_x);
	ck_assert_double_lt(worst, 1e-4);
	ck_assert_double_lt(worst_x, 1e-4);
}
END_TEST

START_TEST(test_channels)
{
	enum { R = 10, N = 20, K = 3 };
	static float x[R * N], z[K * R * N], one[R * N], work[2 * R];
	const float alpha[K] = { 0.1f, 0.2f, 0.4f };
	const float beta[K] = { 0.3f, 0.05f, 0.6f };
	float a[R], b[R];
	double xd[R * N];

	fill_inputs(xd, R * N, 11);
	for (size_t i = 0; i < R * N; i++)
		x[i] = (float)xd[i];
	ddk_map_forward_k(x, R, N, K, alpha, beta, DDK_SET, z, work);
	for (size_t k = 0; k < K; k++) {
		ddk_fill(a, R, alpha[k]);
		ddk_fill(b, R, beta[k]);
		ddk_map_forward(x, R, N, a, b, DDK_SET, one);
		ck_assert_mem_eq(one, z + k * R * N, sizeof one);
	}
}
END_TEST

/* ddk_first_nonfinite finds the first NaN or infinity at every place of
 * arrays of many lengths (inside and after the SIMD runs), and returns n
 * for finite arrays, the largest floats and subnormals included. */
START_TEST(test_first_nonfinite)
{
	enum { N = 2100 };
	static float v[N];
	const size_t len[] = { 0, 1, 15, 16, 17, 784, 1023, 1024, 1025,
	                       2047, 2100 };
	const float bad[] = { NAN, INFINITY, -INFINITY };

	for (size_t i = 0; i < N; i++)
		v[i] = i % 3 ? FLT_MAX * (i % 2 ? 1 : -1) : FLT_MIN / 4;
	for (size_t l = 0; l < sizeof len / sizeof len[0]; l++) {
		size_t n = len[l];

		ck_assert_uint_eq(ddk_first_nonfinite(v, n), n);
		for (size_t at = 0; at < n; at += at < 40 ? 1 : 37) {
			float keep = v[at];

			v[at] = bad[at % 3];
			ck_assert_uint_eq(ddk_first_nonfinite(v, n), at);
			if (at + 5 < n) {
				/* a later one does not hide the first */
				float keep5 = v[at + 5];

				v[at + 5] = NAN;
				ck_assert_uint_eq(ddk_first_nonfinite(v, n),
				                  at);
				v[at + 5] = keep5;
			}
			v[at] = keep;
		}
	}
}
END_TEST

static Suite *kinetics_suite(void)
{
	Suite *s = suite_create("kinetics");
	TCase *tc = tcase_create("core");
	int n = sizeof cases / sizeof cases[0];

	tcase_add_test(tc, test_row_matches_naive);
	tcase_add_test(tc, test_map_matches_double);
	tcase_add_test(tc, test_simd_same_bits);
	tcase_add_test(tc, test_chain_same_bits);
	tcase_add_test(tc, test_finite_everywhere);
	tcase_add_loop_test(tc, test_forward_sensitivities, 0, n);
	tcase_add_loop_test(tc, test_reverse_pass, 0, n);
	tcase_add_test(tc, test_map_backward);
	tcase_add_test(tc, test_channels);
	tcase_add_test(tc, test_first_nonfinite);
	suite_add_tcase(s, tc);
	return s;
}

DDK_CHECK_MAIN(kinetics_suite)
