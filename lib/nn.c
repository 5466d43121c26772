/*
 * nn.c - layers, the network and the optimisers of ddk_nn.h.
 *
 * Every sum of the dense layer runs in a fixed order, each step one
 * fused multiply-add (a product added with one rounding), so its bits
 * are the same on every machine.  On x86-64 with AVX2 and FMA the
 * kernels are register-blocked SIMD: in the gradients a lane holds one
 * output and adds its terms in the order a scalar loop would (examples
 * in order for dw, rows of w in order for dx); the forward's dot
 * products keep eight lanes of partial sums, added up in a fixed order.
 * Elsewhere portable loops make the same steps with fmaf(), correctly
 * rounded, hence the same bits.  No other expression here may be fused:
 * contraction stays off.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic", "fp-contract=off")
#endif
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ddk_nn.h"

#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__)
#include <immintrin.h>
#define DENSE_SIMD 1
#endif
#if defined(DENSE_SIMD) && !defined(DDK_NO_CLONES)
#define HOT __attribute__((target_clones("avx2", "default")))
#else
#define HOT
#endif

typedef float v8f __attribute__((vector_size(32)));

/* Vectors go by pointer: passing them by value would tie the ABI to
 * the instruction set. */
static inline void load8(v8f *v, const float *p)
{
	memcpy(v, p, sizeof *v);
}

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

/* Eight partial sums added up in a fixed order. */
static inline float sum8(const float a[8])
{
	return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

/* The lanes of v added in the same order. */
static inline float hsum8(const v8f *v)
{
	return sum8((const float *)v);
}

static int dense_simd = 2;      /* the widest path allowed: 0 portable,
                                 * 1 AVX2, 2 AVX-512 */

void ddk_dense_use_simd(int level)
{
	dense_simd = level < 0 ? 0 : level > 2 ? 2 : level;
}

/* The portable kernels: one fmaf per term, in the order of the SIMD
 * ones below. */
static void forward_fmaf(const float *x, size_t B, size_t n_in,
                         size_t n_out, const float *w, const float *b,
                         float *y)
{
	size_t n8 = n_in & ~(size_t)7;

	for (size_t s = 0; s < B; s++)
		for (size_t o = 0; o < n_out; o++) {
			const float *xs = x + s * n_in, *wo = w + o * n_in;
			float lane[8] = { 0 }, t;

			for (size_t i = 0; i < n8; i++)
				lane[i % 8] = fmaf(xs[i], wo[i], lane[i % 8]);
			t = sum8(lane);
			for (size_t i = n8; i < n_in; i++)
				t = fmaf(xs[i], wo[i], t);
			y[s * n_out + o] = b[o] + t;
		}
}

static void dw_fmaf(const float *x, const float *dy, size_t B, size_t n_in,
                    size_t n_out, float *dw)
{
	for (size_t o = 0; o < n_out; o++)
		for (size_t s = 0; s < B; s++) {
			float d = dy[s * n_out + o];

			for (size_t i = 0; i < n_in; i++)
				dw[o * n_in + i] = fmaf(d, x[s * n_in + i],
				                        dw[o * n_in + i]);
		}
}

static void dx_fmaf(const float *dy, size_t B, size_t n_in, size_t n_out,
                    const float *w, float *dx)
{
	for (size_t s = 0; s < B; s++) {
		float *r = dx + s * n_in;

		memset(r, 0, n_in * sizeof *r);
		for (size_t o = 0; o < n_out; o++)
			for (size_t i = 0; i < n_in; i++)
				r[i] = fmaf(dy[s * n_out + o], w[o * n_in + i],
				            r[i]);
	}
}

#ifdef DENSE_SIMD
#define FMA_TARGET __attribute__((target("avx2,fma")))
#define KERNEL static inline __attribute__((always_inline, \
                                             target("avx2,fma")))

