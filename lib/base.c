/*
 * base.c - status sentences and the error-text helper.
 */
#include <stdarg.h>
#include <stdio.h>
#include "ddk_base.h"

const char *ddk_strstatus(ddk_status s)
{
	switch (s) {
	case DDK_OK: return "success";
	case DDK_END: return "end of stream";
	case DDK_ENOMEM: return "out of memory";
	case DDK_EIO: return "input/output error";
	case DDK_EFORMAT: return "malformed data";
	case DDK_ERANGE: return "value out of range";
	case DDK_EINVAL: return "invalid argument";
	case DDK_ENOTFOUND: return "not found";
	case DDK_ENUMERIC: return "non-finite number";
	}
	return "unknown status";
}

ddk_status ddk_fail(ddk_err *err, ddk_status s, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return s;
}
