/*
 * ddk_train.h - training a DDK network: the data set (in memory or read
 * in place from its files), the epoch loop, evaluation and checkpoints.
 *
 * Problem.  Minimise the mean softmax cross-entropy of a ddk_net over a
 * labelled set of input maps by mini-batch SGD or Adam, for a number of
 * epochs, with a step learning-rate schedule (lr * gamma^k after the k-th
 * listed epoch), keeping the state with the best validation accuracy
 * when a validation set is given.
 *
 * Method.  The data is stored once, as float32, n x (U*T), or not at
 * all: a set marked in_place keeps, for each record read from a binary
 * stream in a regular file, only the file and the byte offset of its
 * values, and reads them again (pread) when a batch needs them, so the
 * process's memory does not grow with the data and the page cache holds
 * the file instead.  Features are computed per mini-batch either way.
 * The order of epoch e is a Fisher-Yates shuffle drawn from
 * ddk_rng_for_key(seed, "epoch e"), so an epoch depends only on the seed
 * and the state at its start: a run resumed from the checkpoint of epoch
 * e continues exactly as the uninterrupted run.  With feature_norm the
 * statistics are taken over the training set at the start of every epoch
 * (once, when the DDK layer is frozen or absent).  With batch
 * normalisation a last batch of one example is skipped.
 *
 * Ownership.  A ddk_dataset owns its values, labels, keys, class
 * names and the duplicates of the file descriptors it reads in place;
 * ddk_dataset_free releases them.  ddk_train_state owns its
 * history and snapshot; ddk_train_state_free releases them.
 * Errors.  DDK_EINVAL for a record that does not fit (shape, missing
 * label, unknown class) and DDK_ERANGE for a value that is not finite,
 * each naming the record; DDK_EIO / DDK_EFORMAT for checkpoints, and
 * for values read in place from a file that failed or changed.
 */
#ifndef DDK_TRAIN_H
#define DDK_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include "ddk_base.h"
#include "ddk_nn.h"
#include "ddk_stream.h"

/* A file a set reads in place: a duplicate of the caller's descriptor,
 * with its size and modification time when it was opened. */
typedef struct ddk_data_file {
	int fd;
	char *name;
	int64_t size, mtime_s, mtime_ns;
} ddk_data_file;

typedef struct ddk_dataset {
	size_t n, cap;
	uint32_t rows, cols;        /* 0 until the first record */
	float *x;                   /* n x rows*cols, unless placed */
	int in_place;               /* set by the caller: read in place
	                             * whenever every record allows it */
	int placed;                 /* the values stay in files: record i
	                             * at byte at[i] of files[file[i]] */
	uint64_t *at;
	uint32_t *file;
	ddk_data_file *files;
	size_t n_files;
	int *y;                     /* class index */
	char **keys;                /* n keys, when keep_keys */
	int keep_keys;
	char **classes;             /* distinct labels */
	size_t n_classes;
	int fixed_classes;          /* classes given: others are an error */
} ddk_dataset;

void ddk_dataset_init(ddk_dataset *d);
void ddk_dataset_free(ddk_dataset *d);

/* Use these class names (copied) instead of collecting them. */
ddk_status ddk_dataset_set_classes(ddk_dataset *d, char *const *names,
                                   size_t n, ddk_err *err);

/* Append a labelled record; pos (1-based) and where name it in
 * messages.  Its values are copied: a set with records in place reads
 * those into memory first. */
ddk_status ddk_dataset_add(ddk_dataset *d, const ddk_record *r,
                           const char *where, uint64_t pos, ddk_err *err);

/* The records added next with ddk_dataset_add_at lie in the open file
 * fd (duplicated here, so the caller may close its own). */
ddk_status ddk_dataset_open(ddk_dataset *d, int fd, const char *name,
                            ddk_err *err);

/* Append r, whose values lie at byte off of the file of the last
 * ddk_dataset_open (ddk_reader_place): kept there when d->in_place and
 * every earlier record is in place too, copied otherwise. */
ddk_status ddk_dataset_add_at(ddk_dataset *d, const ddk_record *r,
                              uint64_t off, const char *where, uint64_t pos,
                              ddk_err *err);

/* The values of record i: in memory, or read into buf (rows*cols
 * floats) from their file; NULL with err set when that read fails. */
