/*
 * check_nn.c - every backward of ddk_nn.h against central finite
 * differences, the optimisers against their formulas, and training,
 * data sets and checkpoints of ddk_train.h.
 *
 * Each gradient check prints the largest relative difference it saw.
 * Forward passes run in float, so the steps are 1e-2 and the tolerance
 * 2e-2 of max(|analytic|, |numeric|, floor).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "check_util.h"
#include "ddk_model.h"
#include "ddk_nn.h"
#include "ddk_train.h"

#define H 1e-2f
#define TOL 2e-2

static ddk_rng g_rng;

static void fill(float *a, size_t n, double lo, double hi)
{
	for (size_t i = 0; i < n; i++)
		a[i] = (float)(lo + (hi - lo) * ddk_rng_uniform(&g_rng));
}

/* sum of y[i] r[i] in double: the scalar every layer check uses */
static double dotr(const float *y, const float *r, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += (double)y[i] * r[i];
	return s;
}

static void report(const char *what, double worst)
{
	printf("%-28s max rel diff %.2e\n", what, worst);
	ck_assert_msg(worst < TOL, "%s: %g", what, worst);
}

/* A loss of three arrays (a layer's input and its two parameters) and a
 * fixed random projection r of the layer's output. */
typedef double (*loss3)(const float *a0, const float *a1, const float *a2,
                        const float *r);

/* Largest relative difference between grad[a][i] and the central
 * difference of loss in arr[a][i], over every element of the three. */
static double worst3(loss3 loss, float *arr[3], float *grad[3],
                     const size_t len[3], const float *r)
{
	double worst = 0;

	for (int a = 0; a < 3; a++)
		for (size_t i = 0; i < len[a]; i++) {
			float keep = arr[a][i];
			double up, dn, d;

			arr[a][i] = keep + H;
			up = loss(arr[0], arr[1], arr[2], r);
			arr[a][i] = keep - H;
			dn = loss(arr[0], arr[1], arr[2], r);
			arr[a][i] = keep;
			d = rel_diff(grad[a][i], (up - dn) / (2 * H), 1e-2);
			worst = d > worst ? d : worst;
		}
	return worst;
}

/* --- dense --- */

enum { B = 5, NI = 7, NO = 6 };

static double dense_loss(const float *x, const float *w, const float *b,
                         const float *r)
{
	float y[B * NO];

	ddk_dense_forward(x, B, NI, NO, w, b, y);
	return dotr(y, r, B * NO);
}

START_TEST(test_dense)
{
	float x[B * NI], w[NO * NI], b[NO], r[B * NO];
	float dw[NI * NO] = { 0 }, db[NO] = { 0 }, dx[B * NI];

	ddk_rng_seed(&g_rng, 1);
	fill(x, B * NI, -1, 1);
	fill(w, NI * NO, -1, 1);
	fill(b, NO, -1, 1);
	fill(r, B * NO, -1, 1);
	ddk_dense_backward(x, r, B, NI, NO, w, dw, db, dx);

	/* each array perturbed element by element */
	float *arr[3] = { x, w, b }, *grad[3] = { dx, dw, db };
	size_t len[3] = { B * NI, NI * NO, NO };

	report("dense", worst3(dense_loss, arr, grad, len, r));
}
END_TEST

/* the blocked kernel (4 examples at a time) against a plain sum */
START_TEST(test_dense_values)
{
	enum { BB = 9, I = 21, O = 11 };
	float x[BB * I], w[O * I], b[O], y[BB * O];

	ddk_rng_seed(&g_rng, 2);
	fill(x, BB * I, -1, 1);
	fill(w, I * O, -1, 1);
	fill(b, O, -1, 1);
	x[3] = x[I + 3] = x[2 * I + 3] = x[3 * I + 3] = 0;
	ddk_dense_forward(x, BB, I, O, w, b, y);
	for (size_t s = 0; s < BB; s++)
		for (size_t o = 0; o < O; o++) {
			double want = b[o];

			for (size_t i = 0; i < I; i++)
				want += (double)x[s * I + i] * w[o * I + i];
			ck_assert(fabs(y[s * O + o] - want) < 1e-5);
		}
}
END_TEST

/*
 * The blocked kernels against plain loops in the order each promises,
 * bit for bit: sizes that reach every block and every tail (examples
 * by four, outputs by four and two, columns by sixteen and eight).
 */
/* The sums of one dense layer, each term one fmaf in the stated order,
 * checked bit for bit against the kernels of one path. */
static void check_dense_order(const float *x, const float *w, const float *b,
                              const float *dy, const float *dw0, size_t BB,
                              size_t I, size_t O)
{
	float *y = malloc(BB * O * sizeof *y), *dx = malloc(BB * I * sizeof *dx);
	float *dw = malloc(O * I * sizeof *dw), *db = calloc(O, sizeof *db);

	ck_assert(y && dx && dw && db);
	memcpy(dw, dw0, O * I * sizeof *dw);
	ddk_dense_forward(x, BB, I, O, w, b, y);
	ddk_dense_backward(x, dy, BB, I, O, w, dw, db, dx);
	for (size_t o = 0; o < O; o++)
		for (size_t i = 0; i < I; i++) {
			float g = dw0[o * I + i];

			for (size_t s = 0; s < BB; s++)     /* examples in order */
				g = fmaf(dy[s * O + o], x[s * I + i], g);
			ck_assert(g == dw[o * I + i]);
		}
	for (size_t s = 0; s < BB; s++)
		for (size_t i = 0; i < I; i++) {
			float t = 0;

			for (size_t o = 0; o < O; o++)      /* rows of w in order */
				t = fmaf(dy[s * O + o], w[o * I + i], t);
			ck_assert(t == dx[s * I + i]);
		}
	for (size_t s = 0; s < BB; s++)
		for (size_t o = 0; o < O; o++) {
			float lane[8] = { 0 }, t;
			size_t n8 = I & ~(size_t)7, i = 0;

			for (; i < n8; i++)                 /* eight lanes */
				lane[i % 8] = fmaf(x[s * I + i], w[o * I + i],
				                   lane[i % 8]);
			t = ((lane[0] + lane[1]) + (lane[2] + lane[3]))
				+ ((lane[4] + lane[5]) + (lane[6] + lane[7]));
			for (; i < I; i++)
				t = fmaf(x[s * I + i], w[o * I + i], t);
			ck_assert(y[s * O + o] == b[o] + t);
		}
	free(y);
	free(dx);
	free(dw);
	free(db);
}

