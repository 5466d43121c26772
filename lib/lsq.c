/*
 * lsq.c - trust-region reflective least squares (Coleman and Li 1996;
 * Branch, Coleman and Li 1999).  See ddk_lsq.h for the problem and the
 * contract.
 *
 * Notation: x the parameters (p in the header), f the residuals, J the
 * Jacobian (row-major m x n), g = J'f, v and dv the Coleman-Li scaling
 * vector and its derivative sign, d = sqrt(v), and "_h" marks a vector in
 * the scaled variables x_h = x / d.  The quadratic model in the scaled
 * variables is q(s_h) = 1/2 s_h'(J_h'J_h + diag(c))s_h + g_h's_h, with
 * J_h = J diag(d), g_h = d g and c = g dv >= 0.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ddk_lsq.h"

struct ddk_lsq {
	size_t m_max, n_max;
	size_t m, n;
	ddk_lsq_problem pb;
	ddk_lsq_params par;

	/* one allocation cut into these views; sizes in comments */
	double *lo, *hi;          /* n: bounds, infinite when absent */
	double *x, *f, *J, *g;    /* n, m, m*n, n: the current point */
	double *x_new, *f_new;    /* n, m: the trial point */
	double *f_fd;             /* m: residuals for finite differences */
	double *A;                /* m*n column-major: J_h, then its QR */
	double *S;                /* 2n*n column-major: [R; diag(sqrt c)] */
	double *qtf;              /* n: (Q'f)(0..n-1) */
	double *V;                /* n*n column-major: right singular vecs */
	double *sv, *uf;          /* n: singular values, U'[f; 0] */
	double *v, *dv, *d;       /* n: Coleman-Li scaling */
	double *c, *g_h;          /* n: diagonal term, scaled gradient */
	double *p, *p_h;          /* n: trust-region step */
	double *r, *r_h;          /* n: reflected step */
	double *a, *a_h;          /* n: scaled steepest-descent step */
	double *step, *step_h;    /* n: the chosen step */
	double *tmp1, *tmp2;      /* m + n: scratch */

	double cost, radius, lambda, gnorm;
	size_t iteration, nfev, njev, max_eval;
	ddk_lsq_result result;
};

const char *ddk_lsq_strresult(ddk_lsq_result r)
{
	switch (r) {
	case DDK_LSQ_RUNNING:
		return "the solve has not finished";
	case DDK_LSQ_GTOL:
		return "the scaled gradient fell below gtol";
	case DDK_LSQ_FTOL:
		return "the relative cost reduction fell below ftol";
	case DDK_LSQ_XTOL:
		return "the relative step fell below xtol";
	case DDK_LSQ_MAXEVAL:
		return "the cap on residual evaluations was reached";
	case DDK_LSQ_NONFINITE:
		return "the Jacobian is not finite at the current point";
	case DDK_LSQ_STOPPED:
		return "a callback stopped the solve";
	}
	return "unknown result";
}

const char *ddk_lsq_result_name(ddk_lsq_result r)
{
	static const char *const names[] = {
		"running", "gtol", "ftol", "xtol", "maxeval", "nonfinite",
		"stopped"
	};

	if ((unsigned)r < sizeof names / sizeof names[0])
		return names[r];
	return "unknown";
}

void ddk_lsq_params_default(ddk_lsq_params *par)
{
	par->ftol = 1e-8;
	par->xtol = 1e-8;
	par->gtol = 1e-8;
	par->max_eval = 0;
	par->on_iter = NULL;
	par->iter_ctx = NULL;
}

ddk_lsq *ddk_lsq_alloc(size_t m_max, size_t n_max)
{
	ddk_lsq *w;
	double *buf, *q;
	size_t m = m_max, n = n_max, total;

	if (m == 0 || n == 0 || m > ((size_t)1 << 40) / n)
		return NULL;
	w = calloc(1, sizeof *w);
	total = 22 * n + 6 * m + 2 * m * n + 3 * n * n;
	buf = malloc(total * sizeof *buf);
	if (!w || !buf) {
		free(w);
		free(buf);
		return NULL;
	}

	/* Cut the buffer in the order of the struct; w->lo owns it. */
	q = buf;
	w->lo = q; q += n;
	w->hi = q; q += n;
	w->x = q; q += n;
	w->f = q; q += m;
	w->J = q; q += m * n;
	w->g = q; q += n;
	w->x_new = q; q += n;
	w->f_new = q; q += m;
	w->f_fd = q; q += m;
	w->A = q; q += m * n;
	w->S = q; q += 2 * n * n;
	w->qtf = q; q += n;
	w->V = q; q += n * n;
	w->sv = q; q += n;
	w->uf = q; q += n;
	w->v = q; q += n;
	w->dv = q; q += n;
	w->d = q; q += n;
	w->c = q; q += n;
	w->g_h = q; q += n;
	w->p = q; q += n;
	w->p_h = q; q += n;
	w->r = q; q += n;
	w->r_h = q; q += n;
	w->a = q; q += n;
	w->a_h = q; q += n;
	w->step = q; q += n;
	w->step_h = q; q += n;
	w->tmp1 = q; q += m + n;
	w->tmp2 = q;
	w->m_max = m;
	w->n_max = n;
	return w;
}

