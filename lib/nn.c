/*
 * nn.c - layers, the network and the optimisers of ddk_nn.h.
 *
 * Every sum runs in a fixed order whatever the vector width.  The
 * gradients add whole rows (axpy), so a SIMD lane holds one output and
 * adds its terms in the same order a scalar loop would; the forward's dot
 * products keep eight explicit lanes of partial sums (GCC vector
 * extensions), added up in a fixed order.  GCC is asked for its full
 * vectoriser here (at -O2 it only takes loops with a known trip count),
 * and x86_64 builds carry an AVX2 clone of each kernel.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ddk_nn.h"

#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__)
#define HOT __attribute__((target_clones("avx2", "default")))
#else
#define HOT
#endif

static const char *const act_names[] = {
	"identity", "sigmoid", "tanh", "relu", NULL
};

const char *ddk_activation_name(ddk_activation a)
{
	return (unsigned)a < 4 ? act_names[a] : "?";
}

int ddk_activation_parse(const char *s)
{
	for (int i = 0; act_names[i]; i++)
		if (strcmp(s, act_names[i]) == 0)
			return i;
	return -1;
}

/* ------------------------------------------------------------------ */
/* dense                                                                */

typedef float v8f __attribute__((vector_size(32)));

/* Vectors go by pointer: passing them by value would tie the ABI to
 * the instruction set. */
static inline void load8(v8f *v, const float *p)
{
	memcpy(v, p, sizeof *v);
}