START_TEST(test_dense_exact_order)
{
	enum { BB = 9, I = 53, O = 11 };
	float x[BB * I], w[O * I], b[O], dy[BB * O], dw0[O * I];

	ddk_rng_seed(&g_rng, 3);
	fill(x, BB * I, -1, 1);
	fill(w, I * O, -1, 1);
	fill(b, O, -1, 1);
	fill(dy, BB * O, -1, 1);
	fill(dw0, O * I, -1, 1);
	for (int simd = 0; simd <= 2; simd++) {   /* portable, AVX2, 512 */
		ddk_dense_use_simd(simd);
		check_dense_order(x, w, b, dy, dw0, BB, I, O);
		check_dense_order(x, w, b, dy, dw0, BB, 37, O);
		check_dense_order(x, w, b, dy, dw0, 3, 8, 2);
		check_dense_order(x, w, b, dy, dw0, 5, 16, 5);
		check_dense_order(x, w, b, dy, dw0, 4, 32, 3);
	}
	ddk_dense_use_simd(2);
}
END_TEST

/* --- activations --- */

START_TEST(test_activations)
{
	enum { N = 40 };
	float x[N], y[N], r[N], dx[N], yy[N];

	ddk_rng_seed(&g_rng, 3);
	fill(r, N, -1, 1);
	for (int a = DDK_ACT_IDENTITY; a <= DDK_ACT_RELU; a++) {
		double worst = 0;

		fill(x, N, -3, 3);
		for (size_t i = 0; i < N; i++)  /* keep relu off its kink */
			if (fabsf(x[i]) < 2 * H)
				x[i] = 0.5f;
		ddk_act_forward(a, x, N, y);
		ddk_act_backward(a, y, r, N, dx);
		for (size_t i = 0; i < N; i++) {
			float keep = x[i];
			double up, dn;

			x[i] = keep + H;
			ddk_act_forward(a, x, N, yy);
			up = dotr(yy, r, N);
			x[i] = keep - H;
			ddk_act_forward(a, x, N, yy);
			dn = dotr(yy, r, N);
			x[i] = keep;
			double d = rel_diff(dx[i], (up - dn) / (2 * H), 1e-2);
			worst = d > worst ? d : worst;
		}
		report(ddk_activation_name(a), worst);
	}
	ck_assert_int_eq(ddk_activation_parse("tanh"), DDK_ACT_TANH);
	ck_assert_int_eq(ddk_activation_parse("swish"), -1);
}
END_TEST

/* --- batch normalisation --- */

enum { BN_B = 6, BN_N = 4 };

static double bn_loss(const float *x, const float *gm, const float *sh,
                      const float *r)
{
	float xhat[BN_B * BN_N], y[BN_B * BN_N], m[BN_N], is[BN_N];

	ddk_bn_forward(x, BN_B, BN_N, gm, sh, DDK_BN_EPS, xhat, y, m, is);
	return dotr(y, r, BN_B * BN_N);
}

START_TEST(test_batchnorm)
{
	float x[BN_B * BN_N], gm[BN_N], sh[BN_N], r[BN_B * BN_N];
	float xhat[BN_B * BN_N], y[BN_B * BN_N], m[BN_N], is[BN_N];
	float dx[BN_B * BN_N], dg[BN_N] = { 0 }, ds[BN_N] = { 0 };

	ddk_rng_seed(&g_rng, 4);
	fill(x, BN_B * BN_N, -2, 2);
	fill(gm, BN_N, 0.5, 1.5);
	fill(sh, BN_N, -1, 1);
	fill(r, BN_B * BN_N, -1, 1);
	ddk_bn_forward(x, BN_B, BN_N, gm, sh, DDK_BN_EPS, xhat, y, m, is);
	ddk_bn_backward(xhat, r, BN_B, BN_N, gm, is, dg, ds, dx);

	float *arr[3] = { x, gm, sh }, *grad[3] = { dx, dg, ds };
	size_t len[3] = { BN_B * BN_N, BN_N, BN_N };

	report("batchnorm", worst3(bn_loss, arr, grad, len, r));

	/* normalised columns: mean 0, variance 1 */
	for (size_t j = 0; j < BN_N; j++) {
		double s = 0, q = 0;

		for (size_t b = 0; b < BN_B; b++) {
			s += xhat[b * BN_N + j];
			q += xhat[b * BN_N + j] * xhat[b * BN_N + j];
		}
		ck_assert(fabs(s / BN_B) < 1e-5);
		ck_assert(fabs(q / BN_B - 1) < 1e-3);
	}

	/* eps enters both forwards as the variance's addend: with eps
	 * 0.5, a column of variance v is scaled by 1 / sqrt(v + 0.5) */
	float y2[BN_B * BN_N], run_m[BN_N] = { 0 }, run_v[BN_N];

	ddk_bn_forward(x, BN_B, BN_N, gm, sh, 0.5f, xhat, y, m, is);
	for (size_t j = 0; j < BN_N; j++) {
		double mu = 0, v = 0;

		for (size_t b = 0; b < BN_B; b++)
			mu += x[b * BN_N + j] / (double)BN_B;
		for (size_t b = 0; b < BN_B; b++)
			v += (x[b * BN_N + j] - mu) * (x[b * BN_N + j] - mu) /
			     BN_B;
		ck_assert(fabs(is[j] - 1 / sqrt(v + 0.5)) < 1e-6);
		run_v[j] = (float)v;
	}
	ddk_bn_forward_eval(x, BN_B, BN_N, gm, sh, run_m, run_v, 0.5f, y2);
	for (size_t i = 0; i < BN_B * BN_N; i++) {
		size_t j = i % BN_N;

		ck_assert(fabs(y2[i] - (gm[j] * x[i] / sqrt(run_v[j] + 0.5) +
		                        sh[j])) < 1e-5);
	}
}
END_TEST

/* --- softmax cross-entropy --- */