void ddk_lsq_free(ddk_lsq **w)
{
	if (!w || !*w)
		return;
	free((*w)->lo);
	free(*w);
	*w = NULL;
}

/* ---- small vector helpers ------------------------------------------- */

/* a'b, with a's elements stride apart.  Four partial sums: the additions
 * no longer wait on each other (a single sum is bound by the adder's
 * latency), and the rounding error is no larger. */
static double dot_stride(const double *a, size_t stride, const double *b,
                         size_t n)
{
	double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	size_t i = 0;

	for (; i + 4 <= n; i += 4) {
		s0 += a[i * stride] * b[i];
		s1 += a[(i + 1) * stride] * b[i + 1];
		s2 += a[(i + 2) * stride] * b[i + 2];
		s3 += a[(i + 3) * stride] * b[i + 3];
	}
	for (; i < n; i++)
		s0 += a[i * stride] * b[i];
	return (s0 + s1) + (s2 + s3);
}

static double dot(const double *a, const double *b, size_t n)
{
	return dot_stride(a, 1, b, n);
}

/* y += t x, for x and y that do not overlap. */
static void axpy(double t, const double *restrict x, double *restrict y,
                 size_t n)
{
	for (size_t i = 0; i < n; i++)
		y[i] += t * x[i];
}

static double norm2(const double *a, size_t n)
{
	double big = 0, s = dot(a, a, n);

	/* The plain sum, unless it overflowed or underflowed: then again,
	 * scaled by the largest entry. */
	if (s > DBL_MIN && s < DBL_MAX)
		return sqrt(s);
	s = 0;
	for (size_t i = 0; i < n; i++)
		if (fabs(a[i]) > big)
			big = fabs(a[i]);
	if (big == 0 || !isfinite(big))
		return big;
	for (size_t i = 0; i < n; i++)
		s += (a[i] / big) * (a[i] / big);
	return big * sqrt(s);
}

static int all_finite(const double *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(a[i]))
			return 0;
	return 1;
}

/* ---- evaluations ---------------------------------------------------- */

/* Residuals at x into f; 1 when they are usable. */
static int eval_f(ddk_lsq *w, const double *x, double *f)
{
	if (w->pb.f(x, f, w->pb.ctx) != 0)
		return 0;
	return all_finite(f, w->m);
}

/* Forward differences, stepping away from a bound the step would cross
 * (and to the other side when the residuals there are not usable). */
static int fd_jacobian(ddk_lsq *w)
{
	size_t m = w->m, n = w->n;
	double *x = w->x_new;

	memcpy(x, w->x, n * sizeof *x);
	for (size_t j = 0; j < n; j++) {
		double h = sqrt(DBL_EPSILON) * (x[j] != 0 ? fabs(x[j]) : 1);
		double xj = x[j];
		int ok;

		if (xj + h > w->hi[j] && xj - h >= w->lo[j])
			h = -h;
		x[j] = xj + h;
		ok = eval_f(w, x, w->f_fd);
		if (!ok) {
			x[j] = xj - h;
			ok = eval_f(w, x, w->f_fd);
		}
		if (!ok)
			return 0;
		h = x[j] - xj;     /* the step actually represented */
		for (size_t i = 0; i < m; i++)
			w->J[i * n + j] = (w->f_fd[i] - w->f[i]) / h;
		x[j] = xj;
	}
	return 1;
}

/* J and g = J'f at the current point: 0 ok, 1 non-finite, 2 stopped. */
static int eval_jacobian(ddk_lsq *w)
{
	size_t m = w->m, n = w->n;

	w->njev++;
	if (w->pb.df) {
		if (w->pb.df(w->x, w->f, w->J, w->pb.ctx) != 0)
			return 2;
	} else if (!fd_jacobian(w)) {
		return 1;
	}

	/* g = J'f; any non-finite J entry makes g non-finite too. */
	for (size_t j = 0; j < n; j++)
		w->g[j] = dot_stride(w->J + j, n, w->f, m);
	return all_finite(w->g, n) ? 0 : 1;
}

