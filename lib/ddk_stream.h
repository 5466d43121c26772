/*
 * ddk_stream.h - the tensor stream: a concatenable sequence of records.
 *
 * A record is one example: a key, a label (empty means unlabelled) and a
 * rows x cols matrix of float32, row-major.  Binary form, all little-endian:
 *
 *   offset  size  field
 *   0       4     magic "DDKS"
 *   4       4     uint32 version (1)
 *   8       4     uint32 key length in bytes (1..DDK_KEY_MAX)
 *   12      4     uint32 label length in bytes (0..DDK_LABEL_MAX)
 *   16      4     uint32 rows
 *   20      4     uint32 cols
 *   24      ...   key bytes, label bytes, rows*cols float32 values
 *
 * Text form, one record per line, '#' lines are comments:
 *   key TAB label TAB rows TAB cols TAB v1 TAB ... v(rows*cols)
 * Values are written with 9 significant digits, so float32 round-trips.
 * A reader tells the two apart by the first bytes of the stream.
 *
 * Ownership: a ddk_record owns its key, label and values; reuse one record
 * for a whole stream (next() grows its buffers) and ddk_record_free() it.
 */
#ifndef DDK_STREAM_H
#define DDK_STREAM_H

#include <stdint.h>
#include <stdio.h>
#include "ddk_base.h"

#define DDK_STREAM_VERSION 1u
#define DDK_KEY_MAX 4096u            /* bytes in a key */
#define DDK_LABEL_MAX 1024u          /* bytes in a label */
#define DDK_VALUES_MAX (1u << 26)    /* values in one record (256 MiB) */

typedef struct ddk_record {
	char *key;          /* NUL-terminated, no control characters */
	char *label;        /* NUL-terminated, "" when unlabelled */
	uint32_t rows, cols;
	float *v;           /* rows*cols values, row-major */
	size_t key_cap, label_cap, v_cap;   /* allocated sizes */
} ddk_record;

/* Empty record, ready for ddk_reader_next or ddk_record_set. */
void ddk_record_init(ddk_record *r);
void ddk_record_free(ddk_record *r);

/* Set key and label (copied) and resize to rows x cols (values left as
 * they are in the buffer).  Fails with DDK_ERANGE past the limits. */
ddk_status ddk_record_set(ddk_record *r, const char *key, const char *label,
                          uint32_t rows, uint32_t cols, ddk_err *err);

/* Copy src into dst (dst's buffers are reused). */
ddk_status ddk_record_copy(ddk_record *dst, const ddk_record *src,
                           ddk_err *err);

typedef struct ddk_reader ddk_reader;

/* Wrap an open stream; name is used in messages ("-" for stdin).  The
 * reader does not close f.  It reads ahead, 128 KiB at a time from a
 * regular file and 64 KiB from anything else, so f's position runs ahead
 * of the records returned.  Returns NULL only when out of memory. */
ddk_reader *ddk_reader_new(FILE *f, const char *name);
void ddk_reader_free(ddk_reader **rd);

/* Read the next record into r.  Returns DDK_OK, DDK_END at a clean end of
 * the stream, or an error with err naming the stream, the record's
 * position (1-based) and, when it was read, its key. */
ddk_status ddk_reader_next(ddk_reader *rd, ddk_record *r, ddk_err *err);

/* Records read so far by rd. */
uint64_t ddk_reader_count(const ddk_reader *rd);

/* Where the values of the record just read lie: 1 and their byte offset
 * in the file under rd's FILE when that is a regular file in binary
 * form (read them again with ddk_read_values), else 0. */
int ddk_reader_place(const ddk_reader *rd, uint64_t *off);

/* Read n float32 values, little-endian, at byte offset off of the open
 * file fd into v, in host order.  DDK_EIO on a read error, DDK_EFORMAT
 * when the file ends first. */
ddk_status ddk_read_values(int fd, uint64_t off, float *v, size_t n,
                           ddk_err *err);

/* Write r to f, binary unless tsv.  DDK_EIO when the write fails,
 * DDK_EINVAL when the key or label cannot be represented. */
ddk_status ddk_write_record(FILE *f, const ddk_record *r, int tsv,
                            ddk_err *err);

/* The key and label rules: a non-empty key not starting with '#', no
 * control character (TAB, CR, LF, ...) in either, lengths within the
 * limits. */
ddk_status ddk_check_names(const char *key, const char *label, ddk_err *err);

/* How many leading bytes of s, at most max, a message may show: those
 * before its first control character (an escape could drive the user's
 * terminal).  Print them with "%.*s". */
int ddk_shown(const char *s, int max);

#endif
