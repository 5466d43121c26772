/*
 * model.c - model files (ddk_model.h, man/ddk-model.5).
 *
 * Writing is done by hand so the layout is fixed and diffable: one key a
 * line, each array on one line, floats with 9 significant digits and
 * doubles with 17, both enough to read back the same bits.  Reading goes
 * through cJSON.  Both run in the C locale whatever the caller's is.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ddk_model.h"
#include "ddk_train.h"

/* ------------------------------------------------------------------ */
/* writing                                                              */

typedef struct sbuf {
	char *p;
	size_t len, cap;
	int bad;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_printf(sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->bad)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->cap - b->len,
		              fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->bad = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len)
			break;

		size_t cap = (b->cap + (size_t)n + 1) * 2;
		char *p = realloc(b->p, cap);

		if (!p) {
			b->bad = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	b->len += (size_t)n;
}

static void sb_string(sbuf *b, const char *s)
{
	sb_printf(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			sb_printf(b, "\\%c", c);
		else if (c < 0x20)
			sb_printf(b, "\\u%04x", c);
		else
			sb_printf(b, "%c", c);
	}
	sb_printf(b, "\"");
}

static void sb_floats(sbuf *b, const float *v, size_t n)
{
	sb_printf(b, "[");
	for (size_t i = 0; i < n; i++)
		sb_printf(b, i ? ", %.9g" : "%.9g", (double)v[i]);
	sb_printf(b, "]");
}

/* Dense weight as out x in rows, the way nn.Linear stores it. */
static void sb_weight(sbuf *b, const ddk_dense *d)
{
	sb_printf(b, "[");
	for (size_t o = 0; o < d->n_out; o++)
		for (size_t i = 0; i < d->n_in; i++)
			sb_printf(b, o || i ? ", %.9g" : "%.9g",
			          (double)d->w[o * d->n_in + i]);
	sb_printf(b, "]");
}

static void write_ddk(sbuf *b, const ddk_model *m)
{
	const ddk_net *net = m->net;
	const ddk_net_config *c = &net->cfg;

	if (!c->use_ddk) {
		sb_printf(b, "  \"ddk\": null,\n");
		return;
	}
	sb_printf(b, "  \"ddk\": {\n    \"mode\": \"%s\",\n",
	          c->mode == DDK_SET ? "set" : "reset");
	sb_printf(b, "    \"layout\": \"%s\",\n    \"channels\": %zu,\n",
	          c->per_row ? "row" : "shared", c->channels);
	sb_printf(b, "    \"alpha\": ");
	sb_floats(b, net->alpha, net->n_pairs);
	sb_printf(b, ",\n    \"beta\": ");
	sb_floats(b, net->beta, net->n_pairs);
	sb_printf(b, ",\n    \"alpha_bounds\": [%.17g, %.17g],\n",
	          c->alpha_lo, c->alpha_hi);
	sb_printf(b, "    \"beta_bounds\": [%.17g, %.17g],\n",
	          c->beta_lo, c->beta_hi);
	sb_printf(b, "    \"trainable\": %s\n  },\n",
	          m->freeze_ddk ? "false" : "true");
}

static void write_classifier(sbuf *b, const ddk_net *net)
{
	const char *act = ddk_activation_name(net->cfg.act);

	sb_printf(b, "  \"classifier\": {\n    \"output\": \"softmax\",\n"
	          "    \"layers\": [\n");
	for (size_t l = 0; l < net->n_dense; l++) {
		const ddk_dense *d = &net->dense[l];
		const ddk_bnorm *bn = &net->bn[l];

		sb_printf(b, "      {\"type\": \"dense\", \"in\": %zu, "
		          "\"out\": %zu,\n       \"weight\": ", d->n_in,
		          d->n_out);
		sb_weight(b, d);
		sb_printf(b, ",\n       \"bias\": ");
		sb_floats(b, d->b, d->n_out);
		sb_printf(b, "}%s\n", l + 1 < net->n_dense ? "," : "");
		if (l + 1 == net->n_dense)
			break;
		if (bn->n) {
			sb_printf(b, "      {\"type\": \"batchnorm\", "
			          "\"size\": %zu, \"eps\": %.17g,\n"
			          "       \"gamma\": ", bn->n,
			          (double)bn->eps);
			sb_floats(b, bn->gamma, bn->n);
			sb_printf(b, ",\n       \"shift\": ");
			sb_floats(b, bn->shift, bn->n);
			sb_printf(b, ",\n       \"running_mean\": ");
			sb_floats(b, bn->run_mean, bn->n);
			sb_printf(b, ",\n       \"running_var\": ");
			sb_floats(b, bn->run_var, bn->n);
			sb_printf(b, "},\n");
		}
		sb_printf(b, "      {\"type\": \"activation\", "
		          "\"function\": \"%s\"},\n", act);
	}
	sb_printf(b, "    ]\n  },\n");
}

