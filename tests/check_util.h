/*
 * check_util.h - the main() every Check unit test program shares, and
 * helpers for comparing numbers.
 */
#ifndef DDK_CHECK_UTIL_H
#define DDK_CHECK_UTIL_H

#include <check.h>
#include <math.h>
#include <stdlib.h>

/* Relative difference |a-b| / max(|a|, |b|, floor). */
static inline double rel_diff(double a, double b, double floor)
{
	double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);

	if (m < floor)
		m = floor;
	return fabs(a - b) / m;
}

#define DDK_CHECK_MAIN(suite_fn)                                   \
	int main(void)                                             \
	{                                                          \
		SRunner *sr = srunner_create(suite_fn());          \
		int failed;                                        \
		srunner_run_all(sr, CK_NORMAL);                    \
		failed = srunner_ntests_failed(sr);                \
		srunner_free(sr);                                  \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;       \
	}

#endif
