/*
 * device.c - the drift-diffusion memristor behind the DDK recurrence, and
 * pulse trains read out as conductance (see ddk_kinetics.h).
 *
 * In u = w / L the state equation is
 *
 *     du/dt = k_v v + k_d / u,   k_v = mu / L^2,  k_d = D / L^2
 *
 * Calibration of the defaults: with L = 10 nm, mu = 2e-12 m^2/(V s) and
 * D = 1e-12 m^2/s, k_v = 2e4 /(V s) and k_d = 1e4 /s.  A device starting
 * at 5 kOhm (u ~ 1, 200 uS) then falls to about 15 uS after 100 RESET
 * pulses of 2.5 V and 100 ns (20 uS at 2 V, 13 uS at 3 V): the curve spans
 * over 90% of the 6.1-202.1 uS window and bends toward the diffusion
 * equilibrium u* = k_d / (k_v |v|), as the recurrence's alpha / z does.
 */
#include <math.h>
#include "ddk_kinetics.h"

void ddk_device_default(ddk_device *dev)
{
	dev->thickness_m = 10e-9;
	dev->mobility_m2_vs = 2e-12;
	dev->diffusion_m2_s = 1e-12;
	dev->r_on_ohm = 1 / 202.1e-6;
	dev->r_off_ohm = 1 / 6.1e-6;
	dev->r_init_ohm = 5e3;
	dev->tol_u = 1e-10;
}

void ddk_pulses_default(ddk_pulses *p)
{
	p->map = DDK_PULSE_AMPLITUDE;
	p->mode = DDK_RESET;
	p->v_lo_volts = 2;
	p->v_hi_volts = 3;
	p->width_s = 100e-9;
	p->t_lo_s = 50e-9;
	p->t_hi_s = 150e-9;
	p->v_volts = 2.5;
	p->c2c = 0;
	p->d2d = 0;
}

/* Fail naming the field unless lo <= v <= hi (NaN fails too). */
static ddk_status in_range(double v, double lo, double hi, const char *name,
                           ddk_err *err)
{
	if (v >= lo && v <= hi)
		return DDK_OK;
	return ddk_fail(err, DDK_ERANGE, "device: %s = %g is outside "
	                "[%g, %g]", name, v, lo, hi);
}

ddk_status ddk_device_check(const ddk_device *d, const ddk_pulses *p,
                            ddk_err *err)
{
	ddk_status s = DDK_OK;

	/* each test runs only while the ones before it passed */
#define CHECK(v, lo, hi, name) \
	if (s == DDK_OK) s = in_range(v, lo, hi, name, err)
	CHECK(d->thickness_m, 1e-12, 1, "thickness_m");
	CHECK(d->mobility_m2_vs, 0, 1, "mobility_m2_vs");
	CHECK(d->diffusion_m2_s, 0, 1, "diffusion_m2_s");
	CHECK(d->r_on_ohm, 1e-6, HUGE_VAL, "r_on_ohm");
	CHECK(d->r_off_ohm, d->r_on_ohm * (1 + 1e-9), HUGE_VAL,
	      "r_off_ohm");
	CHECK(d->r_init_ohm, d->r_on_ohm, d->r_off_ohm, "r_init_ohm");
	CHECK(d->tol_u, 1e-15, 0.1, "tol_u");
	CHECK(p->v_lo_volts, 0, 1e3, "v_lo_volts");
	CHECK(p->v_hi_volts, p->v_lo_volts, 1e3, "v_hi_volts");
	CHECK(p->v_volts, 0, 1e3, "v_volts");
	CHECK(p->width_s, 1e-15, 1e3, "width_s");
	CHECK(p->t_lo_s, 1e-15, 1e3, "t_lo_s");
	CHECK(p->t_hi_s, p->t_lo_s, 1e3, "t_hi_s");
	CHECK(p->c2c, 0, 10, "c2c");
	CHECK(p->d2d, 0, 10, "d2d");
#undef CHECK
	return s;
}

