/*
 * model_load.c - reading model files (ddk_model.h, man/ddk-model.5).
 *
 * The network's shape is read first (input, DDK layer, the classifier's
 * layer list, classes), the network is built from it, and then every
 * array is read into place with its length checked against the shape.
 * Any mismatch names the file and the field.
 */
#include <cjson/cJSON.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ddk_model.h"
#include "ddk_stream.h"

typedef struct ld {
	const char *name;
	ddk_err *err;
} ld;

#define BAD(L, ...) ddk_fail((L)->err, DDK_EFORMAT, __VA_ARGS__)

static const cJSON *field(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static ddk_status get_size(ld *L, const cJSON *o, const char *key,
                           const char *where, double lo, double hi,
                           size_t *v)
{
	const cJSON *it = field(o, key);

	if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble)
	    || it->valuedouble < lo || it->valuedouble > hi)
		return BAD(L, "%s: %s.%s: missing or not an integer in "
		           "%.0f..%.0f", L->name, where, key, lo, hi);
	*v = (size_t)it->valuedouble;
	return DDK_OK;
}

/* An array of exactly n numbers finite as float32 into v (v NULL: check
 * only). */
static ddk_status get_floats(ld *L, const cJSON *o, const char *key,
                             const char *where, size_t n, float *v)
{
	const cJSON *a = field(o, key), *it;
	size_t i = 0;

	if (!cJSON_IsArray(a))
		return BAD(L, "%s: %s.%s: missing or not an array", L->name,
		           where, key);
	if ((size_t)cJSON_GetArraySize(a) != n)
		return BAD(L, "%s: %s.%s: %d values, the shape needs %zu",
		           L->name, where, key, cJSON_GetArraySize(a), n);
	cJSON_ArrayForEach(it, a) {
		if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
			return BAD(L, "%s: %s.%s[%zu]: not a number",
			           L->name, where, key, i);
		if (!isfinite((float)it->valuedouble))
			return BAD(L, "%s: %s.%s[%zu]: %g is beyond float32",
			           L->name, where, key, i, it->valuedouble);
		if (v)
			v[i] = (float)it->valuedouble;
		i++;
	}
	return DDK_OK;
}

/* A batch normalisation's "eps": a number > 0 as float32 (1e-5 when the
 * layer has none). */
static ddk_status get_eps(ld *L, const cJSON *o, const char *where,
                          float *eps)
{
	const cJSON *e = field(o, "eps");

	*eps = DDK_BN_EPS;
	if (!e)
		return DDK_OK;
	if (!cJSON_IsNumber(e) || !((float)e->valuedouble > 0) ||
	    !isfinite((float)e->valuedouble))
		return BAD(L, "%s: %s.eps: wanted a number > 0", L->name,
		           where);
	*eps = (float)e->valuedouble;
	return DDK_OK;
}

static ddk_status get_bounds(ld *L, const cJSON *o, const char *key,
                             double *lo, double *hi)
{
	const cJSON *a = field(o, key);

	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 2 ||
	    !cJSON_IsNumber(cJSON_GetArrayItem(a, 0)) ||
	    !cJSON_IsNumber(cJSON_GetArrayItem(a, 1)))
		return BAD(L, "%s: ddk.%s: wanted [lo, hi]", L->name, key);
	*lo = cJSON_GetArrayItem(a, 0)->valuedouble;
	*hi = cJSON_GetArrayItem(a, 1)->valuedouble;
	if (!isfinite(*lo) || !isfinite(*hi))
		return BAD(L, "%s: ddk.%s: not finite", L->name, key);
	if (!(*lo <= *hi))
		return BAD(L, "%s: ddk.%s: lo > hi", L->name, key);
	return DDK_OK;
}

