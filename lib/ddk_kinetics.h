/*
 * ddk_kinetics.h - the drift-diffusion-kinetics (DDK) layer: the recurrence
 * that turns each row of an input map into a feature map, its exact
 * derivatives, and the physical memristor model the recurrence abstracts.
 *
 * Problem.  For every row x(0..T-1) of an input map, with z(0) = 1 and
 * t = 1..T (Shi et al., Nature Communications 16, 2025):
 *
 *     z(t) = z(t-1) + alpha / z(t-1) - beta * x(t-1)      (RESET)
 *     z(t) = z(t-1) + alpha / z(t-1) + beta * x(t-1)      (SET)
 *
 * The feature map is z(1..T); index t-1 of an output row holds z(t).
 *
 * Floor and ceiling.  Where beta^2 > 2 alpha the map is unstable and the
 * update can fall to z <= 0, where alpha / z is undefined.  Every update is
 * therefore clamped:  z(t) = min(max(u, DDK_Z_FLOOR), DDK_Z_CEIL)  where u
 * is the unclamped value.  A clamped z(t) is a constant: its derivative
 * with respect to alpha, beta, x and z(t-1) is 0, and the values, the
 * forward sensitivities and the reverse pass all apply the same rule
 * (z(t) is clamped exactly when u <= DDK_Z_FLOOR or u >= DDK_Z_CEIL; a
 * reverse pass sees this as z(t) == DDK_Z_FLOOR or z(t) == DDK_Z_CEIL).
 * The ceiling only matters for huge inputs (it keeps float output finite
 * for any finite x); a NaN update becomes the floor.  So no output is NaN
 * or infinite for any finite alpha, beta and x.
 *
 * Method.  The double-precision row functions are the reference and the
 * fitter's Jacobian.  The float map functions advance many rows in one SIMD
 * step: rows are taken in blocks (up to 32 rows, the last block padded),
 * each block's x is transposed in short chunks of steps so the inner loop
 * runs across rows; x86_64 builds carry AVX2 and baseline versions chosen
 * at run time, which give the same bits (same operations in the same
 * order, no fused multiply-add).  alpha[r] and beta[r] are per row; a
 * caller with one shared pair passes arrays filled with it.  K channels
 * are K (alpha, beta) pairs, each giving a full rows x T map:
 * ddk_map_forward_k lays them out channel by channel (K*rows x T).
 *
 * Ownership.  Callers own every buffer; nothing here allocates except
 * where noted, nothing prints, nothing keeps state between calls.
 * Errors.  The kinetics functions cannot fail; the device and table
 * functions return a ddk_status and fill ddk_err.
 */
#ifndef DDK_KINETICS_H
#define DDK_KINETICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "ddk_base.h"
#include "ddk_rng.h"

typedef enum ddk_mode { DDK_RESET = 0, DDK_SET = 1 } ddk_mode;

#define DDK_Z_FLOOR 1e-3     /* lowest z: keeps alpha / z <= 1000 alpha */
#define DDK_Z_CEIL 1e30      /* highest z: keeps float features finite */
#define DDK_Z0 1.0           /* z(0) */

/*
 * One row in double: z[t-1] = z(t) for t = 1..T.  dz_dalpha[t-1] and
 * dz_dbeta[t-1] receive the forward sensitivities dz(t)/dalpha and
 * dz(t)/dbeta; either may be NULL.
 */
void ddk_row_forward_d(const double *x, size_t T, double alpha, double beta,
                       ddk_mode mode, double *z, double *dz_dalpha,
                       double *dz_dbeta);

/*
 * Reverse pass of one row in double: given x, z from ddk_row_forward_d and
 * dz[t-1] = dL/dz(t), ADD dL/dalpha and dL/dbeta into *dalpha and *dbeta
 * and write dL/dx(t-1) into dx[t-1] unless dx is NULL.
 */
void ddk_row_backward_d(const double *x, const double *z, const double *dz,
                        size_t T, double alpha, double beta, ddk_mode mode,
                        double *dalpha, double *dbeta, double *dx);

/*
 * A whole map in float, vectorised across rows: x and z are rows x T,
 * row-major (z may not alias x); alpha[r], beta[r] per row.
 */
void ddk_map_forward(const float *x, size_t rows, size_t T,
                     const float *alpha, const float *beta, ddk_mode mode,
                     float *z);

