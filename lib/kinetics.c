/*
 * kinetics.c - the DDK recurrence, its forward sensitivities and its
 * reverse pass (see ddk_kinetics.h for the maths and the floor rule).
 *
 * The float map functions work on blocks of LANES rows.  A block's x is
 * transposed, CHUNK steps at a time, into xt[step][lane], so that for a
 * fixed step the update runs over contiguous lanes and the compiler turns
 * it into SIMD.  Each lane's z(t) waits on a division by z(t-1), so one
 * vector alone would stall on the divider's latency; 32 lanes keep
 * several independent vectors in flight.  In these portable loops, rows
 * left over after the 32-lane blocks go through 8-lane blocks, so a
 * 28-row map wastes 4 lanes, not 36; the AVX2 path below runs the rest
 * as one block of up to 32 lanes with pads.
 */
#include <math.h>
#include <string.h>
#include "ddk_kinetics.h"

#define CHUNK 32            /* steps transposed at a time */

/* x86_64 builds carry an AVX2 clone of each hot loop, picked at load
 * time; elsewhere the plain C is compiled for the baseline
 * (DDK_NO_CLONES asks for that too: the fuzzing build's instrumentation
 * does not link the clones). */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__) && \
    !defined(DDK_NO_CLONES)
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
DDK_CLONES static size_t first_nonfinite(const float *v, size_t n)
{
	enum { RUN = 1024 };
	size_t i = 0;

	/* runs of RUN values, then one run of the rest cut to 16s, so a
	 * short record (a 28 x 28 image is 784 values) is scanned in SIMD
	 * too; the scalar loop finds the exact place, or ends the tail */
	while (n - i >= 16) {
		size_t m = n - i < RUN ? (n - i) & ~(size_t)15 : RUN;
		uint32_t acc[16] = { 0 }, any = 0;

		/* one memcpy per value is one load; a memcpy of 16 into a
		 * buffer would stall on store forwarding */
		for (size_t k = 0; k < m; k += 16) {
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
		i += m;
	}
	for (; i < n; i++)
		if (!isfinite(v[i]))
			return i;
	return n;
}

/* The clones stay static: clang 14 does not link target_clones on an
 * exported function. */
size_t ddk_first_nonfinite(const float *v, size_t n)
{
	return first_nonfinite(v, n);
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
 * transposes, so here 8 rows x 8 steps of x are loaded into 8 vectors and
 * transposed in registers (see inlane4: 16 shuffles for 64 values, 24 in
 * transpose8 for the last steps), updated step by step, and transposed
 * back.  G groups of 8 rows run side by side so G divisions are in
 * flight.  The arithmetic is the generic loop's, operation for operation
 * (no FMA), and max/min treat NaN as the ternaries do, so both paths give
 * the same bits.
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

#define DDK_INLINE DDK_AVX2 static inline __attribute__((always_inline))

/*
 * The in-lane half of transpose8 on 4 vectors: afterwards r[c] holds
 * element c of each input's low half, then element c of each high half.
 * Loading row k's steps 0-3 into the low half of r[k] and row k+4's into
 * the high half (one load and one insert, no shuffle) makes r[c] the
 * whole column c; run on columns, it gives row c (low) and row c+4
 * (high), which two half stores put in place.  So a chunk costs 16
 * shuffles each way, not transpose8's 24.
 */
DDK_INLINE void inlane4(__m256 *r)
{
	__m256 t0 = _mm256_unpacklo_ps(r[0], r[1]);
	__m256 t1 = _mm256_unpackhi_ps(r[0], r[1]);
	__m256 t2 = _mm256_unpacklo_ps(r[2], r[3]);
	__m256 t3 = _mm256_unpackhi_ps(r[2], r[3]);

	r[0] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
	r[1] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
	r[2] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
	r[3] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
}

/* Steps [t0, t0 + 4H) of G groups of 8 rows into xt[g][0..4H), H = 1
 * or 2, as columns: xt[g][j] holds step t0 + j of each row. */
DDK_INLINE void load_cols(const float *x, const size_t *row, size_t t0,
                          int G, int H, __m256 xt[4][8])
{
	/* the loops over g, h, k and j must unroll, or the vectors live in
	 * memory */
#pragma GCC unroll 4
	for (int g = 0; g < G; g++) {
#pragma GCC unroll 2
		for (int h = 0; h < H; h++) {
#pragma GCC unroll 4
			for (int k = 0; k < 4; k++) {
				const float *lo = x + row[8 * g + k] + t0 + 4 * h;
				const float *hi = x + row[8 * g + k + 4] + t0
				                  + 4 * h;

				xt[g][4 * h + k] = _mm256_insertf128_ps(
					_mm256_castps128_ps256(_mm_loadu_ps(lo)),
					_mm_loadu_ps(hi), 1);
			}
			inlane4(xt[g] + 4 * h);
		}
	}
}

/* The inverse of load_cols for the first nl rows. */
DDK_INLINE void store_cols(float *z, const size_t *row, size_t t0, int G,
                           int H, size_t nl, __m256 xt[4][8])
{
#pragma GCC unroll 4
	for (int g = 0; g < G; g++) {
#pragma GCC unroll 2
		for (int h = 0; h < H; h++) {
			inlane4(xt[g] + 4 * h);
#pragma GCC unroll 4
			for (int k = 0; k < 4; k++) {
				size_t r = 8 * g + k;
				__m256 v = xt[g][4 * h + k];

				if (r < nl)
					_mm_storeu_ps(z + row[r] + t0 + 4 * h,
					              _mm256_castps256_ps128(v));
				if (r + 4 < nl)
					_mm_storeu_ps(z + row[r + 4] + t0
					              + 4 * h,
					              _mm256_extractf128_ps(v, 1));
			}
		}
	}
}

/* The last 1 to 3 steps, through masks and transpose8; the steps past
 * the mask read x = 0 and are never stored. */
DDK_INLINE void load_masked(const float *x, const size_t *row, size_t t0,
                            int G, __m256i mask, __m256 xt[4][8])
{
#pragma GCC unroll 4
	for (int g = 0; g < G; g++) {
#pragma GCC unroll 8
		for (int i = 0; i < 8; i++)
			xt[g][i] = _mm256_maskload_ps(x + row[8 * g + i] + t0,
			                              mask);
		transpose8(xt[g]);
	}
}

DDK_INLINE void store_masked(float *z, const size_t *row, size_t t0,
                             int G, size_t nl, __m256i mask,
                             __m256 xt[4][8])
{
#pragma GCC unroll 4
	for (int g = 0; g < G; g++) {
		transpose8(xt[g]);
#pragma GCC unroll 8
		for (int i = 0; i < 8; i++)
			if ((size_t)(8 * g + i) < nl)
				_mm256_maskstore_ps(z + row[8 * g + i] + t0,
				                    mask, xt[g][i]);
	}
}

/* n steps of the recurrence (n a constant), xt[g][j] replaced by z. */
DDK_INLINE void steps(__m256 *zs, const __m256 *a, const __m256 *b, int G,
                      int n, __m256 xt[4][8])
{
	__m256 lo = _mm256_set1_ps(floor_f), hi = _mm256_set1_ps(ceil_f);

#pragma GCC unroll 8
	for (int j = 0; j < n; j++) {
#pragma GCC unroll 4
		for (int g = 0; g < G; g++) {
			__m256 u = _mm256_add_ps(zs[g],
			                         _mm256_div_ps(a[g], zs[g]));

			u = _mm256_add_ps(u, _mm256_mul_ps(b[g], xt[g][j]));
			u = _mm256_min_ps(_mm256_max_ps(u, lo), hi);
			zs[g] = xt[g][j] = u;
		}
	}
}

/*
 * nl <= 8G rows from x (stride T) into z.  Lanes past nl are pads: they
 * read row 0 again, with alpha = beta = 0, and are never stored, so a
 * 28-row map runs as one G = 4 call with four divisions in flight.
 * Steps go 8 at a time, then 4, then the last 1 to 3 through masks.
 */
DDK_INLINE void forward_avx2(const float *x, size_t T, const float *alpha,
                             const float *beta, float s, float *z, int G,
                             size_t nl)
{
	__m256 zs[4], a[4], b[4], xt[4][8];
	float al[32], bl[32];
	size_t t0 = 0, row[32];

	/* only the first 8G entries are used */
	for (size_t l = 0; l < (size_t)(8 * G); l++) {
		al[l] = l < nl ? alpha[l] : 0;
		bl[l] = l < nl ? s * beta[l] : 0;
		row[l] = l < nl ? l * T : 0;
	}
#pragma GCC unroll 4
	for (int g = 0; g < G; g++) {
		zs[g] = _mm256_set1_ps((float)DDK_Z0);
		a[g] = _mm256_loadu_ps(al + 8 * g);
		b[g] = _mm256_loadu_ps(bl + 8 * g);
	}

	for (; t0 + 8 <= T; t0 += 8) {
		load_cols(x, row, t0, G, 2, xt);
		steps(zs, a, b, G, 8, xt);
		store_cols(z, row, t0, G, 2, nl, xt);
	}
	if (t0 + 4 <= T) {
		load_cols(x, row, t0, G, 1, xt);
		steps(zs, a, b, G, 4, xt);
		store_cols(z, row, t0, G, 1, nl, xt);
		t0 += 4;
	}
	if (t0 < T) {
		__m256i mask = _mm256_cmpgt_epi32(
			_mm256_set1_epi32((int)(T - t0)),
			_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));

		load_masked(x, row, t0, G, mask, xt);
		steps(zs, a, b, G, 3, xt);
		store_masked(z, row, t0, G, nl, mask, xt);
	}
}

/*
 * One copy per group count, so G is a constant inside each, and each in
 * two builds: plain AVX2, and AVX2 code that may use the 32 vector
 * registers of AVX-512VL (fewer spills of z to the stack; the same
 * instructions otherwise, so the same bits).
 */
typedef void block_fn(const float *, size_t, const float *, const float *,
                      float, float *, size_t);

#define DEFINE_FORWARD(NAME, G, TARGET)                                    \
TARGET static void NAME(const float *x, size_t T, const float *alpha,     \
                        const float *beta, float s, float *z, size_t nl)  \
{                                                                          \
	forward_avx2(x, T, alpha, beta, s, z, G, nl);                      \
}

/*
 * The adjoint chain backwards over nl <= 8G rows, as ddk_map_chain
 * defines it: the columns of a chunk are taken from the last step down,
 * so the chunks go from the end too.  The last 1 to 3 steps come first,
 * through masks: the steps past T read dz = k = 0, and run first, so
 * they leave the carry at 0, where it starts.
 */
DDK_INLINE void back_steps(__m256 *c, int G, int n, __m256 dt[4][8],
                           __m256 kt[4][8])
{
#pragma GCC unroll 8
	for (int j = n - 1; j >= 0; j--) {
#pragma GCC unroll 4
		for (int g = 0; g < G; g++) {
			dt[g][j] = _mm256_add_ps(dt[g][j], c[g]);
			c[g] = _mm256_mul_ps(dt[g][j], kt[g][j]);
		}
	}
}

DDK_INLINE void chain_avx2(const float *dz, const float *k, size_t T,
                           float *s, int G, size_t nl)
{
	__m256 c[4], dt[4][8], kt[4][8];
	size_t row[32], t0 = T - T % 4;

	for (size_t l = 0; l < (size_t)(8 * G); l++)
		row[l] = l < nl ? l * T : 0;
#pragma GCC unroll 4
	for (int g = 0; g < G; g++)
		c[g] = _mm256_setzero_ps();

	if (t0 < T) {
		__m256i mask = _mm256_cmpgt_epi32(
			_mm256_set1_epi32((int)(T - t0)),
			_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));

		load_masked(dz, row, t0, G, mask, dt);
		load_masked(k, row, t0, G, mask, kt);
		back_steps(c, G, 3, dt, kt);
		store_masked(s, row, t0, G, nl, mask, dt);
	}
	if (t0 % 8) {
		t0 -= 4;
		load_cols(dz, row, t0, G, 1, dt);
		load_cols(k, row, t0, G, 1, kt);
		back_steps(c, G, 4, dt, kt);
		store_cols(s, row, t0, G, 1, nl, dt);
	}
	while (t0 > 0) {
		t0 -= 8;
		load_cols(dz, row, t0, G, 2, dt);
		load_cols(k, row, t0, G, 2, kt);
		back_steps(c, G, 8, dt, kt);
		store_cols(s, row, t0, G, 2, nl, dt);
	}
}