/* 1 when this CPU has AVX2 and FMA. */
static int have_fma(void)
{
	static int level = -1;

	if (level < 0)
		level = __builtin_cpu_supports("avx2") &&
		        __builtin_cpu_supports("fma");
	return level;
}

/* The dot products of 4 examples with rows o and o + 1 of w. */
KERNEL void dot4x2(const float *const xs[4], const float *w0,
                   const float *w1, size_t n8, size_t n_in, float t[4][2])
{
	__m256 a[4][2];
	float l[8];

	#pragma GCC unroll 4
	for (int k = 0; k < 4; k++)
		a[k][0] = a[k][1] = _mm256_setzero_ps();
	for (size_t i = 0; i < n8; i += 8) {
		__m256 p0 = _mm256_loadu_ps(w0 + i);
		__m256 p1 = _mm256_loadu_ps(w1 + i);

		#pragma GCC unroll 4
		for (int k = 0; k < 4; k++) {
			__m256 u = _mm256_loadu_ps(xs[k] + i);

			__asm__("" : "+x"(u));  /* one load for both rows */
			a[k][0] = _mm256_fmadd_ps(u, p0, a[k][0]);
			a[k][1] = _mm256_fmadd_ps(u, p1, a[k][1]);
		}
	}
	for (int k = 0; k < 4; k++) {
		_mm256_storeu_ps(l, a[k][0]);
		t[k][0] = sum8(l);
		_mm256_storeu_ps(l, a[k][1]);
		t[k][1] = sum8(l);
		for (size_t i = n8; i < n_in; i++) {
			t[k][0] = fmaf(xs[k][i], w0[i], t[k][0]);
			t[k][1] = fmaf(xs[k][i], w1[i], t[k][1]);
		}
	}
}

/* One dot product, the same steps as a lane of dot4x2. */
KERNEL float dot1(const float *x, const float *w, size_t n8, size_t n_in)
{
	__m256 a = _mm256_setzero_ps();
	float l[8], t;

	for (size_t i = 0; i < n8; i += 8)
		a = _mm256_fmadd_ps(_mm256_loadu_ps(x + i),
		                    _mm256_loadu_ps(w + i), a);
	_mm256_storeu_ps(l, a);
	t = sum8(l);
	for (size_t i = n8; i < n_in; i++)
		t = fmaf(x[i], w[i], t);
	return t;
}

/* Rows o .. n_out - 1 of the four examples xs (the first is example s):
 * two rows of w to a pass, then one. */
KERNEL void rows_from(const float *const xs[4], size_t s, size_t o,
                      size_t n8, size_t n_in, size_t n_out, const float *w,
                      const float *b, float *y)
{
	for (; o + 2 <= n_out; o += 2) {
		float t[4][2];

		dot4x2(xs, w + o * n_in, w + (o + 1) * n_in, n8, n_in, t);
		for (size_t k = 0; k < 4; k++) {
			y[(s + k) * n_out + o] = b[o] + t[k][0];
			y[(s + k) * n_out + o + 1] = b[o + 1] + t[k][1];
		}
	}
	for (; o < n_out; o++)
		for (size_t k = 0; k < 4; k++)
			y[(s + k) * n_out + o] = b[o] +
				dot1(xs[k], w + o * n_in, n8, n_in);
}

/* Examples s .. B - 1, one dot product at a time. */
KERNEL void examples_from(const float *x, size_t s, size_t B, size_t n8,
                          size_t n_in, size_t n_out, const float *w,
                          const float *b, float *y)
{
	for (; s < B; s++)
		for (size_t o = 0; o < n_out; o++)
			y[s * n_out + o] = b[o] + dot1(x + s * n_in,
			                               w + o * n_in, n8, n_in);
}