/* ---- Coleman-Li scaling --------------------------------------------- */

/* v_i: distance to the bound that -g points at (1 when none); dv_i its
 * derivative sign.  Sets w->gnorm = max |v_i g_i|. */
static void scaling(ddk_lsq *w)
{
	w->gnorm = 0;
	for (size_t i = 0; i < w->n; i++) {
		double gi = w->g[i];

		if (gi < 0 && isfinite(w->hi[i])) {
			w->v[i] = w->hi[i] - w->x[i];
			w->dv[i] = -1;
		} else if (gi > 0 && isfinite(w->lo[i])) {
			w->v[i] = w->x[i] - w->lo[i];
			w->dv[i] = 1;
		} else {
			w->v[i] = 1;
			w->dv[i] = 0;
		}
		if (fabs(gi * w->v[i]) > w->gnorm)
			w->gnorm = fabs(gi * w->v[i]);
	}
}

/* ---- the exact trust-region subproblem ------------------------------- */

/* Rotate columns aj, ak (and V's vj, vk) to be orthogonal; 0 when they
 * already were to rounding. */
static int jacobi_pair(double *aj, double *ak, size_t rows, double *vj,
                       double *vk, size_t n)
{
	double al = dot(aj, aj, rows), be = dot(ak, ak, rows);
	double ga = dot(aj, ak, rows), zeta, t, cs, sn;

	if (ga == 0 || fabs(ga) <= DBL_EPSILON * sqrt(al * be))
		return 0;
	zeta = (be - al) / (2 * ga);
	t = (zeta >= 0 ? 1.0 : -1.0) / (fabs(zeta) + sqrt(1 + zeta * zeta));
	cs = 1 / sqrt(1 + t * t);
	sn = cs * t;
	for (size_t i = 0; i < rows; i++) {
		double u = aj[i], z = ak[i];

		aj[i] = cs * u - sn * z;
		ak[i] = sn * u + cs * z;
	}
	for (size_t i = 0; i < n; i++) {
		double u = vj[i], z = vk[i];

		vj[i] = cs * u - sn * z;
		vk[i] = sn * u + cs * z;
	}
	return 1;
}

/*
 * Householder QR of J_h (m x n, built column-major in A) with Q' applied
 * to f: afterwards R is A's upper triangle and qtf = (Q'f)(0..n-1).  The
 * rest of Q'f is orthogonal to every step, so the subproblem needs only
 * R and qtf.
 */
static void qr_jh(ddk_lsq *w)
{
	size_t m = w->m, n = w->n, k_end = m < n ? m : n;
	double *A = w->A, *b = w->tmp1;

	for (size_t j = 0; j < n; j++) {
		const double *Jj = w->J + j;
		double dj = w->d[j], *Aj = A + j * m;

		for (size_t i = 0; i < m; i++)
			Aj[i] = Jj[i * n] * dj;
	}
	memcpy(b, w->f, m * sizeof *b);

	for (size_t k = 0; k < k_end; k++) {
		double *a = A + k * m, sigma, vnorm2;

		/* v = a(k..) + sign(a_k) |a(k..)| e_k, kept in place */
		sigma = norm2(a + k, m - k);
		if (sigma == 0)
			continue;
		if (a[k] < 0)
			sigma = -sigma;
		a[k] += sigma;
		vnorm2 = sigma * a[k];   /* v'v / 2 */
		for (size_t j = k + 1; j <= n; j++) {
			double *c = j < n ? A + j * m : b;
			double t = dot(a + k, c + k, m - k) / vnorm2;

			axpy(-t, a + k, c + k, m - k);
		}
		a[k] = -sigma;           /* R(k, k); the tail is scratch */
	}
	for (size_t i = 0; i < n; i++)
		w->uf[i] = i < m ? b[i] : 0;
}

/*
 * SVD of the augmented matrix [J_h; diag(sqrt c)] through the small
 * matrix S = [R; diag(sqrt c)] (2n x n), which has the same singular
 * values and right vectors: one-sided Jacobi rotates column pairs of S
 * until all are orthogonal, then S V = U diag(sv).  Leaves sv, V and
 * uf = U'[qtf; 0].
 */
