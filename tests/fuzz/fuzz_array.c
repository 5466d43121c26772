/*
 * fuzz_array.c - libFuzzer harness for the IDX, .npy and label readers
 * and the table of fitted pairs: the bytes go to a file, which each
 * reader opens and reads to the end.  Every row of a pair table that
 * loads must be found again by its key, with finite numbers.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "ddk.h"

static void read_array(ddk_status (*open)(ddk_array **, const char *,
                                          ddk_err *), const char *path)
{
	ddk_array *a;
	size_t count, rows, cols;
	double lo, hi;
	ddk_err err;
	float *x;

	if (open(&a, path, &err) != DDK_OK)
		return;
	ddk_array_shape(a, &count, &rows, &cols, &lo, &hi);
	x = malloc(rows * cols * sizeof *x);
	while (x && ddk_array_next(a, x, &err) == DDK_OK)
		;
	free(x);
	ddk_array_free(&a);
}

static void read_pairs(const char *path)
{
	FILE *f = fopen(path, "rb");
	ddk_pair_table *t = NULL;
	ddk_err err;

	if (!f)
		return;
	if (ddk_pair_table_load(f, path, &t, &err) == DDK_OK) {
		size_t n = ddk_pair_table_size(t);

		for (size_t i = 0; i < n; i++) {
			const char *key;
			double a, b, a2, b2;

			ddk_pair_table_row(t, i, &key, &a, &b);
			if (!isfinite(a) || !isfinite(b) ||
			    ddk_pair_table_find(t, key, &a2, &b2) ||
			    a2 != a || b2 != b)
				abort();
		}
	}
	ddk_pair_table_free(&t);
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/ddk-fuzz-XXXXXX", label[64];
	int fd = mkstemp(path);
	ddk_labels *l;
	ddk_err err;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	read_array(ddk_idx_open, path);
	read_array(ddk_npy_open, path);
	if (ddk_labels_open(&l, path, &err) == DDK_OK) {
		while (ddk_labels_next(l, label, sizeof label, &err) == DDK_OK)
			;
		ddk_labels_free(&l);
	}
	read_pairs(path);
	unlink(path);
	return 0;
}
