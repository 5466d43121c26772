/*
 * ddk_base.h - status codes and error text shared by every ddk module.
 *
 * The library never prints and never exits.  Every fallible call returns a
 * ddk_status; calls that can say more also fill a caller-owned ddk_err,
 * a short message naming where the problem is ("record 3 (key a.wav): ...").
 */
#ifndef DDK_BASE_H
#define DDK_BASE_H

#include <stddef.h>

typedef enum ddk_status {
	DDK_OK = 0,     /* success */
	DDK_END,        /* the stream has no more records (not an error) */
	DDK_ENOMEM,     /* an allocation failed; nothing was half-built */
	DDK_EIO,        /* reading or writing the underlying file failed */
	DDK_EFORMAT,    /* the bytes are not what the format says */
	DDK_ERANGE,     /* a value or size is outside its allowed range */
	DDK_EINVAL,     /* an argument is invalid (bad option, mismatch) */
	DDK_ENOTFOUND,  /* a named thing (key, file, field) does not exist */
	DDK_ENUMERIC    /* a computation met NaN or infinity it cannot mend */
} ddk_status;

#define DDK_ERR_MAX 512

/* Error text filled by calls that take one; empty when nothing failed. */
typedef struct ddk_err {
	char msg[DDK_ERR_MAX];
} ddk_err;

/* A static sentence describing status s. */
const char *ddk_strstatus(ddk_status s);

/* Set err->msg printf-style (err may be NULL) and return s. */
ddk_status ddk_fail(ddk_err *err, ddk_status s, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

#endif