static ddk_status read_ddk_shape(ld *L, const cJSON *d, ddk_net_config *c,
                                 int *freeze)
{
	const cJSON *mode = field(d, "mode"), *lay = field(d, "layout");
	const cJSON *tr = field(d, "trainable");
	ddk_status st;

	if (cJSON_IsNull(d)) {
		c->use_ddk = 0;
		return DDK_OK;
	}
	if (!cJSON_IsObject(d))
		return BAD(L, "%s: ddk: wanted an object or null", L->name);
	if (!cJSON_IsString(mode) || (strcmp(mode->valuestring, "reset") &&
	                              strcmp(mode->valuestring, "set")))
		return BAD(L, "%s: ddk.mode: wanted \"reset\" or \"set\"",
		           L->name);
	c->mode = strcmp(mode->valuestring, "set") ? DDK_RESET : DDK_SET;
	if (!cJSON_IsString(lay) || (strcmp(lay->valuestring, "shared") &&
	                             strcmp(lay->valuestring, "row")))
		return BAD(L, "%s: ddk.layout: wanted \"shared\" or \"row\"",
		           L->name);
	c->per_row = strcmp(lay->valuestring, "row") == 0;
	*freeze = cJSON_IsFalse(tr);
	if ((st = get_size(L, d, "channels", "ddk", 1, 64, &c->channels)) ||
	    (st = get_bounds(L, d, "alpha_bounds", &c->alpha_lo,
	                     &c->alpha_hi)) ||
	    (st = get_bounds(L, d, "beta_bounds", &c->beta_lo, &c->beta_hi)))
		return st;
	if (c->alpha_lo < 0)
		return BAD(L, "%s: ddk.alpha_bounds: alpha must stay >= 0",
		           L->name);
	return DDK_OK;
}

/* The classifier's shape from its layer list. */
static ddk_status read_layers_shape(ld *L, const cJSON *layers,
                                    ddk_net_config *c, size_t *last_out)
{
	const cJSON *it;
	size_t n_dense = 0, n_bn = 0, n_act = 0, out = 0, idx = 0;
	int act = -1;

	if (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) < 1)
		return BAD(L, "%s: classifier.layers: missing or empty",
		           L->name);
	cJSON_ArrayForEach(it, layers) {
		const cJSON *type = field(it, "type");
		const char *t = cJSON_IsString(type) ? type->valuestring : "";

		if (strcmp(t, "dense") == 0) {
			if (n_dense > n_act || n_dense > DDK_NN_MAX_HIDDEN)
				goto order;
			if (get_size(L, it, "out", "classifier.layers", 1,
			             65536, &out))
				return DDK_EFORMAT;
			if (n_dense < DDK_NN_MAX_HIDDEN)
				c->hidden[n_dense] = out;
			n_dense++;
		} else if (strcmp(t, "batchnorm") == 0) {
			if (n_bn != n_act || n_dense != n_act + 1)
				goto order;
			n_bn++;
		} else if (strcmp(t, "activation") == 0) {
			const cJSON *f = field(it, "function");
			int a = cJSON_IsString(f) ?
				ddk_activation_parse(f->valuestring) : -1;

			if (a < 0 || (act >= 0 && a != act))
				return BAD(L, "%s: classifier.layers[%zu]: "
				           "unknown or mixed activation",
				           L->name, idx);
			if (n_dense != n_act + 1)
				goto order;
			act = a;
			n_act++;
		} else {
			return BAD(L, "%s: classifier.layers[%zu]: unknown "
			           "type \"%s\"", L->name, idx, t);
		}
		idx++;
	}
	if (n_dense != n_act + 1 || (n_bn && n_bn != n_act))
		goto order;
	c->n_hidden = n_act;
	c->act = act < 0 ? DDK_ACT_SIGMOID : (ddk_activation)act;
	c->batchnorm = n_bn > 0;
	*last_out = out;
	return DDK_OK;
order:
	return BAD(L, "%s: classifier.layers: wanted dense, [batchnorm,] "
	           "activation, ..., dense", L->name);
}

