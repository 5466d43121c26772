/*
 * check_nist.c - the lsq solver on the 27 NIST StRD nonlinear regression
 * problems, from both certified starts: unbounded, inside a box that holds
 * the certified answer, and with forward-difference Jacobians.
 *
 * The files are read from $DDK_NIST_DIR, else the checkout's copy in
 * $DDK_TOP/tests/data/nist-strd (DDK_TOP defaults to "."), else
 * $DDK_TOP/../shared/data/nist-strd.
 */
#include <stdio.h>
#include <unistd.h>
#include "check_util.h"
#include "nist/strd.h"

static const char *const names[] = {
	"Misra1a", "Chwirut2", "Chwirut1", "Lanczos3", "Gauss1", "Gauss2",
	"DanWood", "Misra1b", "Kirby2", "Hahn1", "Nelson", "MGH17",
	"Lanczos1", "Lanczos2", "Gauss3", "Misra1c", "Misra1d", "Roszman1",
	"ENSO", "MGH09", "Thurber", "BoxBOD", "Rat42", "MGH10", "Eckerle4",
	"Rat43", "Bennett5"
};
#define N_PROBLEMS (sizeof names / sizeof names[0])

static nist_problem problems[N_PROBLEMS];

static void load(void)
{
	char dir[1024], path[1200], why[256];
	const char *env = getenv("DDK_NIST_DIR"), *top = getenv("DDK_TOP");

	if (env)
		snprintf(dir, sizeof dir, "%s", env);
	else
		snprintf(dir, sizeof dir, "%s/tests/data/nist-strd",
		         top ? top : ".");
	snprintf(path, sizeof path, "%s/Misra1a.dat", dir);
	if (!env && access(path, R_OK) != 0)
		snprintf(dir, sizeof dir, "%s/../shared/data/nist-strd",
		         top ? top : ".");
	for (size_t i = 0; i < N_PROBLEMS; i++) {
		if (problems[i].model)
			continue;
		snprintf(path, sizeof path, "%s/%s.dat", dir, names[i]);
		if (nist_read(&problems[i], path, why, sizeof why) != 0)
			ck_abort_msg("%s (set DDK_NIST_DIR)", why);
	}
}

static void unload(void)
{
	for (size_t i = 0; i < N_PROBLEMS; i++)
		nist_free(&problems[i]);
}

static int lower_or_average(const nist_problem *pb)
{
	return strcmp(pb->level, "Higher") != 0;
}

/* The aims: lre >= 6 on every lower/average start, >= 4 on 50 of 54; the
 * residual sum of squares matches the certified one. */
START_TEST(test_certified)
{
	int n4 = 0;

	load();
	for (size_t i = 0; i < N_PROBLEMS; i++) {
		const nist_problem *pb = &problems[i];

		for (int s = 0; s < 2; s++) {
			double p[NIST_PMAX], lre;
			ddk_lsq_info info;
			ddk_err err;

			ck_assert_int_eq(nist_solve(pb, s, 0, NULL, NULL, p,
			                            &info, &err), DDK_OK);
			lre = nist_lre(pb, p);
			if (lower_or_average(pb))
				ck_assert_msg(lre >= 6, "%s start %d: lre %.2f",
				              pb->name, s + 1, lre);
			if (lre >= 4) {
				n4++;
				/* Lanczos1's certified ssr (1e-25) is
				 * rounding noise, hence the floor. */
				ck_assert_msg(rel_diff(2 * info.cost,
				              pb->cert_ssr, 1e-15) < 1e-8,
				              "%s start %d: ssr %.10g, cert %.10g",
				              pb->name, s + 1, 2 * info.cost,
				              pb->cert_ssr);
			}
		}
	}
	ck_assert_msg(n4 >= 50, "lre >= 4 on only %d of 54 starts", n4);
}
END_TEST

/* A box that holds both starts and the certified answer well inside must
 * not change the answer. */
START_TEST(test_boxed)
{
	int edge = 0;

	load();
	for (size_t i = 0; i < N_PROBLEMS; i++) {
		const nist_problem *pb = &problems[i];
		double lo[NIST_PMAX], hi[NIST_PMAX];

		for (size_t j = 0; j < pb->n; j++) {
			double a = fmin(pb->start[0][j], pb->start[1][j]);
			double b = fmax(pb->start[0][j], pb->start[1][j]);
			double c = pb->cert[j], span;

			a = fmin(a, c);
			b = fmax(b, c);
			span = fmax(b - a, 0.1 * fabs(c));
			lo[j] = a - 0.5 * span;
			hi[j] = b + 0.5 * span;
		}
		for (int s = 0; s < 2; s++) {
			double p[NIST_PMAX], q[NIST_PMAX];
			ddk_lsq_info info;
			ddk_err err;
			int on_edge = 0;

			ck_assert_int_eq(nist_solve(pb, s, 0, NULL, NULL, q,
			                            &info, &err), DDK_OK);
			if (nist_lre(pb, q) < 6)
				continue;
			ck_assert_int_eq(nist_solve(pb, s, 0, lo, hi, p,
			                            &info, &err), DDK_OK);

			for (size_t j = 0; j < pb->n; j++) {
				ck_assert_msg(p[j] > lo[j] && p[j] < hi[j],
				              "%s: left the box", pb->name);
				if (fmin(p[j] - lo[j], hi[j] - p[j]) <
				    1e-6 * (hi[j] - lo[j]))
					on_edge = 1;
			}
			if (nist_lre(pb, p) >= (lower_or_average(pb) ? 6 : 5))
				continue;

			/* Else it found a bounded stationary point at the
			 * box's edge, away from the answer: only Eckerle4
			 * from start 1, whose peak centre runs to the box's
			 * upper edge past the data (SciPy's trf ends on the
			 * same corner). */
			ck_assert_msg(on_edge && info.gnorm < 1e-8 *
			              (1 + info.cost) && s == 0 &&
			              strcmp(pb->name, "Eckerle4") == 0,
			              "%s start %d boxed: lre %.2f", pb->name,
			              s + 1, nist_lre(pb, p));
			edge++;
		}
	}
	ck_assert_msg(edge <= 1, "%d boxed starts ended on the edge", edge);
}
END_TEST

/* Forward differences cost digits, but every start still solves. */
START_TEST(test_finite_differences)
{
	load();
	for (size_t i = 0; i < N_PROBLEMS; i++) {
		const nist_problem *pb = &problems[i];

		for (int s = 0; s < 2; s++) {
			double p[NIST_PMAX], lre;
			ddk_lsq_info info;
			ddk_err err;

			ck_assert_int_eq(nist_solve(pb, s, 1, NULL, NULL, p,
			                            &info, &err), DDK_OK);
			lre = nist_lre(pb, p);
			ck_assert_msg(lre >= 4, "%s start %d fd: lre %.2f",
			              pb->name, s + 1, lre);
		}
	}
}
END_TEST

static Suite *nist_suite(void)
{
	Suite *s = suite_create("nist");
	TCase *tc = tcase_create("strd");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, NULL, unload);
	tcase_add_test(tc, test_certified);
	tcase_add_test(tc, test_boxed);
	tcase_add_test(tc, test_finite_differences);
	suite_add_tcase(s, tc);
	return s;
}

DDK_CHECK_MAIN(nist_suite)
