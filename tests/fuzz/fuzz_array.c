/*
 * fuzz_array.c - libFuzzer harness for the IDX, .npy and label readers:
 * the bytes go to a file, which each reader opens and reads to the end.
 */
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
	unlink(path);
	return 0;
}
