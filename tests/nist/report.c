/*
 * report.c - make nist: solve every NIST StRD nonlinear problem named on
 * the command line from both certified starts and print
 *
 *     problem TAB start TAB lre TAB status TAB difficulty TAB nfev
 *
 * where lre is the smallest log relative error of the parameters against
 * the certified values, difficulty NIST's level (Lower, Average, Higher)
 * and nfev the residual evaluations at trial points.  A summary against
 * the aims goes to stderr.
 * Exit 1 when a file cannot be read.
 */
#include "nist/strd.h"

int main(int argc, char **argv)
{
	int n_starts = 0, n4 = 0, lower_avg = 0, lower_avg6 = 0, bad = 0;

	printf("problem\tstart\tlre\tstatus\tdifficulty\tnfev\n");
	for (int a = 1; a < argc; a++) {
		nist_problem pb;
		char why[256];

		if (nist_read(&pb, argv[a], why, sizeof why) != 0) {
			fprintf(stderr, "nist-report: %s\n", why);
			bad = 1;
			continue;
		}
		for (int s = 0; s < 2; s++) {
			double p[NIST_PMAX], lre = 0;
			ddk_lsq_info info = { 0 };
			ddk_err err = { "" };
			const char *status;

			if (nist_solve(&pb, s, 0, NULL, NULL, p, &info,
			               &err) == DDK_OK) {
				lre = nist_lre(&pb, p);
				status = ddk_lsq_result_name(info.result);
			} else {
				status = err.msg;
			}
			printf("%s\t%d\t%.1f\t%s\t%s\t%zu\n", pb.name, s + 1,
			       lre, status, pb.level, info.nfev);
			n_starts++;
			n4 += lre >= 4;
			if (strcmp(pb.level, "Higher") != 0) {
				lower_avg++;
				lower_avg6 += lre >= 6;
			}
		}
		nist_free(&pb);
	}
	fflush(stdout);
	fprintf(stderr, "nist: lre >= 4 on %d of %d starts; lre >= 6 on "
	        "%d of %d lower/average-difficulty starts\n", n4, n_starts,
	        lower_avg6, lower_avg);
	return bad;
}