static ddk_status read_shape(ld *L, const cJSON *root, ddk_net_config *c,
                             int *freeze)
{
	const cJSON *in = field(root, "input"), *fn = field(root,
	                                                   "feature_norm");
	const cJSON *cl = field(root, "classifier");
	size_t rows, cols, out = 0;
	ddk_status st;

	ddk_net_config_default(c);
	if ((st = get_size(L, in, "rows", "input", 1, 1 << 24, &rows)) ||
	    (st = get_size(L, in, "cols", "input", 1, 1 << 24, &cols)))
		return st;
	c->rows = (uint32_t)rows;
	c->cols = (uint32_t)cols;
	if ((st = read_ddk_shape(L, field(root, "ddk"), c, freeze)))
		return st;
	if (!cJSON_IsNull(fn) && !cJSON_IsObject(fn))
		return BAD(L, "%s: feature_norm: wanted an object or null",
		           L->name);
	c->feature_norm = cJSON_IsObject(fn);
	if (!cJSON_IsObject(cl))
		return BAD(L, "%s: classifier: missing", L->name);
	if ((st = read_layers_shape(L, field(cl, "layers"), c, &out)))
		return st;
	c->n_classes = out;
	return DDK_OK;
}

static ddk_status read_classifier(ld *L, const cJSON *layers, ddk_net *net)
{
	const cJSON *it;
	size_t l = 0, b = 0, idx = 0;
	char where[64];
	ddk_status st;

	cJSON_ArrayForEach(it, layers) {
		const char *t = field(it, "type")->valuestring;

		snprintf(where, sizeof where, "classifier.layers[%zu]", idx++);
		if (strcmp(t, "dense") == 0) {
			ddk_dense *d = &net->dense[l++];
			float *w = malloc(d->n_in * d->n_out * sizeof *w);
			size_t n_in;

			if (!w)
				return ddk_fail(L->err, DDK_ENOMEM, "%s: out "
				                "of memory", L->name);
			st = get_size(L, it, "in", where, 1, 1 << 30, &n_in);
			if (!st && n_in != d->n_in)
				st = BAD(L, "%s: %s.in: %zu, the shape needs "
				         "%zu", L->name, where, n_in, d->n_in);
			if (!st)
				st = get_floats(L, it, "weight", where,
				                d->n_in * d->n_out, w);
			for (size_t o = 0; !st && o < d->n_out; o++)
				for (size_t i = 0; i < d->n_in; i++)
					d->w[o * d->n_in + i] =
						w[o * d->n_in + i];
			free(w);
			if (st || (st = get_floats(L, it, "bias", where,
			                           d->n_out, d->b)))
				return st;
		} else if (strcmp(t, "batchnorm") == 0) {
			ddk_bnorm *bn = &net->bn[b++];

			if ((st = get_floats(L, it, "gamma", where, bn->n,
			                     bn->gamma)) ||
			    (st = get_floats(L, it, "shift", where, bn->n,
			                     bn->shift)) ||
			    (st = get_floats(L, it, "running_mean", where,
			                     bn->n, bn->run_mean)) ||
			    (st = get_floats(L, it, "running_var", where,
			                     bn->n, bn->run_var)))
				return st;
			for (size_t j = 0; j < bn->n; j++)
				if (!(bn->run_var[j] >= 0))
					return BAD(L, "%s: %s.running_var: "
					           "negative", L->name, where);
			if ((st = get_eps(L, it, where, &bn->eps)))
				return st;
		}
	}
	return DDK_OK;
}

