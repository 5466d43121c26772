/*
 * net.c - the DDK network of ddk_nn.h: construction, forward and
 * backward over a batch, statistics, cost and the optimisers.
 *
 * Memory: one block holds every parameter with its gradient and moments,
 * one more the other state (running statistics, feature-norm
 * statistics), and one the batch workspace.  A layout pass
 * counts the sizes, a second cuts the blocks into named views.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic", "no-math-errno", "fp-contract=off")
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ddk_nn.h"
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#define MAXL (DDK_NN_MAX_HIDDEN + 1)
#define MAX_STATE (2 + 2 * MAXL + 4 * DDK_NN_MAX_HIDDEN + 2)

struct ddk_net_work {
	float *pblock, *sblock, *wblock;
	double *dblock;
	float *z, *f;                   /* B x n_feat: DDK out, normalised */
	float *y[MAXL];                 /* B x n_out of dense l */
	float *xhat[MAXL], *bo[MAXL];   /* BN: normalised, output */
	float *bmean[MAXL], *binv[MAXL];
	float *h[MAXL];                 /* B x n_out after the activation */
	float *probs, *dlogits;         /* B x C */
	float *d1, *d2;                 /* B x widest: gradients in flight */
	float *kwork;                   /* 2 B U (T+1): DDK layer scratch */
	double *ga, *gb;                /* n_pairs: pair gradients */
	const float *in0;               /* classifier input of the forward */
};

void ddk_net_config_default(ddk_net_config *c)
{
	memset(c, 0, sizeof *c);
	c->use_ddk = 1;
	c->mode = DDK_RESET;
	c->channels = 1;
	c->alpha_lo = 0;
	c->alpha_hi = 1;
	c->beta_lo = 0;
	c->beta_hi = 1;
	c->act = DDK_ACT_SIGMOID;
}

static ddk_status check_config(const ddk_net_config *c, ddk_err *err)
{
	if (c->rows == 0 || c->cols == 0 ||
	    (uint64_t)c->rows * c->cols > (1u << 24))
		return ddk_fail(err, DDK_EINVAL, "input shape %ux%u",
		                (unsigned)c->rows, (unsigned)c->cols);
	if (c->use_ddk && (c->channels < 1 || c->channels > 64))
		return ddk_fail(err, DDK_EINVAL,
		                "channels %zu outside 1..64", c->channels);
	if (c->use_ddk && !(c->alpha_lo <= c->alpha_hi &&
	                    c->beta_lo <= c->beta_hi && c->alpha_lo >= 0 &&
	                    isfinite(c->alpha_hi) && isfinite(c->beta_hi) &&
	                    isfinite(c->beta_lo)))
		return ddk_fail(err, DDK_EINVAL, "alpha or beta bounds");
	if (c->n_hidden > DDK_NN_MAX_HIDDEN)
		return ddk_fail(err, DDK_EINVAL, "more than %d hidden layers",
		                DDK_NN_MAX_HIDDEN);
	for (size_t l = 0; l < c->n_hidden; l++)
		if (c->hidden[l] < 1 || c->hidden[l] > 65536)
			return ddk_fail(err, DDK_EINVAL,
			                "hidden layer %zu width %zu", l + 1,
			                c->hidden[l]);
	if (c->n_classes < 2 || c->n_classes > 65536)
		return ddk_fail(err, DDK_EINVAL,
		                "%zu classes (at least 2 needed)",
		                c->n_classes);
	if ((unsigned)c->act > DDK_ACT_RELU)
		return ddk_fail(err, DDK_EINVAL, "activation");
	return DDK_OK;
}

static void dims(ddk_net *net)
{
	const ddk_net_config *c = &net->cfg;
	size_t width;

	net->n_in = (size_t)c->rows * c->cols;
	net->n_feat = c->use_ddk ? c->channels * net->n_in : net->n_in;
	net->n_pairs = !c->use_ddk ? 0 :
		c->per_row ? c->channels * c->rows : c->channels;
	net->n_dense = c->n_hidden + 1;
	width = net->n_feat;
	for (size_t l = 0; l < net->n_dense; l++) {
		net->dense[l].n_in = width;
		width = l < c->n_hidden ? c->hidden[l] : c->n_classes;
		net->dense[l].n_out = width;
		if (l < c->n_hidden) {
			net->bn[l].n = c->batchnorm ? width : 0;
			net->bn[l].eps = DDK_BN_EPS;
		}
	}
}

