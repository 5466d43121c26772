/*
 * array.c - examples from IDX and NumPy .npy files, and label files
 * (ddk_pool.h).  Both formats are read through zlib's gzFile, which reads
 * plain files as they are, so a gzipped .npy works too.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "ddk_pool.h"

struct ddk_array {
	gzFile gz;
	char *path;
	char kind;          /* 'u' unsigned, 'i' signed, 'f' float, 'b' bool */
	size_t size;        /* bytes a value: 1, 2, 4 or 8 */
	int big_endian;     /* IDX is big-endian; .npy says which */
	size_t count, rows, cols, next;
	unsigned char *raw;
	/* A .npy in Fortran order (the first axis fastest) is read whole
	 * into raw at open; dim[] are the axes after the first. */
	int fortran, n_dim;
	size_t dim[3];
};

/* The value at b as an integer of a->size bytes in the file's order;
 * signed kinds sign-extended to 64 bits. */
static uint64_t raw_bits(const ddk_array *a, const unsigned char *b)
{
	size_t k = a->size;
	uint64_t u = 0;

	for (size_t j = 0; j < k; j++)
		u |= (uint64_t)b[j] << 8 * (a->big_endian ? k - 1 - j : j);
	if (a->kind == 'i' && k < 8 && u >> (8 * k - 1))
		u |= ~(uint64_t)0 << 8 * k;
	return u;
}

/* IEEE binary16 bits as a double. */
static double half_value(uint64_t h)
{
	int e = (int)(h >> 10 & 31);
	double m = (double)(h & 1023), v;

	if (e == 31)
		v = m ? NAN : INFINITY;
	else
		v = e ? ldexp(m + 1024, e - 25) : ldexp(m, -24);
	return h & 0x8000 ? -v : v;
}

/* The value at b, whatever its type and byte order. */
static double raw_value(const ddk_array *a, const unsigned char *b)
{
	uint64_t u = raw_bits(a, b);
	uint32_t u32 = (uint32_t)u;
	float f;
	double d;

	if (a->kind == 'i')
		return (double)(int64_t)u;
	if (a->kind != 'f')
		return (double)u;
	if (a->size == 2)
		return half_value(u);
	if (a->size == 4) {
		memcpy(&f, &u32, 4);
		return f;
	}
	memcpy(&d, &u, 8);
	return d;
}

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

/* A new array reading gz, which it owns from here (closed on failure). */
static ddk_status array_new(ddk_array **out, gzFile gz, const char *path,
                            ddk_err *err)
{
	ddk_array *a = calloc(1, sizeof *a);

	*out = NULL;
	if (!a || !(a->path = strdup(path))) {
		free(a);
		gzclose(gz);
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	}
	a->gz = gz;
	*out = a;
	return DDK_OK;
}

/* A new array reading path. */
static ddk_status array_open(ddk_array **out, const char *path,
                             ddk_err *err)
{
	gzFile gz = open_gz(path, err);

	*out = NULL;
	return gz ? array_new(out, gz, path, err) : DDK_EIO;
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
	size_t total;

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
	a->n_dim = nd - 1;
	for (int i = 1; i < nd; i++)
		a->dim[i - 1] = (size_t)dims[i];
	if (!a->fortran) {
		a->raw = malloc(a->rows * a->cols * a->size);
		return a->raw ? DDK_OK
		              : ddk_fail(err, DDK_ENOMEM, "out of memory");
	}

	/* Fortran order: every example's values are spread over the whole
	 * data, so it is read at once, into a buffer that grows as data
	 * comes (a header may claim more than the file holds). */
	if (a->count > SIZE_MAX / 2 / a->size / values)
		return ddk_fail(err, DDK_ENOMEM, "%s: out of memory for a "
		                "Fortran-order array of %.0f values (it is "
		                "read whole)", a->path,
		                claimed * (double)a->count);
	total = a->count * (size_t)values * a->size;
	for (size_t have = 0, next; have < total; have = next) {
		unsigned char *p;

		next = have ? 2 * have : 1 << 20;
		next = next < total ? next : total;
		if (!(p = realloc(a->raw, next)))
			return ddk_fail(err, DDK_ENOMEM, "out of memory");
		a->raw = p;
		if (read_all(a->gz, a->raw + have, next - have))
			return ddk_fail(err, DDK_EFORMAT, "%s: truncated "
			                "data (%zu examples of %zu values in "
			                "Fortran order)", a->path, a->count,
			                (size_t)values);
	}
	return DDK_OK;
}