static void augmented_svd(ddk_lsq *w)
{
	size_t m = w->m, n = w->n, rows = 2 * n;
	double *S = w->S, *V = w->V, *qtf = w->qtf;

	qr_jh(w);
	memcpy(qtf, w->uf, n * sizeof *qtf);
	for (size_t j = 0; j < n; j++) {
		double *col = S + j * rows;

		for (size_t i = 0; i < n; i++)
			col[i] = i <= j && i < m ? w->A[j * m + i] : 0;
		for (size_t i = 0; i < n; i++)
			col[n + i] = i == j ? sqrt(w->c[j]) : 0;
		for (size_t i = 0; i < n; i++)
			V[j * n + i] = i == j;
	}

	for (int sweep = 0; sweep < 60; sweep++) {
		int rotated = 0;

		for (size_t j = 0; j + 1 < n; j++)
			for (size_t k = j + 1; k < n; k++)
				rotated |= jacobi_pair(S + j * rows,
				                       S + k * rows, rows,
				                       V + j * n, V + k * n, n);
		if (!rotated)
			break;
	}

	/* U's columns are S's over the singular values. */
	for (size_t j = 0; j < n; j++) {
		double s = norm2(S + j * rows, rows);

		w->sv[j] = s;
		w->uf[j] = s > 0 ? dot(S + j * rows, qtf, n) / s : 0;
	}
}

/* p_h(lambda) = -V diag(s / (s^2 + lambda)) uf, and its norm. */
static double tr_step(ddk_lsq *w, double lambda, double *p_h)
{
	size_t n = w->n;

	for (size_t i = 0; i < n; i++)
		p_h[i] = 0;
	for (size_t j = 0; j < n; j++) {
		double s = w->sv[j], coef;

		if (s == 0)
			continue;
		coef = -s * w->uf[j] / (s * s + lambda);
		for (size_t i = 0; i < n; i++)
			p_h[i] += coef * w->V[j * n + i];
	}
	return norm2(p_h, n);
}

/* phi(lambda) = |p_h(lambda)| - radius and its derivative. */
static double secular(const ddk_lsq *w, double lambda, double *dphi)
{
	double ss = 0, ds = 0;

	for (size_t j = 0; j < w->n; j++) {
		double s = w->sv[j], den = s * s + lambda, su = s * w->uf[j];

		if (s == 0)
			continue;
		ss += su * su / (den * den);
		ds += su * su / (den * den * den);
	}
	ss = sqrt(ss);
	*dphi = ss > 0 ? -ds / ss : 0;
	return ss - w->radius;
}

/*
 * Solve min q(p_h) with |p_h| <= radius into w->p_h: the Gauss-Newton
 * step when it is inside and J_h has full rank, otherwise the lambda > 0
 * that puts |p_h| within 1% of the radius (Newton's method on the secular
 * equation with a bracket, after More 1978).  w->lambda carries over.
 */
static void solve_subproblem(ddk_lsq *w)
{
	double lo = 0, hi, lambda = w->lambda, phi, dphi, len, smax = 0;
	int full = 1;

	/* Full rank unless a singular value is lost in rounding. */
	for (size_t j = 0; j < w->n; j++)
		smax = fmax(smax, w->sv[j]);
	for (size_t j = 0; j < w->n; j++)
		full &= w->sv[j] > smax * DBL_EPSILON * (double)(w->m + w->n);
	if (full) {
		len = tr_step(w, 0, w->p_h);
		if (len <= w->radius) {
			w->lambda = 0;
			return;
		}
		phi = secular(w, 0, &dphi);
		lo = dphi < 0 ? -phi / dphi : 0;
	}
	hi = 0;
	for (size_t j = 0; j < w->n; j++)
		hi += w->sv[j] * w->uf[j] * w->sv[j] * w->uf[j];
	hi = sqrt(hi) / w->radius;

	for (int it = 0; it < 10; it++) {
		if (lambda < lo || lambda > hi)
			lambda = fmax(0.001 * hi, sqrt(lo * hi));
		phi = secular(w, lambda, &dphi);
		if (phi < 0)
			hi = lambda;
		if (dphi == 0)
			break;
		lo = fmax(lo, lambda - phi / dphi);
		lambda -= (phi + w->radius) / w->radius * phi / dphi;
		if (fabs(phi) < 0.01 * w->radius)
			break;
	}
	if (!(lambda >= 0) || !isfinite(lambda))
		lambda = hi;
	w->lambda = lambda;
	len = tr_step(w, lambda, w->p_h);
	if (len > 0)
		for (size_t i = 0; i < w->n; i++)
			w->p_h[i] *= w->radius / len;
}

/* ---- the quadratic model along lines -------------------------------- */

/*
 * The model's curvature term through the SVD: s'(J_h'J_h + diag c)s =
 * |S s|^2 = sum_j (sv_j v_j's)^2, so the model costs O(n^2), not O(mn).
 * u[j] = sv_j v_j's.
 */