const float *ddk_dataset_values(const ddk_dataset *d, size_t i, float *buf,
                                ddk_err *err);

/* DDK_OK when the files read in place still have the size and
 * modification time they had when opened; DDK_EIO naming one otherwise
 * (its offsets would no longer be records). */
ddk_status ddk_dataset_check(const ddk_dataset *d, ddk_err *err);

/* After the last add: sort collected class names (numerically when all
 * are integers, else bytewise) and renumber the labels. */
void ddk_dataset_finish(ddk_dataset *d);

/* Move the records whose key draws below frac from
 * ddk_rng_for_key(seed, key) into val (empty, initialised); needs
 * keep_keys.  val gets the classes, and its own duplicates of the files
 * of a set read in place. */
ddk_status ddk_dataset_split(ddk_dataset *d, double frac, uint64_t seed,
                             ddk_dataset *val, ddk_err *err);

/* One epoch's numbers. */
typedef struct ddk_epoch_stats {
	double loss, train_acc, val_acc;    /* val_acc NaN without val */
	double seconds;                     /* not saved: varies */
	uint64_t skipped;                   /* optimiser steps refused for a
	                                     * gradient not finite; not saved
	                                     * in checkpoints */
} ddk_epoch_stats;

#define DDK_MAX_LR_STEPS 16

typedef struct ddk_train_opts {
	size_t epochs, batch;
	ddk_optim optim;
	size_t lr_steps[DDK_MAX_LR_STEPS];  /* epochs after which lr *= gamma */
	size_t n_lr_steps;
	double lr_gamma;
	uint64_t seed;
	const char *checkpoint;             /* path, or NULL */
	const char *fingerprint;            /* options that must match */
	/* called after each epoch (may be NULL); nonzero stops training */
	int (*on_epoch)(void *ctx, size_t epoch, const ddk_epoch_stats *s);
	/* called every few batches (may be NULL) */
	void (*on_batch)(void *ctx, size_t epoch, size_t done, size_t total);
	void *ctx;
} ddk_train_opts;

void ddk_train_opts_default(ddk_train_opts *o);

typedef struct ddk_train_state {
	size_t epoch;               /* epochs completed */
	ddk_epoch_stats *history;   /* epoch entries */
	size_t history_cap;         /* the run's epochs */
	size_t best_epoch;          /* 1-based; 0: none yet */
	double best_acc;
	float *best;                /* ddk_net_state of the best epoch */
	ddk_optim optim;
} ddk_train_state;

ddk_status ddk_train_state_init(ddk_train_state *s, const ddk_net *net,
                                const ddk_train_opts *o, ddk_err *err);
void ddk_train_state_free(ddk_train_state *s);

/* Run the remaining epochs of s.  With val, the net ends in the best
 * state; without, in the last.  The checkpoint, when named, is written
 * atomically after every epoch. */
ddk_status ddk_train(ddk_net *net, const ddk_dataset *train,
                     const ddk_dataset *val, const ddk_train_opts *o,
                     ddk_train_state *s, ddk_err *err);

/* Accuracy of net on d (in [0, 1]; NaN for an empty set) into *acc. */
ddk_status ddk_evaluate(ddk_net *net, const ddk_dataset *d, double *acc,
                        ddk_err *err);

/* Checkpoints: the net's state and optimiser moments, s and the
 * fingerprint.  Load fails with DDK_EINVAL when the fingerprint or the
 * network's shape differ, DDK_ENOTFOUND when there is no file,
 * DDK_EFORMAT when the file is cut short or too long; a failed load
 * leaves net and s as they were. */
ddk_status ddk_checkpoint_save(const char *path, const ddk_net *net,
                               const ddk_train_state *s,
                               const char *fingerprint, ddk_err *err);
ddk_status ddk_checkpoint_load(const char *path, ddk_net *net,
                               ddk_train_state *s, const char *fingerprint,
                               ddk_err *err);

/* Write len bytes to path through a temporary file beside it, renamed
 * into place only when everything was written.  A path that names an
 * existing device or FIFO (/dev/null) is written directly instead. */
ddk_status ddk_write_atomic(const char *path, const void *data, size_t len,
                            ddk_err *err);

#endif
