/*
 * pool.c - input maps from raw patterns (ddk_pool.h).
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "ddk_pool.h"

/* One term of a window's sum: x, |x| or x^2, in double. */
static inline double term(float v, ddk_pool_op op)
{
	return op == DDK_POOL_ABSMEAN ? fabs(v) :
	       op == DDK_POOL_RMS ? (double)v * v : v;
}

/*
 * The sum of the terms of x[0..m), in double over four lanes: the lanes
 * do not wait on one another, and the result stays within a few ulps of
 * the sum in order.  Inlined with a constant op, so the loop holds no
 * choice.
 */
static inline __attribute__((always_inline))
double sum_terms(const float *x, size_t m, ddk_pool_op op)
{
	double a[4] = { 0, 0, 0, 0 };
	size_t i = 0;

	for (; i + 4 <= m; i += 4)
		for (int j = 0; j < 4; j++)
			a[j] += term(x[i + j], op);
	for (; i < m; i++)
		a[0] += term(x[i], op);
	return (a[0] + a[1]) + (a[2] + a[3]);
}

/*
 * One window of p samples reduced by op, of which the first m are x[0..m)
 * and the other p - m are zero padding (m < p only past a signal's end).
 */
static double reduce(const float *x, size_t m, size_t p, ddk_pool_op op)
{
	double acc;

	switch (op) {
	case DDK_POOL_MEAN:
		return sum_terms(x, m, DDK_POOL_MEAN) / p;
	case DDK_POOL_ABSMEAN:
		return sum_terms(x, m, DDK_POOL_ABSMEAN) / p;
	case DDK_POOL_RMS:
		return sqrt(sum_terms(x, m, DDK_POOL_RMS) / p);
	case DDK_POOL_MAX:
		acc = m < p ? 0 : -DBL_MAX;
		for (size_t i = 0; i < m; i++)
			acc = x[i] > acc ? x[i] : acc;
		return acc;
	}
	return 0;
}

/* A row of t_len windows of p from src[start..], src holding n values. */
static void pool_row(float *z, const float *src, size_t n, size_t start,
                     size_t t_len, size_t p, ddk_pool_op op)
{
	/* Windows of one sample: the sample itself, or its size.  Adding
	 * +0 turns -0 into 0, as the sums of the other path do. */
	if (p == 1) {
		size_t m = start >= n ? 0 : n - start < t_len ? n - start : t_len;

		if (op == DDK_POOL_MEAN || op == DDK_POOL_MAX)
			for (size_t t = 0; t < m; t++)
				z[t] = src[start + t] + 0.0f;
		else
			for (size_t t = 0; t < m; t++)
				z[t] = fabsf(src[start + t]);
		memset(z + m, 0, (t_len - m) * sizeof *z);
		return;
	}
	for (size_t t = 0; t < t_len; t++) {
		size_t a = start + t * p;
		size_t m = a >= n ? 0 : n - a < p ? n - a : p;

		z[t] = (float)reduce(m ? src + a : src, m, p, op) + 0.0f;
	}
}

static void normalize_row(float *z, size_t t_len)
{
	float lo = z[0], hi = z[0];

	for (size_t t = 1; t < t_len; t++) {
		lo = z[t] < lo ? z[t] : lo;
		hi = z[t] > hi ? z[t] : hi;
	}
	for (size_t t = 0; t < t_len; t++)
		z[t] = hi > lo ? (float)(((double)z[t] - lo) / ((double)hi - lo))
		               : 0.0f;
}

/* The fixed range after the pool op: absmean and rms fold it at zero. */
static void op_range(ddk_pool_op op, double *lo, double *hi)
{
	if ((op == DDK_POOL_ABSMEAN || op == DDK_POOL_RMS) && *lo < 0) {
		double m = fabs(*lo) > fabs(*hi) ? fabs(*lo) : fabs(*hi);
		*lo = 0;
		*hi = m;
	}
}

/* The map's shape for rows signals of n samples: checks it, sizes out,
 * and gives the utterances, their step and the steps of a row. */