/* Cut n floats at *off from base (or only count, when base is NULL). */
static float *cut(float *base, size_t *off, size_t n)
{
	float *p = base ? base + *off : NULL;

	*off += n;
	return p;
}

static void add_param(ddk_net *net, float *base, size_t *off, float **v,
                      size_t n, int decay)
{
	ddk_param *p = &net->param[net->n_param++];

	memset(p, 0, sizeof *p);
	p->n = n;
	p->decay = decay;
	p->v = cut(base, off, n);
	p->g = cut(base, off, n);
	p->m1 = cut(base, off, n);
	p->m2 = cut(base, off, n);
	*v = p->v;
}

/* Parameters (and their gradients and moments) from base. */
static size_t layout_params(ddk_net *net, float *base)
{
	size_t off = 0;

	net->n_param = 0;
	if (net->n_pairs) {
		add_param(net, base, &off, &net->alpha, net->n_pairs, 0);
		add_param(net, base, &off, &net->beta, net->n_pairs, 0);
		net->param[0].bounded = net->param[1].bounded = 1;
		net->param[0].lo = (float)net->cfg.alpha_lo;
		net->param[0].hi = (float)net->cfg.alpha_hi;
		net->param[1].lo = (float)net->cfg.beta_lo;
		net->param[1].hi = (float)net->cfg.beta_hi;
	}
	for (size_t l = 0; l < net->n_dense; l++) {
		ddk_dense *d = &net->dense[l];

		add_param(net, base, &off, &d->w, d->n_in * d->n_out, 1);
		add_param(net, base, &off, &d->b, d->n_out, 0);
		if (l < net->cfg.n_hidden && net->bn[l].n) {
			add_param(net, base, &off, &net->bn[l].gamma,
			          net->bn[l].n, 0);
			add_param(net, base, &off, &net->bn[l].shift,
			          net->bn[l].n, 0);
		}
	}
	return off;
}

/* Non-trainable state from base. */
static size_t layout_state(ddk_net *net, float *base)
{
	size_t off = 0;

	for (size_t l = 0; l < net->n_dense; l++) {
		if (l < net->cfg.n_hidden && net->bn[l].n) {
			net->bn[l].run_mean = cut(base, &off, net->bn[l].n);
			net->bn[l].run_var = cut(base, &off, net->bn[l].n);
		}
	}
	if (net->cfg.feature_norm) {
		net->fn_mean = cut(base, &off, net->n_feat);
		net->fn_inv_std = cut(base, &off, net->n_feat);
	}
	return off;
}

/* The batch workspace from base. */
static size_t layout_work(ddk_net *net, float *base)
{
	ddk_net_work *W = net->work;
	size_t B = net->batch_cap, off = 0, widest = net->n_feat;
	size_t rows = B * net->cfg.rows;

	if (net->cfg.use_ddk)
		W->z = cut(base, &off, B * net->n_feat);
	if (net->cfg.feature_norm)
		W->f = cut(base, &off, B * net->n_feat);
	for (size_t l = 0; l < net->n_dense; l++) {
		size_t n = net->dense[l].n_out;

		W->y[l] = cut(base, &off, B * n);
		W->h[l] = cut(base, &off, B * n);
		if (l < net->cfg.n_hidden && net->bn[l].n) {
			W->xhat[l] = cut(base, &off, B * n);
			W->bo[l] = cut(base, &off, B * n);
			W->bmean[l] = cut(base, &off, n);
			W->binv[l] = cut(base, &off, n);
		}
		if (n > widest)
			widest = n;
	}
	W->probs = cut(base, &off, B * net->cfg.n_classes);
	W->dlogits = cut(base, &off, B * net->cfg.n_classes);
	W->d1 = cut(base, &off, B * widest);
	W->d2 = cut(base, &off, B * widest);
	if (net->cfg.use_ddk)
		W->kwork = cut(base, &off, 2 * rows * (net->cfg.cols + 1));
	return off;
}