double ddk_device_g(const ddk_device *d, double u)
{
	return 1 / (d->r_on_ohm * u + d->r_off_ohm * (1 - u));
}

double ddk_device_u_of_r(const ddk_device *d, double r_ohm)
{
	double u = (d->r_off_ohm - r_ohm) / (d->r_off_ohm - d->r_on_ohm);

	return u < 0 ? 0 : u > 1 ? 1 : u;
}

/* The state equation with its rates folded in; see the top comment. */
struct rates {
	double drift;       /* k_v v, per second */
	double diffusion;   /* k_d, per second */
};

/* u into [DDK_W_MIN, 1] (a NaN, which only an overflow could make, to
 * the lower bound) */
static double clamp_u(double u)
{
	return u >= DDK_W_MIN ? (u > 1 ? 1 : u) : DDK_W_MIN;
}

static double du_dt(const struct rates *k, double u)
{
	return k->drift + k->diffusion / clamp_u(u);
}

static double rk4(const struct rates *k, double u, double h)
{
	double k1 = du_dt(k, u);
	double k2 = du_dt(k, u + h / 2 * k1);
	double k3 = du_dt(k, u + h / 2 * k2);
	double k4 = du_dt(k, u + h * k3);

	return u + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
}

static struct rates rates_of(const ddk_device *d, double v_volts,
                             double mu_scale, double d_scale)
{
	double L2 = d->thickness_m * d->thickness_m;
	struct rates k;

	k.drift = d->mobility_m2_vs * mu_scale * v_volts / L2;
	k.diffusion = d->diffusion_m2_s * d_scale / L2;
	return k;
}

/* (r - log(1 + r)) / r^2 for r > -1, without cancellation near 0. */
static double log1p_rest(double r)
{
	if (fabs(r) < 1e-3)
		return 0.5 + r * (-1.0 / 3 + r * (0.25 + r * (-0.2 + r / 6)));
	return (r - log1p(r)) / (r * r);
}

/* The time du/dt = c + b / u takes from u0 to u, with q = c u0 + b != 0:
 * the integral of w / (c w + b), written so that neither c -> 0 nor
 * b -> 0 cancels: d u0 / q + b d^2 / q^2 f(c d / q), d = u - u0. */
static double time_to(double c, double b, double u0, double q, double u)
{
	double d = u - u0;

	return d * u0 / q + b * d * d / (q * q) * log1p_rest(c * d / q);
}

/* The exact u after duration_s of du/dt = drift + diffusion / u, kept in
 * [DDK_W_MIN, 1]: u moves monotonically towards the balance -b/c (or a
 * bound), so the time to reach u is monotone and bisection finds it.  The
 * adaptive integrator hands over to this when a pulse is too stiff for
 * its smallest step. */
static double exact_pulse(const struct rates *k, double u0,
                          double duration_s)
{
	double c = k->drift, b = k->diffusion, q = c * u0 + b;
	double lo = u0, hi, balance = c < 0 ? -b / c : INFINITY;

	if (q == 0 || duration_s <= 0)
		return u0;
	if (q > 0) {
		hi = balance < 1 ? balance : 1;
		if (balance >= 1 && time_to(c, b, u0, q, 1) <= duration_s)
			return 1;
	} else {
		hi = balance > DDK_W_MIN ? balance : DDK_W_MIN;
		if (balance <= DDK_W_MIN &&
		    time_to(c, b, u0, q, DDK_W_MIN) <= duration_s)
			return DDK_W_MIN;
	}
	/* the answer lies between lo (time 0) and hi (time beyond) */
	for (int i = 0; i < 200; i++) {
		double mid = lo + (hi - lo) / 2;

		if (mid == lo || mid == hi)
			break;
		if (time_to(c, b, u0, q, mid) <= duration_s)
			lo = mid;
		else
			hi = mid;
	}
	return clamp_u(lo);
}

