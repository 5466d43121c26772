/*
 * kinetics.c - the DDK recurrence, its forward sensitivities and its
 * reverse pass (see ddk_kinetics.h for the maths and the floor rule).
 *
 * The float map functions work on blocks of LANES rows.  A block's x is
 * transposed, CHUNK steps at a time, into xt[step][lane], so that for a
 * fixed step the update runs over contiguous lanes and the compiler turns
 * it into SIMD.  Each lane's z(t) waits on a division by z(t-1), so one
 * vector alone would stall on the divider's latency; 32 lanes keep
 * several independent vectors in flight.  Rows left over after the
 * 32-lane blocks go through 8-lane blocks, so a 28-row map wastes 4 lanes,
 * not 36.
 */
#include <math.h>
#include <string.h>
#include "ddk_kinetics.h"

#define CHUNK 32            /* steps transposed at a time */

/* x86_64 builds carry an AVX2 clone of each hot loop, picked at load
 * time; elsewhere the plain C is compiled for the baseline. */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__)
#define DDK_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DDK_CLONES
#endif

static int use_simd = 1;

void ddk_kinetics_use_simd(int on)
{
	use_simd = on;
}

static const float floor_f = (float)DDK_Z_FLOOR;
static const float ceil_f = (float)DDK_Z_CEIL;

static double mode_sign(ddk_mode mode)
{
	return mode == DDK_SET ? 1.0 : -1.0;
}

/* The clamp of ddk_kinetics.h; a NaN update falls to the floor. */
static double clamp_d(double u, int *live)
{
	*live = u > DDK_Z_FLOOR && u < DDK_Z_CEIL;
	if (*live)
		return u;
	return u >= DDK_Z_CEIL ? DDK_Z_CEIL : DDK_Z_FLOOR;
}

void ddk_row_forward_d(const double *x, size_t T, double alpha, double beta,
                       ddk_mode mode, double *z, double *dz_dalpha,
                       double *dz_dbeta)
{
	double s = mode_sign(mode), zp = DDK_Z0, sa = 0, sb = 0;

	for (size_t t = 0; t < T; t++) {
		int live;
		double u = zp + alpha / zp + s * beta * x[t];
		double zt = clamp_d(u, &live);

		/* d z(t) = (1 - alpha / z(t-1)^2) d z(t-1) + partials */
		if (live) {
			double dzdz = 1 - alpha / (zp * zp);

			sa = dzdz * sa + 1 / zp;
			sb = dzdz * sb + s * x[t];
		} else {
			sa = sb = 0;
		}
		if (dz_dalpha)
			dz_dalpha[t] = sa;
		if (dz_dbeta)
			dz_dbeta[t] = sb;
		z[t] = zt;
		zp = zt;
	}
}

void ddk_row_backward_d(const double *x, const double *z, const double *dz,
                        size_t T, double alpha, double beta, ddk_mode mode,
                        double *dalpha, double *dbeta, double *dx)
{
	double s = mode_sign(mode), carry = 0, da = 0, db = 0;

	/* lambda(t) = dL/dz(t) + lambda(t+1) dz(t+1)/dz(t), from t = T down */
	for (size_t i = T; i-- > 0;) {
		double g = dz[i] + carry;
		double zp = i ? z[i - 1] : DDK_Z0;
		int live = z[i] > DDK_Z_FLOOR && z[i] < DDK_Z_CEIL;

		if (live) {
			da += g / zp;
			db += g * s * x[i];
			carry = g * (1 - alpha / (zp * zp));
		} else {
			carry = 0;
		}
		if (dx)
			dx[i] = live ? g * s * beta : 0;
	}
	*dalpha += da;
	*dbeta += db;
}

/*
 * Exponent bits all ones is NaN or infinity, and exactly then adding 1 to
 * the exponent carries into the sign bit: (u & 0x7f800000) + 0x00800000
 * has bit 31 set.  ANDs, adds and ORs over fixed runs vectorise, where
 * isfinite() with an early exit would not.
 */
DDK_CLONES size_t ddk_first_nonfinite(const float *v, size_t n)
{
	enum { RUN = 1024 };
	size_t i = 0;

	for (; i + RUN <= n; i += RUN) {
		uint32_t acc[16] = { 0 }, any = 0;

		/* one memcpy per value is one load; a memcpy of 16 into a
		 * buffer would stall on store forwarding */
		for (size_t k = 0; k < RUN; k += 16) {
			for (int j = 0; j < 16; j++) {
				uint32_t u;

				memcpy(&u, v + i + k + j, sizeof u);
				acc[j] |= (u & 0x7f800000u) + 0x00800000u;
			}
		}
		for (int j = 0; j < 16; j++)
			any |= acc[j];
		if (any & 0x80000000u)
			break;
	}
	for (; i < n; i++)
		if (!isfinite(v[i]))
			return i;
	return n;
}

