/*
 * array.c - examples from IDX and NumPy .npy files, and label files
 * (ddk_pool.h).  Both formats are read through zlib's gzFile, which reads
 * plain files as they are, so a gzipped .npy works too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "ddk_pool.h"

enum dtype { DT_U8, DT_F32, DT_F64, DT_I32, DT_I64 };
static const size_t dt_size[] = { 1, 4, 8, 4, 8 };

struct ddk_array {
	gzFile gz;
	char *path;
	enum dtype dt;
	int big_endian;     /* IDX stores multi-byte values big-endian */
	size_t count, rows, cols, next;
	unsigned char *raw;
};

/* Open path ("-" is stdin) for gzread. */
static gzFile open_gz(const char *path, ddk_err *err)
{
	gzFile gz = strcmp(path, "-") ? gzopen(path, "rb") : gzdopen(0, "rb");

	if (!gz)
		ddk_fail(err, errno == ENOMEM ? DDK_ENOMEM : DDK_EIO, "%s: %s",
		         path, errno ? strerror(errno) : "cannot open");
	return gz;
}

/* Read exactly n bytes; 0 on success. */
static int read_all(gzFile gz, void *dst, size_t n)
{
	unsigned char *d = dst;

	while (n > 0) {
		unsigned k = n > (1u << 30) ? 1u << 30 : (unsigned)n;
		int got = gzread(gz, d, k);

		if (got <= 0)
			return -1;
		d += got;
		n -= (size_t)got;
	}
	return 0;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static ddk_array *array_new(gzFile gz, const char *path)
{
	ddk_array *a = calloc(1, sizeof *a);

	if (!a)
		return NULL;
	a->path = strdup(path);
	if (!a->path) {
		free(a);
		return NULL;
	}
	a->gz = gz;
	return a;
}

void ddk_array_free(ddk_array **a)
{
	if (!a || !*a)
		return;
	if ((*a)->gz)
		gzclose((*a)->gz);
	free((*a)->raw);
	free((*a)->path);
	free(*a);
	*a = NULL;
}

/* Set the example shape from dims[0..nd-1]: dims[0] counts examples. */
static ddk_status set_shape(ddk_array *a, const uint64_t *dims, int nd,
                            ddk_err *err)
{
	uint64_t rows = 1, values = 1;
	double claimed = 1;

	if (nd < 2 || nd > 4)
		return ddk_fail(err, DDK_EFORMAT, "%s: an array of %d "
		                "dimensions (2 to 4 are read)", a->path, nd);
	for (int i = 0; i < nd; i++)
		if (dims[i] == 0)
			return ddk_fail(err, DDK_EFORMAT, "%s: dimension %d is "
			                "zero", a->path, i);

	/* The product is checked factor by factor: it must not wrap. */
	for (int i = 1; i < nd; i++) {
		claimed *= (double)dims[i];
		if (values <= DDK_VALUES_MAX / dims[i])
			values *= dims[i];
		else
			values = (uint64_t)DDK_VALUES_MAX + 1;
		if (i < nd - 1)
			rows = values;
	}
	if (values > DDK_VALUES_MAX)
		return ddk_fail(err, DDK_ERANGE, "%s: examples of %.0f values "
		                "exceed the limit", a->path, claimed);
	a->count = (size_t)dims[0];
	a->rows = (size_t)rows;
	a->cols = (size_t)dims[nd - 1];
	a->raw = malloc(a->rows * a->cols * dt_size[a->dt]);
	if (!a->raw)
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	return DDK_OK;
}

static ddk_status open_fail(ddk_array **a, ddk_array *p, ddk_status s)
{
	ddk_array_free(&p);
	*a = NULL;
	return s;
}

ddk_status ddk_idx_open(ddk_array **a, const char *path, ddk_err *err)
{
	unsigned char h[4], d[4];
	uint64_t dims[4];
	gzFile gz = open_gz(path, err);
	ddk_array *p;
	int nd;

	*a = NULL;
	if (!gz)
		return DDK_EIO;
	if (!(p = array_new(gz, path))) {
		gzclose(gz);
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	}

	/* Magic: two zero bytes, the type code, the number of dimensions. */
	if (read_all(gz, h, 4) || h[0] || h[1])
		return open_fail(a, p, ddk_fail(err, DDK_EFORMAT, "%s: not an "
		                 "IDX file (bad magic)", path));
	switch (h[2]) {
	case 0x08: p->dt = DT_U8; break;
	case 0x0D: p->dt = DT_F32; break;
	case 0x0E: p->dt = DT_F64; break;
	default:
		return open_fail(a, p, ddk_fail(err, DDK_EFORMAT, "%s: IDX type "
		                 "0x%02x not read (uint8, float, double are)",
		                 path, h[2]));
	}
	p->big_endian = 1;
	nd = h[3];
	if (nd < 2 || nd > 4)
		return open_fail(a, p, ddk_fail(err, DDK_EFORMAT, "%s: IDX with "
		                 "%d dimensions (2 to 4 are read)", path, nd));
	for (int i = 0; i < nd; i++) {
		if (read_all(gz, d, 4))
			return open_fail(a, p, ddk_fail(err, DDK_EFORMAT,
			                 "%s: truncated IDX header", path));
		dims[i] = be32(d);
	}
	ddk_status s = set_shape(p, dims, nd, err);
	if (s)
		return open_fail(a, p, s);
	*a = p;
	return DDK_OK;
}

/* Find "'name':" in a .npy header dict and return what follows. */
static const char *npy_field(const char *h, const char *name)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof pat, "'%s'", name);
	if (!(p = strstr(h, pat)))
		return NULL;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p++ != ':')
		return NULL;
	while (*p == ' ')
		p++;
	return p;
}