static ddk_status map_shape(ddk_record *out, const char *key,
                            const char *label, size_t rows, size_t n,
                            const ddk_pool_opts *o, size_t *u_out,
                            size_t *step_out, size_t *t_out, ddk_err *err)
{
	size_t len = o->length ? o->length : n;
	size_t u = o->utterances > 1 ? o->utterances : 1;
	size_t p = o->pool ? o->pool : 1;
	size_t step, t_len;

	/* Shape: rows of `step` samples after length and utterances. */
	if (u > 1 && rows != 1)
		return ddk_fail(err, DDK_EINVAL, "key %s: --utterances needs "
		                "one row, not %zu", key, rows);
	if (u > len)
		return ddk_fail(err, DDK_ERANGE, "key %s: %zu utterances but "
		                "only %zu samples", key, u, len);
	step = len / u;
	if (p > step)
		return ddk_fail(err, DDK_ERANGE, "key %s: pool of %zu is longer "
		                "than an utterance of %zu samples", key, p, step);
	t_len = step / p;
	*u_out = u;
	*step_out = step;
	*t_out = t_len;
	if (rows * u > UINT32_MAX || t_len > UINT32_MAX)
		return ddk_fail(err, DDK_ERANGE, "key %s: %zu x %zu values "
		                "exceed the limit", key, rows * u, t_len);
	return ddk_record_set(out, key, label, (uint32_t)(rows * u),
	                      (uint32_t)t_len, err);
}

/* Step 4 over the pooled map in out. */
static void normalize_map(ddk_record *out, const ddk_pool_opts *o,
                          double lo, double hi)
{
	size_t t_len = out->cols, n_rows = out->rows;

	op_range(o->op, &lo, &hi);
	for (size_t r = 0; r < n_rows; r++) {
		float *z = out->v + r * t_len;

		if (o->norm == DDK_NORM_ROW)
			normalize_row(z, t_len);
		else if (o->norm == DDK_NORM_FULL && hi > lo)
			for (size_t t = 0; t < t_len; t++)
				z[t] = (float)(((double)z[t] - lo) / (hi - lo));
	}
	if (o->norm == DDK_NORM_FULL && !(hi > lo))
		normalize_row(out->v, n_rows * t_len);
}

ddk_status ddk_pool_map(ddk_record *out, const char *key, const char *label,
                        const float *x, size_t rows, size_t n,
                        const ddk_pool_opts *o, double lo, double hi,
                        ddk_err *err)
{
	size_t u = 1, step = 0, t_len = 0, p = o->pool ? o->pool : 1;
	ddk_status s = map_shape(out, key, label, rows, n, o, &u, &step,
	                         &t_len, err);

	if (s)
		return s;

	/* Crop or pad, cut and pool, row by row. */
	for (size_t r = 0; r < out->rows; r++)
		pool_row(out->v + r * t_len, x + (r / u) * n, n,
		         (r % u) * step, t_len, p, o->op);
	normalize_map(out, o, lo, hi);
	return DDK_OK;
}

/* ---- sound through libsndfile ---- */

/* A whole file in memory, for libsndfile's virtual I/O on stdin when
 * stdin is a pipe (libsndfile seeks in what it reads). */
typedef struct membuf {
	unsigned char *p;
	sf_count_t len, pos;
} membuf;

static sf_count_t mb_len(void *u) { return ((membuf *)u)->len; }
static sf_count_t mb_tell(void *u) { return ((membuf *)u)->pos; }

static sf_count_t mb_seek(sf_count_t off, int whence, void *u)
{
	membuf *m = u;
	sf_count_t to = whence == SEEK_SET ? off
	              : whence == SEEK_CUR ? m->pos + off : m->len + off;

	if (to < 0 || to > m->len)
		return -1;
	m->pos = to;
	return to;
}

static sf_count_t mb_read(void *dst, sf_count_t n, void *u)
{
	membuf *m = u;

	if (n > m->len - m->pos)
		n = m->len - m->pos;
	memcpy(dst, m->p + m->pos, (size_t)n);
	m->pos += n;
	return n;
}

static sf_count_t mb_write(const void *src, sf_count_t n, void *u)
{
	(void)src, (void)n, (void)u;
	return 0;
}