void ddk_net_free(ddk_net **net)
{
	if (!net || !*net)
		return;
	if ((*net)->work) {
		free((*net)->work->pblock);
		free((*net)->work->sblock);
		free((*net)->work->wblock);
		free((*net)->work->dblock);
		free((*net)->work);
	}
	free(*net);
	*net = NULL;
}

ddk_status ddk_net_new(const ddk_net_config *cfg, size_t batch_cap,
                       ddk_net **out, ddk_err *err)
{
	ddk_status st = check_config(cfg, err);
	ddk_net *net;
	ddk_net_work *W;
	size_t np, ns, nw, nd;

	*out = NULL;
	if (st != DDK_OK)
		return st;
	if (batch_cap < 1)
		return ddk_fail(err, DDK_EINVAL, "batch size 0");
	net = calloc(1, sizeof *net);
	W = calloc(1, sizeof *W);
	if (!net || !W) {
		free(net);
		free(W);
		return ddk_fail(err, DDK_ENOMEM, "network: out of memory");
	}
	net->cfg = *cfg;
	net->batch_cap = batch_cap;
	net->work = W;
	dims(net);

	/* count, allocate, then cut into views */
	np = layout_params(net, NULL);
	ns = layout_state(net, NULL);
	nw = layout_work(net, NULL);
	nd = 2 * net->n_pairs;
	W->pblock = calloc(np, sizeof(float));
	W->sblock = calloc(ns ? ns : 1, sizeof(float));
	W->wblock = calloc(nw, sizeof(float));
	W->dblock = calloc(nd ? nd : 1, sizeof(double));
	if (!W->pblock || !W->sblock || !W->wblock || !W->dblock) {
		ddk_net_free(&net);
		return ddk_fail(err, DDK_ENOMEM, "network: out of memory");
	}
	layout_params(net, W->pblock);
	layout_state(net, W->sblock);
	layout_work(net, W->wblock);
	W->ga = W->dblock;
	W->gb = W->ga + net->n_pairs;
	for (size_t l = 0; l < cfg->n_hidden; l++)
		for (size_t j = 0; j < net->bn[l].n; j++)
			net->bn[l].run_var[j] = 1;
	*out = net;
	return DDK_OK;
}

static float uniform_in(ddk_rng *g, double lo, double hi)
{
	return (float)(lo + (hi - lo) * ddk_rng_uniform(g));
}

void ddk_net_init(ddk_net *net, ddk_rng *g, double alpha0, double beta0)
{
	const ddk_net_config *c = &net->cfg;

	for (size_t q = 0; q < net->n_pairs; q++) {
		net->alpha[q] = isnan(alpha0) ?
			uniform_in(g, c->alpha_lo, c->alpha_hi) : (float)alpha0;
		net->beta[q] = isnan(beta0) ?
			uniform_in(g, c->beta_lo, c->beta_hi) : (float)beta0;
	}
	for (size_t l = 0; l < net->n_dense; l++) {
		ddk_dense *d = &net->dense[l];
		double r = 1 / sqrt((double)d->n_in);

		for (size_t i = 0; i < d->n_out * d->n_in; i++)
			d->w[i] = uniform_in(g, -r, r);
		for (size_t o = 0; o < d->n_out; o++)
			d->b[o] = uniform_in(g, -r, r);
		if (l < c->n_hidden)
			for (size_t j = 0; j < net->bn[l].n; j++) {
				net->bn[l].gamma[j] = 1;
				net->bn[l].shift[j] = 0;
				net->bn[l].run_mean[j] = 0;
				net->bn[l].run_var[j] = 1;
			}
	}
	for (size_t j = 0; net->fn_mean && j < net->n_feat; j++) {
		net->fn_mean[j] = 0;
		net->fn_inv_std[j] = 1;
	}
}