static void sv_project(const ddk_lsq *w, const double *s_h, double *u)
{
	for (size_t j = 0; j < w->n; j++)
		u[j] = w->sv[j] * dot(w->V + j * w->n, s_h, w->n);
}

/* q(s_h) of the scaled model. */
static double model_value(const ddk_lsq *w, const double *s_h)
{
	double *u = w->tmp1;

	sv_project(w, s_h, u);
	return 0.5 * dot(u, u, w->n) + dot(w->g_h, s_h, w->n);
}

/* q(s0 + t s) = qa t^2 + qb t + q(s0); s0 may be NULL (zero). */
static void model_line(const ddk_lsq *w, const double *s0, const double *s,
                       double *qa, double *qb)
{
	size_t n = w->n;
	double *u = w->tmp1, *u0 = w->tmp2;

	sv_project(w, s, u);
	*qa = 0.5 * dot(u, u, n);
	*qb = dot(w->g_h, s, n);
	if (s0) {
		sv_project(w, s0, u0);
		*qb += dot(u0, u, n);
	}
}

/* Minimise qa t^2 + qb t over [tl, tu]: returns t, *val the value. */
static double line_min(double qa, double qb, double tl, double tu,
                       double *val)
{
	double t = tl, best = qa * tl * tl + qb * tl, vu;

	vu = qa * tu * tu + qb * tu;
	if (vu < best) {
		t = tu;
		best = vu;
	}
	if (qa > 0) {
		double te = -qb / (2 * qa);

		if (te > tl && te < tu && qa * te * te + qb * te < best) {
			t = te;
			best = qa * te * te + qb * te;
		}
	}
	*val = best;
	return t;
}

/* ---- bounds --------------------------------------------------------- */

/* Step length to the box along s: for component i alone, and the
 * largest t with x + t s inside the box (inf when s = 0). */
static double bound_t(const ddk_lsq *w, const double *x, const double *s,
                      size_t i)
{
	if (s[i] > 0)
		return (w->hi[i] - x[i]) / s[i];
	if (s[i] < 0)
		return (w->lo[i] - x[i]) / s[i];
	return INFINITY;
}

static double to_bound(const ddk_lsq *w, const double *x, const double *s)
{
	double tmin = INFINITY;

	for (size_t i = 0; i < w->n; i++)
		tmin = fmin(tmin, bound_t(w, x, s, i));
	return tmin > 0 ? tmin : 0;
}

/* The positive t with |p + t r| = radius. */
static double to_radius(const double *p, const double *r, size_t n,
                        double radius)
{
	double a = dot(r, r, n), b = dot(p, r, n);
	double c = dot(p, p, n) - radius * radius, disc;

	if (a == 0)
		return INFINITY;
	disc = sqrt(fmax(0, b * b - a * c));
	/* the stable form of the larger root */
	if (b >= 0)
		return -c / (b + disc) > 0 ? -c / (b + disc) : 0;
	return (-b + disc) / a;
}

static int inside(const ddk_lsq *w, const double *x)
{
	for (size_t i = 0; i < w->n; i++)
		if (!(x[i] >= w->lo[i] && x[i] <= w->hi[i]))
			return 0;
	return 1;
}

/* Move x strictly inside: onto the nearest representable interior
 * number, or (for the start) a relative nudge of rstep. */
static void strictly_inside(const ddk_lsq *w, double *x, double rstep)
{
	for (size_t i = 0; i < w->n; i++) {
		double lo = w->lo[i], hi = w->hi[i];

		if (x[i] <= lo)
			x[i] = rstep > 0 ? lo + rstep * fmax(1, fabs(lo))
			                 : nextafter(lo, INFINITY);
		else if (x[i] >= hi)
			x[i] = rstep > 0 ? hi - rstep * fmax(1, fabs(hi))
			                 : nextafter(hi, -INFINITY);
		if (!(x[i] > lo && x[i] < hi))
			x[i] = 0.5 * (lo + hi);
	}
}

/* ---- step selection (reflection) ------------------------------------ */

/*
 * From the trust-region step p_h choose the step to take, into step and
 * step_h; returns the predicted cost reduction.  A step that stays in the
 * box is taken whole.  Otherwise three candidates compete on the model:
 * the step cut at the bound and pulled back by theta, the path reflected
 * off that bound, and the scaled steepest-descent step.
 */
