/*
 * fuzz_train.c - libFuzzer harness for the training set and loop: the
 * bytes are a stream file, loaded twice, once into memory and once in
 * place (values read back from the file with pread each time they are
 * needed), and a small network is trained two epochs on each.  The two
 * must fail alike or end in the same bits; accuracy must lie in [0, 1].
 * The network's shape is taken from the input's length, so the fuzzer
 * reaches every kind of layer.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "ddk.h"

/* Load every record of the file under fd into d; the status of the first
 * failure, or DDK_OK. */
static ddk_status load(int fd, int in_place, int keep_keys, ddk_dataset *d,
                       ddk_err *err)
{
	FILE *f;
	ddk_reader *rd;
	ddk_record r;
	ddk_status st;
	uint64_t off;
	int opened = 0;

	d->in_place = in_place;
	d->keep_keys = keep_keys;
	if (lseek(fd, 0, SEEK_SET) != 0 || !(f = fdopen(dup(fd), "rb")))
		abort();
	rd = ddk_reader_new(f, "fuzz");
	ddk_record_init(&r);
	while ((st = ddk_reader_next(rd, &r, err)) == DDK_OK) {
		if (!ddk_reader_place(rd, &off)) {
			st = ddk_dataset_add(d, &r, "fuzz",
			                     ddk_reader_count(rd), err);
		} else {
			if (!opened++)
				st = ddk_dataset_open(d, fileno(f), "fuzz",
				                      err);
			if (st == DDK_OK)
				st = ddk_dataset_add_at(d, &r, off, "fuzz",
				        ddk_reader_count(rd), err);
		}
		if (st != DDK_OK)
			break;
	}
	ddk_record_free(&r);
	ddk_reader_free(&rd);
	fclose(f);
	if (st == DDK_END)
		st = DDK_OK;
	if (st == DDK_OK)
		ddk_dataset_finish(d);
	return st;
}

static ddk_net *make_net(const ddk_dataset *d, size_t shape)
{
	ddk_net_config c;
	ddk_net *net;
	ddk_rng g;

	ddk_net_config_default(&c);
	c.rows = d->rows;
	c.cols = d->cols;
	c.n_classes = d->n_classes;
	c.use_ddk = !(shape & 1);
	c.per_row = c.use_ddk && (shape & 2);
	c.feature_norm = !!(shape & 4);
	if (shape & 8) {
		c.n_hidden = 1;
		c.hidden[0] = 3;
		c.batchnorm = !!(shape & 16);
	}
	if (ddk_net_new(&c, 8, &net, NULL) != DDK_OK)
		abort();
	ddk_rng_for_key(&g, 5, "init");
	ddk_net_init(net, &g, NAN, NAN);
	return net;
}

/* Train a net on d (and val) and leave its state and accuracy on d. */
static ddk_status train(const ddk_dataset *d, const ddk_dataset *val,
                        size_t shape, float **state, size_t *n,
                        double *acc)
{
	ddk_net *net = make_net(d, shape);
	ddk_train_opts o;
	ddk_train_state s;
	ddk_err err;
	ddk_status st;

	ddk_train_opts_default(&o);
	o.epochs = 2;
	o.batch = 8;
	o.seed = 3;
	if (ddk_train_state_init(&s, net, &o, &err) != DDK_OK)
		abort();
	st = ddk_train(net, d, val, &o, &s, &err);
	if (st == DDK_OK)
		st = ddk_evaluate(net, d, acc, &err);
	*n = ddk_net_state_size(net);
	if (!(*state = malloc(*n * sizeof **state + 1)))
		abort();
	ddk_net_state_get(net, *state);
	ddk_train_state_free(&s);
	ddk_net_free(&net);
	return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz", 0);
	int split = size % 3 == 0;
	ddk_dataset mem, pl, vm, vp;
	ddk_err em, ep;
	ddk_status sm, sp;
	float *a = NULL, *b = NULL;
	size_t na, nb;
	double acc_a = NAN, acc_b = NAN;

	if (fd < 0)
		abort();
	ddk_dataset_init(&mem);
	ddk_dataset_init(&pl);
	ddk_dataset_init(&vm);
	ddk_dataset_init(&vp);
	if (write(fd, data, size) != (ssize_t)size)
		abort();
	sm = load(fd, 0, split, &mem, &em);
	sp = load(fd, 1, split, &pl, &ep);
	if (sm != sp || (sm && strcmp(em.msg, ep.msg))) {
		fprintf(stderr, "loads differ: %d '%s' / %d '%s'\n", sm,
		        sm ? em.msg : "", sp, sp ? ep.msg : "");
		abort();
	}
	if (sm == DDK_OK && (mem.n != pl.n || mem.n_classes != pl.n_classes))
		abort();
	if (sm || mem.n == 0 || mem.n_classes < 2 ||
	    (size_t)mem.rows * mem.cols > 4096)
		goto out;
	if (split) {
		sm = ddk_dataset_split(&mem, 0.3, 9, &vm, &em);
		sp = ddk_dataset_split(&pl, 0.3, 9, &vp, &ep);
		if (sm != sp || vm.n != vp.n || mem.n != pl.n)
			abort();
		if (sm || mem.n == 0)
			goto out;
	}
	sm = train(&mem, split ? &vm : NULL, size / 3, &a, &na, &acc_a);
	sp = train(&pl, split ? &vp : NULL, size / 3, &b, &nb, &acc_b);
	if (sm != sp || na != nb || memcmp(a, b, na * sizeof *a))
		abort();
	if (sm == DDK_OK && (!(acc_a >= 0 && acc_a <= 1) ||
	                     memcmp(&acc_a, &acc_b, sizeof acc_a)))
		abort();
out:
	free(a);
	free(b);
	ddk_dataset_free(&mem);
	ddk_dataset_free(&pl);
	ddk_dataset_free(&vm);
	ddk_dataset_free(&vp);
	close(fd);
	return 0;
}
