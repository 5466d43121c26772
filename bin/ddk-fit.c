/*
 * ddk-fit - fit the DDK kinetic parameters alpha and beta to measured
 * conductance curves, one TSV line per curve.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tool.h"

static const char usage[] =
"usage: ddk-fit [OPTIONS] [FILE...]\n"
"Fit alpha and beta of z(t) = z(t-1) + alpha/z(t-1) - beta x(t-1),\n"
"z(0) = 1, to each curve of a tensor stream: one row y_1..y_T, or two\n"
"rows x_0..x_{T-1} then y_1..y_T.  Writes the TSV table\n"
"key alpha beta ssr iterations status.\n"
"      --x VALUE[,...]    pulse input for one-row curves: a constant\n"
"                         (default 1) or the whole sequence of T values\n"
"      --no-normalize     fit y as it is (default: min-max to [0, 1])\n"
"      --range LO,HI      normalise by this fixed window instead\n"
"      --set              SET curves (+ beta x); default RESET\n"
"      --alpha-bounds LO,HI   bounds on alpha (default 0,1; LO = HI holds\n"
"                             it and fits beta alone)\n"
"      --beta-bounds LO,HI    bounds on beta (default 0,1; LO = HI holds it)\n"
"      --seed N           seed of the random starts (default 0)\n"
"      --restarts N       N more random starts, keep the best (default 0)\n"
"      --plot DIR         write DIR/KEY.dat and DIR/KEY.gp (gnuplot, PNG)\n"
"      --keep-going       report a bad curve, mark it, go on; exit 1\n"
"  -o, --output FILE      write to FILE (atomically) instead of stdout\n"
"  -q, --quiet            no progress on stderr\n"
"      --help, --version\n";

static struct {
	ddk_fit_opts fit;
	double *x_list;
	const char *out, *plot;
	int keep_going;
} opt;

enum {
	X = 256, NO_NORMALIZE, RANGE, SET, ALPHA_BOUNDS, BETA_BOUNDS, SEED,
	RESTARTS, PLOT, KEEP_GOING, HELP, VERSION
};

/* --x: one number, or a comma-separated sequence. */
static void parse_x(const char *s)
{
	size_t n = 1;

	for (const char *p = s; *p; p++)
		n += *p == ',';
	free(opt.x_list);
	if (!(opt.x_list = malloc(n * sizeof *opt.x_list)))
		tool_die("out of memory");
	n = tool_list("--x", s, opt.x_list, n, -1e30, 1e30, 0);
	opt.fit.x_list = n > 1 ? opt.x_list : NULL;
	opt.fit.x_len = n > 1 ? n : 0;
	if (n == 1)
		opt.fit.x_const = opt.x_list[0];
}

/* An interval LO < HI, or LO = HI where closed is allowed (a parameter
 * held at one value). */
static void parse_bounds(const char *name, const char *s, int closed,
                         double *lo, double *hi)
{
	tool_pair(name, s, lo, hi);
	if (!(*lo < *hi) && !(closed && *lo == *hi))
		tool_usage_error("%s: LO must be below HI%s", name,
		                 closed ? " (or equal, to hold it)" : "");
}

static int parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "x", required_argument, NULL, X },
		{ "no-normalize", no_argument, NULL, NO_NORMALIZE },
		{ "range", required_argument, NULL, RANGE },
		{ "set", no_argument, NULL, SET },
		{ "alpha-bounds", required_argument, NULL, ALPHA_BOUNDS },
		{ "beta-bounds", required_argument, NULL, BETA_BOUNDS },
		{ "seed", required_argument, NULL, SEED },
		{ "restarts", required_argument, NULL, RESTARTS },
		{ "plot", required_argument, NULL, PLOT },
		{ "keep-going", no_argument, NULL, KEEP_GOING },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, HELP },
		{ "version", no_argument, NULL, VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int c, norm_given = 0;
	ddk_fit_opts *f = &opt.fit;

	ddk_fit_opts_default(f);
	while ((c = getopt_long(argc, argv, "o:q", lo, NULL)) != -1) {
		switch (c) {
		case X: parse_x(optarg); break;
		case NO_NORMALIZE: f->norm = DDK_FIT_RAW; norm_given++; break;
		case RANGE:
			parse_bounds("--range", optarg, 0, &f->window_lo,
			             &f->window_hi);
			f->norm = DDK_FIT_WINDOW;
			norm_given++;
			break;
		case SET: f->mode = DDK_SET; break;
		case ALPHA_BOUNDS:
			parse_bounds("--alpha-bounds", optarg, 1, &f->alpha_lo,
			             &f->alpha_hi);
			break;
		case BETA_BOUNDS:
			parse_bounds("--beta-bounds", optarg, 1, &f->beta_lo,
			             &f->beta_hi);
			break;
		case SEED: f->seed = tool_seed("--seed", optarg); break;
		case RESTARTS:
			f->restarts = (unsigned)tool_long("--restarts", optarg,
			                                  0, 100000);
			break;
		case PLOT: opt.plot = optarg; break;
		case KEEP_GOING: opt.keep_going = 1; break;
		case 'o': opt.out = optarg; break;
		case 'q': tool_quiet = 1; break;
		case HELP: tool_help();
		case VERSION: tool_version();
		default: tool_bad_option(argv);
		}
	}
	if (norm_given > 1)
		tool_usage_error("--range and --no-normalize exclude each "
		                 "other");
	if (f->alpha_lo == f->alpha_hi && f->beta_lo == f->beta_hi)
		tool_usage_error("--alpha-bounds and --beta-bounds hold both: "
		                 "nothing to fit");
	return optind;
}