void ddk_fill(float *a, size_t n, float v)
{
	for (size_t i = 0; i < n; i++)
		a[i] = v;
}

/*
 * Forward of one block: nl <= LANES rows starting at x (row stride T).
 * Lanes past nl run with z = 1, alpha = beta = 0 and are not written.
 * The macro makes a 32-lane and an 8-lane copy with compile-time widths.
 */
#define DEFINE_FORWARD_BLOCK(NAME, LANES)                                  \
DDK_CLONES static void NAME(const float *x, size_t nl, size_t T,           \
                            const float *alpha, const float *beta,         \
                            float s, float *z)                             \
{                                                                          \
	float zs[LANES], a[LANES], b[LANES];                               \
	float xt[CHUNK][LANES], zt[CHUNK][LANES];                          \
									   \
	for (size_t l = 0; l < LANES; l++) {                               \
		zs[l] = (float)DDK_Z0;                                     \
		a[l] = l < nl ? alpha[l] : 0;                              \
		b[l] = l < nl ? s * beta[l] : 0;                           \
	}                                                                  \
	memset(xt, 0, sizeof xt);                                          \
									   \
	for (size_t t0 = 0; t0 < T; t0 += CHUNK) {                         \
		size_t n = T - t0 < CHUNK ? T - t0 : CHUNK;                \
									   \
		for (size_t l = 0; l < nl; l++)                            \
			for (size_t j = 0; j < n; j++)                     \
				xt[j][l] = x[l * T + t0 + j];              \
		for (size_t j = 0; j < n; j++) {                           \
			for (size_t l = 0; l < LANES; l++) {               \
				float u = zs[l] + a[l] / zs[l]             \
					+ b[l] * xt[j][l];                 \
				u = u > floor_f ? u : floor_f;             \
				u = u < ceil_f ? u : ceil_f;               \
				zs[l] = u;                                 \
				zt[j][l] = u;                              \
			}                                                  \
		}                                                          \
		for (size_t l = 0; l < nl; l++)                            \
			for (size_t j = 0; j < n; j++)                     \
				z[l * T + t0 + j] = zt[j][l];              \
	}                                                                  \
}

DEFINE_FORWARD_BLOCK(forward_block32, 32)
DEFINE_FORWARD_BLOCK(forward_block8, 8)

/*
 * The AVX2 forward.  The generic blocks spend half their time in scalar
 * transposes, so here 8 rows x 8 steps of x are loaded as 8 vectors and
 * transposed in registers (unpack, shuffle, permute: 24 shuffles for 64
 * values), updated step by step, and transposed back.  G groups of 8 rows
 * run side by side so G divisions are in flight.  The arithmetic is the
 * generic loop's, operation for operation (no FMA), and max/min treat NaN
 * as the ternaries do, so both paths give the same bits.
 */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define DDK_AVX2 __attribute__((target("avx2")))

DDK_AVX2 static inline void transpose8(__m256 r[8])
{
	__m256 t[8], u[8];

#pragma GCC unroll 4
	for (int i = 0; i < 4; i++) {
		t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
		t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
	}
#pragma GCC unroll 2
	for (int i = 0; i < 2; i++) {
		__m256 *q = t + 4 * i, *v = u + 4 * i;

		v[0] = _mm256_shuffle_ps(q[0], q[2], _MM_SHUFFLE(1, 0, 1, 0));
		v[1] = _mm256_shuffle_ps(q[0], q[2], _MM_SHUFFLE(3, 2, 3, 2));
		v[2] = _mm256_shuffle_ps(q[1], q[3], _MM_SHUFFLE(1, 0, 1, 0));
		v[3] = _mm256_shuffle_ps(q[1], q[3], _MM_SHUFFLE(3, 2, 3, 2));
	}
#pragma GCC unroll 4
	for (int i = 0; i < 4; i++) {
		r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
		r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
	}
}

/* 8G rows from x (stride T) into z; steps past the last multiple of 8
 * go through the scalar loop with the same operations. */