/* Every state array with its length; returns how many. */
static size_t state_arrays(const ddk_net *net, float **a, size_t *n)
{
	size_t k = 0;

	if (net->n_pairs) {
		a[k] = net->alpha; n[k++] = net->n_pairs;
		a[k] = net->beta; n[k++] = net->n_pairs;
	}
	for (size_t l = 0; l < net->n_dense; l++) {
		const ddk_dense *d = &net->dense[l];
		const ddk_bnorm *b = &net->bn[l];

		a[k] = d->w; n[k++] = d->n_in * d->n_out;
		a[k] = d->b; n[k++] = d->n_out;
		if (l < net->cfg.n_hidden && b->n) {
			a[k] = b->gamma; n[k++] = b->n;
			a[k] = b->shift; n[k++] = b->n;
			a[k] = b->run_mean; n[k++] = b->n;
			a[k] = b->run_var; n[k++] = b->n;
		}
	}
	if (net->fn_mean) {
		a[k] = net->fn_mean; n[k++] = net->n_feat;
		a[k] = net->fn_inv_std; n[k++] = net->n_feat;
	}
	return k;
}

size_t ddk_net_state_size(const ddk_net *net)
{
	float *a[MAX_STATE];
	size_t n[MAX_STATE], k = state_arrays(net, a, n), total = 0;

	for (size_t i = 0; i < k; i++)
		total += n[i];
	return total;
}

void ddk_net_state_get(const ddk_net *net, float *s)
{
	float *a[MAX_STATE];
	size_t n[MAX_STATE], k = state_arrays(net, a, n);

	for (size_t i = 0; i < k; s += n[i], i++)
		memcpy(s, a[i], n[i] * sizeof *s);
}

void ddk_net_state_set(ddk_net *net, const float *s)
{
	float *a[MAX_STATE];
	size_t n[MAX_STATE], k = state_arrays(net, a, n);

	for (size_t i = 0; i < k; s += n[i], i++)
		memcpy(a[i], s, n[i] * sizeof *s);
}

void ddk_net_copy(ddk_net *dst, const ddk_net *src)
{
	float *a[MAX_STATE], *b[MAX_STATE];
	size_t n[MAX_STATE], m[MAX_STATE];
	size_t k = state_arrays(src, a, n);

	state_arrays(dst, b, m);
	for (size_t i = 0; i < k; i++)
		memcpy(b[i], a[i], n[i] * sizeof *a[i]);
	for (size_t i = 0; i < src->n_param; i++)
		dst->param[i].frozen = src->param[i].frozen;
	for (size_t l = 0; l < src->cfg.n_hidden; l++)
		dst->bn[l].eps = src->bn[l].eps;
}

static ddk_ddk_layer ddk_layer_of(const ddk_net *net)
{
	ddk_ddk_layer L = {
		.mode = net->cfg.mode, .per_row = net->cfg.per_row,
		.K = net->cfg.channels, .U = net->cfg.rows,
		.T = net->cfg.cols, .alpha = net->alpha, .beta = net->beta
	};

	return L;
}

/* The classifier's input for x: DDK features, normalised when asked. */
static const float *features(ddk_net *net, const float *x, size_t B,
                             int normalise)
{
	ddk_net_work *W = net->work;
	const float *in = x;

	if (net->cfg.use_ddk) {
		ddk_ddk_layer L = ddk_layer_of(net);

		ddk_ddk_forward(&L, x, B, W->z, W->kwork);
		in = W->z;
	}
	if (normalise && net->cfg.feature_norm) {
		size_t n = net->n_feat;

		for (size_t s = 0; s < B; s++)
			for (size_t j = 0; j < n; j++)
				W->f[s * n + j] = (in[s * n + j]
					- net->fn_mean[j]) * net->fn_inv_std[j];
		in = W->f;
	}
	return in;
}

/* Move the running estimates towards this batch (unbiased variance). */
static void bn_running(ddk_bnorm *b, const float *y, size_t B)
{
	float m = DDK_BN_MOMENTUM;

	for (size_t j = 0; j < b->n; j++) {
		double mean = 0, v = 0;

		for (size_t s = 0; s < B; s++)
			mean += y[s * b->n + j];
		mean /= (double)B;
		for (size_t s = 0; s < B; s++) {
			double d = y[s * b->n + j] - mean;

			v += d * d;
		}
		v /= (double)(B - 1);
		b->run_mean[j] = (1 - m) * b->run_mean[j] + m * (float)mean;
		b->run_var[j] = (1 - m) * b->run_var[j] + m * (float)v;
	}
}

