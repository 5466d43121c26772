/*
 * checkpoint.c - training checkpoints and atomic file writes
 * (ddk_train.h).
 *
 * A checkpoint is the machine's own bytes (it is read back by the same
 * build that wrote it, to continue a run), in this order:
 *
 *   "DDKCKPT1", u64 fingerprint length, fingerprint bytes,
 *   u64 state floats, u64 parameters, u64 n of each parameter,
 *   u64 epoch, u64 best_epoch, u64 optimiser steps, f64 best_acc,
 *   epoch x 3 f64 (loss, train_acc, val_acc),
 *   state floats, then m1 and m2 of every parameter, then the best
 *   state floats.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ddk_train.h"

static const char magic[8] = "DDKCKPT1";

static ddk_status write_in_place(const char *path, const void *data,
                                 size_t len, ddk_err *err)
{
	FILE *f = fopen(path, "wb");
	int bad = !f || fwrite(data, 1, len, f) != len;

	if (f && fclose(f) != 0)
		bad = 1;
	return bad ? ddk_fail(err, DDK_EIO, "%s: %s", path, strerror(errno))
	           : DDK_OK;
}

ddk_status ddk_write_atomic(const char *path, const void *data, size_t len,
                            ddk_err *err)
{
	size_t n = strlen(path);
	char *tmp = malloc(n + 16);
	struct stat st;
	mode_t mask;
	int fd;
	FILE *f;

	if (!tmp)
		return ddk_fail(err, DDK_ENOMEM, "%s: out of memory", path);

	/* A device or FIFO is written in place: a rename would replace it. */
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		free(tmp);
		return write_in_place(path, data, len, err);
	}
	memcpy(tmp, path, n);
	memcpy(tmp + n, ".tmp.XXXXXX", 12);
	fd = mkstemp(tmp);
	if (fd < 0) {
		free(tmp);
		return ddk_fail(err, DDK_EIO, "%s: %s", path, strerror(errno));
	}

	/* the permissions a plain fopen would have given */
	mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	f = fdopen(fd, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fflush(f) != 0 ||
	    ferror(f)) {
		int e = errno;

		if (f)
			fclose(f);
		else
			close(fd);
		unlink(tmp);
		free(tmp);
		return ddk_fail(err, DDK_EIO, "%s: %s", path, strerror(e));
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		int e = errno;

		unlink(tmp);
		free(tmp);
		return ddk_fail(err, DDK_EIO, "%s: %s", path, strerror(e));
	}
	free(tmp);
	return DDK_OK;
}

typedef struct buf {
	unsigned char *p;
	size_t len, cap, pos;
	int bad;
} buf;

static void put(buf *b, const void *v, size_t n)
{
	if (b->bad)
		return;
	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2;
		unsigned char *p = realloc(b->p, cap);

		if (!p) {
			b->bad = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, v, n);
	b->len += n;
}

static void put_u64(buf *b, uint64_t v)
{
	put(b, &v, sizeof v);
}

static void put_f64(buf *b, double v)
{
	put(b, &v, sizeof v);
}

ddk_status ddk_checkpoint_save(const char *path, const ddk_net *net,
                               const ddk_train_state *s,
                               const char *fingerprint, ddk_err *err)
{
	size_t ns = ddk_net_state_size(net);
	const char *fp = fingerprint ? fingerprint : "";
	float *state = malloc(ns * sizeof *state);
	buf b = { 0 };
	ddk_status st;

	if (!state)
		return ddk_fail(err, DDK_ENOMEM, "%s: out of memory", path);
	put(&b, magic, sizeof magic);
	put_u64(&b, strlen(fp));
	put(&b, fp, strlen(fp));
	put_u64(&b, ns);
	put_u64(&b, net->n_param);
	for (size_t i = 0; i < net->n_param; i++)
		put_u64(&b, net->param[i].n);
	put_u64(&b, s->epoch);
	put_u64(&b, s->best_epoch);
	put_u64(&b, s->optim.t);
	put_f64(&b, s->best_acc);
	for (size_t e = 0; e < s->epoch; e++) {
		put_f64(&b, s->history[e].loss);
		put_f64(&b, s->history[e].train_acc);
		put_f64(&b, s->history[e].val_acc);
	}
	ddk_net_state_get(net, state);
	put(&b, state, ns * sizeof *state);
	for (size_t i = 0; i < net->n_param; i++) {
		put(&b, net->param[i].m1, net->param[i].n * sizeof(float));
		put(&b, net->param[i].m2, net->param[i].n * sizeof(float));
	}
	put(&b, s->best, ns * sizeof *s->best);
	free(state);
	if (b.bad) {
		free(b.p);
		return ddk_fail(err, DDK_ENOMEM, "%s: out of memory", path);
	}
	st = ddk_write_atomic(path, b.p, b.len, err);
	free(b.p);
	return st;
}