/* The lanes of a added in a fixed order. */
static inline float hsum8(const v8f *v)
{
	const float *a = (const float *)v;

	return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

/* y[r] += a * x[r] over n: the primitive of the two gradients. */
static inline void axpy(float *restrict y, const float *restrict x,
                        float a, size_t n)
{
	for (size_t r = 0; r < n; r++)
		y[r] += a * x[r];
}

/*
 * y[s][o] = b[o] + sum over i of x[s][i] w[o][i].  Eight lanes of
 * partial sums, written as explicit vectors so no compiler may reorder
 * them; four examples share each row of w while it is in L1.
 */
HOT void ddk_dense_forward(const float *x, size_t B, size_t n_in,
                           size_t n_out, const float *w, const float *b,
                           float *y)
{
	size_t n8 = n_in & ~(size_t)7, s = 0;

	for (; s + 4 <= B; s += 4) {
		const float *x0 = x + s * n_in, *x1 = x0 + n_in;
		const float *x2 = x1 + n_in, *x3 = x2 + n_in;

		for (size_t o = 0; o < n_out; o++) {
			const float *wo = w + o * n_in;
			v8f a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
			float t[4];

			for (size_t i = 0; i < n8; i += 8) {
				v8f wv, u0, u1, u2, u3;

				load8(&wv, wo + i);
				load8(&u0, x0 + i);
				load8(&u1, x1 + i);
				load8(&u2, x2 + i);
				load8(&u3, x3 + i);
				a0 += u0 * wv;
				a1 += u1 * wv;
				a2 += u2 * wv;
				a3 += u3 * wv;
			}
			t[0] = hsum8(&a0);
			t[1] = hsum8(&a1);
			t[2] = hsum8(&a2);
			t[3] = hsum8(&a3);
			for (size_t i = n8; i < n_in; i++) {
				t[0] += x0[i] * wo[i];
				t[1] += x1[i] * wo[i];
				t[2] += x2[i] * wo[i];
				t[3] += x3[i] * wo[i];
			}
			for (int k = 0; k < 4; k++)
				y[(s + (size_t)k) * n_out + o] = b[o] + t[k];
		}
	}
	for (; s < B; s++)
		for (size_t o = 0; o < n_out; o++) {
			const float *xs = x + s * n_in, *wo = w + o * n_in;
			v8f a = { 0 };
			float t;

			for (size_t i = 0; i < n8; i += 8) {
				v8f u, wv;

				load8(&u, xs + i);
				load8(&wv, wo + i);
				a += u * wv;
			}
			t = hsum8(&a);
			for (size_t i = n8; i < n_in; i++)
				t += xs[i] * wo[i];
			y[s * n_out + o] = b[o] + t;
		}
}

/* dw[o][i] += sum over s of dy[s][o] x[s][i], s in order. */
HOT static void dense_dw(const float *x, const float *dy, size_t B,
                         size_t n_in, size_t n_out, float *dw)
{
	size_t s = 0;

	for (; s + 4 <= B; s += 4) {
		const float *x0 = x + s * n_in, *x1 = x0 + n_in;
		const float *x2 = x1 + n_in, *x3 = x2 + n_in;
		const float *d = dy + s * n_out;

		for (size_t o = 0; o < n_out; o++) {
			float *restrict g = dw + o * n_in;
			float a0 = d[o], a1 = d[n_out + o];
			float a2 = d[2 * n_out + o], a3 = d[3 * n_out + o];

			for (size_t i = 0; i < n_in; i++)
				g[i] = g[i] + a0 * x0[i] + a1 * x1[i]
					+ a2 * x2[i] + a3 * x3[i];
		}
	}
	for (; s < B; s++)
		for (size_t o = 0; o < n_out; o++)
			axpy(dw + o * n_in, x + s * n_in, dy[s * n_out + o],
			     n_in);
}

/* dx[s] = sum over o of dy[s][o] w[o], o in order. */
HOT static void dense_dx(const float *dy, size_t B, size_t n_in,
                         size_t n_out, const float *w, float *dx)
{
	size_t s = 0;

	for (; s + 4 <= B; s += 4) {
		float *restrict x0 = dx + s * n_in, *restrict x1 = x0 + n_in;
		float *restrict x2 = x1 + n_in, *restrict x3 = x2 + n_in;
		const float *d = dy + s * n_out;

		memset(x0, 0, 4 * n_in * sizeof *x0);
		for (size_t o = 0; o < n_out; o++) {
			const float *restrict wo = w + o * n_in;
			float a0 = d[o], a1 = d[n_out + o];
			float a2 = d[2 * n_out + o], a3 = d[3 * n_out + o];

			for (size_t i = 0; i < n_in; i++) {
				float wi = wo[i];

				x0[i] += a0 * wi;
				x1[i] += a1 * wi;
				x2[i] += a2 * wi;
				x3[i] += a3 * wi;
			}
		}
	}
	for (; s < B; s++) {
		memset(dx + s * n_in, 0, n_in * sizeof *dx);
		for (size_t o = 0; o < n_out; o++)
			axpy(dx + s * n_in, w + o * n_in, dy[s * n_out + o],
			     n_in);
	}
}

void ddk_dense_backward(const float *x, const float *dy, size_t B,
                        size_t n_in, size_t n_out, const float *w,
                        float *dw, float *db, float *dx)
{
	for (size_t s = 0; s < B; s++)
		for (size_t o = 0; o < n_out; o++)
			db[o] += dy[s * n_out + o];
	dense_dw(x, dy, B, n_in, n_out, dw);
	if (dx)
		dense_dx(dy, B, n_in, n_out, w, dx);
}

/* ------------------------------------------------------------------ */
/* activations                                                          */

void ddk_act_forward(ddk_activation a, const float *x, size_t n, float *y)
{
	switch (a) {
	case DDK_ACT_SIGMOID:
		for (size_t i = 0; i < n; i++)
			y[i] = 1.0f / (1.0f + expf(-x[i]));
		break;
	case DDK_ACT_TANH:
		for (size_t i = 0; i < n; i++)
			y[i] = tanhf(x[i]);
		break;
	case DDK_ACT_RELU:
		for (size_t i = 0; i < n; i++)
			y[i] = x[i] > 0 ? x[i] : 0;
		break;
	case DDK_ACT_IDENTITY:
		if (y != x)
			memmove(y, x, n * sizeof *y);
		break;
	}
}

void ddk_act_backward(ddk_activation a, const float *y, const float *dy,
                      size_t n, float *dx)
{
	switch (a) {
	case DDK_ACT_SIGMOID:
		for (size_t i = 0; i < n; i++)
			dx[i] = dy[i] * y[i] * (1 - y[i]);
		break;
	case DDK_ACT_TANH:
		for (size_t i = 0; i < n; i++)
			dx[i] = dy[i] * (1 - y[i] * y[i]);
		break;
	case DDK_ACT_RELU:
		for (size_t i = 0; i < n; i++)
			dx[i] = y[i] > 0 ? dy[i] : 0;
		break;
	case DDK_ACT_IDENTITY:
		if (dx != dy)
			memmove(dx, dy, n * sizeof *dx);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* batch normalisation                                                  */

void ddk_bn_forward(const float *x, size_t B, size_t n, const float *gamma,
                    const float *shift, float *xhat, float *y, float *mean,
                    float *inv_std)
{
	/* statistics per feature in double, rows taken in order */
	for (size_t j = 0; j < n; j++) {
		double m = 0, v = 0;

		for (size_t s = 0; s < B; s++)
			m += x[s * n + j];
		m /= (double)B;
		for (size_t s = 0; s < B; s++) {
			double d = x[s * n + j] - m;

			v += d * d;
		}
		v /= (double)B;
		mean[j] = (float)m;
		inv_std[j] = (float)(1 / sqrt(v + DDK_BN_EPS));
	}

	for (size_t s = 0; s < B; s++)
		for (size_t j = 0; j < n; j++) {
			float h = (x[s * n + j] - mean[j]) * inv_std[j];

			xhat[s * n + j] = h;
			y[s * n + j] = gamma[j] * h + shift[j];
		}
}

void ddk_bn_backward(const float *xhat, const float *dy, size_t B, size_t n,
                     const float *gamma, const float *inv_std,
                     float *dgamma, float *dshift, float *dx)
{
	for (size_t j = 0; j < n; j++) {
		double sd = 0, sdh = 0;

		for (size_t s = 0; s < B; s++) {
			sd += dy[s * n + j];
			sdh += (double)dy[s * n + j] * xhat[s * n + j];
		}
		dgamma[j] += (float)sdh;
		dshift[j] += (float)sd;

		/* dx = gamma inv_std / B (B dy - sum dy - xhat sum dy xhat) */
		double k = gamma[j] * inv_std[j] / (double)B;

		for (size_t s = 0; s < B; s++) {
			size_t q = s * n + j;

			dx[q] = (float)(k * ((double)B * dy[q] - sd
			                     - xhat[q] * sdh));
		}
	}
}

void ddk_bn_forward_eval(const float *x, size_t B, size_t n,
                         const float *gamma, const float *shift,
                         const float *run_mean, const float *run_var,
                         float *y)
{
	for (size_t s = 0; s < B; s++)
		for (size_t j = 0; j < n; j++) {
			float is = 1.0f / sqrtf(run_var[j] + DDK_BN_EPS);

			y[s * n + j] = gamma[j] * (x[s * n + j] - run_mean[j])
				* is + shift[j];
		}
}

/* ------------------------------------------------------------------ */
/* softmax cross-entropy                                                */

double ddk_softmax_xent(const float *logits, const int *labels, size_t B,
                        size_t C, float *probs, float *dlogits,
                        size_t *right)
{
	double loss = 0;

	for (size_t s = 0; s < B; s++) {
		const float *l = logits + s * C;
		float *p = probs + s * C;
		size_t best = 0;
		double sum = 0;

		for (size_t c = 1; c < C; c++)
			if (l[c] > l[best])
				best = c;
		for (size_t c = 0; c < C; c++)
			sum += exp((double)l[c] - l[best]);
		for (size_t c = 0; c < C; c++)
			p[c] = (float)(exp((double)l[c] - l[best]) / sum);
		if (!labels)
			continue;

		int y = labels[s];

		loss += log(sum) - ((double)l[y] - l[best]);
		if (right && (size_t)y == best)
			++*right;
		if (dlogits)
			for (size_t c = 0; c < C; c++)
				dlogits[s * C + c] = (p[c] - (c == (size_t)y))
					/ (float)B;
	}
	return B ? loss / (double)B : 0;
}

/* ------------------------------------------------------------------ */
/* the DDK layer                                                        */

/* Spread channel k's pair over the B*U rows of a batch. */
static void spread_pairs(const ddk_ddk_layer *L, size_t k, size_t B,
                         float *ar, float *br)
{
	size_t U = L->U;

	for (size_t s = 0; s < B; s++)
		for (size_t u = 0; u < U; u++) {
			size_t q = L->per_row ? k * U + u : k;

			ar[s * U + u] = L->alpha[q];
			br[s * U + u] = L->beta[q];
		}
}

void ddk_ddk_forward(const ddk_ddk_layer *L, const float *x, size_t B,
                     float *z, float *work)
{
	size_t rows = B * L->U, map = L->U * L->T;
	float *ar = work, *br = ar + rows, *zk = br + rows;

	for (size_t k = 0; k < L->K; k++) {
		spread_pairs(L, k, B, ar, br);
		if (L->K == 1) {
			ddk_map_forward(x, rows, L->T, ar, br, L->mode, z);
			break;
		}

		/* one channel for the whole batch, then into place */
		ddk_map_forward(x, rows, L->T, ar, br, L->mode, zk);
		for (size_t s = 0; s < B; s++)
			memcpy(z + (s * L->K + k) * map, zk + s * map,
			       map * sizeof *z);
	}
}

void ddk_ddk_backward(const ddk_ddk_layer *L, const float *x,
                      const float *z, const float *dz, size_t B,
                      double *dalpha, double *dbeta, float *work,
                      double *dwork)
{
	size_t U = L->U, rows = B * U, map = U * L->T;
	float *ar = work, *br = ar + rows, *zk = br + rows;
	float *dzk = zk + rows * L->T;
	double *da = dwork, *dbr = dwork + rows;

	for (size_t k = 0; k < L->K; k++) {
		const float *zc = z, *dzc = dz;

		spread_pairs(L, k, B, ar, br);
		if (L->K > 1) {
			for (size_t s = 0; s < B; s++) {
				size_t from = (s * L->K + k) * map;

				memcpy(zk + s * map, z + from,
				       map * sizeof *zk);
				memcpy(dzk + s * map, dz + from,
				       map * sizeof *dzk);
			}
			zc = zk;
			dzc = dzk;
		}
		memset(dwork, 0, 2 * rows * sizeof *dwork);
		ddk_map_backward(x, zc, dzc, rows, L->T, ar, br, L->mode,
		                 da, dbr, NULL);

		/* rows back to their pairs, examples in order */
		for (size_t r = 0; r < rows; r++) {
			size_t q = L->per_row ? k * U + r % U : k;

			dalpha[q] += da[r];
			dbeta[q] += dbr[r];
		}
	}
}