const float *ddk_net_forward(ddk_net *net, const float *x, size_t B,
                             int train)
{
	ddk_net_work *W = net->work;
	const float *in = features(net, x, B, 1);

	W->in0 = in;
	for (size_t l = 0; l < net->n_dense; l++) {
		ddk_dense *d = &net->dense[l];
		ddk_bnorm *b = &net->bn[l];
		float *a = W->y[l];

		ddk_dense_forward(in, B, d->n_in, d->n_out, d->w, d->b, a);
		if (l == net->cfg.n_hidden)
			break;
		if (b->n && train) {
			ddk_bn_forward(a, B, b->n, b->gamma, b->shift, b->eps,
			               W->xhat[l], W->bo[l], W->bmean[l],
			               W->binv[l]);
			bn_running(b, a, B);
			a = W->bo[l];
		} else if (b->n) {
			ddk_bn_forward_eval(a, B, b->n, b->gamma, b->shift,
			                    b->run_mean, b->run_var, b->eps,
			                    W->bo[l]);
			a = W->bo[l];
		}
		ddk_act_forward(net->cfg.act, a, B * d->n_out, W->h[l]);
		in = W->h[l];
	}
	return W->y[net->n_dense - 1];
}

static int ddk_trainable(const ddk_net *net)
{
	return net->n_pairs && !net->param[0].frozen;
}

/* dL/dz of the features into the pair gradients. */
static void ddk_grads(ddk_net *net, const float *x, float *dfeat, size_t B)
{
	ddk_net_work *W = net->work;
	ddk_ddk_layer L = ddk_layer_of(net);
	size_t n = net->n_feat;

	if (net->cfg.feature_norm)
		for (size_t s = 0; s < B; s++)
			for (size_t j = 0; j < n; j++)
				dfeat[s * n + j] *= net->fn_inv_std[j];
	memset(W->ga, 0, 2 * net->n_pairs * sizeof *W->ga);
	ddk_ddk_backward(&L, x, W->z, dfeat, B, W->ga, W->gb, W->kwork);
	for (size_t q = 0; q < net->n_pairs; q++) {
		net->param[0].g[q] = (float)W->ga[q];
		net->param[1].g[q] = (float)W->gb[q];
	}
}

double ddk_net_backward(ddk_net *net, const float *x, const int *labels,
                        size_t B, size_t *right)
{
	ddk_net_work *W = net->work;
	size_t L = net->n_dense, C = net->cfg.n_classes, pi;
	float *d = W->dlogits;
	double loss;

	for (size_t i = 0; i < net->n_param; i++)
		memset(net->param[i].g, 0, net->param[i].n * sizeof(float));
	loss = ddk_softmax_xent(W->y[L - 1], labels, B, C, W->probs,
	                        W->dlogits, right);

	/* layers from the top; pi walks the parameter list backwards */
	pi = net->n_param;
	for (size_t l = L; l-- > 0;) {
		ddk_dense *dn = &net->dense[l];
		ddk_bnorm *b = &net->bn[l];
		const float *in = l ? W->h[l - 1] : W->in0;
		float *dx = d == W->d1 ? W->d2 : W->d1;
		int want_dx = l > 0 || ddk_trainable(net);

		if (l < net->cfg.n_hidden && b->n)
			pi -= 2;
		pi -= 2;
		ddk_dense_backward(in, d, B, dn->n_in, dn->n_out, dn->w,
		                   net->param[pi].g, net->param[pi + 1].g,
		                   want_dx ? dx : NULL);
		if (!want_dx)
			break;
		d = dx;
		if (l == 0)
			break;

		/* through the activation and BN of hidden layer l-1 */
		size_t n = net->dense[l - 1].n_out;
		ddk_bnorm *pb = &net->bn[l - 1];

		ddk_act_backward(net->cfg.act, W->h[l - 1], d, B * n, d);
		if (pb->n)
			ddk_bn_backward(W->xhat[l - 1], d, B, n, pb->gamma,
			                W->binv[l - 1], net->param[pi - 2].g,
			                net->param[pi - 1].g, d);
	}
	if (ddk_trainable(net))
		ddk_grads(net, x, d, B);
	return loss;
}

void ddk_net_predict(ddk_net *net, const float *x, size_t B, float *probs)
{
	const float *logits = ddk_net_forward(net, x, B, 0);

	ddk_softmax_xent(logits, NULL, B, net->cfg.n_classes, probs, NULL,
	                 NULL);
}

