/*
 * pairs.c - tables of fitted (alpha, beta) pairs by key, as ddk-fit
 * writes them (see ddk_kinetics.h).  Rows are kept sorted by key, so a
 * lookup is a binary search.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ddk_kinetics.h"
#include "ddk_stream.h"

struct pair_row {
	char *key;
	double alpha, beta;
};

struct ddk_pair_table {
	struct pair_row *rows;
	size_t n, cap;
};

void ddk_pair_table_free(ddk_pair_table **t)
{
	if (!*t)
		return;
	for (size_t i = 0; i < (*t)->n; i++)
		free((*t)->rows[i].key);
	free((*t)->rows);
	free(*t);
	*t = NULL;
}

/* Cut line at tabs into at most max fields; returns the count. */
static size_t split(char *line, char **field, size_t max)
{
	size_t n = 0;

	for (char *p = line; n < max; ) {
		field[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = '\0';
	}
	return n;
}

enum { MAX_COLS = 64 };

/* The columns of key, alpha and beta in the header, or -1. */
struct cols {
	int key, alpha, beta, n;
};

static int header(char *line, struct cols *c)
{
	char *f[MAX_COLS];
	size_t n = split(line, f, MAX_COLS);

	c->key = c->alpha = c->beta = -1;
	c->n = (int)n;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(f[i], "key"))
			c->key = (int)i;
		else if (!strcmp(f[i], "alpha"))
			c->alpha = (int)i;
		else if (!strcmp(f[i], "beta"))
			c->beta = (int)i;
	}
	return c->key >= 0 && c->alpha >= 0 && c->beta >= 0;
}

static int number(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return end != s && !*end && errno != ERANGE && isfinite(*v);
}

static ddk_status add_row(ddk_pair_table *t, char *line, const struct cols *c,
                          const char *name, size_t lineno, ddk_err *err)
{
	char *f[MAX_COLS];
	struct pair_row *r;
	ddk_err why;

	if ((int)split(line, f, MAX_COLS) < c->n)
		return ddk_fail(err, DDK_EFORMAT, "%s: line %zu: %d columns "
		                "wanted", name, lineno, c->n);
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		struct pair_row *p = realloc(t->rows, cap * sizeof *p);

		if (!p)
			return ddk_fail(err, DDK_ENOMEM, "%s: out of memory",
			                name);
		t->rows = p;
		t->cap = cap;
	}
	r = &t->rows[t->n];
	if (ddk_check_names(f[c->key], "", &why))
		return ddk_fail(err, DDK_EFORMAT, "%s: line %zu: %s", name,
		                lineno, why.msg);
	if (!number(f[c->alpha], &r->alpha) || !number(f[c->beta], &r->beta))
		return ddk_fail(err, DDK_EFORMAT, "%s: line %zu (key %s): "
		                "alpha '%.*s' or beta '%.*s' is not a finite "
		                "number", name, lineno, f[c->key],
		                ddk_shown(f[c->alpha], 40), f[c->alpha],
		                ddk_shown(f[c->beta], 40), f[c->beta]);
	if (!(r->key = strdup(f[c->key])))
		return ddk_fail(err, DDK_ENOMEM, "%s: out of memory", name);
	t->n++;
	return DDK_OK;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct pair_row *)a)->key,
	              ((const struct pair_row *)b)->key);
}

static ddk_status read_rows(FILE *f, const char *name, ddk_pair_table *t,
                            ddk_err *err)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	struct cols c;
	int have_header = 0;
	ddk_status s = DDK_OK;

	while (s == DDK_OK && getline(&line, &cap, f) >= 0) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (have_header)
			s = add_row(t, line, &c, name, lineno, err);
		else if (!(have_header = header(line, &c)))
			s = ddk_fail(err, DDK_EFORMAT, "%s: line %zu: the "
			             "header lacks a key, alpha or beta column",
			             name, lineno);
	}
	if (s == DDK_OK && ferror(f))
		s = ddk_fail(err, DDK_EIO, "%s: %s", name, strerror(errno));
	if (s == DDK_OK && t->n == 0)
		s = ddk_fail(err, DDK_EFORMAT, "%s: no rows of alpha and "
		             "beta", name);
	free(line);
	return s;
}

ddk_status ddk_pair_table_load(FILE *f, const char *name,
                               ddk_pair_table **out, ddk_err *err)
{
	ddk_pair_table *t = calloc(1, sizeof *t);
	ddk_status s;

	*out = NULL;
	if (!t)
		return ddk_fail(err, DDK_ENOMEM, "%s: out of memory", name);
	s = read_rows(f, name, t, err);
	if (s == DDK_OK) {
		qsort(t->rows, t->n, sizeof *t->rows, by_key);
		for (size_t i = 1; i < t->n && s == DDK_OK; i++)
			if (!strcmp(t->rows[i].key, t->rows[i - 1].key))
				s = ddk_fail(err, DDK_EFORMAT, "%s: key %s "
				             "appears twice", name,
				             t->rows[i].key);
	}
	if (s != DDK_OK) {
		ddk_pair_table_free(&t);
		return s;
	}
	*out = t;
	return DDK_OK;
}

size_t ddk_pair_table_size(const ddk_pair_table *t)
{
	return t->n;
}

void ddk_pair_table_row(const ddk_pair_table *t, size_t i,
                        const char **key, double *alpha, double *beta)
{
	*key = t->rows[i].key;
	*alpha = t->rows[i].alpha;
	*beta = t->rows[i].beta;
}

int ddk_pair_table_find(const ddk_pair_table *t, const char *key,
                        double *alpha, double *beta)
{
	struct pair_row want = { (char *)key, 0, 0 }, *r;

	r = t->n == 1 ? t->rows
	              : bsearch(&want, t->rows, t->n, sizeof *r, by_key);
	if (!r)
		return -1;
	*alpha = r->alpha;
	*beta = r->beta;
	return 0;
}