static ddk_status npy_dtype(ddk_array *p, const char *h, ddk_err *err)
{
	static const struct { const char *d; enum dtype t; } known[] = {
		{ "'|u1'", DT_U8 }, { "'<u1'", DT_U8 }, { "'u1'", DT_U8 },
		{ "'<f4'", DT_F32 }, { "'<f8'", DT_F64 },
		{ "'<i4'", DT_I32 }, { "'<i8'", DT_I64 },
	};
	const char *d = npy_field(h, "descr");

	if (!d)
		return ddk_fail(err, DDK_EFORMAT, "%s: .npy header has no "
		                "descr", p->path);
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (!strncmp(d, known[i].d, strlen(known[i].d))) {
			p->dt = known[i].t;
			return DDK_OK;
		}
	return ddk_fail(err, DDK_EFORMAT, "%s: .npy dtype %.*s not read "
	                "(|u1, <f4, <f8 are; <i4, <i8 as labels)", p->path,
	                (int)strcspn(d, ","), d);
}

/* Parse "(a, b, c)" into dims; returns the count or -1. */
static int npy_shape(const char *s, uint64_t *dims, int max)
{
	int nd = 0;

	if (!s || *s++ != '(')
		return -1;
	for (;;) {
		char *end;

		while (*s == ' ')
			s++;
		if (*s == ')')
			return nd;
		if (*s < '0' || *s > '9' || nd == max)
			return -1;
		errno = 0;
		dims[nd++] = strtoull(s, &end, 10);
		if (errno)
			return -1;
		s = end;
		while (*s == ' ')
			s++;
		if (*s == ',')
			s++;
		else if (*s != ')')
			return -1;
	}
}