static ddk_status slurp_stdin(membuf *m, ddk_err *err)
{
	size_t cap = 1 << 16, got;

	m->p = malloc(cap);
	m->len = m->pos = 0;
	if (!m->p)
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	while ((got = fread(m->p + m->len, 1, cap - (size_t)m->len, stdin))) {
		m->len += (sf_count_t)got;
		if ((size_t)m->len == cap) {
			unsigned char *q = realloc(m->p, cap * 2);
			if (!q) {
				free(m->p);
				return ddk_fail(err, DDK_ENOMEM, "out of memory");
			}
			m->p = q;
			cap *= 2;
		}
	}
	if (ferror(stdin)) {
		free(m->p);
		return ddk_fail(err, DDK_EIO, "-: %s", strerror(errno));
	}
	return DDK_OK;
}

struct ddk_sound {
	SNDFILE *snd;
	membuf m;               /* stdin from a pipe, read whole */
	int ch;
	float *buf;             /* interleaved frames, with ch > 1 */
};

enum { CHUNK = 4096 };     /* frames a read with more than one channel */

void ddk_sound_close(ddk_sound **sp)
{
	ddk_sound *s = sp ? *sp : NULL;

	if (!s)
		return;
	if (s->snd)
		sf_close(s->snd);
	free(s->m.p);
	free(s->buf);
	free(s);
	*sp = NULL;
}

/* Whether stdin is a regular file not yet read: libsndfile then reads
 * it as a file, a piece at a time, seeking where it needs to (from
 * another offset, its seeks back to the start could fail). */
static int stdin_file_at_start(void)
{
	struct stat st;

	return !fstat(STDIN_FILENO, &st) && S_ISREG(st.st_mode) &&
	       lseek(STDIN_FILENO, 0, SEEK_CUR) == 0;
}

