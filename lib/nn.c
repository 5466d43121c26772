/*
 * nn.c - layers, the network and the optimisers of ddk_nn.h.
 *
 * Every sum runs in a fixed order whatever the vector width: the dense
 * kernels add whole rows (axpy), so a SIMD lane holds one output and adds
 * its terms in the same order a scalar loop would.  GCC is asked for its
 * full vectoriser here (at -O2 it only takes loops with a known trip
 * count), and x86_64 builds carry an AVX2 clone of each kernel.
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

/* y[r] += a * x[r] over n: the one primitive of the dense layer. */
static inline void axpy(float *restrict y, const float *restrict x,
                        float a, size_t n)
{
	for (size_t r = 0; r < n; r++)
		y[r] += a * x[r];
}

HOT void ddk_dense_forward(const float *x, size_t B, size_t n_in,
                           size_t n_out, const float *wt, const float *b,
                           float *y)
{
	size_t s = 0;

	/* four examples share each row of wt while it is in L1 */
	for (; s + 4 <= B; s += 4) {
		float *restrict y0 = y + s * n_out, *restrict y1 = y0 + n_out;
		float *restrict y2 = y1 + n_out, *restrict y3 = y2 + n_out;
		const float *x0 = x + s * n_in;

		for (size_t o = 0; o < n_out; o++)
			y0[o] = y1[o] = y2[o] = y3[o] = b[o];
		for (size_t i = 0; i < n_in; i++) {
			float a0 = x0[i], a1 = x0[n_in + i];
			float a2 = x0[2 * n_in + i], a3 = x0[3 * n_in + i];
			const float *restrict w = wt + i * n_out;

			if (a0 == 0 && a1 == 0 && a2 == 0 && a3 == 0)
				continue;
			for (size_t o = 0; o < n_out; o++) {
				float wo = w[o];

				y0[o] += a0 * wo;
				y1[o] += a1 * wo;
				y2[o] += a2 * wo;
				y3[o] += a3 * wo;
			}
		}
	}
	for (; s < B; s++) {
		float *ys = y + s * n_out;

		memcpy(ys, b, n_out * sizeof *ys);
		for (size_t i = 0; i < n_in; i++)
			if (x[s * n_in + i] != 0)
				axpy(ys, wt + i * n_out, x[s * n_in + i], n_out);
	}
}

/* dwt[i][o] += sum over s of x[s][i] dy[s][o], s in order. */
HOT static void dense_dw(const float *x, const float *dy, size_t B,
                         size_t n_in, size_t n_out, float *dwt)
{
	size_t s = 0;

	for (; s + 4 <= B; s += 4) {
		const float *d0 = dy + s * n_out, *d1 = d0 + n_out;
		const float *d2 = d1 + n_out, *d3 = d2 + n_out;
		const float *x0 = x + s * n_in;

		for (size_t i = 0; i < n_in; i++) {
			float a0 = x0[i], a1 = x0[n_in + i];
			float a2 = x0[2 * n_in + i], a3 = x0[3 * n_in + i];
			float *restrict g = dwt + i * n_out;

			for (size_t o = 0; o < n_out; o++)
				g[o] = g[o] + a0 * d0[o] + a1 * d1[o]
					+ a2 * d2[o] + a3 * d3[o];
		}
	}
	for (; s < B; s++)
		for (size_t i = 0; i < n_in; i++)
			axpy(dwt + i * n_out, dy + s * n_out,
			     x[s * n_in + i], n_out);
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
                        float *dwt, float *db, float *dx)
{
	for (size_t s = 0; s < B; s++)
		for (size_t o = 0; o < n_out; o++)
			db[o] += dy[s * n_out + o];
	dense_dw(x, dy, B, n_in, n_out, dwt);
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