size_t ddk_net_fnorm_acc_size(const ddk_net *net)
{
	return 2 * net->n_feat;
}

void ddk_net_fnorm_begin(ddk_net *net, double *acc)
{
	memset(acc, 0, ddk_net_fnorm_acc_size(net) * sizeof *acc);
}

void ddk_net_fnorm_add(ddk_net *net, const float *x, size_t B, double *acc)
{
	const float *z = features(net, x, B, 0);
	size_t n = net->n_feat;

	for (size_t s = 0; s < B; s++)
		for (size_t j = 0; j < n; j++) {
			double v = z[s * n + j];

			acc[j] += v;
			acc[n + j] += v * v;
		}
}

void ddk_net_fnorm_end(ddk_net *net, const double *acc, size_t count)
{
	size_t n = net->n_feat;

	if (!net->fn_mean || count == 0)
		return;
	for (size_t j = 0; j < n; j++) {
		double m = acc[j] / (double)count;
		double v = acc[n + j] / (double)count - m * m;

		if (v < 0)
			v = 0;
		net->fn_mean[j] = (float)m;
		net->fn_inv_std[j] = (float)(1 / sqrt(v + DDK_FNORM_EPS));
	}
}

void ddk_net_cost_of(const ddk_net *net, ddk_net_cost *c)
{
	memset(c, 0, sizeof *c);
	c->ddk_params = 2 * net->n_pairs;
	c->ddk_ops = net->cfg.use_ddk ? net->n_feat : 0;
	if (net->cfg.feature_norm) {
		c->norm_consts = 2 * net->n_feat;
		c->norm_ops = net->n_feat;
	}
	for (size_t l = 0; l < net->n_dense; l++) {
		const ddk_dense *d = &net->dense[l];

		c->clf_params += d->n_in * d->n_out + d->n_out;
		c->clf_macs += d->n_in * d->n_out;
		if (l < net->cfg.n_hidden) {
			c->clf_params += 2 * net->bn[l].n;
			c->clf_macs += net->bn[l].n;
		}
	}
}

/* ------------------------------------------------------------------ */
/* optimisers                                                           */

void ddk_optim_default(ddk_optim *o, ddk_optim_kind kind)
{
	memset(o, 0, sizeof *o);
	o->kind = kind;
	o->lr = kind == DDK_OPT_ADAM ? 1e-3 : 1e-2;
	o->momentum = kind == DDK_OPT_SGD ? 0.9 : 0;
	o->beta1 = 0.9;
	o->beta2 = 0.999;
	o->eps = 1e-8;
}

/* One parameter's update, in float, one loop per method so it
 * vectorises (element-wise IEEE operations: the same bits at any width). */
static void sgd_param(const ddk_optim *o, ddk_param *p, float lr)
{
	float wd = p->decay ? (float)o->weight_decay : 0;
	float mu = (float)o->momentum;
	float *restrict v = p->v, *restrict m = p->m1;
	const float *restrict g = p->g;

	if (mu > 0)
		for (size_t i = 0; i < p->n; i++) {
			m[i] = mu * m[i] + (g[i] + wd * v[i]);
			v[i] -= lr * m[i];
		}
	else
		for (size_t i = 0; i < p->n; i++)
			v[i] -= lr * (g[i] + wd * v[i]);
}

/* Adam's constants for one step, in float. */
typedef struct adam_k {
	float b1, c1, b2, c2, step, sqrt_bc2, eps, wd;
} adam_k;

/* Elements [i, n) of one parameter: the reference for the SIMD loops. */
static void adam_span(const adam_k *k, ddk_param *p, size_t i)
{
	for (; i < p->n; i++) {
		float gi = p->g[i] + k->wd * p->v[i];

		p->m1[i] = k->b1 * p->m1[i] + k->c1 * gi;
		p->m2[i] = k->b2 * p->m2[i] + k->c2 * gi * gi;
		p->v[i] -= k->step * p->m1[i]
			/ (sqrtf(p->m2[i]) / k->sqrt_bc2 + k->eps);
	}
}

#if defined(__x86_64__) && defined(__GNUC__)
/*
 * The same operations in eight lanes (AVX) or four (SSE, always there on
 * x86_64).  Every one is a correctly rounded IEEE operation, so each
 * element gets the bits adam_span gives it.  Returns the first element
 * not done.
 */