double ddk_device_pulse(const ddk_device *d, double u, double v_volts,
                        double duration_s, double mu_scale, double d_scale,
                        unsigned *steps)
{
	struct rates k = rates_of(d, v_volts, mu_scale, d_scale);
	double t = 0, h = duration_s, h_min = duration_s * 1e-7;
	unsigned n = 0;

	u = clamp_u(u);
	while (t < duration_s) {
		double whole, half, err;

		if (h > duration_s - t)
			h = duration_s - t;
		/* unclamped: a step that overshoots a bound must show its
		 * error, not hide it behind the bound both results meet */
		whole = rk4(&k, u, h);
		half = rk4(&k, rk4(&k, u, h / 2), h / 2);
		err = fabs(half - whole) / 15;
		if (!(err <= INFINITY))
			err = INFINITY;     /* NaN: as bad as can be */

		if (err <= d->tol_u) {
			u = clamp_u(half + (half - whole) / 15);
			t += h;
			n++;
		} else if (h <= h_min) {
			/* too stiff for RK4 at any step worth taking: the rest
			 * of the pulse is solved exactly */
			u = exact_pulse(&k, u, duration_s - t);
			t = duration_s;
			n++;
			break;
		}
		h *= err > 0 ? fmin(4, fmax(0.1, 0.9 * pow(d->tol_u / err,
		                                           0.2)))
		             : 4;
		if (h < h_min)
			h = h_min;
	}
	if (steps)
		*steps = n;
	return u;
}

double ddk_device_pulse_exact(const ddk_device *d, double u,
                              double v_volts, double duration_s,
                              double mu_scale, double d_scale)
{
	struct rates k = rates_of(d, v_volts, mu_scale, d_scale);

	return exact_pulse(&k, clamp_u(u), duration_s);
}

double ddk_device_pulse_fixed(const ddk_device *d, double u,
                              double v_volts, double duration_s,
                              double mu_scale, double d_scale, size_t n)
{
	struct rates k = rates_of(d, v_volts, mu_scale, d_scale);
	double h = duration_s / (double)n;

	u = clamp_u(u);
	for (size_t i = 0; i < n; i++)
		u = clamp_u(rk4(&k, u, h));
	return u;
}

/* 1 + sigma N(0, 1), kept at or above 0.  The normal is drawn whatever
 * sigma is, so the stream of draws does not depend on the sigmas. */
static double scale(ddk_rng *rng, double sigma)
{
	double s = 1 + sigma * ddk_rng_normal(rng);

	return s > 0 ? s : 0;
}

ddk_status ddk_device_map(const ddk_device *d, const ddk_pulses *p,
                          const float *x, size_t rows, size_t T,
                          ddk_rng *rng, float *g, ddk_err *err)
{
	double sign = p->mode == DDK_SET ? 1 : -1;

	for (size_t i = 0; i < rows * T; i++)
		if (!(x[i] >= 0 && x[i] <= 1))
			return ddk_fail(err, DDK_ERANGE, "row %zu, column %zu:"
			                " value %g is outside [0, 1]",
			                i / T + 1, i % T + 1, (double)x[i]);

	for (size_t r = 0; r < rows; r++) {
		double u = ddk_device_u_of_r(d, d->r_init_ohm);
		double mu_dev = scale(rng, p->d2d), d_dev = scale(rng, p->d2d);

		for (size_t t = 0; t < T; t++) {
			double xv = x[r * T + t], v, width;

			if (p->map == DDK_PULSE_AMPLITUDE) {
				v = p->v_lo_volts
				    + xv * (p->v_hi_volts - p->v_lo_volts);
				width = p->width_s;
			} else {
				v = p->v_volts;
				width = p->t_lo_s + xv * (p->t_hi_s - p->t_lo_s);
			}
			u = ddk_device_pulse(d, u, sign * v, width,
			                     mu_dev * scale(rng, p->c2c), d_dev,
			                     NULL);
			g[r * T + t] = (float)ddk_device_g(d, u);
		}
	}
	return DDK_OK;
}
