/*
 * check_rng.c - the generator repeats itself for a seed and a key, and its
 * draws have the moments they should.
 */
#include "check_util.h"
#include "ddk.h"

START_TEST(same_seed_same_numbers)
{
	ddk_rng a, b, c;

	ddk_rng_for_key(&a, 42, "x.wav");
	ddk_rng_for_key(&b, 42, "x.wav");
	ddk_rng_for_key(&c, 42, "y.wav");
	for (int i = 0; i < 100; i++) {
		uint64_t va = ddk_rng_u64(&a);
		ck_assert_uint_eq(va, ddk_rng_u64(&b));
		ck_assert_uint_ne(va, ddk_rng_u64(&c));
	}
}
END_TEST

START_TEST(moments)
{
	enum { N = 200000 };
	ddk_rng g;
	double su = 0, sn = 0, sn2 = 0;
	int hits[7] = { 0 };

	ddk_rng_seed(&g, 7);
	for (int i = 0; i < N; i++) {
		double u = ddk_rng_uniform(&g), z = ddk_rng_normal(&g);
		uint64_t k = ddk_rng_below(&g, 7);

		ck_assert(u >= 0 && u < 1 && k < 7);
		su += u;
		sn += z;
		sn2 += z * z;
		hits[k]++;
	}
	ck_assert_double_eq_tol(su / N, 0.5, 0.005);
	ck_assert_double_eq_tol(sn / N, 0.0, 0.01);
	ck_assert_double_eq_tol(sn2 / N, 1.0, 0.02);
	for (int k = 0; k < 7; k++)
		ck_assert_int_gt(hits[k], N / 7 - 1000);
}
END_TEST

static Suite *rng_suite(void)
{
	Suite *s = suite_create("rng");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, same_seed_same_numbers);
	tcase_add_test(tc, moments);
	suite_add_tcase(s, tc);
	return s;
}

DDK_CHECK_MAIN(rng_suite)