START_TEST(test_softmax)
{
	enum { SB = 4, C = 5 };
	float l[SB * C], p[SB * C], dl[SB * C];
	int y[SB] = { 0, 3, 4, 1 };
	size_t right = 0;
	double worst = 0;

	ddk_rng_seed(&g_rng, 5);
	fill(l, SB * C, -3, 3);
	ddk_softmax_xent(l, y, SB, C, p, dl, &right);
	for (size_t i = 0; i < SB * C; i++) {
		float keep = l[i];
		double up, dn;

		l[i] = keep + H;
		up = ddk_softmax_xent(l, y, SB, C, p, NULL, NULL);
		l[i] = keep - H;
		dn = ddk_softmax_xent(l, y, SB, C, p, NULL, NULL);
		l[i] = keep;
		double d = rel_diff(dl[i], (up - dn) / (2 * H), 1e-2);
		worst = d > worst ? d : worst;
	}
	report("softmax cross-entropy", worst);

	/* huge logits stay finite; probabilities sum to one */
	l[0] = 1e30f;
	ck_assert(isfinite(ddk_softmax_xent(l, y, SB, C, p, dl, NULL)));
	for (size_t s = 0; s < SB; s++) {
		double sum = 0;

		for (size_t c = 0; c < C; c++)
			sum += p[s * C + c];
		ck_assert(fabs(sum - 1) < 1e-5);
	}
}
END_TEST

/* --- the DDK layer --- */

static double ddk_loss(ddk_ddk_layer *L, const float *x, size_t nb,
                       const float *r, float *z, float *work)
{
	ddk_ddk_forward(L, x, nb, z, work);
	return dotr(z, r, nb * L->K * L->U * L->T);
}

static void check_ddk_layer(int per_row, size_t K, ddk_mode mode)
{
	enum { DB = 3, U = 4, T = 12 };
	size_t np = per_row ? K * U : K, nz = DB * K * U * T;
	float x[DB * U * T], alpha[16], beta[16], z[DB * 4 * U * T];
	float r[DB * 4 * U * T], work[2 * DB * U * (T + 1)];
	double da[16] = { 0 }, dbt[16] = { 0 };
	double worst = 0;
	ddk_ddk_layer L = { mode, per_row, K, U, T, alpha, beta };
	char what[64];

	ddk_rng_seed(&g_rng, 6 + K + per_row);
	fill(x, DB * U * T, 0, 1);
	fill(alpha, np, 0.2, 0.5);
	fill(beta, np, 0.05, 0.3);
	fill(r, nz, -1, 1);
	ddk_ddk_forward(&L, x, DB, z, work);
	ddk_ddk_backward(&L, x, z, r, DB, da, dbt, work);
	for (size_t q = 0; q < np; q++)
		for (int which = 0; which < 2; which++) {
			float *v = which ? beta : alpha, keep = v[q];
			double *g = which ? dbt : da, up, dn;
			float h = 1e-3f;

			v[q] = keep + h;
			up = ddk_loss(&L, x, DB, r, z, work);
			v[q] = keep - h;
			dn = ddk_loss(&L, x, DB, r, z, work);
			v[q] = keep;
			double d = rel_diff(g[q], (up - dn) / (2 * h), 1e-1);
			worst = d > worst ? d : worst;
		}
	snprintf(what, sizeof what, "ddk %s K=%zu %s",
	         per_row ? "per-row" : "shared", K,
	         mode == DDK_SET ? "set" : "reset");
	report(what, worst);

	/* channel k of example s is the map of its own pair */
	float zr[U * T], ar[U], br[U];

	for (size_t u = 0; u < U; u++) {
		ar[u] = alpha[per_row ? (K - 1) * U + u : K - 1];
		br[u] = beta[per_row ? (K - 1) * U + u : K - 1];
	}
	ddk_map_forward(x + 2 * U * T, U, T, ar, br, mode, zr);
	ddk_ddk_forward(&L, x, DB, z, work);
	ck_assert(memcmp(zr, z + (2 * K + K - 1) * U * T, sizeof zr) == 0);
}

/*
 * The layer's reverse pass against the kinetics module's reverse pass
 * (ddk_map_backward, row by row) on maps that hit the floor: U from 3 to
 * 11 rows, T with and without a tail past the last eight steps (under
 * eight, the tail alone; over eight, a tail the last vector overlaps).
 */
static void check_ddk_vs_map(size_t U, size_t T, int per_row,
                             ddk_mode mode)
{
	enum { DB = 2, MAXT = 31, MAXU = 11 };
	size_t rows = DB * U, np = per_row ? 2 * U : 2, clamped = 0;
	float x[DB * MAXU * MAXT], z[DB * 2 * MAXU * MAXT];
	float dz[DB * 2 * MAXU * MAXT], work[2 * DB * MAXU * (MAXT + 1)];
	float zr[DB * MAXU * MAXT], dzr[DB * MAXU * MAXT];
	float ar[DB * MAXU], br[DB * MAXU];
	float alpha[2 * MAXU], beta[2 * MAXU];
	double da[2 * MAXU] = { 0 }, dbt[2 * MAXU] = { 0 };
	ddk_ddk_layer L = { mode, per_row, 2, U, T, alpha, beta };

	ddk_rng_seed(&g_rng, 40 + U);
	fill(x, rows * T, 0.3, 1);
	fill(alpha, np, 0.005, 0.05);
	fill(beta, np, 0.6, 1);
	fill(dz, 2 * rows * T, -1, 1);
	ddk_ddk_forward(&L, x, DB, z, work);
	ddk_ddk_backward(&L, x, z, dz, DB, da, dbt, work);
	for (size_t k = 0; k < 2; k++) {
		double want_a[2 * MAXU] = { 0 }, want_b[2 * MAXU] = { 0 };
		double ra[DB * MAXU] = { 0 }, rb[DB * MAXU] = { 0 };

		for (size_t s = 0; s < DB; s++)
			for (size_t u = 0; u < U; u++) {
				size_t q = per_row ? k * U + u : k, r = s * U + u;

				ar[r] = alpha[q];
				br[r] = beta[q];
				memcpy(zr + r * T, z + ((s * 2 + k) * U + u) * T,
				       T * sizeof *zr);
				memcpy(dzr + r * T, dz + ((s * 2 + k) * U + u) * T,
				       T * sizeof *dzr);
			}
		ddk_map_backward(x, zr, dzr, rows, T, ar, br, mode, ra, rb,
		                 NULL);
		for (size_t r = 0; r < rows; r++) {
			size_t q = per_row ? k * U + r % U : k;

			want_a[q] += ra[r];
			want_b[q] += rb[r];
		}
		for (size_t i = 0; i < rows * T; i++)
			clamped += zr[i] <= (float)DDK_Z_FLOOR;
		/* the pairs of channel k */
		for (size_t q = per_row ? k * U : k;
		     q < (per_row ? (k + 1) * U : k + 1); q++) {
			ck_assert(fabs(da[q] - want_a[q]) <=
			          1e-4 * (fabs(want_a[q]) + 1));
			ck_assert(fabs(dbt[q] - want_b[q]) <=
			          1e-4 * (fabs(want_b[q]) + 1));
		}
	}
	ck_assert(mode == DDK_SET || clamped > 0);  /* RESET hit the floor */
}