static ddk_status read_arrays(ld *L, const cJSON *root, ddk_net *net)
{
	const cJSON *d = field(root, "ddk"), *fn = field(root,
	                                                 "feature_norm");
	ddk_status st;

	if (net->cfg.use_ddk) {
		if ((st = get_floats(L, d, "alpha", "ddk", net->n_pairs,
		                     net->alpha)) ||
		    (st = get_floats(L, d, "beta", "ddk", net->n_pairs,
		                     net->beta)))
			return st;
		for (size_t q = 0; q < net->n_pairs; q++)
			if (net->alpha[q] < net->cfg.alpha_lo ||
			    net->alpha[q] > net->cfg.alpha_hi ||
			    net->beta[q] < net->cfg.beta_lo ||
			    net->beta[q] > net->cfg.beta_hi)
				return BAD(L, "%s: ddk: pair %zu outside "
				           "its bounds", L->name, q + 1);
	}
	if (net->cfg.feature_norm &&
	    ((st = get_floats(L, fn, "mean", "feature_norm", net->n_feat,
	                      net->fn_mean)) ||
	     (st = get_floats(L, fn, "inv_std", "feature_norm", net->n_feat,
	                      net->fn_inv_std))))
		return st;
	st = read_classifier(L, field(field(root, "classifier"), "layers"),
	                     net);
	return st;
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	return p ? memcpy(p, s, n) : NULL;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* DDK_EFORMAT when a class name appears twice. */
static ddk_status twice(ld *L, char **names, size_t n)
{
	char **s = malloc(n * sizeof *s);
	ddk_status st = DDK_OK;

	if (!s)
		return ddk_fail(L->err, DDK_ENOMEM, "out of memory");
	memcpy(s, names, n * sizeof *s);
	qsort(s, n, sizeof *s, by_name);
	for (size_t i = 1; i < n && st == DDK_OK; i++)
		if (!strcmp(s[i], s[i - 1]))
			st = BAD(L, "%s: classes: '%s' appears twice", L->name,
			         s[i]);
	free(s);
	return st;
}

static ddk_status read_classes(ld *L, const cJSON *root, ddk_model *m)
{
	const cJSON *cl = field(root, "classes"), *it;
	size_t C = m->net->cfg.n_classes, c = 0;

	if (!cJSON_IsArray(cl) || (size_t)cJSON_GetArraySize(cl) != C)
		return BAD(L, "%s: classes: wanted %zu names, as the output "
		           "layer has", L->name, C);
	m->classes = calloc(C, sizeof *m->classes);
	if (!m->classes)
		return ddk_fail(L->err, DDK_ENOMEM, "out of memory");
	cJSON_ArrayForEach(it, cl) {
		if (!cJSON_IsString(it))
			return BAD(L, "%s: classes[%zu]: not a string",
			           L->name, c);
		if (!it->valuestring[0] ||
		    ddk_check_names("k", it->valuestring, NULL))
			return BAD(L, "%s: classes[%zu]: not a label (empty, "
			           "too long, or holding a control character)",
			           L->name, c);
		if (!(m->classes[c++] = dup_str(it->valuestring)))
			return ddk_fail(L->err, DDK_ENOMEM, "out of memory");
	}
	return twice(L, m->classes, C);
}

static ddk_status read_meta(ld *L, const cJSON *root, ddk_model *m)
{
	const cJSON *pre = field(root, "preprocessing");
	const cJSON *rec = field(pre, "recipe");
	const char *keys[2] = { "training", "hardware" };
	char **dst[2] = { &m->training_json, &m->hardware_json };
	ddk_status st = read_classes(L, root, m);

	if (st)
		return st;
	m->recipe = dup_str(cJSON_IsString(rec) ? rec->valuestring : "");
	for (int k = 0; k < 2; k++) {
		const cJSON *o = field(root, keys[k]);

		if (o && !cJSON_IsNull(o) && !(*dst[k] =
		                                cJSON_PrintUnformatted(o)))
			return ddk_fail(L->err, DDK_ENOMEM, "out of memory");
	}
	return m->recipe ? DDK_OK : ddk_fail(L->err, DDK_ENOMEM, "memory");
}

/* Line of the first byte cJSON could not take. */
static int error_line(const char *text)
{
	const char *at = cJSON_GetErrorPtr();
	int line = 1;

	for (const char *p = text; at && p < at && *p; p++)
		line += *p == '\n';
	return line;
}

static ddk_status parse_root(ld *L, const char *text, cJSON **out)
{
	cJSON *root = cJSON_Parse(text);
	const cJSON *fmt, *ver;

	*out = root;
	if (!root)
		return BAD(L, "%s: not JSON (line %d)", L->name,
		           error_line(text));
	fmt = field(root, "format");
	ver = field(root, "version");
	if (!cJSON_IsObject(root) || !cJSON_IsString(fmt) ||
	    strcmp(fmt->valuestring, DDK_MODEL_FORMAT) != 0)
		return BAD(L, "%s: not a ddk-model file (no \"format\": "
		           "\"%s\")", L->name, DDK_MODEL_FORMAT);
	if (!cJSON_IsNumber(ver))
		return BAD(L, "%s: no numeric \"version\", this build reads "
		           "version %d", L->name, DDK_MODEL_VERSION);
	if (ver->valuedouble != DDK_MODEL_VERSION)
		return BAD(L, "%s: format version %g, this build reads "
		           "version %d", L->name, ver->valuedouble,
		           DDK_MODEL_VERSION);
	return DDK_OK;
}

static ddk_status parse(ld *L, const char *text, size_t batch_cap,
                        ddk_model **out)
{
	cJSON *root;
	ddk_net_config cfg;
	ddk_model *m = NULL;
	int freeze = 0;
	ddk_status st = parse_root(L, text, &root);

	if (st == DDK_OK)
		st = read_shape(L, root, &cfg, &freeze);
	if (st == DDK_OK && !(m = calloc(1, sizeof *m)))
		st = ddk_fail(L->err, DDK_ENOMEM, "out of memory");
	if (st == DDK_OK) {
		ddk_err why;

		st = ddk_net_new(&cfg, batch_cap ? batch_cap : 256, &m->net,
		                 &why);
		if (st != DDK_OK)
			st = BAD(L, "%s: %s", L->name, why.msg);
	}
	if (st == DDK_OK)
		st = read_arrays(L, root, m->net);
	if (st == DDK_OK)
		st = read_meta(L, root, m);
	cJSON_Delete(root);
	if (st != DDK_OK) {
		ddk_model_free(&m);
		return st;
	}
	m->freeze_ddk = freeze;
	if (m->net->n_pairs)
		m->net->param[0].frozen = m->net->param[1].frozen = freeze;
	*out = m;
	return DDK_OK;
}

ddk_status ddk_model_parse(const char *text, const char *name,
                           size_t batch_cap, ddk_model **out, ddk_err *err)
{
	ddk_err local;
	ld L = { name, err ? err : &local };
	locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	locale_t old = c ? uselocale(c) : (locale_t)0;
	ddk_status st;

	*out = NULL;
	st = parse(&L, text, batch_cap, out);
	if (c) {
		uselocale(old);
		freelocale(c);
	}
	return st;
}

ddk_status ddk_model_load(const char *path, size_t batch_cap,
                          ddk_model **out, ddk_err *err)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	ddk_status st;

	*out = NULL;
	if (!f)
		return ddk_fail(err, DDK_EIO, "%s: cannot open", path);
	do {
		if (cap - len < 65536) {
			char *p = realloc(text, cap = cap * 2 + 65536);

			if (!p) {
				free(text);
				fclose(f);
				return ddk_fail(err, DDK_ENOMEM, "%s: out of "
				                "memory", path);
			}
			text = p;
		}
		n = fread(text + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		free(text);
		fclose(f);
		return ddk_fail(err, DDK_EIO, "%s: read error", path);
	}
	fclose(f);
	text[len] = '\0';
	if (strlen(text) != len) {
		free(text);
		return ddk_fail(err, DDK_EFORMAT, "%s: not JSON (NUL byte)",
		                path);
	}
	st = ddk_model_parse(text, path, batch_cap, out, err);
	free(text);
	return st;
}