static double select_step(ddk_lsq *w, double theta)
{
	size_t n = w->n;
	double t_p, t_r, t_tr, t_lo, t_hi, q_p, q_r = INFINITY, q_a;
	double t_a, qa, qb, gh;
	const double *best, *best_h;
	double qbest;

	for (size_t i = 0; i < n; i++) {
		w->p[i] = w->d[i] * w->p_h[i];
		w->x_new[i] = w->x[i] + w->p[i];
	}
	if (inside(w, w->x_new)) {
		memcpy(w->step, w->p, n * sizeof *w->p);
		memcpy(w->step_h, w->p_h, n * sizeof *w->p);
		return -model_value(w, w->p_h);
	}
	/* Cut p at the bound, reflect the components that hit it. */
	t_p = to_bound(w, w->x, w->p);
	for (size_t i = 0; i < n; i++) {
		int hit = bound_t(w, w->x, w->p, i) <= t_p;

		w->r_h[i] = hit ? -w->p_h[i] : w->p_h[i];
		w->r[i] = w->d[i] * w->r_h[i];
		w->p[i] *= t_p;
		w->p_h[i] *= t_p;
		w->x_new[i] = w->x[i] + w->p[i];
	}

	/* The reflected path, from the bound to the box or the radius. */
	t_tr = to_radius(w->p_h, w->r_h, n, w->radius);
	t_r = fmin(to_bound(w, w->x_new, w->r), t_tr);
	if (t_r > 0) {
		t_lo = (1 - theta) * t_p / t_r;
		t_hi = t_r == t_tr ? t_tr : theta * t_r;
	} else {
		t_lo = 0;
		t_hi = -1;
	}
	if (t_lo <= t_hi) {
		double t;

		model_line(w, w->p_h, w->r_h, &qa, &qb);
		t = line_min(qa, qb, t_lo, t_hi, &q_r);
		q_r += model_value(w, w->p_h);
		for (size_t i = 0; i < n; i++) {
			w->r_h[i] = w->p_h[i] + t * w->r_h[i];
			w->r[i] = w->d[i] * w->r_h[i];
		}
	}

	/* The cut step, pulled back inside. */
	for (size_t i = 0; i < n; i++) {
		w->p[i] *= theta;
		w->p_h[i] *= theta;
	}
	q_p = model_value(w, w->p_h);

	/* Scaled steepest descent, to the radius or theta of the bound. */
	for (size_t i = 0; i < n; i++) {
		w->a_h[i] = -w->g_h[i];
		w->a[i] = w->d[i] * w->a_h[i];
	}
	gh = norm2(w->a_h, n);
	t_tr = gh > 0 ? w->radius / gh : 0;
	t_a = to_bound(w, w->x, w->a);
	t_a = t_a < t_tr ? theta * t_a : t_tr;
	model_line(w, NULL, w->a_h, &qa, &qb);
	t_a = line_min(qa, qb, 0, t_a, &q_a);
	for (size_t i = 0; i < n; i++) {
		w->a_h[i] *= t_a;
		w->a[i] *= t_a;
	}

	if (q_p < q_r && q_p < q_a) {
		best = w->p, best_h = w->p_h, qbest = q_p;
	} else if (q_r < q_p && q_r < q_a) {
		best = w->r, best_h = w->r_h, qbest = q_r;
	} else {
		best = w->a, best_h = w->a_h, qbest = q_a;
	}
	memcpy(w->step, best, n * sizeof *best);
	memcpy(w->step_h, best_h, n * sizeof *best);
	return -qbest;
}

/* ---- the driver ----------------------------------------------------- */