/* The forward, four examples and two rows of w to a pass. */
FMA_TARGET static void forward_fma(const float *x, size_t B, size_t n_in,
                                   size_t n_out, const float *w,
                                   const float *b, float *y)
{
	size_t n8 = n_in & ~(size_t)7, s = 0;

	for (; s + 4 <= B; s += 4) {
		const float *xs[4] = { x + s * n_in, x + (s + 1) * n_in,
		                       x + (s + 2) * n_in, x + (s + 3) * n_in };

		rows_from(xs, s, 0, n8, n_in, n_out, w, b, y);
	}
	examples_from(x, s, B, n8, n_in, n_out, w, b, y);
}

/*
 * out[k][i] (+)= sum over j of a[k ka + j ja] m[j][i], j in order, for nk
 * rows of out (n_in columns each): sixteen columns at a time stay in
 * registers over the rows of m.  acc adds to what out holds, otherwise
 * the sums start from zero.  nk is a constant where this is inlined, so
 * the loops over k unroll.  Both backward products are this kernel:
 *   dw[o][i] += sum over s of dy[s][o] x[s][i]   (a = dy, ka 1, ja n_out)
 *   dx[s][i]  = sum over o of dy[s][o] w[o][i]   (a = dy, ka n_out, ja 1)
 */
KERNEL void fma_rows(const float *a, size_t ka, size_t ja, const float *m,
                     size_t nj, size_t n_in, size_t nk, int acc, float *out)
{
	size_t n16 = n_in & ~(size_t)15;

	for (size_t i = 0; i < n16; i += 16) {
		__m256 g[4][2];

		#pragma GCC unroll 4
		for (size_t k = 0; k < nk; k++) {
			const float *o = out + k * n_in + i;

			g[k][0] = acc ? _mm256_loadu_ps(o) : _mm256_setzero_ps();
			g[k][1] = acc ? _mm256_loadu_ps(o + 8) :
			          _mm256_setzero_ps();
		}
		for (size_t j = 0; j < nj; j++) {
			__m256 u0 = _mm256_loadu_ps(m + j * n_in + i);
			__m256 u1 = _mm256_loadu_ps(m + j * n_in + i + 8);

			#pragma GCC unroll 4
			for (size_t k = 0; k < nk; k++) {
				__m256 ak = _mm256_set1_ps(a[k * ka + j * ja]);

				g[k][0] = _mm256_fmadd_ps(ak, u0, g[k][0]);
				g[k][1] = _mm256_fmadd_ps(ak, u1, g[k][1]);
			}
		}
		#pragma GCC unroll 4
		for (size_t k = 0; k < nk; k++) {
			_mm256_storeu_ps(out + k * n_in + i, g[k][0]);
			_mm256_storeu_ps(out + k * n_in + i + 8, g[k][1]);
		}
	}
	for (size_t k = 0; k < nk; k++)
		for (size_t i = n16; i < n_in; i++) {
			float t = acc ? out[k * n_in + i] : 0;

			for (size_t j = 0; j < nj; j++)
				t = fmaf(a[k * ka + j * ja], m[j * n_in + i],
				         t);
			out[k * n_in + i] = t;
		}
}

/* 1 when this CPU has AVX-512 (foundation). */
static int have_avx512(void)
{
	static int level = -1;

	if (level < 0)
		level = __builtin_cpu_supports("avx512f");
	return level;
}

#define KERNEL512 static inline __attribute__((always_inline, \
                                                target("avx512f,avx2,fma")))

/* fma_rows with 32 columns at a time in two 512-bit registers, the last
 * block masked, and up to 8 rows of out (nk) a pass: each column is the
 * same chain of fused multiply-adds, so the bits are those of fma_rows. */