START_TEST(test_ddk_vs_kinetics)
{
	const size_t T[] = { 5, 8, 9, 13, 16, 28, 31 };

	for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
		check_ddk_vs_map(11, T[i], 0, DDK_RESET);
		check_ddk_vs_map(3, T[i], 0, DDK_RESET);
		check_ddk_vs_map(11, T[i], 1, DDK_SET);
		check_ddk_vs_map(8, T[i], 1, DDK_RESET);
	}
}
END_TEST

START_TEST(test_ddk_layer)
{
	check_ddk_layer(0, 1, DDK_RESET);
	check_ddk_layer(1, 1, DDK_RESET);
	check_ddk_layer(0, 3, DDK_RESET);
	check_ddk_layer(1, 2, DDK_SET);
}
END_TEST

/* --- the whole network --- */

static double net_loss(ddk_net *net, const float *x, const int *y,
                       size_t nb)
{
	float probs[64];
	const float *logits;

	logits = ddk_net_forward(net, x, nb, 1);
	return ddk_softmax_xent(logits, y, nb, net->cfg.n_classes, probs,
	                        NULL, NULL);
}

static void check_net(int use_ddk, size_t n_hidden, int bn, int fnorm,
                      ddk_activation act)
{
	enum { NB = 6, U = 3, T = 5 };
	ddk_net_config c;
	ddk_net *net;
	ddk_err err;
	float x[NB * U * T];
	int y[NB] = { 0, 1, 2, 0, 1, 2 };
	double worst = 0, acc[2 * 2 * U * T];
	char what[64];

	ddk_net_config_default(&c);
	c.rows = U;
	c.cols = T;
	c.use_ddk = use_ddk;
	c.channels = 2;
	c.n_hidden = n_hidden;
	c.hidden[0] = 5;
	c.hidden[1] = 4;
	c.batchnorm = bn;
	c.feature_norm = fnorm;
	c.act = act;
	c.n_classes = 3;
	ck_assert_int_eq(ddk_net_new(&c, NB, &net, &err), DDK_OK);
	ddk_rng_seed(&g_rng, 7);
	ddk_net_init(net, &g_rng, 0.3, 0.2);
	fill(x, NB * U * T, 0, 1);
	if (fnorm) {
		ddk_net_fnorm_begin(net, acc);
		ddk_net_fnorm_add(net, x, NB, acc);
		ddk_net_fnorm_end(net, acc, NB);
	}
	ddk_net_forward(net, x, NB, 1);
	ddk_net_backward(net, x, y, NB, NULL);

	/* every parameter's first, middle and last element */
	for (size_t p = 0; p < net->n_param; p++) {
		ddk_param *pr = &net->param[p];
		size_t at[3] = { 0, pr->n / 2, pr->n - 1 };

		for (int k = 0; k < 3; k++) {
			float keep = pr->v[at[k]], h = p < 2 && use_ddk ?
				1e-3f : H;
			double up, dn;

			pr->v[at[k]] = keep + h;
			up = net_loss(net, x, y, NB);
			pr->v[at[k]] = keep - h;
			dn = net_loss(net, x, y, NB);
			pr->v[at[k]] = keep;
			double d = rel_diff(pr->g[at[k]],
			                    (up - dn) / (2 * h), 2e-2);
			worst = d > worst ? d : worst;
		}
	}
	snprintf(what, sizeof what, "net ddk=%d h=%zu bn=%d fn=%d %s",
	         use_ddk, n_hidden, bn, fnorm, ddk_activation_name(act));
	report(what, worst);
	ddk_net_free(&net);
	ck_assert_ptr_null(net);
}

START_TEST(test_net_gradients)
{
	check_net(1, 0, 0, 0, DDK_ACT_SIGMOID);
	check_net(1, 1, 0, 1, DDK_ACT_SIGMOID);
	check_net(1, 2, 1, 1, DDK_ACT_TANH);
	check_net(0, 1, 1, 0, DDK_ACT_RELU);
	check_net(0, 2, 0, 1, DDK_ACT_IDENTITY);
}
END_TEST

/* A model's DDK pair of channel k spread over the rows, as
 * ddk_map_forward takes it: it gives the layer's own map of channel k. */
START_TEST(test_model_ddk_rows)
{
	enum { U = 3, T = 10, K = 3 };
	float x[U * T], z[K * U * T], zr[U * T], ar[U], br[U];
	float work[2 * U * (T + 1)];
	ddk_net_config c;
	ddk_net *net;
	ddk_err err;

	for (int per_row = 0; per_row < 2; per_row++) {
		ddk_net_config_default(&c);
		c.rows = U;
		c.cols = T;
		c.use_ddk = 1;
		c.per_row = per_row;
		c.channels = K;
		c.mode = per_row ? DDK_SET : DDK_RESET;
		c.n_classes = 2;
		ck_assert_int_eq(ddk_net_new(&c, 1, &net, &err), DDK_OK);
		ddk_rng_seed(&g_rng, 11 + per_row);
		ddk_net_init(net, &g_rng, NAN, NAN);
		fill(x, U * T, 0, 1);

		ddk_model m = { net, NULL, NULL, 0, NULL, NULL };
		ddk_ddk_layer L = { c.mode, per_row, K, U, T, net->alpha,
		                    net->beta };

		ddk_ddk_forward(&L, x, 1, z, work);
		for (size_t k = 0; k < K; k++) {
			ck_assert_int_eq(ddk_model_ddk_rows(&m, k, ar, br),
			                 DDK_OK);
			ck_assert(ar[0] != ar[U - 1] || !per_row);
			ddk_map_forward(x, U, T, ar, br, c.mode, zr);
			ck_assert_mem_eq(zr, z + k * U * T, sizeof zr);
		}
		ck_assert_int_eq(ddk_model_ddk_rows(&m, K, ar, br), DDK_EINVAL);
		ddk_net_free(&net);
	}

	/* no DDK layer, no pair */
	c.use_ddk = 0;
	ck_assert_int_eq(ddk_net_new(&c, 1, &net, &err), DDK_OK);
	ddk_model m = { net, NULL, NULL, 0, NULL, NULL };
	ck_assert_int_eq(ddk_model_ddk_rows(&m, 0, ar, br), DDK_EINVAL);
	ddk_net_free(&net);
}
END_TEST