ddk_status ddk_lsq_init(ddk_lsq *w, const ddk_lsq_problem *pb,
                        const ddk_lsq_params *par, const double *p0,
                        ddk_err *err)
{
	size_t n = pb->n;
	int jst;

	if (pb->m == 0 || n == 0 || pb->m > w->m_max || n > w->n_max ||
	    !pb->f)
		return ddk_fail(err, DDK_EINVAL, "lsq: problem of %zu x %zu "
		                "does not fit a %zu x %zu workspace", pb->m, n,
		                w->m_max, w->n_max);
	w->pb = *pb;
	w->m = pb->m;
	w->n = n;
	if (par)
		w->par = *par;
	else
		ddk_lsq_params_default(&w->par);
	w->max_eval = w->par.max_eval ? w->par.max_eval : 100 * n;

	/* Bounds and the start, nudged inside. */
	for (size_t i = 0; i < n; i++) {
		w->lo[i] = pb->lo ? pb->lo[i] : -INFINITY;
		w->hi[i] = pb->hi ? pb->hi[i] : INFINITY;
		if (!(w->lo[i] < w->hi[i]))
			return ddk_fail(err, DDK_EINVAL, "lsq: parameter %zu: "
			                "lower bound %g is not below upper "
			                "bound %g", i + 1, w->lo[i], w->hi[i]);
		if (!isfinite(p0[i]))
			return ddk_fail(err, DDK_ENUMERIC, "lsq: parameter "
			                "%zu: start is not finite", i + 1);
		w->x[i] = p0[i];
	}
	strictly_inside(w, w->x, 1e-10);

	/* Residuals, Jacobian and gradient at the start. */
	w->iteration = w->nfev = w->njev = 0;
	w->lambda = 0;
	w->result = DDK_LSQ_RUNNING;
	if (!eval_f(w, w->x, w->f))
		return ddk_fail(err, DDK_ENUMERIC, "lsq: residuals at the "
		                "start are not finite");
	w->nfev = 1;
	w->cost = 0.5 * dot(w->f, w->f, w->m);
	jst = eval_jacobian(w);
	if (jst)
		return ddk_fail(err, DDK_ENUMERIC, "lsq: Jacobian at the "
		                "start is %s", jst == 1 ? "not finite"
		                : "refused by the callback");

	/* The first radius is the start's length in scaled variables. */
	scaling(w);
	for (size_t i = 0; i < n; i++)
		w->x_new[i] = w->x[i] / sqrt(w->v[i]);
	w->radius = norm2(w->x_new, n);
	if (!(w->radius > 0) || !isfinite(w->radius))
		w->radius = 1;
	return DDK_OK;
}

/*
 * The actual reduction F(x) - F(x_new) as -1/2 sum (fn_i - f_i)(fn_i + f_i):
 * near a solution the difference of the two sums loses every digit of a
 * reduction below eps F, and then the steps of a slowly converging
 * (large-residual) problem look like failures and the region collapses
 * early.  The differences fn_i - f_i keep those digits.  *cost_new gets
 * F(x_new).
 */
static double reduction(const ddk_lsq *w, double *cost_new)
{
	const double *fn = w->f_new, *f = w->f;
	double red0 = 0, red1 = 0, c0 = 0, c1 = 0;
	size_t i = 0, m = w->m;

	/* two partial sums of each, as in dot_stride */
	for (; i + 2 <= m; i += 2) {
		red0 += (fn[i] - f[i]) * (fn[i] + f[i]);
		red1 += (fn[i + 1] - f[i + 1]) * (fn[i + 1] + f[i + 1]);
		c0 += fn[i] * fn[i];
		c1 += fn[i + 1] * fn[i + 1];
	}
	if (i < m) {
		red0 += (fn[i] - f[i]) * (fn[i] + f[i]);
		c0 += fn[i] * fn[i];
	}
	*cost_new = 0.5 * (c0 + c1);
	return -0.5 * (red0 + red1);
}

/* Ratio of actual to predicted reduction, and the radius update. */
static double update_radius(ddk_lsq *w, double actual, double predicted,
                            double step_h_norm)
{
	double ratio;

	if (predicted > 0)
		ratio = actual / predicted;
	else if (predicted == actual)
		ratio = 1;
	else
		ratio = 0;
	if (ratio < 0.25)
		w->radius = 0.25 * step_h_norm;
	else if (ratio > 0.75 && step_h_norm > 0.95 * w->radius)
		w->radius *= 2;
	return ratio;
}

/* Build the scaled subproblem at the current point (after scaling()). */
static void build_subproblem(ddk_lsq *w)
{
	for (size_t i = 0; i < w->n; i++) {
		w->d[i] = sqrt(w->v[i]);
		w->c[i] = w->g[i] * w->dv[i];
		w->g_h[i] = w->d[i] * w->g[i];
	}
	augmented_svd(w);
}

/*
 * One trial step from the current model: solve the subproblem, choose the
 * step, evaluate the residuals there.  Sets the predicted and actual
 * reductions, F at the trial point and the scaled step's length *hn, and
 * returns 1.  Residuals that cannot be used (the callback failed, or
 * their sum of squares is not finite: one of them is not, or they
 * overflow) shrink the region to a quarter of the step and return 0.
 */
static int trial_step(ddk_lsq *w, double theta, double *predicted,
                      double *actual, double *cost_new, double *hn)
{
	int ok;

	solve_subproblem(w);
	*predicted = select_step(w, theta);
	for (size_t i = 0; i < w->n; i++)
		w->x_new[i] = w->x[i] + w->step[i];
	strictly_inside(w, w->x_new, 0);
	w->nfev++;
	*hn = norm2(w->step_h, w->n);

	ok = w->pb.f(w->x_new, w->f_new, w->pb.ctx) == 0;
	if (ok)
		*actual = reduction(w, cost_new);
	if (!ok || !isfinite(*cost_new) || !isfinite(*actual)) {
		*actual = -1;
		w->radius = 0.25 * *hn;
		return 0;
	}
	return 1;
}

