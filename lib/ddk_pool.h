/*
 * ddk_pool.h - raw patterns (sound, IDX images, NumPy arrays) into input
 * maps: U rows ("utterances") by T steps, scaled to [0, 1].
 *
 * The steps, in order, for a matrix of `rows` signals of n samples each:
 *   1. length: crop or zero-pad every row to `length` samples (0 keeps n);
 *   2. utterances: with one row, cut it into U equal pieces of n/U
 *      samples (the n mod U samples at the end are dropped);
 *   3. pool: reduce non-overlapping windows of P samples by the pool op
 *      (a row's last n mod P samples, which fill no window, are dropped);
 *   4. normalize: row (min-max of each row to [0, 1]; a constant row
 *      becomes zeros), full (the data type's fixed range [lo, hi] to
 *      [0, 1]; absmean and rms first fold it to [0, max |lo|, |hi|]),
 *      or none.
 * The readers return raw values and the data type's fixed range; they
 * allocate what they return, and the caller frees it.
 */
#ifndef DDK_POOL_H
#define DDK_POOL_H

#include <stddef.h>
#include <stdint.h>
#include "ddk_base.h"
#include "ddk_stream.h"

typedef enum ddk_pool_op {
	DDK_POOL_MEAN, DDK_POOL_ABSMEAN, DDK_POOL_RMS, DDK_POOL_MAX
} ddk_pool_op;

typedef enum ddk_norm {
	DDK_NORM_ROW, DDK_NORM_FULL, DDK_NORM_NONE
} ddk_norm;

typedef struct ddk_pool_opts {
	size_t length;       /* crop or pad to this many samples; 0 keeps */
	size_t utterances;   /* U; 0 or 1 leaves the rows as they are */
	size_t pool;         /* P >= 1 */
	ddk_pool_op op;
	ddk_norm norm;
} ddk_pool_opts;

/* Pool x (rows x n, row-major) into out, which gets key and label.  lo
 * and hi are the data type's fixed range (for DDK_NORM_FULL).  Errors:
 * DDK_ERANGE when U or P do not fit the samples, DDK_ENOMEM. */
ddk_status ddk_pool_map(ddk_record *out, const char *key, const char *label,
                        const float *x, size_t rows, size_t n,
                        const ddk_pool_opts *o, double lo, double hi,
                        ddk_err *err);

/* Read a sound file ("-" is stdin) through libsndfile, mixed down to
 * mono: *x gets *n samples in [-1, 1], *rate the sample rate.  At most
 * DDK_VALUES_MAX frames (DDK_ERANGE beyond). */
ddk_status ddk_audio_read(const char *path, float **x, size_t *n,
                          int *rate, ddk_err *err);

/* The same a piece at a time, so that a long sound need not be held
 * whole (stdin from a pipe still is: libsndfile may seek in it; stdin
 * redirected from a file is read as the file).  Open gives the
 * frame count as the file states it and the rate (DDK_EFORMAT for a file
 * that is not sound, or empty); each read puts the next up to n mono
 * samples (channels averaged) into x and returns how many, 0 at the
 * end. */
typedef struct ddk_sound ddk_sound;

ddk_status ddk_sound_open(const char *path, ddk_sound **s, size_t *frames,
                          int *rate, ddk_err *err);
size_t ddk_sound_read(ddk_sound *s, float *x, size_t n);
void ddk_sound_close(ddk_sound **s);

/* ddk_pool_map of a whole sound just opened (frames as open gave it),
 * read a piece at a time, so that only the map is held: the same map,
 * with sound's fixed range [-1, 1].  A file holding another number of
 * samples than it states is read again, whole, to keep that promise. */
ddk_status ddk_pool_sound(ddk_record *out, const char *key, const char *label,
                          ddk_sound *snd, size_t frames,
                          const ddk_pool_opts *o, ddk_err *err);

/*
 * Examples from an array file: IDX (gzipped or not; every IDX type) or
 * NumPy .npy (integers, floats and bools of either byte order; C order,
 * or Fortran order, which is read whole at open), as floats.  The first
 * axis counts examples; a 2-D array gives 1-row examples, 3-D and 4-D give
 * rows = the product of the middle axes, cols = the last axis.
 */
typedef struct ddk_array ddk_array;

ddk_status ddk_idx_open(ddk_array **a, const char *path, ddk_err *err);
ddk_status ddk_npy_open(ddk_array **a, const char *path, ddk_err *err);
void ddk_array_free(ddk_array **a);
/* Shape of every example, how many there are, and the fixed range of the
 * data type: bools 0..1, integers their type's range (uint8 0..255, int16
 * -32768..32767, ...); floats lo > hi, meaning none. */
void ddk_array_shape(const ddk_array *a, size_t *count, size_t *rows,
                     size_t *cols, double *lo, double *hi);
/* Read the next example's rows*cols values into x; DDK_END after the
 * last; DDK_EFORMAT naming the example when the data is truncated. */
ddk_status ddk_array_next(ddk_array *a, float *x, ddk_err *err);

/*
 * Labels: an IDX label file (magic 0x801), a 1-D integer .npy, or a text
 * file of one label per line.  ddk_labels_next gives the next label as
 * text in buf.  ddk_labels_count is the number the header promises (text
 * files: counted on open).
 */
typedef struct ddk_labels ddk_labels;

ddk_status ddk_labels_open(ddk_labels **l, const char *path, ddk_err *err);
void ddk_labels_free(ddk_labels **l);
size_t ddk_labels_count(const ddk_labels *l);
ddk_status ddk_labels_next(ddk_labels *l, char *buf, size_t size,
                           ddk_err *err);

#endif
