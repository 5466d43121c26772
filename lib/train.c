/*
 * train.c - the data set, the epoch loop, evaluation and checkpoints of
 * ddk_train.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "ddk_rng.h"
#include "ddk_train.h"

/* ------------------------------------------------------------------ */
/* the data set                                                         */

void ddk_dataset_init(ddk_dataset *d)
{
	memset(d, 0, sizeof *d);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

static void close_files(ddk_dataset *d)
{
	for (size_t i = 0; i < d->n_files; i++) {
		close(d->files[i].fd);
		free(d->files[i].name);
	}
	free(d->files);
	free(d->at);
	free(d->file);
	d->files = NULL;
	d->at = NULL;
	d->file = NULL;
	d->n_files = 0;
	d->placed = 0;
}

void ddk_dataset_free(ddk_dataset *d)
{
	close_files(d);
	free(d->x);
	free(d->y);
	free_names(d->keys, d->keys ? d->n : 0);
	free_names(d->classes, d->n_classes);
	ddk_dataset_init(d);
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	return p ? memcpy(p, s, n) : NULL;
}

ddk_status ddk_dataset_set_classes(ddk_dataset *d, char *const *names,
                                   size_t n, ddk_err *err)
{
	d->classes = calloc(n ? n : 1, sizeof *d->classes);
	if (!d->classes)
		return ddk_fail(err, DDK_ENOMEM, "classes: out of memory");
	for (size_t i = 0; i < n; i++) {
		d->classes[i] = dup_str(names[i]);
		d->n_classes = i + 1;
		if (!d->classes[i])
			return ddk_fail(err, DDK_ENOMEM, "out of memory");
	}
	d->fixed_classes = 1;
	return DDK_OK;
}

/* Room for more records: their values, or their places in files. */
static ddk_status grow(ddk_dataset *d, size_t n_in, ddk_err *err)
{
	size_t cap = d->cap < 64 ? 64 : d->cap + d->cap / 2;

	if (d->placed) {
		uint64_t *at = realloc(d->at, cap * sizeof *at);

		if (at)
			d->at = at;
		uint32_t *file = at ? realloc(d->file, cap * sizeof *file)
		                    : NULL;

		if (!file)
			return ddk_fail(err, DDK_ENOMEM, "data: out of memory");
		d->file = file;
	} else {
		float *x = realloc(d->x, cap * n_in * sizeof *x);

		if (!x)
			return ddk_fail(err, DDK_ENOMEM, "data: out of memory");
		d->x = x;
	}

	int *y = realloc(d->y, cap * sizeof *y);

	if (!y)
		return ddk_fail(err, DDK_ENOMEM, "data: out of memory");
	d->y = y;
	if (d->keep_keys) {
		char **k = realloc(d->keys, cap * sizeof *k);

		if (!k)
			return ddk_fail(err, DDK_ENOMEM, "data: out of memory");
		d->keys = k;
	}
	d->cap = cap;
	return DDK_OK;
}

/* The class index of label, adding it unless the classes are fixed. */
static int class_of(ddk_dataset *d, const char *label)
{
	for (size_t c = 0; c < d->n_classes; c++)
		if (strcmp(d->classes[c], label) == 0)
			return (int)c;
	if (d->fixed_classes)
		return -1;

	char **cl = realloc(d->classes, (d->n_classes + 1) * sizeof *cl);

	if (!cl)
		return -2;
	d->classes = cl;
	cl[d->n_classes] = dup_str(label);
	if (!cl[d->n_classes])
		return -2;
	return (int)d->n_classes++;
}

/* The checks every record passes, then room for it: its class index
 * into *c. */
static ddk_status admit(ddk_dataset *d, const ddk_record *r,
                        const char *where, uint64_t pos, int *c,
                        ddk_err *err)
{
	size_t n_in = (size_t)r->rows * r->cols;
	ddk_status st;

	if (!r->label[0])
		return ddk_fail(err, DDK_EINVAL, "%s: record %llu (key %s): "
		                "no label", where, (unsigned long long)pos,
		                r->key);
	if (d->rows == 0) {
		d->rows = r->rows;
		d->cols = r->cols;
	}
	if (r->rows != d->rows || r->cols != d->cols || n_in == 0)
		return ddk_fail(err, DDK_EINVAL, "%s: record %llu (key %s): "
		                "shape %ux%u, earlier records are %ux%u", where,
		                (unsigned long long)pos, r->key, r->rows,
		                r->cols, d->rows, d->cols);
	for (size_t i = 0; i < n_in; i++)
		if (!isfinite(r->v[i]))
			return ddk_fail(err, DDK_ERANGE, "%s: record %llu "
			                "(key %s): value %zu is not finite",
			                where, (unsigned long long)pos, r->key,
			                i + 1);
	*c = class_of(d, r->label);
	if (*c == -1)
		return ddk_fail(err, DDK_EINVAL, "%s: record %llu (key %s): "
		                "label '%s' is not a class of the model", where,
		                (unsigned long long)pos, r->key, r->label);
	if (*c < 0)
		return ddk_fail(err, DDK_ENOMEM, "labels: out of memory");
	if (d->n == d->cap && (st = grow(d, n_in, err)) != DDK_OK)
		return st;
	if (d->keep_keys && !(d->keys[d->n] = dup_str(r->key)))
		return ddk_fail(err, DDK_ENOMEM, "keys: out of memory");
	return DDK_OK;
}

/* Read the values of record i of a placed set into buf. */
static ddk_status read_at(const ddk_dataset *d, size_t i, float *buf,
                          ddk_err *err)
{
	const ddk_data_file *f = &d->files[d->file[i]];
	ddk_err why;
	ddk_status st = ddk_read_values(f->fd, d->at[i], buf,
	                                (size_t)d->rows * d->cols, &why);

	if (st)
		return ddk_fail(err, st, "%s: values at byte %llu: %s",
		                f->name, (unsigned long long)d->at[i],
		                why.msg);
	return DDK_OK;
}

/* Read every record held in place into memory and let the files go. */
static ddk_status unplace(ddk_dataset *d, ddk_err *err)
{
	size_t n_in = (size_t)d->rows * d->cols;
	float *x;

	if (!d->placed)
		return DDK_OK;
	x = malloc((d->cap ? d->cap : 1) * n_in * sizeof *x);
	if (!x)
		return ddk_fail(err, DDK_ENOMEM, "data: out of memory");
	for (size_t i = 0; i < d->n; i++) {
		ddk_status st = read_at(d, i, x + i * n_in, err);

		if (st) {
			free(x);
			return st;
		}
	}
	close_files(d);
	free(d->x);
	d->x = x;
	return DDK_OK;
}

ddk_status ddk_dataset_add(ddk_dataset *d, const ddk_record *r,
                           const char *where, uint64_t pos, ddk_err *err)
{
	size_t n_in = (size_t)r->rows * r->cols;
	ddk_status st;
	int c;

	if ((st = unplace(d, err)) || (st = admit(d, r, where, pos, &c, err)))
		return st;
	memcpy(d->x + d->n * n_in, r->v, n_in * sizeof *d->x);
	d->y[d->n++] = c;
	return DDK_OK;
}

static ddk_status add_file(ddk_dataset *d, int fd, const char *name,
                           ddk_err *err)
{
	ddk_data_file *f = realloc(d->files,
	                           (d->n_files + 1) * sizeof *f);
	struct stat st;

	if (!f)
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	d->files = f;
	f += d->n_files;
	if (fstat(fd, &st))
		return ddk_fail(err, DDK_EIO, "%s: %s", name, strerror(errno));
	if ((f->fd = dup(fd)) < 0) {
		int e = errno;

		ddk_fail(err, DDK_EIO, "%s: %s", name, strerror(e));
		errno = e;
		return DDK_EIO;
	}
	if (!(f->name = dup_str(name))) {
		close(f->fd);
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	}
	f->size = (int64_t)st.st_size;
	f->mtime_s = (int64_t)st.st_mtim.tv_sec;
	f->mtime_ns = (int64_t)st.st_mtim.tv_nsec;
	d->n_files++;
	return DDK_OK;
}

ddk_status ddk_dataset_open(ddk_dataset *d, int fd, const char *name,
                            ddk_err *err)
{
	ddk_status st;

	if (!d->in_place || (d->n && !d->placed))
		return DDK_OK;
	st = add_file(d, fd, name, err);
	if (st == DDK_EIO && (errno == EMFILE || errno == ENFILE)) {
		/* out of descriptors: hold everything in memory instead */
		d->in_place = 0;
		return unplace(d, err);
	}
	return st;
}

ddk_status ddk_dataset_add_at(ddk_dataset *d, const ddk_record *r,
                              uint64_t off, const char *where, uint64_t pos,
                              ddk_err *err)
{
	ddk_status st;
	int c;

	if (!d->in_place || d->n_files == 0 || (d->n && !d->placed))
		return ddk_dataset_add(d, r, where, pos, err);
	if (d->n == 0 && !d->placed) {
		free(d->x);
		d->x = NULL;
		d->cap = 0;
		d->placed = 1;
	}
	if ((st = admit(d, r, where, pos, &c, err)))
		return st;
	d->at[d->n] = off;
	d->file[d->n] = (uint32_t)(d->n_files - 1);
	d->y[d->n++] = c;
	return DDK_OK;
}

const float *ddk_dataset_values(const ddk_dataset *d, size_t i, float *buf,
                                ddk_err *err)
{
	if (!d->placed)
		return d->x + i * (size_t)d->rows * d->cols;
	return read_at(d, i, buf, err) ? NULL : buf;
}

ddk_status ddk_dataset_check(const ddk_dataset *d, ddk_err *err)
{
	for (size_t i = 0; i < d->n_files; i++) {
		const ddk_data_file *f = &d->files[i];
		struct stat st;

		if (fstat(f->fd, &st))
			return ddk_fail(err, DDK_EIO, "%s: %s", f->name,
			                strerror(errno));
		if ((int64_t)st.st_size != f->size ||
		    (int64_t)st.st_mtim.tv_sec != f->mtime_s ||
		    (int64_t)st.st_mtim.tv_nsec != f->mtime_ns)
			return ddk_fail(err, DDK_EIO, "%s: changed while "
			                "training, which reads it in place",
			                f->name);
	}
	return DDK_OK;
}

static int is_integer(const char *s, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return *s && !*end && errno == 0;
}

static int numeric_names;

static int cmp_names(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	long long u, v;

	if (numeric_names && is_integer(x, &u) && is_integer(y, &v))
		return (u > v) - (u < v);
	return strcmp(x, y);
}

void ddk_dataset_finish(ddk_dataset *d)
{
	size_t C = d->n_classes;
	char **old;
	int *map;
	long long v;

	if (d->fixed_classes || C == 0)
		return;
	old = malloc(C * sizeof *old);
	map = malloc(C * sizeof *map);
	if (old && map) {
		memcpy(old, d->classes, C * sizeof *old);
		numeric_names = 1;
		for (size_t c = 0; c < C; c++)
			numeric_names &= is_integer(d->classes[c], &v);
		qsort(d->classes, C, sizeof *d->classes, cmp_names);
		for (size_t c = 0; c < C; c++)
			for (size_t k = 0; k < C; k++)
				if (old[c] == d->classes[k])
					map[c] = (int)k;
		for (size_t i = 0; i < d->n; i++)
			d->y[i] = map[d->y[i]];
	}
	free(old);
	free(map);
}

/* Record i of s (its values or their place, and its label) into slot k
 * of d, which holds its values the same way. */
static void copy_record(ddk_dataset *d, size_t k, const ddk_dataset *s,
                        size_t i)
{
	size_t n_in = (size_t)s->rows * s->cols;

	if (s->placed) {
		d->at[k] = s->at[i];
		d->file[k] = s->file[i];
	} else {
		memmove(d->x + k * n_in, s->x + i * n_in, n_in * sizeof *s->x);
	}
	d->y[k] = s->y[i];
}

ddk_status ddk_dataset_split(ddk_dataset *d, double frac, uint64_t seed,
                             ddk_dataset *val, ddk_err *err)
{
	size_t n_in = (size_t)d->rows * d->cols, kept = 0;
	ddk_status st;

	if (!d->keep_keys)
		return ddk_fail(err, DDK_EINVAL, "split needs the keys");
	st = ddk_dataset_set_classes(val, d->classes, d->n_classes, err);
	if (st != DDK_OK)
		return st;
	val->rows = d->rows;
	val->cols = d->cols;
	val->placed = d->placed;
	for (size_t i = 0; i < d->n_files; i++) {
		if ((st = add_file(val, d->files[i].fd, d->files[i].name, err)))
			return st;
		val->files[i] = (ddk_data_file){ val->files[i].fd,
		        val->files[i].name, d->files[i].size,
		        d->files[i].mtime_s, d->files[i].mtime_ns };
	}
	for (size_t i = 0; i < d->n; i++) {
		ddk_rng g;

		ddk_rng_for_key(&g, seed ^ 0x76616c2d73706c74ULL, d->keys[i]);
		if (ddk_rng_uniform(&g) >= frac) {
			/* stays: compact in place, in order */
			copy_record(d, kept, d, i);
			d->keys[kept++] = d->keys[i];
			continue;
		}
		if (val->n == val->cap && (st = grow(val, n_in, err)))
			return st;
		copy_record(val, val->n++, d, i);
		free(d->keys[i]);
	}
	d->n = kept;
	return DDK_OK;
}

/* ------------------------------------------------------------------ */
/* training                                                             */

void ddk_train_opts_default(ddk_train_opts *o)
{
	memset(o, 0, sizeof *o);
	o->epochs = 10;
	o->batch = 32;
	ddk_optim_default(&o->optim, DDK_OPT_ADAM);
	o->lr_gamma = 0.1;
	o->seed = 1;
}

ddk_status ddk_train_state_init(ddk_train_state *s, const ddk_net *net,
                                const ddk_train_opts *o, ddk_err *err)
{
	memset(s, 0, sizeof *s);
	s->optim = o->optim;
	s->history = calloc(o->epochs ? o->epochs : 1, sizeof *s->history);
	s->history_cap = o->epochs;
	s->best = calloc(ddk_net_state_size(net), sizeof *s->best);
	if (!s->history || !s->best) {
		ddk_train_state_free(s);
		return ddk_fail(err, DDK_ENOMEM, "training: out of memory");
	}
	return DDK_OK;
}

void ddk_train_state_free(ddk_train_state *s)
{
	free(s->history);
	free(s->best);
	memset(s, 0, sizeof *s);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double lr_at(const ddk_train_opts *o, size_t epoch)
{
	double lr = o->optim.lr;

	for (size_t i = 0; i < o->n_lr_steps; i++)
		if (o->lr_steps[i] <= epoch)
			lr *= o->lr_gamma;
	return lr;
}

/* Records i .. i+nb-1 of d side by side into *x: where they lie in
 * memory, or read into buf (nb x rows*cols floats). */
static ddk_status span(const ddk_dataset *d, size_t i, size_t nb,
                       float *buf, const float **x, ddk_err *err)
{
	size_t n_in = (size_t)d->rows * d->cols;
	ddk_status st;

	*x = d->placed ? buf : d->x + i * n_in;
	for (size_t k = 0; d->placed && k < nb; k++)
		if ((st = read_at(d, i + k, buf + k * n_in, err)))
			return st;
	return DDK_OK;
}

/* Feature-norm statistics of the training set, in stored order, B
 * examples at a time (the training batch: no more of the workspace is
 * touched than training touches; the sums do not depend on B).  buf
 * holds B examples. */
static ddk_status take_fnorm(ddk_net *net, const ddk_dataset *d, size_t B,
                             float *buf, double *acc, ddk_err *err)
{
	ddk_net_fnorm_begin(net, acc);
	for (size_t i = 0; i < d->n; i += B) {
		size_t nb = d->n - i < B ? d->n - i : B;
		const float *x;
		ddk_status st = span(d, i, nb, buf, &x, err);

		if (st)
			return st;
		ddk_net_fnorm_add(net, x, nb, acc);
	}
	ddk_net_fnorm_end(net, acc, d->n);
	return DDK_OK;
}

static void shuffle(size_t *idx, size_t n, uint64_t seed, size_t epoch)
{
	char key[64];
	ddk_rng g;

	snprintf(key, sizeof key, "epoch %zu", epoch);
	ddk_rng_for_key(&g, seed, key);
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)ddk_rng_below(&g, i), t = idx[i - 1];

		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}

/* One pass over the shuffled training set. */
static ddk_status run_epoch(ddk_net *net, const ddk_dataset *d,
                            const ddk_train_opts *o, ddk_train_state *s,
                            const size_t *idx, float *xb, int *yb,
                            ddk_epoch_stats *st, ddk_err *err)
{
	size_t n_in = net->n_in, B = o->batch, seen = 0, right = 0;
	double lr = lr_at(o, s->epoch), loss = 0;
	ddk_status rs;

	for (size_t i = 0; i < d->n; i += B) {
		size_t nb = d->n - i < B ? d->n - i : B;

		if (nb == 1 && net->cfg.batchnorm && net->cfg.n_hidden)
			break;
		for (size_t k = 0; k < nb; k++) {
			if (!d->placed)
				memcpy(xb + k * n_in, d->x + idx[i + k] * n_in,
				       n_in * sizeof *xb);
			else if ((rs = read_at(d, idx[i + k], xb + k * n_in,
			                       err)))
				return rs;
			yb[k] = d->y[idx[i + k]];
		}
		ddk_net_forward(net, xb, nb, 1);
		loss += ddk_net_backward(net, xb, yb, nb, &right)
			* (double)nb;
		st->skipped += (uint64_t)ddk_optim_step(&s->optim, net, lr);
		seen += nb;
		if (o->on_batch && (i / B) % 64 == 0)
			o->on_batch(o->ctx, s->epoch, i + nb, d->n);
	}
	st->loss = seen ? loss / (double)seen : 0;
	st->train_acc = seen ? (double)right / (double)seen : 0;
	return DDK_OK;
}

ddk_status ddk_train(ddk_net *net, const ddk_dataset *train,
                     const ddk_dataset *val, const ddk_train_opts *o,
                     ddk_train_state *s, ddk_err *err)
{
	size_t *idx = malloc((train->n ? train->n : 1) * sizeof *idx);
	float *xb = malloc(o->batch * net->n_in * sizeof *xb);
	int *yb = malloc(o->batch * sizeof *yb);
	double *acc = malloc(ddk_net_fnorm_acc_size(net) * sizeof *acc);
	ddk_status st = DDK_OK;

	if (!idx || !xb || !yb || !acc) {
		st = ddk_fail(err, DDK_ENOMEM, "training: out of memory");
		goto out;
	}
	if (o->batch > net->batch_cap) {
		st = ddk_fail(err, DDK_EINVAL, "batch larger than the net's");
		goto out;
	}
	while (s->epoch < o->epochs) {
		ddk_epoch_stats es = { 0, 0, NAN, 0, 0 };
		double t0 = now_s();
		int trainable = net->n_pairs && !net->param[0].frozen;

		/* statistics, order, one pass, validation */
		if ((st = ddk_dataset_check(train, err)) ||
		    (val && (st = ddk_dataset_check(val, err))))
			goto out;
		if (net->cfg.feature_norm && (s->epoch == 0 || trainable) &&
		    (st = take_fnorm(net, train, o->batch, xb, acc, err)))
			goto out;
		shuffle(idx, train->n, o->seed, s->epoch);
		if ((st = run_epoch(net, train, o, s, idx, xb, yb, &es, err)))
			goto out;
		if (val && val->n &&
		    (st = ddk_evaluate(net, val, &es.val_acc, err)))
			goto out;
		es.seconds = now_s() - t0;

		/* bookkeeping: best state, history, checkpoint */
		if (val && val->n && (s->best_epoch == 0 ||
		                      es.val_acc > s->best_acc)) {
			s->best_epoch = s->epoch + 1;
			s->best_acc = es.val_acc;
			ddk_net_state_get(net, s->best);
		}
		s->history[s->epoch++] = es;
		if (o->checkpoint && (st = ddk_checkpoint_save(o->checkpoint,
		                      net, s, o->fingerprint, err)) != DDK_OK)
			goto out;
		if (o->on_epoch && o->on_epoch(o->ctx, s->epoch, &es))
			break;
	}
	if (s->best_epoch)
		ddk_net_state_set(net, s->best);
out:
	free(idx);
	free(xb);
	free(yb);
	free(acc);
	return st;
}

ddk_status ddk_evaluate(ddk_net *net, const ddk_dataset *d, double *acc,
                        ddk_err *err)
{
	size_t right = 0, C = net->cfg.n_classes, cap = net->batch_cap;
	float *probs = malloc(cap * C * sizeof *probs);
	float *buf = d->placed ? malloc(cap * net->n_in * sizeof *buf) : NULL;
	ddk_status st = DDK_OK;

	*acc = NAN;
	if (!probs || (d->placed && !buf)) {
		st = ddk_fail(err, DDK_ENOMEM, "evaluation: out of memory");
		goto out;
	}
	for (size_t i = 0; i < d->n; i += cap) {
		size_t nb = d->n - i < cap ? d->n - i : cap;
		const float *x;

		if ((st = span(d, i, nb, buf, &x, err)))
			goto out;
		ddk_net_predict(net, x, nb, probs);
		for (size_t k = 0; k < nb; k++) {
			const float *p = probs + k * C;
			size_t best = 0;

			for (size_t c = 1; c < C; c++)
				if (p[c] > p[best])
					best = c;
			right += (int)best == d->y[i + k];
		}
	}
	if (d->n)
		*acc = (double)right / (double)d->n;
out:
	free(probs);
	free(buf);
	return st;
}