static int get(buf *b, void *v, size_t n)
{
	if (b->bad || b->len - b->pos < n) {
		b->bad = 1;
		return 0;
	}
	memcpy(v, b->p + b->pos, n);
	b->pos += n;
	return 1;
}

static uint64_t get_u64(buf *b)
{
	uint64_t v = 0;

	get(b, &v, sizeof v);
	return v;
}

static ddk_status slurp(const char *path, buf *b, ddk_err *err)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return ddk_fail(err, errno == ENOENT ? DDK_ENOTFOUND : DDK_EIO,
		                "%s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return ddk_fail(err, DDK_EIO, "%s: cannot seek", path);
	}
	b->p = malloc((size_t)n + 1);
	b->len = (size_t)n;
	if (!b->p || fread(b->p, 1, b->len, f) != b->len) {
		fclose(f);
		return ddk_fail(err, b->p ? DDK_EIO : DDK_ENOMEM,
		                "%s: cannot read", path);
	}
	fclose(f);
	return DDK_OK;
}

/* The header up to the history: checks the shape and fingerprint. */
static ddk_status check_head(buf *b, const char *path, const ddk_net *net,
                             const char *fp, ddk_err *err)
{
	char m[8];
	uint64_t n;

	if (!get(b, m, sizeof m) || memcmp(m, magic, sizeof m) != 0)
		return ddk_fail(err, DDK_EFORMAT, "%s: not a ddk-train "
		                "checkpoint", path);
	n = get_u64(b);
	if (b->bad || n != strlen(fp) || b->len - b->pos < n ||
	    memcmp(b->p + b->pos, fp, n) != 0)
		return ddk_fail(err, DDK_EINVAL, "%s: checkpoint of a run "
		                "with other data or options", path);
	b->pos += n;
	if (get_u64(b) != ddk_net_state_size(net) ||
	    get_u64(b) != net->n_param)
		return ddk_fail(err, DDK_EINVAL, "%s: checkpoint of another "
		                "network", path);
	for (size_t i = 0; i < net->n_param; i++)
		if (get_u64(b) != net->param[i].n)
			return ddk_fail(err, DDK_EINVAL, "%s: checkpoint of "
			                "another network", path);
	return b->bad ? ddk_fail(err, DDK_EFORMAT, "%s: truncated", path)
	              : DDK_OK;
}

ddk_status ddk_checkpoint_load(const char *path, ddk_net *net,
                               ddk_train_state *s, const char *fingerprint,
                               ddk_err *err)
{
	size_t ns = ddk_net_state_size(net), moments = 0;
	buf b = { 0 };
	float *state = NULL;
	ddk_status st = slurp(path, &b, err);
	uint64_t epoch, best_epoch, t;
	double best_acc;

	if (st == DDK_OK)
		st = check_head(&b, path, net, fingerprint ? fingerprint : "",
		                err);
	if (st != DDK_OK)
		goto out;
	epoch = get_u64(&b);
	best_epoch = get_u64(&b);
	t = get_u64(&b);
	get(&b, &best_acc, sizeof best_acc);
	for (size_t i = 0; i < net->n_param; i++)
		moments += 2 * net->param[i].n;

	/* every size is known now: nothing is taken from a file of any other
	 * length, so a refused checkpoint leaves net and s as they were */
	if (b.bad || epoch > (b.len - b.pos) / (3 * sizeof(double)) ||
	    b.len - b.pos != epoch * 3 * sizeof(double) +
	                     (2 * ns + moments) * sizeof(float)) {
		st = ddk_fail(err, DDK_EFORMAT, "%s: truncated or too long",
		              path);
		goto out;
	}
	if (epoch > s->history_cap) {
		st = ddk_fail(err, DDK_EINVAL, "%s: checkpoint after epoch "
		              "%llu, past the run's %zu epochs", path,
		              (unsigned long long)epoch, s->history_cap);
		goto out;
	}
	state = malloc(ns * sizeof *state);
	if (!state) {
		st = ddk_fail(err, DDK_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	for (size_t e = 0; e < epoch; e++) {
		ddk_epoch_stats es = { 0, 0, 0, 0, 0 };

		get(&b, &es.loss, sizeof es.loss);
		get(&b, &es.train_acc, sizeof es.train_acc);
		get(&b, &es.val_acc, sizeof es.val_acc);
		s->history[e] = es;
	}
	get(&b, state, ns * sizeof *state);
	for (size_t i = 0; i < net->n_param; i++) {
		get(&b, net->param[i].m1, net->param[i].n * sizeof(float));
		get(&b, net->param[i].m2, net->param[i].n * sizeof(float));
	}
	get(&b, s->best, ns * sizeof *s->best);
	ddk_net_state_set(net, state);
	s->epoch = epoch;
	s->best_epoch = best_epoch;
	s->optim.t = t;
	s->best_acc = best_acc;
out:
	free(state);
	free(b.p);
	return st;
}