/* Read the magic, version and header dict of a .npy file. */
static ddk_status npy_header(ddk_array *p, uint64_t *dims, int *nd,
                             ddk_err *err)
{
	unsigned char m[10], l4[4];
	size_t hlen;
	char *h;
	const char *f;
	ddk_status s = DDK_OK;

	if (read_all(p->gz, m, 8) || memcmp(m, "\x93NUMPY", 6))
		return ddk_fail(err, DDK_EFORMAT, "%s: not a .npy file (bad "
		                "magic)", p->path);
	if (m[6] == 1) {
		if (read_all(p->gz, l4, 2))
			return ddk_fail(err, DDK_EFORMAT, "%s: truncated .npy "
			                "header", p->path);
		hlen = l4[0] | (size_t)l4[1] << 8;
	} else if (m[6] == 2 || m[6] == 3) {
		if (read_all(p->gz, l4, 4))
			return ddk_fail(err, DDK_EFORMAT, "%s: truncated .npy "
			                "header", p->path);
		hlen = l4[0] | (size_t)l4[1] << 8 | (size_t)l4[2] << 16 |
		       (size_t)l4[3] << 24;
	} else {
		return ddk_fail(err, DDK_EFORMAT, "%s: .npy version %d not "
		                "read", p->path, m[6]);
	}
	if (hlen > 1 << 20 || !(h = malloc(hlen + 1)))
		return ddk_fail(err, DDK_EFORMAT, "%s: .npy header of %zu "
		                "bytes", p->path, hlen);
	if (read_all(p->gz, h, hlen)) {
		free(h);
		return ddk_fail(err, DDK_EFORMAT, "%s: truncated .npy header",
		                p->path);
	}
	h[hlen] = '\0';

	/* The dict: descr, fortran_order, shape. */
	if ((s = npy_dtype(p, h, err)))
		goto out;
	f = npy_field(h, "fortran_order");
	if (!f || strncmp(f, "False", 5)) {
		s = ddk_fail(err, DDK_EFORMAT, "%s: .npy in Fortran order (C "
		             "order is read)", p->path);
		goto out;
	}
	*nd = npy_shape(npy_field(h, "shape"), dims, 4);
	if (*nd < 0)
		s = ddk_fail(err, DDK_EFORMAT, "%s: .npy shape unreadable or of "
		             "more than 4 dimensions", p->path);
out:
	free(h);
	return s;
}

ddk_status ddk_npy_open(ddk_array **a, const char *path, ddk_err *err)
{
	uint64_t dims[4];
	int nd = 0;
	gzFile gz = open_gz(path, err);
	ddk_array *p;
	ddk_status s;

	*a = NULL;
	if (!gz)
		return DDK_EIO;
	if (!(p = array_new(gz, path))) {
		gzclose(gz);
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	}
	if ((s = npy_header(p, dims, &nd, err)))
		return open_fail(a, p, s);
	if (p->dt == DT_I32 || p->dt == DT_I64)
		return open_fail(a, p, ddk_fail(err, DDK_EFORMAT, "%s: integer "
		                 ".npy data is read only as labels", path));
	if ((s = set_shape(p, dims, nd, err)))
		return open_fail(a, p, s);
	*a = p;
	return DDK_OK;
}

void ddk_array_shape(const ddk_array *a, size_t *count, size_t *rows,
                     size_t *cols, double *lo, double *hi)
{
	*count = a->count;
	*rows = a->rows;
	*cols = a->cols;
	*lo = a->dt == DT_U8 ? 0 : 1;
	*hi = a->dt == DT_U8 ? 255 : 0;
}

/* Value i of raw, whatever its type and byte order. */
static double raw_value(const ddk_array *a, size_t i)
{
	const unsigned char *b = a->raw + i * dt_size[a->dt];
	unsigned char t[8];
	size_t k = dt_size[a->dt];
	float f;
	double d;

	if (a->dt == DT_U8)
		return b[0];
	for (size_t j = 0; j < k; j++)
		t[j] = a->big_endian ? b[k - 1 - j] : b[j];
	if (a->dt == DT_F32) {
		memcpy(&f, t, 4);
		return f;
	}
	memcpy(&d, t, 8);
	return d;
}

ddk_status ddk_array_next(ddk_array *a, float *x, ddk_err *err)
{
	size_t n = a->rows * a->cols;

	if (a->next >= a->count)
		return DDK_END;
	if (read_all(a->gz, a->raw, n * dt_size[a->dt]))
		return ddk_fail(err, DDK_EFORMAT, "%s: example %zu of %zu: "
		                "truncated data", a->path, a->next, a->count);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)raw_value(a, i);
	a->next++;
	return DDK_OK;
}

/* ---- labels ---- */

struct ddk_labels {
	ddk_array *a;       /* IDX or .npy labels: one value per example */
	char **text;        /* text labels, one per line */
	size_t count, next;
	char *path;
};

void ddk_labels_free(ddk_labels **l)
{
	if (!l || !*l)
		return;
	ddk_array_free(&(*l)->a);
	for (size_t i = 0; (*l)->text && i < (*l)->count; i++)
		free((*l)->text[i]);
	free((*l)->text);
	free((*l)->path);
	free(*l);
	*l = NULL;
}