static ddk_status open_fail(ddk_array **a, ddk_array *p, ddk_status s)
{
	ddk_array_free(&p);
	*a = NULL;
	return s;
}

/* Take the IDX type code into a (when not NULL): -1 if it names none. */
static int idx_type(ddk_array *a, int code)
{
	static const struct { int code; char kind; size_t size; } t[] = {
		{ 0x08, 'u', 1 }, { 0x09, 'i', 1 }, { 0x0B, 'i', 2 },
		{ 0x0C, 'i', 4 }, { 0x0D, 'f', 4 }, { 0x0E, 'f', 8 },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (t[i].code != code)
			continue;
		if (a) {
			a->kind = t[i].kind;
			a->size = t[i].size;
			a->big_endian = 1;
		}
		return 0;
	}
	return -1;
}

ddk_status ddk_idx_open(ddk_array **a, const char *path, ddk_err *err)
{
	unsigned char h[4], d[4];
	uint64_t dims[4];
	ddk_array *p;
	gzFile gz;
	int nd;
	ddk_status s = array_open(&p, path, err);

	*a = NULL;
	if (s)
		return s;
	gz = p->gz;

	/* Magic: two zero bytes, the type code, the number of dimensions. */
	if (read_all(gz, h, 4) || h[0] || h[1])
		return open_fail(a, p, ddk_fail(err, DDK_EFORMAT, "%s: not an "
		                 "IDX file (bad magic)", path));
	if (idx_type(p, h[2]))
		return open_fail(a, p, ddk_fail(err, DDK_EFORMAT, "%s: IDX type "
		                 "0x%02x unknown", path, h[2]));
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
	if ((s = set_shape(p, dims, nd, err)))
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

/* descr: a byte order (< little, > big, | or none for one byte), a kind
 * (u, i, f, b) and a size in bytes. */
static ddk_status npy_dtype(ddk_array *p, const char *h, ddk_err *err)
{
	const char *d = npy_field(h, "descr"), *q;
	char order, kind, *end;
	unsigned long size;
	int known, ordered;

	if (!d)
		return ddk_fail(err, DDK_EFORMAT, "%s: .npy header has no "
		                "descr", p->path);
	q = *d == '\'' ? d + 1 : "";
	order = *q && strchr("<>|", *q) ? *q++ : '|';
	kind = *q ? *q++ : 0;
	size = *q >= '1' && *q <= '9' ? strtoul(q, &end, 10) : 0;
	known = ((kind == 'u' || kind == 'i') && (size == 1 || size == 2 ||
	                                          size == 4 || size == 8)) ||
	        (kind == 'f' && (size == 2 || size == 4 || size == 8)) ||
	        (kind == 'b' && size == 1);
	ordered = order == '<' || order == '>' || (order == '|' && size == 1);
	if (!size || *end != '\'' || !known || !ordered)
		return ddk_fail(err, DDK_EFORMAT, "%s: .npy dtype %.*s not "
		                "read (integers, floats and bools are)",
		                p->path, (int)strcspn(d, ",}"), d);
	p->kind = kind;
	p->size = size;
	p->big_endian = order == '>';
	return DDK_OK;
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
	if (!f || (strncmp(f, "False", 5) && strncmp(f, "True", 4))) {
		s = ddk_fail(err, DDK_EFORMAT, "%s: .npy header has no "
		             "fortran_order True or False", p->path);
		goto out;
	}
	p->fortran = *f == 'T';
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
	ddk_array *p;
	ddk_status s = array_open(&p, path, err);

	*a = NULL;
	if (s)
		return s;
	if ((s = npy_header(p, dims, &nd, err)))
		return open_fail(a, p, s);
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
	/* bools and integers: their type's range; floats: none */
	*lo = 1;
	*hi = 0;
	if (a->kind == 'b') {
		*lo = 0;
		*hi = 1;
	} else if (a->kind != 'f') {
		*hi = ldexp(1, 8 * (int)a->size - (a->kind == 'i')) - 1;
		*lo = a->kind == 'i' ? -*hi - 1 : 0;
	}
}

/* Example i of an array in Fortran order into x in C order.  The f-th
 * value of the example in Fortran order sits at i + count * f; c is
 * where it goes, kept by an odometer over the axes, the first fastest. */
static void fortran_example(const ddk_array *a, size_t i, float *x)
{
	size_t j[3] = { 0 }, stride[3], c = 0, n = a->rows * a->cols;
	int k = a->n_dim;

	stride[k - 1] = 1;
	for (int m = k - 1; m > 0; m--)
		stride[m - 1] = stride[m] * a->dim[m];
	for (size_t f = 0; f < n; f++) {
		x[c] = (float)raw_value(a, a->raw + (i + a->count * f) *
		                                   a->size);
		for (int m = 0; m < k; m++) {
			c += stride[m];
			if (++j[m] < a->dim[m])
				break;
			c -= a->dim[m] * stride[m];
			j[m] = 0;
		}
	}
}

ddk_status ddk_array_next(ddk_array *a, float *x, ddk_err *err)
{
	size_t n = a->rows * a->cols;

	if (a->next >= a->count)
		return DDK_END;
	if (a->fortran) {
		fortran_example(a, a->next++, x);
		return DDK_OK;
	}
	if (read_all(a->gz, a->raw, n * a->size))
		return ddk_fail(err, DDK_EFORMAT, "%s: example %zu of %zu: "
		                "truncated data", a->path, a->next, a->count);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)raw_value(a, a->raw + i * a->size);
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

/* A 1-D labels array of integers: IDX of one dimension or a .npy of
 * one axis. */
static ddk_status labels_array(ddk_labels *l, gzFile gz, int npy,
                               ddk_err *err)
{
	uint64_t dims[4];
	int nd = 1;
	unsigned char h[8];
	ddk_array *a;
	ddk_status s = array_new(&a, gz, l->path, err);

	if (s)
		return s;
	l->a = a;
	if (npy) {
		if ((s = npy_header(a, dims, &nd, err)))
			return s;
		if (nd != 1 || a->kind == 'f')
			return ddk_fail(err, DDK_EFORMAT, "%s: labels must be a "
			                "1-D integer array", l->path);
		a->fortran = 0;  /* one axis: both orders are the same */
	} else {
		if (read_all(gz, h, 8) || idx_type(a, h[2]) || h[3] != 1)
			return ddk_fail(err, DDK_EFORMAT, "%s: not an IDX label "
			                "file (bad magic)", l->path);
		if (a->kind == 'f')
			return ddk_fail(err, DDK_EFORMAT, "%s: labels must be "
			                "integers", l->path);
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
	else if (got >= 4 && m[0] == 0 && m[1] == 0 && !idx_type(NULL, m[2]))
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
	if (read_all(l->a->gz, l->a->raw, l->a->size))
		return ddk_fail(err, DDK_EFORMAT, "%s: label %zu of %zu: "
		                "truncated data", l->path, l->next, l->count);
	uint64_t v = raw_bits(l->a, l->a->raw);

	if (l->a->kind == 'i')
		snprintf(buf, size, "%lld", (long long)(int64_t)v);
	else
		snprintf(buf, size, "%llu", (unsigned long long)v);
	l->next++;
	return DDK_OK;
}