typedef void chain_fn(const float *, const float *, size_t, float *,
                      size_t);

#define DEFINE_CHAIN(NAME, G, TARGET)                                      \
TARGET static void NAME(const float *dz, const float *k, size_t T,        \
                        float *s, size_t nl)                               \
{                                                                          \
	chain_avx2(dz, k, T, s, G, nl);                                    \
}

/* Both kinds of block for 8, 16, 24 and 32 rows, in both builds. */
#define DDK_AVX512VL __attribute__((target("avx2,avx512f,avx512vl")))
#define DEFINE_BLOCKS(SUFFIX, G, TARGET)                                   \
	DEFINE_FORWARD(forward_##SUFFIX, G, TARGET)                        \
	DEFINE_CHAIN(chain_##SUFFIX, G, TARGET)

DEFINE_BLOCKS(avx2_8, 1, DDK_AVX2)
DEFINE_BLOCKS(avx2_16, 2, DDK_AVX2)
DEFINE_BLOCKS(avx2_24, 3, DDK_AVX2)
DEFINE_BLOCKS(avx2_32, 4, DDK_AVX2)
DEFINE_BLOCKS(vl_8, 1, DDK_AVX512VL)
DEFINE_BLOCKS(vl_16, 2, DDK_AVX512VL)
DEFINE_BLOCKS(vl_24, 3, DDK_AVX512VL)
DEFINE_BLOCKS(vl_32, 4, DDK_AVX512VL)

/* 0 for the portable loops, 1 for plain AVX2, 2 for AVX2 with the
 * AVX-512VL registers: what this machine has, as ddk_kinetics_use_simd
 * allows. */
static int simd_level(void)
{
	static int level = -1;

	if (level < 0)
		level = !__builtin_cpu_supports("avx2") ? 0 :
		        __builtin_cpu_supports("avx512vl") ? 2 : 1;
	if (use_simd == 0 || level == 0)
		return 0;
	return use_simd == 2 || level == 1 ? 1 : 2;
}

/* The blocks of 8, 16, 24 and 32 rows for this machine, or NULL for the
 * portable loops. */
static block_fn *const *simd_blocks(void)
{
	static block_fn *const by_level[3][4] = {
		{ NULL, NULL, NULL, NULL },
		{ forward_avx2_8, forward_avx2_16, forward_avx2_24,
		  forward_avx2_32 },
		{ forward_vl_8, forward_vl_16, forward_vl_24, forward_vl_32 }
	};
	int level = simd_level();

	return level ? by_level[level] : NULL;
}

static chain_fn *const *chain_blocks(void)
{
	static chain_fn *const by_level[3][4] = {
		{ NULL, NULL, NULL, NULL },
		{ chain_avx2_8, chain_avx2_16, chain_avx2_24, chain_avx2_32 },
		{ chain_vl_8, chain_vl_16, chain_vl_24, chain_vl_32 }
	};
	int level = simd_level();

	return level ? by_level[level] : NULL;
}

/* All rows of the chain through AVX2, as map_forward_avx2 below does the
 * forward; returns the number of rows done. */
static size_t map_chain_avx2(const float *dz, const float *k, size_t rows,
                             size_t T, float *s)
{
	chain_fn *const *by_groups = chain_blocks();
	size_t r = 0;

	if (!by_groups || T == 0)
		return 0;
	for (; r + 32 <= rows; r += 32)
		by_groups[3](dz + r * T, k + r * T, T, s + r * T, 32);
	if (r < rows)
		by_groups[(rows - r - 1) / 8](dz + r * T, k + r * T, T,
		                              s + r * T, rows - r);
	return rows;
}

/* All rows through AVX2: blocks of 32, then one block of what is left
 * (8G >= its rows); returns the number of rows done (0 without AVX2). */
static size_t map_forward_avx2(const float *x, size_t rows, size_t T,
                               const float *alpha, const float *beta,
                               float s, float *z)
{
	block_fn *const *by_groups = simd_blocks();
	size_t r = 0;

	if (!by_groups)
		return 0;
	for (; r + 32 <= rows; r += 32)
		by_groups[3](x + r * T, T, alpha + r, beta + r, s, z + r * T,
		             32);
	if (r < rows)
		by_groups[(rows - r - 1) / 8](x + r * T, T, alpha + r,
		                              beta + r, s, z + r * T,
		                              rows - r);
	return rows;
}
#else
static size_t map_chain_avx2(const float *dz, const float *k, size_t rows,
                             size_t T, float *s)
{
	(void)dz, (void)k, (void)rows, (void)T, (void)s;
	return 0;
}

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

void ddk_map_chain(const float *dz, const float *k, size_t rows, size_t T,
                   float *s)
{
	for (size_t r = map_chain_avx2(dz, k, rows, T, s); r < rows; r++) {
		const float *d = dz + r * T, *q = k + r * T;
		float *o = s + r * T, c = 0;

		for (size_t t = T; t-- > 0;) {
			o[t] = d[t] + c;
			c = o[t] * q[t];
		}
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