START_TEST(test_config_errors)
{
	ddk_net_config c;
	ddk_net *net = NULL;
	ddk_err err;

	ddk_net_config_default(&c);
	c.rows = 2;
	c.cols = 3;
	c.n_classes = 1;
	ck_assert_int_eq(ddk_net_new(&c, 4, &net, &err), DDK_EINVAL);
	ck_assert_ptr_null(net);
	ck_assert(strstr(err.msg, "classes") != NULL);
	c.n_classes = 2;
	c.alpha_lo = 0.5;
	c.alpha_hi = 0.1;
	ck_assert_int_eq(ddk_net_new(&c, 4, &net, &err), DDK_EINVAL);
	c.alpha_hi = 1;
	c.n_hidden = 1;
	c.hidden[0] = 0;
	ck_assert_int_eq(ddk_net_new(&c, 4, &net, &err), DDK_EINVAL);
}
END_TEST

/* --- optimisers --- */

static ddk_net *small_net(void)
{
	ddk_net_config c;
	ddk_net *net;
	ddk_err err;

	ddk_net_config_default(&c);
	c.rows = 2;
	c.cols = 3;
	c.n_classes = 2;
	ck_assert_int_eq(ddk_net_new(&c, 4, &net, &err), DDK_OK);
	ddk_rng_seed(&g_rng, 8);
	ddk_net_init(net, &g_rng, NAN, NAN);
	return net;
}

START_TEST(test_sgd_adam)
{
	ddk_net *net = small_net();
	ddk_optim o;
	ddk_param *w = &net->param[2];
	float v0 = w->v[1];

	/* SGD with momentum: v = mu v + g + wd p, twice */
	ddk_optim_default(&o, DDK_OPT_SGD);
	o.weight_decay = 0.1;
	w->g[1] = 0.5f;
	ddk_optim_step(&o, net, 0.1);
	double m = 0.5 + 0.1 * v0, p1 = v0 - 0.1 * m;

	ck_assert(fabs(w->v[1] - p1) < 1e-6);
	ddk_optim_step(&o, net, 0.1);
	m = 0.9 * m + 0.5 + 0.1 * p1;
	ck_assert(fabs(w->v[1] - (p1 - 0.1 * m)) < 1e-6);

	/* Adam's first step is lr * g / (|g| + eps) */
	for (size_t i = 0; i < net->n_param; i++) {
		memset(net->param[i].m1, 0, net->param[i].n * 4);
		memset(net->param[i].m2, 0, net->param[i].n * 4);
	}
	ddk_optim_default(&o, DDK_OPT_ADAM);
	v0 = w->v[1];
	w->g[1] = -0.25f;
	ddk_optim_step(&o, net, 0.01);
	ck_assert(fabs(w->v[1] - (v0 + 0.01)) < 1e-6);

	/* bounds hold after a step that would leave them */
	net->param[0].g[0] = -1e6f;
	net->param[1].g[0] = 1e6f;
	ddk_optim_default(&o, DDK_OPT_SGD);
	ddk_optim_step(&o, net, 10);
	ck_assert(net->alpha[0] == 1.0f && net->beta[0] == 0.0f);

	/* frozen parameters stay */
	net->param[0].frozen = 1;
	net->alpha[0] = 0.5f;
	ddk_optim_step(&o, net, 10);
	ck_assert(net->alpha[0] == 0.5f);
	ddk_net_free(&net);
}
END_TEST

/* Every gradient of net set from a fixed pattern scaled by k. */
static void set_grads(ddk_net *net, float k)
{
	for (size_t i = 0; i < net->n_param; i++) {
		ddk_param *p = &net->param[i];

		for (size_t j = 0; j < p->n; j++)
			p->g[j] = k * (float)((i + 3 * j) % 7) - 3 * k;
	}
}

/* Whether two nets hold the same bits in every value and moment. */
static int same_params(const ddk_net *a, const ddk_net *b)
{
	for (size_t i = 0; i < a->n_param; i++) {
		const ddk_param *p = &a->param[i], *q = &b->param[i];
		size_t bytes = p->n * sizeof *p->v;

		if (memcmp(p->v, q->v, bytes) || memcmp(p->m1, q->m1, bytes)
		    || memcmp(p->m2, q->m2, bytes))
			return 0;
	}
	return 1;
}

static int all_finite(const ddk_net *net)
{
	for (size_t i = 0; i < net->n_param; i++)
		if (ddk_first_nonfinite(net->param[i].v, net->param[i].n)
		    < net->param[i].n)
			return 0;
	return 1;
}

/* A NaN or infinite gradient is refused whole, in the DDK pair or in the
 * last dense bias, by both optimisers; the net then goes on exactly as
 * a twin that never saw it. */
START_TEST(test_optim_nonfinite)
{
	for (int kind = DDK_OPT_SGD; kind <= DDK_OPT_ADAM; kind++)
	for (int bad = 0; bad < 2; bad++) {
		ddk_net *net = small_net(), *twin = small_net();
		ddk_optim o, ot;
		size_t at = bad ? net->n_param - 1 : 0;
		ddk_param *p = &net->param[at];

		/* one finite step on both, so the moments are not zero */
		ddk_optim_default(&o, (ddk_optim_kind)kind);
		ot = o;
		set_grads(net, 0.5f);
		set_grads(twin, 0.5f);
		ck_assert_int_eq(ddk_optim_step(&o, net, 0.1), 0);
		ck_assert_int_eq(ddk_optim_step(&ot, twin, 0.1), 0);

		/* the bad step changes nothing but the count */
		set_grads(net, 0.25f);
		p->g[p->n - 1] = bad ? NAN : INFINITY;
		ck_assert_int_eq(ddk_optim_step(&o, net, 0.1), 1);
		ck_assert(o.skipped == 1 && o.t == 1);
		ck_assert(all_finite(net));
		ck_assert(same_params(net, twin));

		/* the next finite step is the twin's */
		set_grads(net, 0.25f);
		set_grads(twin, 0.25f);
		ck_assert_int_eq(ddk_optim_step(&o, net, 0.1), 0);
		ck_assert_int_eq(ddk_optim_step(&ot, twin, 0.1), 0);
		ck_assert(o.t == ot.t && o.t == 2);
		ck_assert(same_params(net, twin));
		ck_assert(all_finite(net));
		ddk_net_free(&net);
		ddk_net_free(&twin);
	}
}
END_TEST