#define ADAM_BODY(V, SET1, LD, ST, ADD, SUB, MUL, DIV, SQRT, W)         \
	V b1 = SET1(k->b1), c1 = SET1(k->c1), b2 = SET1(k->b2);         \
	V c2 = SET1(k->c2), st = SET1(k->step), sb = SET1(k->sqrt_bc2);  \
	V eps = SET1(k->eps), wd = SET1(k->wd);                          \
	size_t i = 0;                                                    \
	for (; i + W <= p->n; i += W) {                                  \
		V v = LD(p->v + i);                                      \
		V gi = ADD(LD(p->g + i), MUL(wd, v));                    \
		V m = ADD(MUL(b1, LD(p->m1 + i)), MUL(c1, gi));          \
		V q = ADD(MUL(b2, LD(p->m2 + i)), MUL(MUL(c2, gi), gi)); \
		ST(p->m1 + i, m);                                        \
		ST(p->m2 + i, q);                                        \
		ST(p->v + i, SUB(v, DIV(MUL(st, m),                      \
		              ADD(DIV(SQRT(q), sb), eps))));             \
	}                                                                \
	return i

__attribute__((target("avx")))
static size_t adam_avx(const adam_k *k, ddk_param *p)
{
	ADAM_BODY(__m256, _mm256_set1_ps, _mm256_loadu_ps, _mm256_storeu_ps,
	          _mm256_add_ps, _mm256_sub_ps, _mm256_mul_ps, _mm256_div_ps,
	          _mm256_sqrt_ps, 8);
}

static size_t adam_sse(const adam_k *k, ddk_param *p)
{
	ADAM_BODY(__m128, _mm_set1_ps, _mm_loadu_ps, _mm_storeu_ps,
	          _mm_add_ps, _mm_sub_ps, _mm_mul_ps, _mm_div_ps,
	          _mm_sqrt_ps, 4);
}

static size_t adam_simd(const adam_k *k, ddk_param *p)
{
	return __builtin_cpu_supports("avx") ? adam_avx(k, p)
	                                      : adam_sse(k, p);
}
#else
static size_t adam_simd(const adam_k *k, ddk_param *p)
{
	(void)k, (void)p;
	return 0;
}
#endif

static void adam_param(const ddk_optim *o, ddk_param *p, float step,
                       float sqrt_bc2)
{
	adam_k k = {
		.b1 = (float)o->beta1, .c1 = 1 - (float)o->beta1,
		.b2 = (float)o->beta2, .c2 = 1 - (float)o->beta2,
		.step = step, .sqrt_bc2 = sqrt_bc2, .eps = (float)o->eps,
		.wd = p->decay ? (float)o->weight_decay : 0
	};

	adam_span(&k, p, adam_simd(&k, p));
}

/* Whether every gradient a step would read is finite.  The bounds clamp
 * below passes NaN through (both comparisons are false), so this is what
 * keeps a NaN out of the parameters. */
static int grads_finite(const ddk_net *net)
{
	for (size_t i = 0; i < net->n_param; i++) {
		const ddk_param *p = &net->param[i];

		if (!p->frozen && ddk_first_nonfinite(p->g, p->n) < p->n)
			return 0;
	}
	return 1;
}

int ddk_optim_step(ddk_optim *o, ddk_net *net, double lr)
{
	double bc1, bc2;

	if (!grads_finite(net)) {
		o->skipped++;
		return 1;
	}

	/* the step itself */
	o->t++;
	bc1 = 1 - pow(o->beta1, (double)o->t);
	bc2 = 1 - pow(o->beta2, (double)o->t);
	for (size_t i = 0; i < net->n_param; i++) {
		ddk_param *p = &net->param[i];

		if (p->frozen)
			continue;
		if (o->kind == DDK_OPT_SGD)
			sgd_param(o, p, (float)lr);
		else
			adam_param(o, p, (float)(lr / bc1), (float)sqrt(bc2));
		for (size_t k = 0; p->bounded && k < p->n; k++)
			p->v[k] = p->v[k] < p->lo ? p->lo :
				p->v[k] > p->hi ? p->hi : p->v[k];
	}
	return 0;
}
