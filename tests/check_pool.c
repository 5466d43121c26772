/*
 * check_pool.c - pooling, cutting and normalising input maps, against
 * values worked out by hand; a sound pooled in pieces against the same
 * sound pooled whole.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sndfile.h>
#include "check_util.h"
#include "ddk.h"

static ddk_record out;

static void setup(void) { ddk_record_init(&out); }
static void teardown(void) { ddk_record_free(&out); }

static ddk_status pool(const float *x, size_t rows, size_t n, size_t len,
                       size_t u, size_t p, ddk_pool_op op, ddk_norm norm,
                       double lo, double hi)
{
	ddk_pool_opts o = { len, u, p, op, norm };

	return ddk_pool_map(&out, "k", "l", x, rows, n, &o, lo, hi, NULL);
}

START_TEST(pool_ops)
{
	const float x[6] = { 1, -3, 2, 2, -4, 0 };

	ck_assert_int_eq(pool(x, 1, 6, 0, 0, 2, DDK_POOL_MEAN, DDK_NORM_NONE,
	                      0, 0), DDK_OK);
	ck_assert_uint_eq(out.cols, 3);
	ck_assert(out.v[0] == -1 && out.v[1] == 2 && out.v[2] == -2);
	pool(x, 1, 6, 0, 0, 2, DDK_POOL_ABSMEAN, DDK_NORM_NONE, 0, 0);
	ck_assert(out.v[0] == 2 && out.v[1] == 2 && out.v[2] == 2);
	pool(x, 1, 6, 0, 0, 2, DDK_POOL_MAX, DDK_NORM_NONE, 0, 0);
	ck_assert(out.v[0] == 1 && out.v[1] == 2 && out.v[2] == 0);
	pool(x, 1, 6, 0, 0, 3, DDK_POOL_RMS, DDK_NORM_NONE, 0, 0);
	ck_assert_float_eq_tol(out.v[0], sqrt(14.0 / 3), 1e-6);
	ck_assert_float_eq_tol(out.v[1], sqrt(20.0 / 3), 1e-6);
}
END_TEST

START_TEST(length_utterances_remainders)
{
	const float x[7] = { 1, 2, 3, 4, 5, 6, 7 };

	/* Pad to 10, cut into 3 utterances of 3 (one sample dropped). */
	ck_assert_int_eq(pool(x, 1, 7, 10, 3, 1, DDK_POOL_MEAN, DDK_NORM_NONE,
	                      0, 0), DDK_OK);
	ck_assert_uint_eq(out.rows, 3);
	ck_assert_uint_eq(out.cols, 3);
	ck_assert(out.v[3] == 4 && out.v[6] == 7 && out.v[7] == 0);

	/* Crop to 5, pool by 2: the fifth sample fills no window. */
	pool(x, 1, 7, 5, 0, 2, DDK_POOL_MEAN, DDK_NORM_NONE, 0, 0);
	ck_assert_uint_eq(out.cols, 2);
	ck_assert(out.v[0] == 1.5f && out.v[1] == 3.5f);
}
END_TEST

START_TEST(normalisation)
{
	const float x[8] = { 0, 51, 102, 255, 7, 7, 7, 7 };

	pool(x, 2, 4, 0, 0, 1, DDK_POOL_MEAN, DDK_NORM_FULL, 0, 255);
	ck_assert(out.v[1] == 0.2f && out.v[3] == 1 && out.v[4] == 7 / 255.f);
	pool(x, 2, 4, 0, 0, 1, DDK_POOL_MEAN, DDK_NORM_ROW, 0, 255);
	ck_assert(out.v[0] == 0 && out.v[2] == 0.4f && out.v[3] == 1);
	for (int i = 4; i < 8; i++)
		ck_assert(out.v[i] == 0);     /* a constant row becomes zeros */

	/* Sound range [-1, 1]: mean maps to (s+1)/2, absmean folds it. */
	const float s[2] = { -0.5f, 0.5f };
	pool(s, 1, 2, 0, 0, 1, DDK_POOL_MEAN, DDK_NORM_FULL, -1, 1);
	ck_assert(out.v[0] == 0.25f && out.v[1] == 0.75f);
	pool(s, 1, 2, 0, 0, 1, DDK_POOL_ABSMEAN, DDK_NORM_FULL, -1, 1);
	ck_assert(out.v[0] == 0.5f && out.v[1] == 0.5f);
}
END_TEST