/* --- training --- */

/* Two classes told apart by their row means: a DDK RESET map of a row
 * with more input falls faster, so the net can learn it.  Record i of
 * the set of this seed (draws from g in order). */
static void synth_record(ddk_record *r, size_t i, ddk_rng *g)
{
	char key[32];
	int cls = (int)(i % 2);
	ddk_err err;

	snprintf(key, sizeof key, "s%zu", i);
	ck_assert_int_eq(ddk_record_set(r, key, cls ? "b" : "a", 2, 8, &err),
	                 DDK_OK);
	for (size_t k = 0; k < 16; k++)
		r->v[k] = (float)(0.4 * ddk_rng_uniform(g) + 0.4 * cls);
}

/* n records of the seed into d, or written to f as a binary stream
 * when d is NULL. */
static void synth_into(ddk_dataset *d, FILE *f, size_t n, uint64_t seed)
{
	ddk_record r;
	ddk_err err;
	ddk_rng g;

	ddk_record_init(&r);
	ddk_rng_seed(&g, seed);
	for (size_t i = 0; i < n; i++) {
		synth_record(&r, i, &g);
		ck_assert_int_eq(d ? ddk_dataset_add(d, &r, "synth", i + 1, &err)
		                   : ddk_write_record(f, &r, 0, &err), DDK_OK);
	}
	ddk_record_free(&r);
	if (d)
		ddk_dataset_finish(d);
	else
		ck_assert_int_eq(fflush(f), 0);
}

static void synth(ddk_dataset *d, size_t n, uint64_t seed)
{
	synth_into(d, NULL, n, seed);
}

/* Load the stream at path into d as ddk-train does: records in place
 * when d->in_place and the reader can place them. */
static void load_file(ddk_dataset *d, const char *path)
{
	FILE *f = fopen(path, "rb");
	ddk_reader *rd = ddk_reader_new(f, path);
	ddk_record r;
	ddk_status st;
	ddk_err err;
	uint64_t off;

	ck_assert_ptr_nonnull(f);
	ddk_record_init(&r);
	ck_assert_int_eq(ddk_dataset_open(d, fileno(f), path, &err), DDK_OK);
	while ((st = ddk_reader_next(rd, &r, &err)) == DDK_OK) {
		ck_assert(ddk_reader_place(rd, &off));
		ck_assert_int_eq(ddk_dataset_add_at(d, &r, off, path,
		                                    ddk_reader_count(rd), &err),
		                 DDK_OK);
	}
	ck_assert_int_eq(st, DDK_END);
	ddk_record_free(&r);
	ddk_reader_free(&rd);
	fclose(f);      /* the set reads its own descriptor */
	ddk_dataset_finish(d);
}

static ddk_net *train_net(const ddk_dataset *d, const ddk_train_opts *o,
                          ddk_train_state *s)
{
	ddk_net_config c;
	ddk_net *net;
	ddk_err err;
	ddk_rng g;

	ddk_net_config_default(&c);
	c.rows = d->rows;
	c.cols = d->cols;
	c.n_hidden = 1;
	c.hidden[0] = 6;
	c.batchnorm = 1;
	c.feature_norm = 1;
	c.n_classes = d->n_classes;
	ck_assert_int_eq(ddk_net_new(&c, o->batch, &net, &err), DDK_OK);
	ddk_rng_for_key(&g, o->seed, "init");
	ddk_net_init(net, &g, NAN, NAN);
	ck_assert_int_eq(ddk_train_state_init(s, net, o, &err), DDK_OK);
	return net;
}

START_TEST(test_train_learns_and_repeats)
{
	ddk_dataset d;
	ddk_train_opts o;
	ddk_train_state s1, s2;
	ddk_err err;

	ddk_dataset_init(&d);
	synth(&d, 203, 9);
	ddk_train_opts_default(&o);
	o.epochs = 8;
	o.batch = 16;
	o.optim.lr = 0.02;
	o.lr_steps[0] = 6;
	o.n_lr_steps = 1;

	ddk_net *a = train_net(&d, &o, &s1), *b = train_net(&d, &o, &s2);

	double acc;

	ck_assert_int_eq(ddk_train(a, &d, NULL, &o, &s1, &err), DDK_OK);
	ck_assert_int_eq(ddk_train(b, &d, NULL, &o, &s2, &err), DDK_OK);
	ck_assert_int_eq(ddk_evaluate(a, &d, &acc, &err), DDK_OK);
	printf("synthetic: loss %.4f -> %.4f, accuracy %.3f\n",
	       s1.history[0].loss, s1.history[7].loss, acc);
	ck_assert(acc > 0.95);
	ck_assert(s1.history[7].loss < s1.history[0].loss);

	/* same seed: the same bits */
	size_t n = ddk_net_state_size(a);
	float *sa = malloc(n * 4), *sb = malloc(n * 4);

	ddk_net_state_get(a, sa);
	ddk_net_state_get(b, sb);
	ck_assert(memcmp(sa, sb, n * 4) == 0);

	/* another seed: other bits */
	ddk_net_free(&b);
	ddk_train_state_free(&s2);
	o.seed = 2;
	b = train_net(&d, &o, &s2);
	ck_assert_int_eq(ddk_train(b, &d, NULL, &o, &s2, &err), DDK_OK);
	ddk_net_state_get(b, sb);
	ck_assert(memcmp(sa, sb, n * 4) != 0);
	free(sa);
	free(sb);
	ddk_net_free(&a);
	ddk_net_free(&b);
	ddk_train_state_free(&s1);
	ddk_train_state_free(&s2);
	ddk_dataset_free(&d);
}
END_TEST

static int stop_at_3(void *ctx, size_t epoch, const ddk_epoch_stats *s)
{
	(void)ctx;
	(void)s;
	return epoch == 3;
}

