/*
 * check_stream.c - the tensor stream: round trips, concatenation, limits
 * and the errors a corrupt stream must give.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "check_util.h"
#include "ddk.h"

/* A stream in memory: write into it, then read it back. */
static FILE *mem(char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);

	ck_assert_ptr_nonnull(f);
	return f;
}

static void fill(ddk_record *r, const char *key, const char *label,
                 uint32_t rows, uint32_t cols, uint64_t seed)
{
	ddk_rng g;

	ck_assert_int_eq(ddk_record_set(r, key, label, rows, cols, NULL), 0);
	ddk_rng_seed(&g, seed);
	for (size_t i = 0; i < (size_t)rows * cols; i++)
		r->v[i] = (float)((ddk_rng_uniform(&g) - 0.5) *
		                  pow(10, (int)ddk_rng_below(&g, 20) - 10));
}

/* Write three records in form tsv, return the bytes. */
static char *write_three(int tsv, size_t *len)
{
	char *buf = NULL;
	FILE *f = mem(&buf, len);
	ddk_record r;

	ddk_record_init(&r);
	for (int i = 0; i < 3; i++) {
		char key[16];
		snprintf(key, sizeof key, "k%d", i);
		fill(&r, key, i == 1 ? "" : "cat", 1 + i, 5 + i, (uint64_t)i);
		ck_assert_int_eq(ddk_write_record(f, &r, tsv, NULL), 0);
	}
	ddk_record_free(&r);
	fclose(f);
	return buf;
}

/* Read every record of buf and write it again in form tsv. */
static char *convert(const char *buf, size_t len, int tsv, size_t *olen,
                     int *count)
{
	FILE *in = fmemopen((void *)buf, len, "rb");
	char *obuf = NULL;
	FILE *out = mem(&obuf, olen);
	ddk_reader *rd = ddk_reader_new(in, "mem");
	ddk_record r;
	ddk_status s;
	ddk_err err;

	ddk_record_init(&r);
	*count = 0;
	while ((s = ddk_reader_next(rd, &r, &err)) == DDK_OK) {
		ck_assert_int_eq(ddk_write_record(out, &r, tsv, NULL), 0);
		(*count)++;
	}
	ck_assert_msg(s == DDK_END, "%s", err.msg);
	ddk_record_free(&r);
	ddk_reader_free(&rd);
	ck_assert_ptr_null(rd);
	fclose(in);
	fclose(out);
	return obuf;
}

START_TEST(binary_text_binary_is_identical)
{
	size_t blen, tlen, b2len;
	int n;
	char *bin = write_three(0, &blen);
	char *txt = convert(bin, blen, 1, &tlen, &n);
	char *bin2;

	ck_assert_int_eq(n, 3);
	bin2 = convert(txt, tlen, 0, &b2len, &n);
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(blen, b2len);
	ck_assert_mem_eq(bin, bin2, blen);
	free(bin);
	free(txt);
	free(bin2);
}
END_TEST

START_TEST(concatenated_streams_read_as_one)
{
	size_t len, olen;
	int n;
	char *one = write_three(0, &len);
	char *two = malloc(2 * len), *out;

	memcpy(two, one, len);
	memcpy(two + len, one, len);
	out = convert(two, 2 * len, 0, &olen, &n);
	ck_assert_int_eq(n, 6);
	ck_assert_mem_eq(out, two, 2 * len);
	free(one);
	free(two);
	free(out);
}
END_TEST

START_TEST(text_form_fields)
{
	const char *t = "# a comment\n\nab\tx\t2\t2\t1\t-0.5\t1e-3\tnan\n";
	FILE *in = fmemopen((void *)t, strlen(t), "rb");
	ddk_reader *rd = ddk_reader_new(in, "t");
	ddk_record r;

	ddk_record_init(&r);
	ck_assert_int_eq(ddk_reader_next(rd, &r, NULL), DDK_OK);
	ck_assert_str_eq(r.key, "ab");
	ck_assert_str_eq(r.label, "x");
	ck_assert_uint_eq(r.rows, 2);
	ck_assert_uint_eq(r.cols, 2);
	ck_assert(r.v[1] == -0.5f && r.v[2] == 1e-3f && isnan(r.v[3]));
	ck_assert_int_eq(ddk_reader_next(rd, &r, NULL), DDK_END);
	ck_assert_uint_eq(ddk_reader_count(rd), 1);
	ddk_record_free(&r);
	ddk_reader_free(&rd);
	fclose(in);
}
END_TEST