DDK_AVX2 static inline __attribute__((always_inline)) void
forward_avx2(const float *x, size_t T, const float *alpha,
             const float *beta, float s, float *z, int G)
{
	__m256 zs[4], a[4], b[4], xt[4][8];
	__m256 lo = _mm256_set1_ps(floor_f), hi = _mm256_set1_ps(ceil_f);
	float zl[32], al[32], bl[32];
	size_t t0 = 0;

	/* the loops over g and j must unroll, or the vectors live in memory */
#pragma GCC unroll 4
	for (int g = 0; g < G; g++) {
		zs[g] = _mm256_set1_ps((float)DDK_Z0);
		a[g] = _mm256_loadu_ps(alpha + 8 * g);
		b[g] = _mm256_mul_ps(_mm256_set1_ps(s),
		                     _mm256_loadu_ps(beta + 8 * g));
	}
	for (; t0 + 8 <= T; t0 += 8) {
#pragma GCC unroll 4
		for (int g = 0; g < G; g++) {
#pragma GCC unroll 8
			for (int i = 0; i < 8; i++)
				xt[g][i] = _mm256_loadu_ps(x + (8 * g + i) * T
				                           + t0);
			transpose8(xt[g]);
		}
#pragma GCC unroll 8
		for (int j = 0; j < 8; j++) {
#pragma GCC unroll 4
			for (int g = 0; g < G; g++) {
				__m256 u = _mm256_add_ps(zs[g],
				           _mm256_div_ps(a[g], zs[g]));

				u = _mm256_add_ps(u, _mm256_mul_ps(b[g],
				                                   xt[g][j]));
				u = _mm256_min_ps(_mm256_max_ps(u, lo), hi);
				zs[g] = xt[g][j] = u;
			}
		}
#pragma GCC unroll 4
		for (int g = 0; g < G; g++) {
			transpose8(xt[g]);
#pragma GCC unroll 8
			for (int i = 0; i < 8; i++)
				_mm256_storeu_ps(z + (8 * g + i) * T + t0,
				                 xt[g][i]);
		}
	}
	if (t0 == T)
		return;

	for (int g = 0; g < G; g++) {
		_mm256_storeu_ps(zl + 8 * g, zs[g]);
		_mm256_storeu_ps(al + 8 * g, a[g]);
		_mm256_storeu_ps(bl + 8 * g, b[g]);
	}
	for (int l = 0; l < 8 * G; l++) {
		for (size_t t = t0; t < T; t++) {
			float u = zl[l] + al[l] / zl[l] + bl[l] * x[l * T + t];

			u = u > floor_f ? u : floor_f;
			zl[l] = z[l * T + t] = u < ceil_f ? u : ceil_f;
		}
	}
}

DDK_AVX2 static void forward_avx2_32(const float *x, size_t T,
                                     const float *alpha, const float *beta,
                                     float s, float *z)
{
	forward_avx2(x, T, alpha, beta, s, z, 4);
}

DDK_AVX2 static void forward_avx2_8(const float *x, size_t T,
                                    const float *alpha, const float *beta,
                                    float s, float *z)
{
	forward_avx2(x, T, alpha, beta, s, z, 1);
}

static int have_avx2(void)
{
	static int known = -1;

	if (known < 0)
		known = __builtin_cpu_supports("avx2") ? 1 : 0;
	return known && use_simd;
}

/* Rows [r, r + 8k) through AVX2; returns the first row not done. */
static size_t map_forward_avx2(const float *x, size_t rows, size_t T,
                               const float *alpha, const float *beta,
                               float s, float *z)
{
	size_t r = 0;

	if (!have_avx2())
		return 0;
	for (; r + 32 <= rows; r += 32)
		forward_avx2_32(x + r * T, T, alpha + r, beta + r, s,
		                z + r * T);
	for (; r + 8 <= rows; r += 8)
		forward_avx2_8(x + r * T, T, alpha + r, beta + r, s,
		               z + r * T);
	return r;
}
#else
static size_t map_forward_avx2(const float *x, size_t rows, size_t T,
                               const float *alpha, const float *beta,
                               float s, float *z)
{
	(void)x, (void)rows, (void)T, (void)alpha, (void)beta, (void)s;
	(void)z;
	return 0;
}
#endif

void ddk_map_forward(const float *x, size_t rows, size_t T,
                     const float *alpha, const float *beta, ddk_mode mode,
                     float *z)
{
	float s = (float)mode_sign(mode);
	size_t r = map_forward_avx2(x, rows, T, alpha, beta, s, z);

	for (; r + 32 <= rows; r += 32)
		forward_block32(x + r * T, 32, T, alpha + r, beta + r, s,
		                z + r * T);
	for (; r < rows; r += 8) {
		size_t nl = rows - r < 8 ? rows - r : 8;

		forward_block8(x + r * T, nl, T, alpha + r, beta + r, s,
		               z + r * T);
	}
}