START_TEST(shapes_that_do_not_fit)
{
	const float x[4] = { 0 };

	ck_assert_int_eq(pool(x, 1, 4, 0, 5, 1, DDK_POOL_MEAN, DDK_NORM_ROW,
	                      0, 0), DDK_ERANGE);
	ck_assert_int_eq(pool(x, 1, 4, 0, 2, 3, DDK_POOL_MEAN, DDK_NORM_ROW,
	                      0, 0), DDK_ERANGE);
	ck_assert_int_eq(pool(x, 2, 2, 0, 2, 1, DDK_POOL_MEAN, DDK_NORM_ROW,
	                      0, 0), DDK_EINVAL);
}
END_TEST

/* A sound pooled a piece at a time (ddk_pool_sound) gives the bytes of
 * the whole sound pooled in memory (ddk_audio_read, ddk_pool_map): three
 * channels, reads that cut windows and utterances, with and without a
 * length, and when the caller states a wrong number of frames (the map
 * then follows the samples there are, as in memory). */
START_TEST(sound_in_pieces)
{
	char path[] = "/tmp/check_pool_sound.XXXXXX";
	int fd = mkstemp(path);
	SF_INFO info = { 0, 8000, 3, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 0, 0 };
	SNDFILE *w;
	const size_t n = 50001;
	short *pcm = malloc(3 * n * sizeof *pcm);
	const ddk_pool_opts opts[] = {
		{ 0, 3, 7, DDK_POOL_RMS, DDK_NORM_ROW },
		{ 0, 1, 1, DDK_POOL_MEAN, DDK_NORM_NONE },
		{ 0, 8, 60, DDK_POOL_ABSMEAN, DDK_NORM_FULL },
		{ 30000, 2, 100, DDK_POOL_MAX, DDK_NORM_ROW },
		{ 70000, 4, 333, DDK_POOL_MEAN, DDK_NORM_FULL },
	};
	const long wrong[] = { 0, 500, -500, -40000 };
	float *x;
	size_t got;
	int rate;

	ck_assert(fd >= 0 && pcm);
	close(fd);
	for (size_t i = 0; i < 3 * n; i++)
		pcm[i] = (short)(9000 * sin((double)i / (11 + i % 3)) +
		                 (double)(i % 17) * 50);
	w = sf_open(path, SFM_WRITE, &info);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(sf_writef_short(w, pcm, (sf_count_t)n), n);
	sf_close(w);
	ck_assert_int_eq(ddk_audio_read(path, &x, &got, &rate, NULL), DDK_OK);
	ck_assert_uint_eq(got, n);
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
		for (size_t j = 0; j < sizeof wrong / sizeof wrong[0]; j++) {
			ddk_record whole, piece;
			ddk_sound *snd;
			size_t frames;

			ddk_record_init(&whole);
			ddk_record_init(&piece);
			const ddk_pool_opts *o = &opts[i];
			size_t values;

			ck_assert_int_eq(ddk_pool_map(&whole, "k", "l", x, 1, n,
			                              o, -1, 1, NULL), 0);
			ck_assert_int_eq(ddk_sound_open(path, &snd, &frames,
			                                &rate, NULL), DDK_OK);
			ck_assert_uint_eq(frames, n);
			frames = (size_t)((long)frames + wrong[j]);
			ck_assert_int_eq(ddk_pool_sound(&piece, "k", "l", snd,
			                                frames, o, NULL), 0);
			ddk_sound_close(&snd);
			ck_assert_uint_eq(piece.rows, whole.rows);
			ck_assert_uint_eq(piece.cols, whole.cols);
			values = (size_t)whole.rows * whole.cols;
			ck_assert_msg(!memcmp(piece.v, whole.v,
			                      values * sizeof *whole.v),
			              "options %zu, frames off by %ld", i,
			              wrong[j]);
			ddk_record_free(&whole);
			ddk_record_free(&piece);
		}
	free(x);
	free(pcm);
	unlink(path);
}
END_TEST

static Suite *pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pool_ops);
	tcase_add_test(tc, length_utterances_remainders);
	tcase_add_test(tc, normalisation);
	tcase_add_test(tc, shapes_that_do_not_fit);
	tcase_add_test(tc, sound_in_pieces);
	suite_add_tcase(s, tc);
	return s;
}

DDK_CHECK_MAIN(pool_suite)