/* ---- --plot ------------------------------------------------------------ */

/* A file name from a key: anything but [A-Za-z0-9._-] becomes '_'. */
static void plot_name(char *buf, size_t len, const char *key)
{
	size_t i = 0;

	for (; key[i] && i + 1 < len; i++) {
		char ch = key[i];
		int safe = (ch >= 'a' && ch <= 'z') || (ch >= 'A' &&
		           ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		           ch == '-' || ch == '_' || (ch == '.' && i > 0);

		buf[i] = safe ? ch : '_';
	}
	buf[i] = '\0';
}

static FILE *plot_open(const char *name, const char *ext)
{
	char path[8192];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s.%s", opt.plot, name, ext);
	f = fopen(path, "w");
	if (!f)
		tool_die("%s: %s", path, strerror(errno));
	return f;
}

static void plot_close(FILE *f, const char *name, const char *ext)
{
	if (ferror(f) | fclose(f))
		tool_die("%s/%s.%s: write failed", opt.plot, name, ext);
}

/* Data (t, x, y, z) and a gnuplot script drawing it as KEY.png. */
static void plot_curve(const ddk_fitter *ft, const char *key,
                       const ddk_fit_result *res)
{
	char name[256];
	const double *x, *y, *z;
	size_t T;
	FILE *f;

	plot_name(name, sizeof name, key);
	ddk_fit_last(ft, &x, &y, &z, &T);
	f = plot_open(name, "dat");
	fprintf(f, "# %s\n# t\tx(t-1)\ty_t\tz(t)\n0\tnan\tnan\t1\n", key);
	for (size_t t = 0; t < T; t++)
		fprintf(f, "%zu\t%.9g\t%.9g\t%.9g\n", t + 1, x[t], y[t], z[t]);
	plot_close(f, name, "dat");

	f = plot_open(name, "gp");
	fprintf(f, "# gnuplot %s.gp: draws %s.png\n"
	        "set terminal png size 640,480\nset output '%s.png'\n"
	        "set xlabel 'pulse'\nset ylabel 'normalised conductance'\n"
	        "set title \"%s: alpha %.4g, beta %.4g, R %.3g\" noenhanced\n"
	        "plot '%s.dat' using 1:3 with points pt 7 title 'measured', "
	        "'' using 1:4 with lines lw 2 title 'DDK fit'\n", name, name,
	        name, name, res->alpha, res->beta, res->ssr, name);
	plot_close(f, name, "gp");
}

/* ---- main ------------------------------------------------------------- */

/* The header goes out with the first line (or at the end of an empty
 * input), so a bad first curve leaves stdout empty. */
static void header(FILE *out)
{
	static int done;

	if (!done)
		fprintf(out, "key\talpha\tbeta\tssr\titerations\tstatus\n");
	done = 1;
}

int main(int argc, char **argv)
{
	int first, bad = 0;
	tool_records it;
	ddk_record rec;
	ddk_fitter *ft;
	uint64_t done = 0;
	FILE *out;

	tool_init("ddk-fit", usage);
	first = parse(argc, argv);
	if (opt.plot && mkdir(opt.plot, 0777) != 0 && errno != EEXIST)
		tool_die("%s: %s", opt.plot, strerror(errno));
	ft = ddk_fitter_new();
	if (!ft)
		tool_die("out of memory");
	tool_out_apart("-o", opt.out, argc - first, argv + first, 0);
	out = tool_out_open(opt.out);
	ddk_record_init(&rec);
	tool_records_begin(&it, argc - first, argv + first);

	while (tool_records_next(&it, &rec)) {
		ddk_fit_result res;
		ddk_err err;
		ddk_status st = ddk_fit_record(ft, &opt.fit, &rec, &res, &err);

		if (st == DDK_ENOMEM)
			tool_die("%s", err.msg);
		if (st != DDK_OK) {
			if (!opt.keep_going)
				tool_die("%s: record %llu: %s", it.name,
				         (unsigned long long)
				         ddk_reader_count(it.rd), err.msg);
			tool_warn("%s: record %llu: %s", it.name,
			          (unsigned long long)ddk_reader_count(it.rd),
			          err.msg);
			header(out);
			fprintf(out, "%s\tnan\tnan\tnan\t0\tbad-input\n",
			        rec.key);
			bad = 1;
		} else {
			header(out);
			fprintf(out, "%s\t%.12g\t%.12g\t%.12g\t%zu\t%s\n",
			        rec.key, res.alpha, res.beta, res.ssr,
			        res.iterations,
			        ddk_lsq_result_name(res.result));
			if (opt.plot)
				plot_curve(ft, rec.key, &res);
		}
		tool_progress("curves", ++done, 0);
	}
	tool_records_end(&it);
	header(out);
	tool_progress_done("curves", done);
	ddk_record_free(&rec);
	ddk_fitter_free(&ft);
	free(opt.x_list);

	/* With --keep-going the table is whole, bad curves marked in it. */
	tool_out_commit();
	return bad ? EXIT_BAD : 0;
}