/* Feed bytes, expect status want and text in the message. */
static void expect_error(const void *bytes, size_t n, ddk_status want,
                         const char *text)
{
	FILE *in = fmemopen((void *)bytes, n, "rb");
	ddk_reader *rd = ddk_reader_new(in, "bad");
	ddk_record r;
	ddk_err err = { "" };
	ddk_status s;

	ddk_record_init(&r);
	while ((s = ddk_reader_next(rd, &r, &err)) == DDK_OK)
		;
	ck_assert_msg(s == want, "status %d, wanted %d (%s)", s, want,
	              err.msg);
	ck_assert_msg(strstr(err.msg, text), "'%s' lacks '%s'", err.msg, text);
	ddk_record_free(&r);
	ddk_reader_free(&rd);
	fclose(in);
}

static void expect_text(const char *t, ddk_status want, const char *text)
{
	expect_error(t, strlen(t), want, text);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

/* A text stream whose first key starts with the magic is still text. */
START_TEST(text_key_that_looks_binary)
{
	const char *t = "DDKSx\t\t1\t1\t2\n";
	FILE *in = fmemopen((void *)t, strlen(t), "rb");
	ddk_reader *rd = ddk_reader_new(in, "t");
	ddk_record r;

	ddk_record_init(&r);
	ck_assert_int_eq(ddk_reader_next(rd, &r, NULL), DDK_OK);
	ck_assert_str_eq(r.key, "DDKSx");
	ck_assert(r.v[0] == 2);
	ddk_record_free(&r);
	ddk_reader_free(&rd);
	fclose(in);
}
END_TEST

START_TEST(corrupt_binary_headers)
{
	unsigned char h[64] = "DDKS";
	size_t len;
	char *good = write_three(0, &len);

	/* A huge rows x cols must fail before any allocation of that size. */
	put32(h + 4, 1);
	put32(h + 8, 1);
	put32(h + 12, 0);
	put32(h + 16, 100000);
	put32(h + 20, 100000);
	h[24] = 'k';
	expect_error(h, 40, DDK_EFORMAT, "exceed the limit");
	put32(h + 16, 2);
	put32(h + 20, 2);
	expect_error(h, 25 + 8, DDK_EFORMAT, "truncated values");
	put32(h + 4, 7);
	expect_error(h, 40, DDK_EFORMAT, "unsupported stream version");
	put32(h + 4, 1);
	put32(h + 8, 100000);
	expect_error(h, 40, DDK_EFORMAT, "key length");
	put32(h + 8, 0);
	expect_error(h, 40, DDK_EFORMAT, "key length");
	expect_error(good, 10, DDK_EFORMAT, "truncated header");
	expect_error(good, len - 1, DDK_EFORMAT, "record 3 (key k2)");
	put32(h + 8, 3);
	put32(h + 12, 100000);
	expect_error(h, 40, DDK_EFORMAT, "label length out of range");
	put32(h + 12, 2);
	memcpy(h + 24, "key", 3);
	expect_error(h, 26, DDK_EFORMAT, "record 1: truncated key");
	expect_error(h, 28, DDK_EFORMAT, "record 1 (key key): truncated "
	             "label");

	/* the second record of a binary stream must be one too */
	{
		char *two = malloc(len + 24);

		memcpy(two, good, len);
		memcpy(two + len, h, 24);
		two[len + 3] = 'T';
		expect_error(two, len + 24, DDK_EFORMAT, "record 4: bad magic");
		free(two);
	}
	free(good);
}
END_TEST

START_TEST(corrupt_text_lines)
{
	expect_text("a\tb\t1\t2\t1\n", DDK_EFORMAT, "fewer values");
	expect_text("a\tb\t1\t1\t1\t2\n", DDK_EFORMAT, "more values");
	expect_text("a\tb\t1\t2\t1\tx\n", DDK_EFORMAT, "not a number");
	expect_text("a\tb\t1\n", DDK_EFORMAT, "fewer than 4 fields");
	expect_text("a\tb\t-1\t2\t1\t1\n", DDK_EFORMAT, "counts");
	expect_text("\tb\t1\t1\t1\n", DDK_EFORMAT, "empty key");
	expect_text("ok\t\t1\t1\t1\nz\t\t1\t1\t\n", DDK_EFORMAT,
	             "line 2 (key z)");
	expect_error("a\0b", 3, DDK_EFORMAT, "neither");
	expect_text("a\tb\t1\t2\n", DDK_EFORMAT, "line 1 (key a): fewer "
	            "values");
	{
		/* a NUL after the 64 KiB the reader sniffs for one */
		size_t at = 70000;
		char *t = malloc(at + 12);

		memset(t, '#', at);
		t[at - 1] = '\n';
		memcpy(t + at, "c\0\tb\t1\t1\t1\n", 12);
		expect_error(t, at + 12, DDK_EFORMAT, "line 2: NUL byte");
		free(t);
	}
}
END_TEST

START_TEST(names_are_checked)
{
	ddk_record r;
	char big[DDK_KEY_MAX + 2];

	ddk_record_init(&r);
	memset(big, 'k', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ck_assert_int_eq(ddk_record_set(&r, big, "", 1, 1, NULL), DDK_ERANGE);
	ck_assert_int_eq(ddk_record_set(&r, "a\tb", "", 1, 1, NULL),
	                 DDK_EINVAL);
	ck_assert_int_eq(ddk_record_set(&r, "", "", 1, 1, NULL), DDK_EINVAL);
	ck_assert_int_eq(ddk_record_set(&r, "a", "x\ny", 1, 1, NULL),
	                 DDK_EINVAL);
	ck_assert_int_eq(ddk_record_set(&r, "#a", "", 1, 1, NULL), DDK_EINVAL);
	ck_assert_int_eq(ddk_record_set(&r, "DDKS\001", "", 1, 1, NULL),
	                 DDK_EINVAL);
	ck_assert_int_eq(ddk_record_set(&r, "a", "", 1 << 14, 1 << 14, NULL),
	                 DDK_ERANGE);
	ddk_record_free(&r);
}
END_TEST

/* Records of many sizes, one larger than the reader's buffer of a MiB,
 * then many tiny ones (mostly header, key and label), so headers, names
 * and values fall across its refills: every byte comes back. */
START_TEST(records_across_the_buffer)
{
	char *buf = NULL, *out;
	size_t len, olen;
	FILE *f = mem(&buf, &len);
	ddk_record r;
	int n, want = 0;

	ddk_record_init(&r);
	for (uint32_t i = 0; i < 700; i++) {
		char key[64];
		uint32_t cols = i == 300 ? 300000 : 1 + i % 397;

		snprintf(key, sizeof key, "rec-%u%.*s", i, (int)(i % 13),
		         "xxxxxxxxxxxxx");
		fill(&r, key, i % 3 ? "lbl" : "", 1 + i % 5, cols, i);
		ck_assert_int_eq(ddk_write_record(f, &r, 0, NULL), 0);
		want++;
	}
	for (uint32_t i = 0; i < 50000; i++) {
		char key[64];

		snprintf(key, sizeof key, "tiny-%u%.*s", i, (int)(i % 29),
		         "yyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
		fill(&r, key, i % 2 ? "l" : "", 1, 1, i);
		ck_assert_int_eq(ddk_write_record(f, &r, 0, NULL), 0);
		want++;
	}
	ddk_record_free(&r);
	fclose(f);
	ck_assert_uint_gt(len, 5u << 20);
	out = convert(buf, len, 0, &olen, &n);
	ck_assert_int_eq(n, want);
	ck_assert_uint_eq(olen, len);
	ck_assert_mem_eq(out, buf, len);
	free(buf);
	free(out);
}
END_TEST

/* Each binary record's place in a regular file reads back its values:
 * records that straddle refills of the reader's buffer, one larger than
 * the buffer (read past it), and a reader that starts mid-file.  Text,
 * and a stream that is not a regular file, have no place. */
START_TEST(values_in_place)
{
	char path[] = "/tmp/check_stream_place.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w+b");
	ddk_record r, w;
	ddk_reader *rd;
	ddk_err err;
	uint64_t off;
	float *buf = malloc(300000 * sizeof *buf);
	long second = 0;
	int n = 0;

	ck_assert_ptr_nonnull(f);
	ddk_record_init(&r);
	ddk_record_init(&w);
	for (uint32_t i = 0; i < 400; i++) {
		char key[64];

		if (i == 7)
			second = ftell(f);
		snprintf(key, sizeof key, "p%u%.*s", i, (int)(i % 11),
		         "zzzzzzzzzzz");
		fill(&w, key, "x", 1 + i % 3, i == 150 ? 100000 : 1 + i % 301,
		     i + 7);
		ck_assert_int_eq(ddk_write_record(f, &w, 0, NULL), 0);
	}
	fflush(f);
	for (int pass = 0; pass < 2; pass++) {
		ck_assert_int_eq(fseek(f, pass ? second : 0, SEEK_SET), 0);
		rd = ddk_reader_new(f, path);
		n = 0;
		while (ddk_reader_next(rd, &r, &err) == DDK_OK) {
			size_t k = (size_t)r.rows * r.cols;

			ck_assert(ddk_reader_place(rd, &off));
			ck_assert_int_eq(ddk_read_values(fd, off, buf, k,
			                                 &err), DDK_OK);
			ck_assert_mem_eq(buf, r.v, k * sizeof *buf);
			n++;
		}
		ck_assert_int_eq(n, pass ? 393 : 400);
		ddk_reader_free(&rd);
	}

	/* past the end */
	ck_assert_int_eq(ddk_read_values(fd, off, buf, r.rows * r.cols + 1,
	                                 &err), DDK_EFORMAT);

	/* text in a regular file */
	ck_assert_int_eq(ftruncate(fd, 0), 0);
	rewind(f);
	ck_assert_int_eq(ddk_write_record(f, &w, 1, NULL), 0);
	fflush(f);
	rewind(f);
	rd = ddk_reader_new(f, path);
	ck_assert_int_eq(ddk_reader_next(rd, &r, &err), DDK_OK);
	ck_assert(!ddk_reader_place(rd, &off));
	ddk_reader_free(&rd);
	fclose(f);
	unlink(path);

	/* binary, not a file */
	{
		char *mbuf = NULL;
		size_t len;
		FILE *m = mem(&mbuf, &len), *in;

		ck_assert_int_eq(ddk_write_record(m, &w, 0, NULL), 0);
		fclose(m);
		in = fmemopen(mbuf, len, "rb");
		rd = ddk_reader_new(in, "mem");
		ck_assert_int_eq(ddk_reader_next(rd, &r, &err), DDK_OK);
		ck_assert(!ddk_reader_place(rd, &off));
		ddk_reader_free(&rd);
		fclose(in);
		free(mbuf);
	}
	ddk_record_free(&r);
	ddk_record_free(&w);
	free(buf);
}
END_TEST

/* The reader refuses in a binary key or label what ddk_check_names
 * refuses, by looking at the bytes where they lie. */
START_TEST(binary_names_are_checked)
{
	static const char *const keys[] = { "#a", "a\tb", "a", "a\0b" };
	static const char *const labels[] = { "", "", "x\ny", "" };

	for (int i = 0; i < 4; i++) {
		unsigned char h[64] = "DDKS";
		size_t kn = i == 3 ? 3 : strlen(keys[i]);
		size_t ln = strlen(labels[i]);

		put32(h + 4, 1);
		put32(h + 8, (uint32_t)kn);
		put32(h + 12, (uint32_t)ln);
		put32(h + 16, 1);
		put32(h + 20, 1);
		memcpy(h + 24, keys[i], kn);
		memcpy(h + 24 + kn, labels[i], ln);
		expect_error(h, 24 + kn + ln + 4, DDK_EFORMAT,
		             "record 1: key or label holds a control character");
	}
}
END_TEST

/* Every byte value at every place of a 19-byte key and label: refused
 * exactly when it is a control character (the check tests words of 8
 * bytes, then the rest one by one); the message shows the key up to
 * that byte and holds no control character itself. */
START_TEST(every_byte_in_names)
{
	char name[20];
	ddk_err err;

	for (int b = 1; b < 256; b++)
		for (int at = 0; at < 19; at++) {
			int bad = b < 0x20 || b == 0x7f || (b == '#' && at == 0);
			int ctl = b < 0x20 || b == 0x7f;
			ddk_status s;

			memset(name, 0xc3, 19);     /* high bytes are fine */
			name[19] = '\0';
			name[at] = (char)b;
			ck_assert_int_eq(ddk_shown(name, 40), ctl ? at : 19);
			ck_assert_int_eq(ddk_shown(name, 5), ctl && at < 5 ? at
			                                                   : 5);
			s = ddk_check_names(name, "", &err);
			ck_assert_msg((s != DDK_OK) == bad, "key byte %d at %d",
			              b, at);
			for (const char *m = err.msg; bad && *m; m++)
				ck_assert_msg(!((unsigned char)*m < 0x20 ||
				                *m == 0x7f), "control in '%s'",
				              err.msg);
			if (ctl)
				ck_assert_ptr_nonnull(strstr(err.msg,
				                             "after '"));
			s = ddk_check_names("k", name, NULL);
			ck_assert_msg((s != DDK_OK) == (bad && b != '#'),
			              "label byte %d at %d", b, at);
		}
}
END_TEST

static Suite *stream_suite(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, binary_text_binary_is_identical);
	tcase_add_test(tc, concatenated_streams_read_as_one);
	tcase_add_test(tc, text_form_fields);
	tcase_add_test(tc, text_key_that_looks_binary);
	tcase_add_test(tc, corrupt_binary_headers);
	tcase_add_test(tc, corrupt_text_lines);
	tcase_add_test(tc, names_are_checked);
	tcase_add_test(tc, records_across_the_buffer);
	tcase_add_test(tc, values_in_place);
	tcase_add_test(tc, binary_names_are_checked);
	tcase_add_test(tc, every_byte_in_names);
	suite_add_tcase(s, tc);
	return s;
}

DDK_CHECK_MAIN(stream_suite)
