/*
 * pool.c - input maps from raw patterns (ddk_pool.h).
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sndfile.h>
#include <zlib.h>
#include "ddk_pool.h"

/* One window of P samples reduced by op. */
static double reduce(const float *x, size_t p, ddk_pool_op op)
{
	double acc = op == DDK_POOL_MAX ? -DBL_MAX : 0;

	for (size_t i = 0; i < p; i++) {
		double v = x[i];

		switch (op) {
		case DDK_POOL_MEAN: acc += v; break;
		case DDK_POOL_ABSMEAN: acc += fabs(v); break;
		case DDK_POOL_RMS: acc += v * v; break;
		case DDK_POOL_MAX: acc = v > acc ? v : acc; break;
		}
	}
	if (op == DDK_POOL_MAX)
		return acc;
	return op == DDK_POOL_RMS ? sqrt(acc / p) : acc / p;
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

ddk_status ddk_pool_map(ddk_record *out, const char *key, const char *label,
                        const float *x, size_t rows, size_t n,
                        const ddk_pool_opts *o, double lo, double hi,
                        ddk_err *err)
{
	size_t len = o->length ? o->length : n;
	size_t u = o->utterances > 1 ? o->utterances : 1;
	size_t p = o->pool ? o->pool : 1;
	size_t out_rows, step, t_len;
	ddk_status s;

	/* Shape: rows of `step` samples after length and utterances. */
	if (u > 1 && rows != 1)
		return ddk_fail(err, DDK_EINVAL, "key %s: --utterances needs "
		                "one row, not %zu", key, rows);
	if (u > len)
		return ddk_fail(err, DDK_ERANGE, "key %s: %zu utterances but "
		                "only %zu samples", key, u, len);
	out_rows = rows * u;
	step = len / u;
	if (p > step)
		return ddk_fail(err, DDK_ERANGE, "key %s: pool of %zu is longer "
		                "than an utterance of %zu samples", key, p, step);
	t_len = step / p;
	if ((s = ddk_record_set(out, key, label, (uint32_t)out_rows,
	                        (uint32_t)t_len, err)))
		return s;

	/* Crop or pad, cut and pool, row by row. */
	float *win = malloc(p * sizeof *win);
	if (!win)
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	for (size_t r = 0; r < out_rows; r++) {
		const float *src = x + (r / u) * n;
		size_t start = (r % u) * step;

		for (size_t t = 0; t < t_len; t++) {
			for (size_t i = 0; i < p; i++) {
				size_t k = start + t * p + i;
				win[i] = k < n ? src[k] : 0.0f;
			}
			out->v[r * t_len + t] = (float)reduce(win, p, o->op);
		}
	}
	free(win);

	/* Normalise. */
	op_range(o->op, &lo, &hi);
	for (size_t r = 0; r < out_rows; r++) {
		float *z = out->v + r * t_len;

		if (o->norm == DDK_NORM_ROW)
			normalize_row(z, t_len);
		else if (o->norm == DDK_NORM_FULL && hi > lo)
			for (size_t t = 0; t < t_len; t++)
				z[t] = (float)(((double)z[t] - lo) / (hi - lo));
	}
	if (o->norm == DDK_NORM_FULL && !(hi > lo))
		normalize_row(out->v, (size_t)out_rows * t_len);
	return DDK_OK;
}

/* ---- sound through libsndfile ---- */

/* A whole file in memory, for libsndfile's virtual I/O on stdin. */
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

/* Read all frames of snd, averaging the channels. */
static ddk_status mixdown(SNDFILE *snd, const SF_INFO *info, float **x,
                          size_t *n, const char *path, ddk_err *err)
{
	int ch = info->channels;
	size_t frames = (size_t)info->frames, got = 0;
	float *buf, *mono;
	enum { CHUNK = 4096 };

	if (info->frames <= 0)
		return ddk_fail(err, DDK_EFORMAT, "%s: empty sound", path);
	if (frames > DDK_VALUES_MAX)
		return ddk_fail(err, DDK_ERANGE, "%s: %zu frames is more than "
		                "%u", path, frames, DDK_VALUES_MAX);
	mono = malloc(frames * sizeof *mono);
	buf = malloc((size_t)CHUNK * ch * sizeof *buf);
	if (!mono || !buf) {
		free(mono);
		free(buf);
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	}
	while (got < frames) {
		sf_count_t k = sf_readf_float(snd, buf, CHUNK);

		if (k <= 0)
			break;
		for (sf_count_t i = 0; i < k && got < frames; i++, got++) {
			double acc = 0;
			for (int c = 0; c < ch; c++)
				acc += buf[i * ch + c];
			mono[got] = (float)(acc / ch);
		}
	}
	free(buf);
	if (got == 0) {
		free(mono);
		return ddk_fail(err, DDK_EFORMAT, "%s: empty sound", path);
	}
	*x = mono;
	*n = got;
	return DDK_OK;
}

ddk_status ddk_audio_read(const char *path, float **x, size_t *n,
                          int *rate, ddk_err *err)
{
	SF_VIRTUAL_IO vio = { mb_len, mb_seek, mb_read, mb_write, mb_tell };
	SF_INFO info;
	SNDFILE *snd;
	membuf m = { 0 };
	ddk_status s;

	memset(&info, 0, sizeof info);
	if (!strcmp(path, "-")) {
		if ((s = slurp_stdin(&m, err)))
			return s;
		snd = sf_open_virtual(&vio, SFM_READ, &info, &m);
	} else {
		snd = sf_open(path, SFM_READ, &info);
	}
	if (!snd) {
		free(m.p);
		return ddk_fail(err, DDK_EFORMAT, "%s: %s", path,
		                sf_strerror(NULL));
	}
	sf_command(snd, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
	s = mixdown(snd, &info, x, n, path, err);
	*rate = info.samplerate;
	sf_close(snd);
	free(m.p);
	return s;
}