/* Move to the trial point and model it: RUNNING, or how the Jacobian
 * there failed. */
static ddk_lsq_result accept_step(ddk_lsq *w, double cost_new)
{
	double *t = w->x;
	int jst;

	w->x = w->x_new, w->x_new = t;
	t = w->f, w->f = w->f_new, w->f_new = t;
	w->cost = cost_new;
	jst = eval_jacobian(w);
	if (jst)
		return jst == 1 ? DDK_LSQ_NONFINITE : DDK_LSQ_STOPPED;
	return DDK_LSQ_RUNNING;
}

ddk_lsq_result ddk_lsq_iterate(ddk_lsq *w)
{
	double actual = -1, cost_new = w->cost, theta;
	ddk_lsq_result done = DDK_LSQ_RUNNING;

	if (w->result != DDK_LSQ_RUNNING)
		return w->result;
	scaling(w);
	if (w->gnorm < w->par.gtol)
		return w->result = DDK_LSQ_GTOL;
	if (w->nfev >= w->max_eval)
		return w->result = DDK_LSQ_MAXEVAL;
	build_subproblem(w);
	theta = fmax(0.995, 1 - w->gnorm);

	/* Shrink the region until a step lowers the cost (or we stop). */
	while (actual <= 0 && w->nfev < w->max_eval) {
		double radius_old = w->radius, predicted, hn, ratio, sn, xn;

		if (!trial_step(w, theta, &predicted, &actual, &cost_new,
		                &hn))
			continue;

		/* Compare the model's promise with the outcome. */
		ratio = update_radius(w, actual, predicted, hn);
		sn = norm2(w->step, w->n);
		xn = norm2(w->x, w->n);
		if (actual >= 0 && actual < w->par.ftol * w->cost &&
		    ratio > 0.25)
			done = DDK_LSQ_FTOL;
		else if (sn < w->par.xtol * (w->par.xtol + xn))
			done = DDK_LSQ_XTOL;
		if (done)
			break;
		if (w->radius > 0)
			w->lambda *= radius_old / w->radius;
	}

	/* Accept an improving step (even the one that converged) and model
	 * the new point. */
	if (actual > 0) {
		ddk_lsq_result failed = accept_step(w, cost_new);

		if (failed)
			done = failed;
	}
	w->iteration++;
	if (!done && w->par.on_iter) {
		ddk_lsq_state st = {
			w->iteration, w->nfev, w->x, w->cost, w->gnorm,
			w->radius
		};

		if (w->par.on_iter(&st, w->par.iter_ctx))
			done = DDK_LSQ_STOPPED;
	}
	if (!done && actual <= 0 && w->nfev >= w->max_eval)
		done = DDK_LSQ_MAXEVAL;
	w->result = done;
	return done;
}

const double *ddk_lsq_p(const ddk_lsq *w)
{
	return w->x;
}

void ddk_lsq_get_info(const ddk_lsq *w, ddk_lsq_info *info)
{
	info->result = w->result;
	info->cost = w->cost;
	info->gnorm = w->gnorm;
	info->iterations = w->iteration;
	info->nfev = w->nfev;
	info->njev = w->njev;
}

ddk_status ddk_lsq_run(ddk_lsq *w, const ddk_lsq_problem *pb,
                       const ddk_lsq_params *par, double *p,
                       ddk_lsq_info *info, ddk_err *err)
{
	ddk_status st = ddk_lsq_init(w, pb, par, p, err);

	if (st != DDK_OK)
		return st;
	while (ddk_lsq_iterate(w) == DDK_LSQ_RUNNING)
		;
	memcpy(p, w->x, pb->n * sizeof *p);
	if (info)
		ddk_lsq_get_info(w, info);
	return DDK_OK;
}

ddk_status ddk_lsq_solve(const ddk_lsq_problem *pb,
                         const ddk_lsq_params *par, double *p,
                         ddk_lsq_info *info, ddk_err *err)
{
	ddk_lsq *w = ddk_lsq_alloc(pb->m, pb->n);
	ddk_status st;

	if (!w)
		return ddk_fail(err, DDK_ENOMEM, "lsq: no memory for a "
		                "%zu x %zu problem", pb->m, pb->n);
	st = ddk_lsq_run(w, pb, par, p, info, err);
	ddk_lsq_free(&w);
	return st;
}