/*
 * Reverse pass of a map: given x, the forward output z and dz = dL/dz
 * (all rows x T), ADD dL/dalpha[r] and dL/dbeta[r] into dalpha[r] and
 * dbeta[r] (double, per row) and write dL/dx into dx (rows x T) unless dx
 * is NULL.  The adjoint runs in float, the per-row sums in double.
 */
void ddk_map_backward(const float *x, const float *z, const float *dz,
                      size_t rows, size_t T, const float *alpha,
                      const float *beta, ddk_mode mode, double *dalpha,
                      double *dbeta, float *dx);

/*
 * The adjoint chain of a reverse pass along each row, backwards: with
 * c = 0 before the last step, s[t] = dz[t] + c, then c = s[t] k[t], for
 * t = T-1 down to 0 (k[0] is never used).  dz, k and s are rows x T; s
 * may not alias them.  The rows run side by side; every path gives the
 * bits of that loop.
 */
void ddk_map_chain(const float *dz, const float *k, size_t rows, size_t T,
                   float *s);

/*
 * K channels sharing one input: channel k applies the shared pair
 * (alpha[k], beta[k]) to every row of x (rows x T) and writes its map to
 * z + k*rows*T, so z is K*rows x T.  work must hold 2*rows floats (the
 * pair spread over the rows).
 */
void ddk_map_forward_k(const float *x, size_t rows, size_t T, size_t K,
                       const float *alpha, const float *beta, ddk_mode mode,
                       float *z, float *work);

/* Choose the path of ddk_map_forward and ddk_map_chain, for tests that
 * compare them: 0 the portable loops, 1 the best SIMD path of this
 * machine (the default), 2 AVX2 without the AVX-512VL registers.  All
 * give the same bits.  Not thread-safe. */
void ddk_kinetics_use_simd(int on);

/* Index of the first NaN or infinity in v[0..n-1], or n when all are
 * finite (for callers that reject such input; fast on long arrays). */
size_t ddk_first_nonfinite(const float *v, size_t n);

/* Fill a[0..n-1] with v (the one-shared-pair case). */
void ddk_fill(float *a, size_t n, float v);

/*
 * The physical device (a drift-diffusion memristor).  The doped region has
 * length w in [0, L]; u = w / L.
 *
 *     R(w)  = R_on u + R_off (1 - u)
 *     dw/dt = mu v / L + D / w
 *
 * Sign convention: v > 0 (SET) grows the doped region, so conductance
 * rises; v < 0 (RESET) shrinks it.  Diffusion D / w always pushes w up,
 * which is what keeps a RESET curve from reaching w = 0 and gives it the
 * alpha / z shape of the recurrence (z ~ w, alpha ~ D, beta x ~ mu v).
 * u is kept in [DDK_W_MIN, 1]; D / w uses w >= DDK_W_MIN L.
 *
 * Integration: classical RK4 with step doubling.  Each step of size h is
 * taken once whole and once as two halves; their difference / 15 is the
 * error estimate of the halved result, the step is accepted when that is
 * at most tol_u (in units of u), the Richardson-extrapolated value is
 * kept, and h grows or shrinks by the usual (tol/err)^(1/5) rule.  The
 * error is judged before u is clamped to its bounds.  A pulse still too
 * stiff at 1e-7 of its length is finished by the exact solution
 * (ddk_device_pulse_exact).
 */
#define DDK_W_MIN 1e-6       /* lowest u = w / L */

typedef struct ddk_device {
	double thickness_m;         /* L */
	double mobility_m2_vs;      /* mu, m^2 / (V s) */
	double diffusion_m2_s;      /* D, m^2 / s */
	double r_on_ohm;            /* R at w = L: 1 / g_max */
	double r_off_ohm;           /* R at w = 0: 1 / g_min */
	double r_init_ohm;          /* R before the first pulse */
	double tol_u;               /* integration tolerance on u per pulse */
} ddk_device;

/* How input values become pulses. */
typedef enum ddk_pulse_map {
	DDK_PULSE_AMPLITUDE = 0,    /* |v| = v_lo + x (v_hi - v_lo), width_s */
	DDK_PULSE_WIDTH = 1         /* width = t_lo + x (t_hi - t_lo), v_volts */
} ddk_pulse_map;

