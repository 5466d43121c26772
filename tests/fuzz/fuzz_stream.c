/*
 * fuzz_stream.c - libFuzzer harness: any bytes fed to the stream reader
 * end in records or an error, never a crash, and every record it accepts
 * writes and reads back to the same record.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ddk.h"

static void round_trip(const ddk_record *r, int tsv)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ddk_reader *rd;
	ddk_record back;

	if (ddk_write_record(f, r, tsv, NULL) != DDK_OK)
		abort();
	fclose(f);
	f = fmemopen(buf, len, "rb");
	rd = ddk_reader_new(f, "again");
	ddk_record_init(&back);
	if (ddk_reader_next(rd, &back, NULL) != DDK_OK ||
	    strcmp(back.key, r->key) || strcmp(back.label, r->label) ||
	    back.rows != r->rows || back.cols != r->cols)
		abort();
	for (size_t i = 0; i < (size_t)r->rows * r->cols; i++)
		if (memcmp(&back.v[i], &r->v[i], 4) && !(r->v[i] != r->v[i]))
			abort();       /* NaN payloads may differ in text */
	ddk_record_free(&back);
	ddk_reader_free(&rd);
	fclose(f);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "rb");
	ddk_reader *rd;
	ddk_record r;
	ddk_err err;

	if (!f)
		return 0;
	rd = ddk_reader_new(f, "fuzz");
	ddk_record_init(&r);
	while (ddk_reader_next(rd, &r, &err) == DDK_OK) {
		round_trip(&r, 0);
		round_trip(&r, 1);
	}
	ddk_record_free(&r);
	ddk_reader_free(&rd);
	fclose(f);
	return 0;
}