KERNEL512 void fma_rows512(const float *a, size_t ka, size_t ja,
                           const float *m, size_t nj, size_t n_in,
                           size_t nk, int acc, float *out)
{
	for (size_t i = 0; i < n_in; i += 32) {
		size_t left = n_in - i;
		__mmask16 k0 = left >= 16 ? 0xffff
		             : (__mmask16)((1u << left) - 1);
		__mmask16 k1 = left >= 32 ? 0xffff : left > 16
		             ? (__mmask16)((1u << (left - 16)) - 1) : 0;
		__m512 g[8][2];

		#pragma GCC unroll 8
		for (size_t k = 0; k < nk; k++) {
			const float *o = out + k * n_in + i;

			g[k][0] = acc ? _mm512_maskz_loadu_ps(k0, o)
			              : _mm512_setzero_ps();
			g[k][1] = acc ? _mm512_maskz_loadu_ps(k1, o + 16)
			              : _mm512_setzero_ps();
		}
		for (size_t j = 0; j < nj; j++) {
			const float *r = m + j * n_in + i;
			__m512 u0 = _mm512_maskz_loadu_ps(k0, r);
			__m512 u1 = _mm512_maskz_loadu_ps(k1, r + 16);

			#pragma GCC unroll 8
			for (size_t k = 0; k < nk; k++) {
				__m512 ak = _mm512_set1_ps(a[k * ka + j * ja]);

				g[k][0] = _mm512_fmadd_ps(ak, u0, g[k][0]);
				g[k][1] = _mm512_fmadd_ps(ak, u1, g[k][1]);
			}
		}
		#pragma GCC unroll 8
		for (size_t k = 0; k < nk; k++) {
			_mm512_mask_storeu_ps(out + k * n_in + i, k0, g[k][0]);
			_mm512_mask_storeu_ps(out + k * n_in + i + 16, k1,
			                      g[k][1]);
		}
	}
}

/* The eight floats at p in both halves of a 512-bit register. */
KERNEL512 __m512 twice8(const float *p)
{
	__m512 t = _mm512_castps256_ps512(_mm256_loadu_ps(p));

	return _mm512_shuffle_f32x4(t, t, 0x44);
}

/* Eight floats from p and eight from q, side by side. */
KERNEL512 __m512 pair8(const float *p, const float *q)
{
	return _mm512_shuffle_f32x4(_mm512_castps256_ps512(_mm256_loadu_ps(p)),
	                            _mm512_castps256_ps512(_mm256_loadu_ps(q)),
	                            0x44);
}

/* dot4x2 for rows o .. o + nr - 1 at once (nr 4 or 8): each register
 * holds the eight lanes of two rows, so every row's sum has the lanes
 * and order of dot4x2 and the same bits. */
KERNEL512 void dot4xr_512(const float *const xs[4], const float *const *ws,
                          size_t nr, size_t n8, size_t n_in, float t[4][8])
{
	__m512 a[4][4];
	float l[16];

	#pragma GCC unroll 4
	for (int k = 0; k < 4; k++)
		#pragma GCC unroll 4
		for (size_t h = 0; h < nr / 2; h++)
			a[k][h] = _mm512_setzero_ps();
	for (size_t i = 0; i < n8; i += 8) {
		__m512 wp[4];

		#pragma GCC unroll 4
		for (size_t h = 0; h < nr / 2; h++)
			wp[h] = pair8(ws[2 * h] + i, ws[2 * h + 1] + i);
		#pragma GCC unroll 4
		for (int k = 0; k < 4; k++) {
			__m512 u = twice8(xs[k] + i);

			#pragma GCC unroll 4
			for (size_t h = 0; h < nr / 2; h++)
				a[k][h] = _mm512_fmadd_ps(u, wp[h], a[k][h]);
		}
	}
	for (int k = 0; k < 4; k++)
		for (size_t h = 0; h < nr / 2; h++) {
			_mm512_storeu_ps(l, a[k][h]);
			t[k][2 * h] = sum8(l);
			t[k][2 * h + 1] = sum8(l + 8);
		}
	for (int k = 0; k < 4; k++)
		for (size_t r = 0; r < nr; r++)
			for (size_t i = n8; i < n_in; i++)
				t[k][r] = fmaf(xs[k][i], ws[r][i], t[k][r]);
}