ddk_status ddk_sound_open(const char *path, ddk_sound **out, size_t *frames,
                          int *rate, ddk_err *err)
{
	SF_VIRTUAL_IO vio = { mb_len, mb_seek, mb_read, mb_write, mb_tell };
	SF_INFO info;
	ddk_sound *s = calloc(1, sizeof *s);
	ddk_status st;

	*out = NULL;
	if (!s)
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	memset(&info, 0, sizeof info);
	if (!strcmp(path, "-") && stdin_file_at_start()) {
		s->snd = sf_open_fd(STDIN_FILENO, SFM_READ, &info, SF_FALSE);
	} else if (!strcmp(path, "-")) {
		if ((st = slurp_stdin(&s->m, err))) {
			free(s);
			return st;
		}
		s->snd = sf_open_virtual(&vio, SFM_READ, &info, &s->m);
	} else {
		s->snd = sf_open(path, SFM_READ, &info);
	}
	if (!s->snd) {
		st = ddk_fail(err, DDK_EFORMAT, "%s: %s", path,
		              sf_strerror(NULL));
		ddk_sound_close(&s);
		return st;
	}
	sf_command(s->snd, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
	s->ch = info.channels;
	if (info.frames <= 0) {
		ddk_sound_close(&s);
		return ddk_fail(err, DDK_EFORMAT, "%s: empty sound", path);
	}
	if (s->ch > 1 &&
	    !(s->buf = malloc((size_t)CHUNK * s->ch * sizeof *s->buf))) {
		ddk_sound_close(&s);
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	}
	*frames = (size_t)info.frames;
	*rate = info.samplerate;
	*out = s;
	return DDK_OK;
}

size_t ddk_sound_read(ddk_sound *s, float *x, size_t n)
{
	size_t got = 0;

	/* mono straight into x; more channels averaged frame by frame */
	while (s->ch == 1 && got < n) {
		sf_count_t k = sf_readf_float(s->snd, x + got,
		                              (sf_count_t)(n - got));

		if (k <= 0)
			break;
		got += (size_t)k;
	}
	while (s->ch > 1 && got < n) {
		size_t want = n - got < CHUNK ? n - got : CHUNK;
		sf_count_t k = sf_readf_float(s->snd, s->buf,
		                              (sf_count_t)want);

		if (k <= 0)
			break;
		for (sf_count_t i = 0; i < k; i++, got++) {
			double acc = 0;

			for (int c = 0; c < s->ch; c++)
				acc += s->buf[i * s->ch + c];
			x[got] = (float)(acc / s->ch);
		}
	}
	return got;
}

/* Up to n samples of s into a new array *x, *got of them: at most
 * DDK_VALUES_MAX, and not none. */
static ddk_status read_whole(ddk_sound *s, size_t n, const char *name,
                             float **x, size_t *got, ddk_err *err)
{
	if (n > DDK_VALUES_MAX)
		return ddk_fail(err, DDK_ERANGE, "%s: %zu frames is more than "
		                "%u", name, n, DDK_VALUES_MAX);
	if (!(*x = malloc((n ? n : 1) * sizeof **x)))
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	if ((*got = ddk_sound_read(s, *x, n)) == 0) {
		free(*x);
		*x = NULL;
		return ddk_fail(err, DDK_EFORMAT, "%s: empty sound", name);
	}
	return DDK_OK;
}

ddk_status ddk_audio_read(const char *path, float **x, size_t *n,
                          int *rate, ddk_err *err)
{
	ddk_sound *s;
	size_t frames;
	ddk_status st = ddk_sound_open(path, &s, &frames, rate, err);

	if (st)
		return st;
	st = read_whole(s, frames, path, x, n, err);
	ddk_sound_close(&s);
	return st;
}

/* The whole of snd again, n samples as counted, pooled in memory. */
static ddk_status pool_again(ddk_record *out, const char *key,
                             const char *label, ddk_sound *snd, size_t n,
                             const ddk_pool_opts *o, ddk_err *err)
{
	float *x;
	ddk_status s;

	if (sf_seek(snd->snd, 0, SEEK_SET) != 0)
		return ddk_fail(err, DDK_EIO, "%s: cannot read it again", key);
	if ((s = read_whole(snd, n, key, &x, &n, err)))
		return s;
	s = ddk_pool_map(out, key, label, x, 1, n, o, -1, 1, err);
	free(x);
	return s;
}

ddk_status ddk_pool_sound(ddk_record *out, const char *key, const char *label,
                          ddk_sound *snd, size_t frames,
                          const ddk_pool_opts *o, ddk_err *err)
{
	size_t u = 1, step = 0, t_len = 0, p = o->pool ? o->pool : 1;
	size_t per = p < 16384 ? 16384 / p : 1, at = 0;
	int ended = 0;
	float *buf;
	ddk_status s = map_shape(out, key, label, 1, frames, o, &u, &step,
	                         &t_len, err);

	if (s)
		return s;
	if (!(buf = malloc(per * p * sizeof *buf)))
		return ddk_fail(err, DDK_ENOMEM, "out of memory");

	/* Utterance by utterance, `per` windows a read: each window is
	 * reduced from the same samples as over the whole sound. */
	for (size_t r = 0; r < u; r++) {
		float *z = out->v + r * t_len;

		for (size_t skip = r * step - at; skip && !ended;) {
			size_t k = skip < per * p ? skip : per * p;
			size_t got = ddk_sound_read(snd, buf, k);

			ended = got < k;
			skip -= got;
			at += got;
		}
		for (size_t t = 0; t < t_len; t += per) {
			size_t k = t_len - t < per ? t_len - t : per;
			/* pool_row takes what lies past got as zeros */
			size_t got = ended ? 0
			                   : ddk_sound_read(snd, buf, k * p);

			ended = ended || got < k * p;
			at += got;
			pool_row(z + t, buf, got, 0, k, p, o->op);
		}
	}
	/* A file that holds other than the samples it says: without a
	 * length, the map's shape follows the samples there are, so count
	 * them, and pool them all again if they differ. */
	if (!o->length && !ended)
		for (size_t got = 1; got;) {
			got = ddk_sound_read(snd, buf, per * p);
			at += got;
		}
	free(buf);
	if (!o->length && at != frames)
		return pool_again(out, key, label, snd, at, o, err);
	normalize_map(out, o, -1, 1);
	return DDK_OK;
}
