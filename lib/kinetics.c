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

void ddk_map_forward(const float *x, size_t rows, size_t T,
                     const float *alpha, const float *beta, ddk_mode mode,
                     float *z)
{
	float s = (float)mode_sign(mode);
	size_t r = 0;

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