/* A 1-D labels array: IDX magic 0x801 or a .npy of one axis. */
static ddk_status labels_array(ddk_labels *l, gzFile gz, int npy,
                               ddk_err *err)
{
	uint64_t dims[4];
	int nd = 1;
	unsigned char h[8];
	ddk_array *a = array_new(gz, l->path);
	ddk_status s;

	if (!a) {
		gzclose(gz);
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	}
	l->a = a;
	if (npy) {
		if ((s = npy_header(a, dims, &nd, err)))
			return s;
		if (nd != 1 || a->dt == DT_F32 || a->dt == DT_F64)
			return ddk_fail(err, DDK_EFORMAT, "%s: labels must be a "
			                "1-D integer array", l->path);
	} else {
		if (read_all(gz, h, 8) || h[2] != 0x08 || h[3] != 1)
			return ddk_fail(err, DDK_EFORMAT, "%s: not an IDX label "
			                "file (bad magic)", l->path);
		a->dt = DT_U8;
		dims[0] = be32(h + 4);
	}
	a->count = (size_t)dims[0];
	a->rows = a->cols = 1;
	if (!(a->raw = malloc(8)))
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	l->count = a->count;
	return DDK_OK;
}

/* Text labels: every line is one label (blank lines count as empty). */
static ddk_status labels_text(ddk_labels *l, gzFile gz, ddk_err *err)
{
	char line[DDK_LABEL_MAX + 2];
	size_t cap = 0;

	while (gzgets(gz, line, sizeof line)) {
		size_t n = strcspn(line, "\r\n");

		if (n > DDK_LABEL_MAX || (!line[n] && !gzeof(gz))) {
			gzclose(gz);
			return ddk_fail(err, DDK_EFORMAT, "%s: line %zu: label "
			                "too long", l->path, l->count + 1);
		}
		line[n] = '\0';
		if (l->count == cap) {
			char **t = realloc(l->text, (cap = cap * 2 + 64) *
			                   sizeof *t);
			if (!t) {
				gzclose(gz);
				return ddk_fail(err, DDK_ENOMEM, "out of memory");
			}
			l->text = t;
		}
		if (!(l->text[l->count] = strdup(line))) {
			gzclose(gz);
			return ddk_fail(err, DDK_ENOMEM, "out of memory");
		}
		l->count++;
	}
	gzclose(gz);
	return DDK_OK;
}

ddk_status ddk_labels_open(ddk_labels **lp, const char *path, ddk_err *err)
{
	unsigned char m[6];
	ddk_labels *l;
	gzFile gz;
	ddk_status s;
	int got;

	*lp = NULL;
	l = calloc(1, sizeof *l);
	if (!l || !(l->path = strdup(path))) {
		free(l);
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	}

	/* Peek at the first bytes, then reopen to read from the start. */
	if (!(gz = open_gz(path, err))) {
		ddk_labels_free(&l);
		return DDK_EIO;
	}
	got = gzread(gz, m, 6);
	gzrewind(gz);
	if (got == 6 && !memcmp(m, "\x93NUMPY", 6))
		s = labels_array(l, gz, 1, err);
	else if (got >= 4 && m[0] == 0 && m[1] == 0 && m[2] == 0x08)
		s = labels_array(l, gz, 0, err);
	else
		s = labels_text(l, gz, err);
	if (s) {
		ddk_labels_free(&l);
		return s;
	}
	*lp = l;
	return DDK_OK;
}

size_t ddk_labels_count(const ddk_labels *l)
{
	return l->count;
}

ddk_status ddk_labels_next(ddk_labels *l, char *buf, size_t size,
                           ddk_err *err)
{
	if (l->next >= l->count)
		return ddk_fail(err, DDK_EFORMAT, "%s: fewer labels than "
		                "examples", l->path);
	if (l->text) {
		snprintf(buf, size, "%s", l->text[l->next++]);
		return DDK_OK;
	}
	if (read_all(l->a->gz, l->a->raw, dt_size[l->a->dt]))
		return ddk_fail(err, DDK_EFORMAT, "%s: label %zu of %zu: "
		                "truncated data", l->path, l->next, l->count);
	long long v;
	if (l->a->dt == DT_U8) {
		v = l->a->raw[0];
	} else if (l->a->dt == DT_I32) {
		int32_t i;
		memcpy(&i, l->a->raw, 4);
		v = i;
	} else {
		int64_t i;
		memcpy(&i, l->a->raw, 8);
		v = i;
	}
	snprintf(buf, size, "%lld", v);
	l->next++;
	return DDK_OK;
}