/* forward_fma with eight or four rows of w to a pass where there are. */
__attribute__((target("avx512f,avx2,fma")))
static void forward_512(const float *x, size_t B, size_t n_in, size_t n_out,
                        const float *w, const float *b, float *y)
{
	size_t n8 = n_in & ~(size_t)7, s = 0;

	for (; s + 4 <= B; s += 4) {
		const float *xs[4] = { x + s * n_in, x + (s + 1) * n_in,
		                       x + (s + 2) * n_in, x + (s + 3) * n_in };
		size_t o = 0;

		for (size_t nr = 8; nr >= 4; nr /= 2)
			for (; o + nr <= n_out; o += nr) {
				const float *ws[8];
				float t[4][8];

				for (size_t r = 0; r < nr; r++)
					ws[r] = w + (o + r) * n_in;
				if (nr == 8)
					dot4xr_512(xs, ws, 8, n8, n_in, t);
				else
					dot4xr_512(xs, ws, 4, n8, n_in, t);
				for (size_t k = 0; k < 4; k++)
					for (size_t r = 0; r < nr; r++)
						y[(s + k) * n_out + o + r] =
							b[o + r] + t[k][r];
			}
		rows_from(xs, s, o, n8, n_in, n_out, w, b, y);
	}
	examples_from(x, s, B, n8, n_in, n_out, w, b, y);
}

__attribute__((target("avx512f,avx2,fma")))
static void dw_512(const float *x, const float *dy, size_t B, size_t n_in,
                   size_t n_out, float *dw)
{
	size_t o = 0;

	for (; o + 8 <= n_out; o += 8)
		fma_rows512(dy + o, 1, n_out, x, B, n_in, 8, 1, dw + o * n_in);
	for (; o + 4 <= n_out; o += 4)
		fma_rows512(dy + o, 1, n_out, x, B, n_in, 4, 1, dw + o * n_in);
	for (; o < n_out; o++)
		fma_rows512(dy + o, 1, n_out, x, B, n_in, 1, 1, dw + o * n_in);
}

__attribute__((target("avx512f,avx2,fma")))
static void dx_512(const float *dy, size_t B, size_t n_in, size_t n_out,
                   const float *w, float *dx)
{
	size_t s = 0;

	for (; s + 8 <= B; s += 8)
		fma_rows512(dy + s * n_out, n_out, 1, w, n_out, n_in, 8, 0,
		            dx + s * n_in);
	for (; s + 4 <= B; s += 4)
		fma_rows512(dy + s * n_out, n_out, 1, w, n_out, n_in, 4, 0,
		            dx + s * n_in);
	for (; s < B; s++)
		fma_rows512(dy + s * n_out, n_out, 1, w, n_out, n_in, 1, 0,
		            dx + s * n_in);
}

FMA_TARGET static void dw_fma(const float *x, const float *dy, size_t B,
                              size_t n_in, size_t n_out, float *dw)
{
	size_t o = 0;

	for (; o + 4 <= n_out; o += 4)
		fma_rows(dy + o, 1, n_out, x, B, n_in, 4, 1, dw + o * n_in);
	for (; o < n_out; o++)
		fma_rows(dy + o, 1, n_out, x, B, n_in, 1, 1, dw + o * n_in);
}

FMA_TARGET static void dx_fma(const float *dy, size_t B, size_t n_in,
                              size_t n_out, const float *w, float *dx)
{
	size_t s = 0;

	for (; s + 4 <= B; s += 4)
		fma_rows(dy + s * n_out, n_out, 1, w, n_out, n_in, 4, 0,
		         dx + s * n_in);
	for (; s < B; s++)
		fma_rows(dy + s * n_out, n_out, 1, w, n_out, n_in, 1, 0,
		         dx + s * n_in);
}