typedef struct ddk_pulses {
	ddk_pulse_map map;
	ddk_mode mode;              /* RESET: v < 0, SET: v > 0 */
	double v_lo_volts, v_hi_volts;
	double width_s;             /* width with DDK_PULSE_AMPLITUDE */
	double t_lo_s, t_hi_s;
	double v_volts;             /* amplitude with DDK_PULSE_WIDTH */
	double c2c;                 /* cycle-to-cycle relative sigma of mu */
	double d2d;                 /* device-to-device relative sigma */
} ddk_pulses;

/* The paper's device and pulses: 2-3 V, 100 ns, 5 kOhm initial, window
 * 6.1-202.1 uS, calibrated so 100 RESET pulses sweep much of the window. */
void ddk_device_default(ddk_device *dev);
void ddk_pulses_default(ddk_pulses *p);

/* Check a device and a pulse plan (positive sizes, r_on < r_init <= r_off,
 * lo <= hi); DDK_ERANGE with err naming the field. */
ddk_status ddk_device_check(const ddk_device *dev, const ddk_pulses *p,
                            ddk_err *err);

/* Conductance in siemens of a device at u = w / L, and the u that gives
 * resistance r_ohm (clamped to [0, 1]). */
double ddk_device_g(const ddk_device *dev, double u);
double ddk_device_u_of_r(const ddk_device *dev, double r_ohm);

/*
 * Integrate du/dt = (mu v / L + D / w) / L for duration_s at constant
 * v_volts from u, with step-doubling RK4 to dev->tol_u.  Returns the new
 * u; *steps (may be NULL) receives the number of accepted steps.
 * mu_scale scales the mobility (variation).
 */
double ddk_device_pulse(const ddk_device *dev, double u, double v_volts,
                        double duration_s, double mu_scale,
                        double d_scale, unsigned *steps);

/*
 * The same pulse solved exactly: the time the state equation takes from
 * u to any u' is known in closed form and monotone in u', and bisection
 * inverts it to the last bit.  Slower than RK4 on a mild pulse (some 100
 * logarithms); ddk_device_pulse hands over to it when a pulse is too
 * stiff for its smallest step (rates far beyond any real device).
 */
double ddk_device_pulse_exact(const ddk_device *dev, double u,
                              double v_volts, double duration_s,
                              double mu_scale, double d_scale);

/*
 * The same with fixed RK4 steps (n of them), no error control: the
 * reference the tests compare against.
 */
double ddk_device_pulse_fixed(const ddk_device *dev, double u,
                              double v_volts, double duration_s,
                              double mu_scale, double d_scale, size_t n);

/*
 * Drive one device per row of x (rows x T, values in [0, 1]) with one
 * pulse per value and write the conductance in siemens read after each
 * pulse into g (rows x T).  Variation is drawn from rng: for each row a
 * device (mu and D scaled by 1 + d2d N(0,1)), then for each pulse a mu
 * scale 1 + c2c N(0,1); scales are kept at or above 0.  DDK_ERANGE when
 * a value is not finite or outside [0, 1] (err names row and column).
 */
ddk_status ddk_device_map(const ddk_device *dev, const ddk_pulses *p,
                          const float *x, size_t rows, size_t T,
                          ddk_rng *rng, float *g, ddk_err *err);

/*
 * Tables of fitted pairs, as ddk-fit writes them: TSV with a header line
 * naming the columns (key, alpha and beta must be among them, in any
 * order; others are ignored), then one row per key.  Lines starting with
 * '#' and empty lines are skipped.  Loading fails with DDK_EFORMAT naming
 * the line (a missing column, a number that does not parse or is not
 * finite, a repeated key, no rows at all) or DDK_ENOMEM.
 * ddk_pair_table_find looks a key up; a table of a single row gives that
 * row for every key.  It returns 0 when found, -1 otherwise.
 */
typedef struct ddk_pair_table ddk_pair_table;

ddk_status ddk_pair_table_load(FILE *f, const char *name,
                               ddk_pair_table **out, ddk_err *err);
size_t ddk_pair_table_size(const ddk_pair_table *t);
/* Row i (0-based) in key order. */
void ddk_pair_table_row(const ddk_pair_table *t, size_t i,
                        const char **key, double *alpha, double *beta);
int ddk_pair_table_find(const ddk_pair_table *t, const char *key,
                        double *alpha, double *beta);
void ddk_pair_table_free(ddk_pair_table **t);

#endif