void ddk_map_forward_k(const float *x, size_t rows, size_t T, size_t K,
                       const float *alpha, const float *beta, ddk_mode mode,
                       float *z, float *work)
{
	float *a = work, *b = work + rows;

	for (size_t k = 0; k < K; k++) {
		ddk_fill(a, rows, alpha[k]);
		ddk_fill(b, rows, beta[k]);
		ddk_map_forward(x, rows, T, a, b, mode, z + k * rows * T);
	}
}

/* Transpose steps [t0, t0+n) of nl rows (stride T) into buf[step][lane]. */
#define BW_LANES 8

static void gather(const float *m, size_t nl, size_t T, size_t t0,
                   size_t n, float buf[][BW_LANES])
{
	for (size_t l = 0; l < nl; l++)
		for (size_t j = 0; j < n; j++)
			buf[j][l] = m[l * T + t0 + j];
}

/*
 * Reverse pass of one block of nl <= 8 rows, chunks taken from the end.
 * zp is z(t-1): the previous entry of the chunk, or of the chunk before,
 * or z(0) = 1.  Pad lanes see dz = 0, so they add nothing.
 */
DDK_CLONES static void backward_block(const float *x, const float *z,
                                      const float *dz, size_t nl, size_t T,
                                      const float *alpha, const float *beta,
                                      float s, double *dalpha,
                                      double *dbeta, float *dx)
{
	float xt[CHUNK][BW_LANES], zt[CHUNK + 1][BW_LANES];
	float gt[CHUNK][BW_LANES], dxt[CHUNK][BW_LANES];
	float a[BW_LANES], sb[BW_LANES], carry[BW_LANES];
	double da[BW_LANES], db[BW_LANES];

	/* pad lanes: x = dz = 0 and z = 1, so they never divide by 0 */
	memset(xt, 0, sizeof xt);
	memset(gt, 0, sizeof gt);
	for (size_t j = 0; j <= CHUNK; j++)
		ddk_fill(zt[j], BW_LANES, (float)DDK_Z0);
	for (size_t l = 0; l < BW_LANES; l++) {
		a[l] = l < nl ? alpha[l] : 0;
		sb[l] = l < nl ? s * beta[l] : 0;
		carry[l] = 0;
		da[l] = db[l] = 0;
	}

	for (size_t end = T; end > 0;) {
		size_t n = end < CHUNK ? end : CHUNK, t0 = end - n;

		/* zt[0] holds z(t0) = z[t0-1], zt[j+1] holds z[t0+j] */
		gather(x, nl, T, t0, n, xt);
		gather(dz, nl, T, t0, n, gt);
		gather(z, nl, T, t0, n, zt + 1);
		for (size_t l = 0; l < BW_LANES; l++)
			zt[0][l] = t0 && l < nl ? z[l * T + t0 - 1]
			                        : (float)DDK_Z0;

		for (size_t j = n; j-- > 0;) {
			for (size_t l = 0; l < BW_LANES; l++) {
				float zp = zt[j][l], zc = zt[j + 1][l];
				float g = gt[j][l] + carry[l];
				int live = zc > floor_f && zc < ceil_f;
				float gl = live ? g : 0;

				da[l] += (double)(gl / zp);
				db[l] += (double)(gl * xt[j][l]);
				dxt[j][l] = gl * sb[l];
				carry[l] = gl * (1 - a[l] / (zp * zp));
			}
		}

		if (dx)
			for (size_t l = 0; l < nl; l++)
				for (size_t j = 0; j < n; j++)
					dx[l * T + t0 + j] = dxt[j][l];
		end = t0;
	}

	for (size_t l = 0; l < nl; l++) {
		dalpha[l] += da[l];
		dbeta[l] += s * db[l];
	}
}

void ddk_map_backward(const float *x, const float *z, const float *dz,
                      size_t rows, size_t T, const float *alpha,
                      const float *beta, ddk_mode mode, double *dalpha,
                      double *dbeta, float *dx)
{
	float s = (float)mode_sign(mode);

	for (size_t r = 0; r < rows; r += BW_LANES) {
		size_t nl = rows - r < BW_LANES ? rows - r : BW_LANES;

		backward_block(x + r * T, z + r * T, dz + r * T, nl, T,
		               alpha + r, beta + r, s, dalpha + r, dbeta + r,
		               dx ? dx + r * T : NULL);
	}
}