START_TEST(test_checkpoint_resume)
{
	ddk_dataset d, v;
	ddk_train_opts o;
	ddk_train_state s1, s2;
	ddk_err err;
	char path[] = "/tmp/check_nn_ckpt.XXXXXX";
	int fd = mkstemp(path);

	ck_assert(fd >= 0);
	close(fd);
	ddk_dataset_init(&d);
	ddk_dataset_init(&v);
	d.keep_keys = 1;
	synth(&d, 120, 10);
	ck_assert_int_eq(ddk_dataset_split(&d, 0.25, 3, &v, &err), DDK_OK);
	ck_assert(v.n > 10 && v.n < 50 && d.n + v.n == 120);
	ddk_train_opts_default(&o);
	o.epochs = 6;
	o.batch = 10;
	o.fingerprint = "test";

	/* a whole run, then one stopped after 3 epochs and resumed */
	ddk_net *a = train_net(&d, &o, &s1), *b = train_net(&d, &o, &s2);

	ck_assert_int_eq(ddk_train(a, &d, &v, &o, &s1, &err), DDK_OK);
	o.checkpoint = path;
	o.on_epoch = stop_at_3;
	ck_assert_int_eq(ddk_train(b, &d, &v, &o, &s2, &err), DDK_OK);
	ddk_net_free(&b);
	ddk_train_state_free(&s2);
	o.on_epoch = NULL;
	b = train_net(&d, &o, &s2);
	ck_assert_int_eq(ddk_checkpoint_load(path, b, &s2, "test", &err),
	                 DDK_OK);
	ck_assert_int_eq(s2.epoch, 3);
	ck_assert_int_eq(ddk_train(b, &d, &v, &o, &s2, &err), DDK_OK);

	size_t n = ddk_net_state_size(a);
	float *sa = malloc(n * 4), *sb = malloc(n * 4);

	ddk_net_state_get(a, sa);
	ddk_net_state_get(b, sb);
	ck_assert(memcmp(sa, sb, n * 4) == 0);
	ck_assert_int_eq(s1.best_epoch, s2.best_epoch);
	ck_assert(s1.history[5].loss == s2.history[5].loss);

	/* another fingerprint is refused */
	ck_assert_int_eq(ddk_checkpoint_load(path, b, &s2, "other", &err),
	                 DDK_EINVAL);

	/* so is another network, and the file cut short anywhere or with
	 * a byte more; a refused load leaves the net and state alone */
	{
		ddk_net_config c = b->cfg;
		ddk_net *other;
		FILE *f = fopen(path, "rb");
		long len;
		char *bytes;

		c.hidden[0] = 7;
		ck_assert_int_eq(ddk_net_new(&c, o.batch, &other, &err), 0);
		ck_assert_int_eq(ddk_checkpoint_load(path, other, &s2, "test",
		                                     &err), DDK_EINVAL);
		ck_assert_ptr_nonnull(strstr(err.msg, "another network"));
		ddk_net_free(&other);
		ck_assert_ptr_nonnull(f);
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		rewind(f);
		bytes = malloc((size_t)len + 1);
		ck_assert_int_eq(fread(bytes, 1, (size_t)len, f), len);
		fclose(f);
		s2.epoch = 99;
		s2.best_epoch = 98;
		ddk_net_state_get(b, sa);
		for (long cut = 0; cut <= len + 1; cut++) {
			if (cut == len)
				continue;
			f = fopen(path, "wb");
			bytes[len] = 7;
			fwrite(bytes, 1, (size_t)cut, f);
			fclose(f);
			ck_assert_msg(ddk_checkpoint_load(path, b, &s2, "test",
			                                  &err) != DDK_OK,
			              "%ld of %ld bytes accepted", cut, len);
			ck_assert_int_eq(s2.epoch, 99);
			ck_assert_int_eq(s2.best_epoch, 98);
		}
		ddk_net_state_get(b, sb);
		ck_assert(memcmp(sa, sb, n * 4) == 0);
		ck_assert_ptr_nonnull(strstr(err.msg, "too long"));
		free(bytes);
	}
	unlink(path);
	ck_assert_int_eq(ddk_checkpoint_load(path, b, &s2, "test", &err),
	                 DDK_ENOTFOUND);
	free(sa);
	free(sb);
	ddk_net_free(&a);
	ddk_net_free(&b);
	ddk_train_state_free(&s1);
	ddk_train_state_free(&s2);
	ddk_dataset_free(&d);
	ddk_dataset_free(&v);
}
END_TEST

/* A set read in place trains, splits and evaluates to the same bits as
 * the set held in memory; mixing in a record held in memory brings the
 * rest into memory; a file that changes under a run stops it. */