static void write_model(sbuf *b, const ddk_model *m)
{
	const ddk_net *net = m->net;

	sb_printf(b, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n",
	          DDK_MODEL_FORMAT, DDK_MODEL_VERSION);
	sb_printf(b, "  \"input\": {\"rows\": %u, \"cols\": %u},\n",
	          (unsigned)net->cfg.rows, (unsigned)net->cfg.cols);
	sb_printf(b, "  \"preprocessing\": {\"recipe\": ");
	sb_string(b, m->recipe ? m->recipe : "");
	sb_printf(b, "},\n");
	write_ddk(b, m);
	if (net->cfg.feature_norm) {
		sb_printf(b, "  \"feature_norm\": {\n    \"mean\": ");
		sb_floats(b, net->fn_mean, net->n_feat);
		sb_printf(b, ",\n    \"inv_std\": ");
		sb_floats(b, net->fn_inv_std, net->n_feat);
		sb_printf(b, "\n  },\n");
	} else {
		sb_printf(b, "  \"feature_norm\": null,\n");
	}
	write_classifier(b, net);
	sb_printf(b, "  \"classes\": [");
	for (size_t c = 0; c < net->cfg.n_classes; c++) {
		sb_printf(b, c ? ", " : "");
		sb_string(b, m->classes[c]);
	}
	sb_printf(b, "],\n  \"training\": %s,\n  \"hardware\": %s\n}\n",
	          m->training_json ? m->training_json : "null",
	          m->hardware_json ? m->hardware_json : "null");
}

char *ddk_model_to_json(const ddk_model *m)
{
	sbuf b = { 0 };
	locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	locale_t old = c ? uselocale(c) : (locale_t)0;

	write_model(&b, m);
	if (c) {
		uselocale(old);
		freelocale(c);
	}
	if (b.bad) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

ddk_status ddk_model_save(const char *path, const ddk_model *m,
                          ddk_err *err)
{
	char *text = ddk_model_to_json(m);
	ddk_status st;

	if (!text)
		return ddk_fail(err, DDK_ENOMEM, "%s: out of memory", path);
	st = ddk_write_atomic(path, text, strlen(text), err);
	free(text);
	return st;
}

void ddk_model_free(ddk_model **m)
{
	if (!m || !*m)
		return;
	if ((*m)->classes && (*m)->net)
		for (size_t c = 0; c < (*m)->net->cfg.n_classes; c++)
			free((*m)->classes[c]);
	free((*m)->classes);
	ddk_net_free(&(*m)->net);
	free((*m)->recipe);
	free((*m)->training_json);
	free((*m)->hardware_json);
	free(*m);
	*m = NULL;
}

ddk_status ddk_model_ddk_rows(const ddk_model *m, size_t k,
                              float *alpha_rows, float *beta_rows)
{
	const ddk_net *net = m->net;
	size_t U = net->cfg.rows;

	if (!net->cfg.use_ddk || k >= net->cfg.channels)
		return DDK_EINVAL;
	for (size_t u = 0; u < U; u++) {
		size_t q = net->cfg.per_row ? k * U + u : k;

		alpha_rows[u] = net->alpha[q];
		beta_rows[u] = net->beta[q];
	}
	return DDK_OK;
}