#define USE_FMA() (dense_simd && have_fma())
#define USE_512() (dense_simd > 1 && have_fma() && have_avx512())
#else
#define USE_FMA() 0
#define USE_512() 0
#define forward_fma forward_fmaf
#define dw_fma dw_fmaf
#define dx_fma dx_fmaf
#define forward_512 forward_fmaf
#define dw_512 dw_fmaf
#define dx_512 dx_fmaf
#endif

void ddk_dense_forward(const float *x, size_t B, size_t n_in, size_t n_out,
                       const float *w, const float *b, float *y)
{
	if (USE_512())
		forward_512(x, B, n_in, n_out, w, b, y);
	else if (USE_FMA())
		forward_fma(x, B, n_in, n_out, w, b, y);
	else
		forward_fmaf(x, B, n_in, n_out, w, b, y);
}

void ddk_dense_backward(const float *x, const float *dy, size_t B,
                        size_t n_in, size_t n_out, const float *w,
                        float *dw, float *db, float *dx)
{
	int fast = USE_512() ? 2 : USE_FMA();

	for (size_t s = 0; s < B; s++)
		for (size_t o = 0; o < n_out; o++)
			db[o] += dy[s * n_out + o];
	if (fast == 2)
		dw_512(x, dy, B, n_in, n_out, dw);
	else if (fast)
		dw_fma(x, dy, B, n_in, n_out, dw);
	else
		dw_fmaf(x, dy, B, n_in, n_out, dw);
	if (dx && fast == 2)
		dx_512(dy, B, n_in, n_out, w, dx);
	else if (dx && fast)
		dx_fma(dy, B, n_in, n_out, w, dx);
	else if (dx)
		dx_fmaf(dy, B, n_in, n_out, w, dx);
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
                    const float *shift, float eps, float *xhat, float *y,
                    float *mean, float *inv_std)
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
		inv_std[j] = (float)(1 / sqrt(v + eps));
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
                         float eps, float *y)
{
	for (size_t s = 0; s < B; s++)
		for (size_t j = 0; j < n; j++) {
			float is = 1.0f / sqrtf(run_var[j] + eps);

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

/*
 * The reverse pass of one example's map for one channel, U rows of T
 * steps.  With zp = z(t-1), live(t) = (z(t) was not clamped) and
 * q(t) = 1 - alpha / zp^2 = dz(t)/dz(t-1), the adjoint g(t) of z(t) is
 *
 *   s(t) = dz(t) + c(t),  gl(t) = live(t) s(t),  c(t-1) = gl(t) q(t)
 *
 * and dL/dalpha = sum gl(t) / zp, dL/dbeta = sign sum gl(t) x(t-1).
 * Only c is serial: steps A (k = live q) and C (the sums) run along t
 * in eight lanes; step B is ddk_map_chain, which runs the rows side by
 * side so that their chains overlap.  work holds 2 U T floats (k, then
 * s).
 */
typedef int v8i __attribute__((vector_size(32)));

static const float z_floor = (float)DDK_Z_FLOOR;
static const float z_ceil = (float)DDK_Z_CEIL;

/* Keep the lanes of v where z was not clamped, zero the others. */
static inline void keep_live(v8f *v, const v8f *z)
{
	v8i m = (*z > z_floor) & (*z < z_ceil);

	*v = (v8f)((v8i)*v & m);
}

/* Step A at steps t..t+7: live(t) (1 - alpha / zp^2). */
static inline void k8(const float *z, size_t t, float a, v8f *q)
{
	v8f zc, zp;

	load8(&zc, z + t);
	load8(&zp, z + t - 1);
	*q = 1 - a / (zp * zp);
	keep_live(q, &zc);
}

/* Step A: k[t] = live(t) (1 - alpha / zp^2) along one row.  Past the
 * last whole vector, the last eight steps again (T > 8): elementwise,
 * so the overlap writes the values it had. */
HOT static void ddk_row_k(const float *z, size_t T, float a, float *k)
{
	size_t t = 1;
	v8f q;

	k[0] = z[0] > z_floor && z[0] < z_ceil ? 1 - a : 0;  /* zp = 1 */
	for (; t + 8 <= T; t += 8) {
		k8(z, t, a, &q);
		memcpy(k + t, &q, sizeof q);
	}
	if (t < T && T > 8) {
		k8(z, T - 8, a, &q);
		memcpy(k + T - 8, &q, sizeof q);
		return;
	}
	for (; t < T; t++)
		k[t] = z[t] > z_floor && z[t] < z_ceil ?
			1 - a / (z[t - 1] * z[t - 1]) : 0;
}

/* Step C's terms at steps t..t+7: gl / zp and gl x. */
static inline void sums8(const float *x, const float *z, const float *s,
                         size_t t, v8f *qa, v8f *qb)
{
	v8f zc, zp, sv, xv;

	load8(&zc, z + t);
	load8(&zp, z + t - 1);
	load8(&sv, s + t);
	load8(&xv, x + t);
	keep_live(&sv, &zc);
	*qa = sv / zp;
	*qb = sv * xv;
}

/* Step C: the sums of gl / zp and gl x along one row. */
HOT static void ddk_row_sums(const float *x, const float *z, const float *s,
                             size_t T, double *da, double *db)
{
	v8f va = { 0 }, vb = { 0 };
	float ta, tb, gl;
	size_t t = 1;

	gl = z[0] > z_floor && z[0] < z_ceil ? s[0] : 0;
	ta = gl;        /* zp = 1 */
	tb = gl * x[0];
	for (; t + 8 <= T; t += 8) {
		v8f qa, qb;

		sums8(x, z, s, t, &qa, &qb);
		va += qa;
		vb += qb;
	}
	if (t < T && T > 8) {
		/* the terms of the last eight steps, the new ones added in
		 * order as the loop below would */
		v8f qa, qb;

		sums8(x, z, s, T - 8, &qa, &qb);
		for (size_t l = 8 - (T - t); l < 8; l++)
			ta += qa[l], tb += qb[l];
		t = T;
	}
	for (; t < T; t++) {
		gl = z[t] > z_floor && z[t] < z_ceil ? s[t] : 0;
		ta += gl / z[t - 1];
		tb += gl * x[t];
	}
	*da += (double)(hsum8(&va) + ta);
	*db += (double)(hsum8(&vb) + tb);
}

/* Steps A, B, C over the U rows of one example's channel c. */
static void ddk_map_adjoint(const ddk_ddk_layer *L, size_t c, const float *x,
                            const float *z, const float *dz, double *dalpha,
                            double *dbeta, float *work)
{
	size_t U = L->U, T = L->T, u;
	float *k = work, *s = work + U * T;
	double sign = L->mode == DDK_SET ? 1 : -1;

	for (u = 0; u < U; u++)
		ddk_row_k(z + u * T, T, L->alpha[L->per_row ? c * U + u : c],
		          k + u * T);
	ddk_map_chain(dz, k, U, T, s);

	/* rows back to their pairs, in order */
	for (u = 0; u < U; u++) {
		size_t q = L->per_row ? c * U + u : c;
		double da = 0, db = 0;

		ddk_row_sums(x + u * T, z + u * T, s + u * T, T, &da, &db);
		dalpha[q] += da;
		dbeta[q] += sign * db;
	}
}

void ddk_ddk_backward(const ddk_ddk_layer *L, const float *x,
                      const float *z, const float *dz, size_t B,
                      double *dalpha, double *dbeta, float *work)
{
	size_t map = L->U * L->T;

	for (size_t e = 0; e < B; e++)
		for (size_t c = 0; c < L->K; c++)
			ddk_map_adjoint(L, c, x + e * map,
			                z + (e * L->K + c) * map,
			                dz + (e * L->K + c) * map, dalpha, dbeta,
			                work);
}