START_TEST(test_dataset_in_place)
{
	char path[] = "/tmp/check_nn_place.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "wb");
	ddk_dataset mem, pl, vm, vp;
	ddk_train_opts o;
	ddk_train_state s1, s2;
	ddk_record r;
	ddk_err err;
	double am, ap;

	ck_assert_ptr_nonnull(f);
	synth_into(NULL, f, 150, 21);
	fclose(f);
	ddk_dataset_init(&mem);
	ddk_dataset_init(&pl);
	ddk_dataset_init(&vm);
	ddk_dataset_init(&vp);
	mem.keep_keys = pl.keep_keys = 1;
	pl.in_place = 1;
	synth(&mem, 150, 21);
	load_file(&pl, path);
	ck_assert(pl.placed && !pl.x && pl.n == 150 && pl.n_files == 1);
	ck_assert_int_eq(ddk_dataset_split(&mem, 0.2, 5, &vm, &err), DDK_OK);
	ck_assert_int_eq(ddk_dataset_split(&pl, 0.2, 5, &vp, &err), DDK_OK);
	ck_assert(vp.placed && vp.n == vm.n && pl.n == mem.n && vm.n > 10);
	ck_assert(vp.files[0].fd != pl.files[0].fd);

	ddk_train_opts_default(&o);
	o.epochs = 4;
	o.batch = 8;
	ddk_net *a = train_net(&mem, &o, &s1), *b = train_net(&pl, &o, &s2);

	ck_assert_int_eq(ddk_train(a, &mem, &vm, &o, &s1, &err), DDK_OK);
	ck_assert_int_eq(ddk_train(b, &pl, &vp, &o, &s2, &err), DDK_OK);

	size_t n = ddk_net_state_size(a);
	float *sa = malloc(n * 4), *sb = malloc(n * 4), buf[16];

	ddk_net_state_get(a, sa);
	ddk_net_state_get(b, sb);
	ck_assert(memcmp(sa, sb, n * 4) == 0);
	ck_assert_int_eq(ddk_evaluate(a, &vm, &am, &err), DDK_OK);
	ck_assert_int_eq(ddk_evaluate(b, &vp, &ap, &err), DDK_OK);
	ck_assert(am == ap && am > 0.9);
	for (size_t i = 0; i < pl.n; i++)
		ck_assert(memcmp(ddk_dataset_values(&pl, i, buf, &err),
		                 mem.x + i * 16, sizeof buf) == 0);

	/* one record held in memory: the others follow it there */
	ddk_record_init(&r);
	ck_assert_int_eq(ddk_record_set(&r, "extra", "a", 2, 8, &err),
	                 DDK_OK);
	memset(r.v, 0, 16 * sizeof *r.v);
	ck_assert_int_eq(ddk_dataset_add(&vp, &r, "extra", 1, &err), DDK_OK);
	ck_assert(!vp.placed && vp.x && vp.n_files == 0 && vp.n == vm.n + 1);
	ck_assert(memcmp(vp.x, vm.x, vm.n * sizeof buf) == 0);
	ddk_record_free(&r);

	/* the file grows: the check and the next epoch refuse it */
	ck_assert_int_eq(ddk_dataset_check(&pl, &err), DDK_OK);
	f = fopen(path, "ab");
	fputc(0, f);
	fclose(f);
	ck_assert_int_eq(ddk_dataset_check(&pl, &err), DDK_EIO);
	ck_assert(strstr(err.msg, "changed while training") != NULL);
	ddk_net_free(&b);
	ddk_train_state_free(&s2);
	b = train_net(&pl, &o, &s2);
	ck_assert_int_eq(ddk_train(b, &pl, NULL, &o, &s2, &err), DDK_EIO);
	ck_assert_int_eq(s2.epoch, 0);

	/* cut short under the set: reading names the file and the byte */
	ck_assert_int_eq(truncate(path, 100), 0);
	ck_assert_ptr_null(ddk_dataset_values(&pl, pl.n - 1, buf, &err));
	ck_assert(strstr(err.msg, path) && strstr(err.msg, "values at byte"));
	unlink(path);
	free(sa);
	free(sb);
	ddk_net_free(&a);
	ddk_net_free(&b);
	ddk_train_state_free(&s1);
	ddk_train_state_free(&s2);
	ddk_dataset_free(&mem);
	ddk_dataset_free(&pl);
	ddk_dataset_free(&vm);
	ddk_dataset_free(&vp);
}
END_TEST

START_TEST(test_dataset_errors)
{
	ddk_dataset d;
	ddk_record r;
	ddk_err err;
	const char *labels[] = { "10", "9", "2", "10" };

	ddk_dataset_init(&d);
	ddk_record_init(&r);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(ddk_record_set(&r, "k", labels[i], 1, 2,
		                                &err), DDK_OK);
		r.v[0] = r.v[1] = 0.5f;
		ck_assert_int_eq(ddk_dataset_add(&d, &r, "f", i + 1, &err),
		                 DDK_OK);
	}
	ddk_dataset_finish(&d);
	ck_assert_str_eq(d.classes[0], "2");
	ck_assert_str_eq(d.classes[2], "10");
	ck_assert_int_eq(d.y[0], 2);
	ck_assert_int_eq(d.y[1], 1);

	ddk_record_set(&r, "bad", "2", 2, 1, &err);
	ck_assert_int_eq(ddk_dataset_add(&d, &r, "f", 5, &err), DDK_EINVAL);
	ck_assert(strstr(err.msg, "record 5 (key bad)") != NULL);
	ddk_record_set(&r, "nan", "2", 1, 2, &err);
	r.v[1] = NAN;
	ck_assert_int_eq(ddk_dataset_add(&d, &r, "f", 6, &err), DDK_ERANGE);
	ddk_record_set(&r, "nolabel", "", 1, 2, &err);
	r.v[1] = 0;
	ck_assert_int_eq(ddk_dataset_add(&d, &r, "f", 7, &err), DDK_EINVAL);
	ck_assert(strstr(err.msg, "no label") != NULL);
	ck_assert_int_eq(d.n, 4);
	ddk_record_free(&r);
	ddk_dataset_free(&d);
}
END_TEST

START_TEST(test_atomic_write)
{
	char path[] = "/tmp/check_nn_atomic.XXXXXX";
	ddk_err err;
	char got[16] = { 0 };
	int fd = mkstemp(path);
	FILE *f;

	ck_assert(fd >= 0);
	close(fd);
	ck_assert_int_eq(ddk_write_atomic(path, "hello", 5, &err), DDK_OK);
	f = fopen(path, "rb");
	ck_assert(f && fread(got, 1, sizeof got, f) == 5);
	fclose(f);
	ck_assert_str_eq(got, "hello");
	unlink(path);
	ck_assert_int_eq(ddk_write_atomic("/nonexistent/dir/x", "a", 1,
	                                  &err), DDK_EIO);
}
END_TEST

static Suite *nn_suite(void)
{
	Suite *s = suite_create("nn");
	TCase *t = tcase_create("core");

	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_dense);
	tcase_add_test(t, test_dense_values);
	tcase_add_test(t, test_dense_exact_order);
	tcase_add_test(t, test_activations);
	tcase_add_test(t, test_batchnorm);
	tcase_add_test(t, test_softmax);
	tcase_add_test(t, test_ddk_layer);
	tcase_add_test(t, test_ddk_vs_kinetics);
	tcase_add_test(t, test_net_gradients);
	tcase_add_test(t, test_config_errors);
	tcase_add_test(t, test_model_ddk_rows);
	tcase_add_test(t, test_sgd_adam);
	tcase_add_test(t, test_optim_nonfinite);
	tcase_add_test(t, test_train_learns_and_repeats);
	tcase_add_test(t, test_checkpoint_resume);
	tcase_add_test(t, test_dataset_errors);
	tcase_add_test(t, test_dataset_in_place);
	tcase_add_test(t, test_atomic_write);
	suite_add_tcase(s, t);
	return s;
}

DDK_CHECK_MAIN(nn_suite)
