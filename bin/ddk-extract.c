/*
 * ddk-extract - input maps through the DDK layer (or the physical device
 * model) into feature maps, with the same keys and labels.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ddk_png.h"
#include "tool.h"

static const char usage[] =
"usage: ddk-extract [OPTIONS] [FILE...]\n"
"Turn input maps (a tensor stream) into DDK feature maps.\n"
"  -a, --alpha A[,A...]   alpha of each channel (K values for K channels)\n"
"  -b, --beta B[,B...]    beta of each channel (as many as alpha)\n"
"  -m, --model FILE       take the DDK layer of a trained model\n"
"      --params FILE      take alpha and beta from a ddk-fit table, by key\n"
"                         (a table of one row applies to every record)\n"
"      --set              the SET form (+ beta x) instead of RESET\n"
"      --alpha-bounds LO,HI  allowed alpha (default 0,1)\n"
"      --beta-bounds LO,HI   allowed beta (default 0,1)\n"
"      --noise-alpha S    draw alpha per record as alpha (1 + S N(0,1))\n"
"      --noise-beta S     the same for beta (both kept in their bounds)\n"
"      --seed N           seed for noise and device variation (default 1)\n"
"      --device           run the physical memristor model instead; the\n"
"                         output is the conductance (S) after each pulse\n"
"      --pulse HOW        amplitude (default) or width: what x sets\n"
"      --v-lo V, --v-hi V pulse amplitude for x = 0 and 1 (2, 3)\n"
"      --width S          pulse width with --pulse amplitude (100n)\n"
"      --t-lo S, --t-hi S pulse width for x = 0 and 1 (50n, 150n)\n"
"      --amplitude V      amplitude with --pulse width (2.5)\n"
"      --r-init OHM       resistance before the first pulse (5k)\n"
"      --g-min S, --g-max S  conductance window (6.1u, 202.1u)\n"
"      --thickness M      device thickness L (10n)\n"
"      --mobility MU      dopant mobility, m^2/(V s) (2p)\n"
"      --diffusion D      diffusion constant, m^2/s (1p)\n"
"      --tol U            integration tolerance on w/L a step (100p)\n"
"      --c2c S            cycle-to-cycle relative sigma of mobility (0)\n"
"      --d2d S            device-to-device relative sigma (0)\n"
"      --relative         write conductance over the initial conductance\n"
"      --png DIR          write each feature map as DIR/KEY.png\n"
"      --input            with --png, draw the input map beside it\n"
"  -o, --output FILE      write to FILE (atomically) instead of stdout\n"
"      --tsv              write the text form instead of binary\n"
"  -q, --quiet            no progress on stderr\n"
"      --help, --version\n";

enum { MAX_CHANNELS = 64 };

static struct {
	const char *alpha_s, *beta_s, *model, *params, *out, *png;
	int set, device, tsv, input, relative;
	double noise_alpha, noise_beta;
	uint64_t seed;
	double alpha_lo, alpha_hi, beta_lo, beta_hi;
	double g_min, g_max;
	ddk_device dev;
	ddk_pulses pulses;
} opt = { .seed = 1, .alpha_hi = 1, .beta_hi = 1 };

/* The DDK layer to apply: K pairs shared by all rows, or K*U per row. */
static struct {
	ddk_mode mode;
	size_t K, U;            /* U = 0: shared pairs */
	float alpha[MAX_CHANNELS], beta[MAX_CHANNELS];
	float *alpha_rows, *beta_rows;   /* with U > 0: K*U each */
	ddk_pair_table *fits;
} layer;

/* Where the current record is, for messages. */
static tool_records in;
static ddk_record rec, res;

#define WHERE "%s: record %llu (key %s)"
#define WHERE_ARGS in.name, (unsigned long long)ddk_reader_count(in.rd), \
	rec.key

static void *grow(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		tool_die("out of memory");
	return q;
}

/* "A[,A...]" into a[], returning the count. */
static size_t parse_list(const char *opt_name, const char *s, float *a)
{
	double v[MAX_CHANNELS];
	size_t n = tool_list(opt_name, s, v, MAX_CHANNELS, -HUGE_VAL,
	                     HUGE_VAL, 0);

	for (size_t k = 0; k < n; k++)
		a[k] = (float)v[k];
	return n;
}

/* Die unless the pair lies in the bounds; where names it. */
static void check_pair(double a, double b, const char *where)
{
	if (!(a >= opt.alpha_lo && a <= opt.alpha_hi))
		tool_die("%s: alpha = %g is outside [%g, %g]", where, a,
		         opt.alpha_lo, opt.alpha_hi);
	if (!(b >= opt.beta_lo && b <= opt.beta_hi))
		tool_die("%s: beta = %g is outside [%g, %g]", where, b,
		         opt.beta_lo, opt.beta_hi);
}

/*
 * The DDK layer of a model file, read by the library's loader, so
 * ddk-extract takes exactly the files ddk-infer takes (man/ddk-model.5)
 * and words their faults the same way.  The pairs must also lie in this
 * run's bounds.
 */
static void load_model(const char *path)
{
	ddk_model *m;
	const ddk_net *net;
	size_t n;
	ddk_err err;

	if (ddk_model_load(path, 1, &m, &err))
		tool_die("%s", err.msg);
	net = m->net;
	if (!net->cfg.use_ddk)
		tool_die("%s: the model has no DDK layer", path);
	layer.mode = net->cfg.mode;
	layer.K = net->cfg.channels;
	n = net->n_pairs;
	if (layer.K > MAX_CHANNELS)
		tool_die("%s: %zu channels, at most %d", path, layer.K,
		         MAX_CHANNELS);
	if (net->cfg.per_row) {
		/* a pair per row: the rows are the model's input rows */
		layer.U = net->cfg.rows;
		layer.alpha_rows = grow(NULL, n * sizeof(float));
		layer.beta_rows = grow(NULL, n * sizeof(float));
		memcpy(layer.alpha_rows, net->alpha, n * sizeof(float));
		memcpy(layer.beta_rows, net->beta, n * sizeof(float));
	} else {
		memcpy(layer.alpha, net->alpha, n * sizeof(float));
		memcpy(layer.beta, net->beta, n * sizeof(float));
	}
	for (size_t i = 0; i < n; i++)
		check_pair(net->alpha[i], net->beta[i], path);
	ddk_model_free(&m);
}

static void load_params(const char *path)
{
	FILE *f = tool_in_open(path);
	ddk_err err;

	if (ddk_pair_table_load(f, path, &layer.fits, &err))
		tool_die("%s", err.msg);
	tool_in_close(f);
	for (size_t i = 0; i < ddk_pair_table_size(layer.fits); i++) {
		const char *key;
		double a, b;
		char where[256];

		ddk_pair_table_row(layer.fits, i, &key, &a, &b);
		snprintf(where, sizeof where, "%s: key %s", path, key);
		check_pair(a, b, where);
	}
	layer.K = 1;
}

/* NaN or infinity anywhere in a record is bad input. */
static void check_finite(void)
{
	size_t n = (size_t)rec.rows * rec.cols;
	size_t i = ddk_first_nonfinite(rec.v, n);

	if (i < n)
		tool_die(WHERE ": row %zu, column %zu: %g is not finite",
		         WHERE_ARGS, i / rec.cols + 1, i % rec.cols + 1,
		         (double)rec.v[i]);
}

/* x (1 + sigma N(0,1)) kept in [lo, hi]. */
static float jitter(ddk_rng *g, float x, double sigma, double lo, double hi)
{
	double v = x * (1 + sigma * ddk_rng_normal(g));

	return (float)(v < lo ? lo : v > hi ? hi : v);
}

/* The pairs for this record, spread over its rows: arow and brow get
 * K*rows values, channel by channel. */
static void record_pairs(size_t rows, float *arow, float *brow)
{
	size_t n = layer.U ? layer.K * layer.U : layer.K;
	float *a = layer.alpha, *b = layer.beta;

	if (layer.fits) {
		double fa, fb;

		if (ddk_pair_table_find(layer.fits, rec.key, &fa, &fb))
			tool_die(WHERE ": no row for this key in %s",
			         WHERE_ARGS, opt.params);
		a[0] = (float)fa;
		b[0] = (float)fb;
	}
	if (layer.U) {
		if (rows != layer.U)
			tool_die(WHERE ": %zu rows, but the model has a pair "
			         "for each of %zu rows", WHERE_ARGS, rows,
			         layer.U);
		memcpy(arow, layer.alpha_rows, n * sizeof *arow);
		memcpy(brow, layer.beta_rows, n * sizeof *brow);
	} else {
		for (size_t k = 0; k < n; k++) {
			ddk_fill(arow + k * rows, rows, a[k]);
			ddk_fill(brow + k * rows, rows, b[k]);
		}
	}

	/* one draw per pair, so every row of a shared pair moves together */
	if (opt.noise_alpha > 0 || opt.noise_beta > 0) {
		ddk_rng g;
		size_t each = layer.U ? 1 : rows;

		ddk_rng_for_key(&g, opt.seed, rec.key);
		for (size_t k = 0; k < n; k++) {
			float na = jitter(&g, arow[k * each], opt.noise_alpha,
			                  opt.alpha_lo, opt.alpha_hi);
			float nb = jitter(&g, brow[k * each], opt.noise_beta,
			                  opt.beta_lo, opt.beta_hi);

			ddk_fill(arow + k * each, each, na);
			ddk_fill(brow + k * each, each, nb);
		}
	}
}

static void make_result(size_t rows_out)
{
	ddk_err err;

	if (rows_out > UINT32_MAX ||
	    ddk_record_set(&res, rec.key, rec.label, (uint32_t)rows_out,
	                   rec.cols, &err))
		tool_die(WHERE ": %zu x %u features are too many", WHERE_ARGS,
		         rows_out, rec.cols);
}

static void extract(void)
{
	static float *arow, *brow;
	static size_t cap, filled_rows = SIZE_MAX;   /* none yet */
	size_t rows = rec.rows, T = rec.cols, n = layer.K * rows;
	int same = !layer.fits && !(opt.noise_alpha > 0) &&
	           !(opt.noise_beta > 0);

	if (n > cap) {
		arow = grow(arow, n * sizeof *arow);
		brow = grow(brow, n * sizeof *brow);
		cap = n;
		filled_rows = SIZE_MAX;
	}
	make_result(n);

	/* the pairs change from record to record only with a table or
	 * noise; otherwise they are spread again only when rows change */
	if (!same || rows != filled_rows)
		record_pairs(rows, arow, brow);
	filled_rows = rows;
	for (size_t k = 0; k < layer.K; k++)
		ddk_map_forward(rec.v, rows, T, arow + k * rows,
		                brow + k * rows, layer.mode,
		                res.v + k * rows * T);
}

static void run_device(void)
{
	size_t n = (size_t)rec.rows * rec.cols;
	ddk_rng g;
	ddk_err err;

	make_result(rec.rows);
	ddk_rng_for_key(&g, opt.seed, rec.key);
	if (ddk_device_map(&opt.dev, &opt.pulses, rec.v, rec.rows, rec.cols,
	                   &g, res.v, &err))
		tool_die(WHERE ": %s", WHERE_ARGS, err.msg);
	if (opt.relative)
		for (size_t i = 0; i < n; i++)
			res.v[i] = (float)(res.v[i] * opt.dev.r_init_ohm);
}

/* DIR/KEY.png, the key's characters outside [A-Za-z0-9._-] as '_'. */
static void picture(void)
{
	static char *path;
	size_t dlen = strlen(opt.png), klen = strlen(rec.key);
	ddk_heat maps[2];
	size_t n = 0;
	ddk_err err;
	char *p;

	path = grow(path, dlen + klen + 8);
	p = path + sprintf(path, "%s/", opt.png);
	for (size_t i = 0; i < klen; i++) {
		char c = rec.key[i];
		int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		           (c == '.' && i > 0);

		*p++ = keep ? c : '_';
	}
	strcpy(p, ".png");

	if (opt.input)
		maps[n++] = (ddk_heat){ rec.v, rec.rows, rec.cols };
	maps[n++] = (ddk_heat){ res.v, res.rows, res.cols };
	if (ddk_png_heatmaps(path, maps, n, &err))
		tool_die(WHERE ": %s", WHERE_ARGS, err.msg);
}

enum {
	PARAMS = 256, SET, ALPHA_BOUNDS, BETA_BOUNDS, NOISE_ALPHA, NOISE_BETA,
	SEED, DEVICE, PULSE, V_LO, V_HI, WIDTH, T_LO, T_HI, AMPLITUDE,
	R_INIT, G_MIN, G_MAX, THICKNESS, MOBILITY, DIFFUSION, TOL, C2C, D2D,
	RELATIVE, PNG, INPUT, TSV, HELP, VERSION
};

static const struct option longopts[] = {
	{ "alpha", 1, 0, 'a' }, { "beta", 1, 0, 'b' },
	{ "model", 1, 0, 'm' }, { "params", 1, 0, PARAMS },
	{ "set", 0, 0, SET }, { "alpha-bounds", 1, 0, ALPHA_BOUNDS },
	{ "beta-bounds", 1, 0, BETA_BOUNDS },
	{ "noise-alpha", 1, 0, NOISE_ALPHA },
	{ "noise-beta", 1, 0, NOISE_BETA }, { "seed", 1, 0, SEED },
	{ "device", 0, 0, DEVICE }, { "pulse", 1, 0, PULSE },
	{ "v-lo", 1, 0, V_LO }, { "v-hi", 1, 0, V_HI },
	{ "width", 1, 0, WIDTH }, { "t-lo", 1, 0, T_LO },
	{ "t-hi", 1, 0, T_HI }, { "amplitude", 1, 0, AMPLITUDE },
	{ "r-init", 1, 0, R_INIT }, { "g-min", 1, 0, G_MIN },
	{ "g-max", 1, 0, G_MAX }, { "thickness", 1, 0, THICKNESS },
	{ "mobility", 1, 0, MOBILITY }, { "diffusion", 1, 0, DIFFUSION },
	{ "tol", 1, 0, TOL }, { "c2c", 1, 0, C2C }, { "d2d", 1, 0, D2D },
	{ "relative", 0, 0, RELATIVE }, { "png", 1, 0, PNG },
	{ "input", 0, 0, INPUT }, { "output", 1, 0, 'o' },
	{ "tsv", 0, 0, TSV }, { "quiet", 0, 0, 'q' },
	{ "help", 0, 0, HELP }, { "version", 0, 0, VERSION },
	{ 0, 0, 0, 0 }
};

/* A device option: an SI number in [lo, hi]; remembers one was given. */
static int device_opts;

static double dev_si(const char *name, double lo, double hi)
{
	device_opts++;
	return tool_si(name, optarg, lo, hi);
}

static void parse_device(int c)
{
	static const char *const how[] = { "amplitude", "width", NULL };
	ddk_device *d = &opt.dev;
	ddk_pulses *p = &opt.pulses;

	switch (c) {
	case PULSE: p->map = (ddk_pulse_map)tool_choice("--pulse", optarg,
	                                                   how);
		device_opts++;
		break;
	case V_LO: p->v_lo_volts = dev_si("--v-lo", 0, 1e3); break;
	case V_HI: p->v_hi_volts = dev_si("--v-hi", 0, 1e3); break;
	case WIDTH: p->width_s = dev_si("--width", 1e-15, 1e3); break;
	case T_LO: p->t_lo_s = dev_si("--t-lo", 1e-15, 1e3); break;
	case T_HI: p->t_hi_s = dev_si("--t-hi", 1e-15, 1e3); break;
	case AMPLITUDE: p->v_volts = dev_si("--amplitude", 0, 1e3); break;
	case R_INIT: d->r_init_ohm = dev_si("--r-init", 1e-3, 1e15); break;
	case G_MIN: opt.g_min = dev_si("--g-min", 1e-15, 1e3); break;
	case G_MAX: opt.g_max = dev_si("--g-max", 1e-15, 1e3); break;
	case THICKNESS: d->thickness_m = dev_si("--thickness", 1e-12, 1);
		break;
	case MOBILITY: d->mobility_m2_vs = dev_si("--mobility", 0, 1); break;
	case DIFFUSION: d->diffusion_m2_s = dev_si("--diffusion", 0, 1);
		break;
	case TOL: d->tol_u = dev_si("--tol", 1e-15, 0.1); break;
	case C2C: p->c2c = dev_si("--c2c", 0, 10); break;
	case D2D: p->d2d = dev_si("--d2d", 0, 10); break;
	case RELATIVE: opt.relative = 1; device_opts++; break;
	}
}

static void parse_one(int c, char **argv)
{
	switch (c) {
	case 'a': opt.alpha_s = optarg; break;
	case 'b': opt.beta_s = optarg; break;
	case 'm': opt.model = optarg; break;
	case PARAMS: opt.params = optarg; break;
	case SET: opt.set = 1; break;
	case ALPHA_BOUNDS: tool_pair("--alpha-bounds", optarg,
	                             &opt.alpha_lo, &opt.alpha_hi);
		break;
	case BETA_BOUNDS: tool_pair("--beta-bounds", optarg, &opt.beta_lo,
	                            &opt.beta_hi);
		break;
	case NOISE_ALPHA: opt.noise_alpha = tool_double("--noise-alpha",
		                                        optarg, 0, 10);
		break;
	case NOISE_BETA: opt.noise_beta = tool_double("--noise-beta", optarg,
		                                      0, 10);
		break;
	case SEED: opt.seed = tool_seed("--seed", optarg); break;
	case DEVICE: opt.device = 1; break;
	case PNG: opt.png = optarg; break;
	case INPUT: opt.input = 1; break;
	case 'o': opt.out = optarg; break;
	case TSV: opt.tsv = 1; break;
	case 'q': tool_quiet = 1; break;
	case HELP: tool_help();
	case VERSION: tool_version();
	default:
		if (c >= PULSE && c <= RELATIVE)
			parse_device(c);
		else
			tool_bad_option(argv);
	}
}

static int parse(int argc, char **argv)
{
	int c;

	ddk_device_default(&opt.dev);
	ddk_pulses_default(&opt.pulses);
	opt.g_min = 1 / opt.dev.r_off_ohm;
	opt.g_max = 1 / opt.dev.r_on_ohm;
	while ((c = getopt_long(argc, argv, "a:b:m:o:q", longopts, NULL))
	       != -1)
		parse_one(c, argv);
	return optind;
}

static void check_device_options(void)
{
	ddk_err err;

	if (opt.alpha_s || opt.beta_s || opt.model || opt.params ||
	    opt.noise_alpha > 0 || opt.noise_beta > 0)
		tool_usage_error("--device takes no alpha, beta, model, "
		                 "params or noise (use --c2c and --d2d)");
	opt.dev.r_on_ohm = 1 / opt.g_max;
	opt.dev.r_off_ohm = 1 / opt.g_min;
	opt.pulses.mode = opt.set ? DDK_SET : DDK_RESET;
	if (ddk_device_check(&opt.dev, &opt.pulses, &err))
		tool_usage_error("%s", err.msg);
}

/* -a/-b: K shared pairs, in the bounds (a usage error otherwise). */
static void take_pairs(void)
{
	float b[MAX_CHANNELS];
	size_t nb;

	if (!opt.alpha_s || !opt.beta_s)
		tool_usage_error("give both -a and -b");
	layer.K = parse_list("--alpha", opt.alpha_s, layer.alpha);
	nb = parse_list("--beta", opt.beta_s, b);
	if (nb != layer.K)
		tool_usage_error("%zu alpha values but %zu beta values",
		                 layer.K, nb);
	memcpy(layer.beta, b, sizeof b);
	for (size_t k = 0; k < layer.K; k++) {
		if (!(layer.alpha[k] >= opt.alpha_lo &&
		      layer.alpha[k] <= opt.alpha_hi))
			tool_usage_error("--alpha: %g is outside [%g, %g]",
			                 layer.alpha[k], opt.alpha_lo,
			                 opt.alpha_hi);
		if (!(layer.beta[k] >= opt.beta_lo &&
		      layer.beta[k] <= opt.beta_hi))
			tool_usage_error("--beta: %g is outside [%g, %g]",
			                 layer.beta[k], opt.beta_lo,
			                 opt.beta_hi);
	}
	layer.mode = opt.set ? DDK_SET : DDK_RESET;
}

static void check_options(void)
{
	int sources = !!(opt.alpha_s || opt.beta_s) + !!opt.model +
	              !!opt.params;

	if (opt.input && !opt.png)
		tool_usage_error("--input goes with --png");
	if (opt.device) {
		check_device_options();
		return;
	}
	if (device_opts)
		tool_usage_error("device options need --device");
	if (sources != 1)
		tool_usage_error("give one of -a and -b, -m or --params");
	if (opt.model && opt.set)
		tool_usage_error("--set: the model file gives the mode");
	if (opt.alpha_s || opt.beta_s)
		take_pairs();
}

/* The --png folder, made when missing. */
static void png_dir(void)
{
	struct stat st;

	if (stat(opt.png, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			tool_die("%s: not a folder", opt.png);
		return;
	}
	if (mkdir(opt.png, 0777) != 0)
		tool_die("%s: %s", opt.png, strerror(errno));
}

/* stdio writes a file or pipe 4 KiB at a time, which is a system call
 * per image: give the output a larger buffer (not on a terminal, where
 * text should appear line by line). */
static void big_buffer(FILE *out)
{
	static char buf[1 << 18];

	if (!isatty(fileno(out)))
		setvbuf(out, buf, _IOFBF, sizeof buf);
}

int main(int argc, char **argv)
{
	int first;
	FILE *out;
	uint64_t n = 0;

	tool_init("ddk-extract", usage);
	first = parse(argc, argv);
	check_options();
	if (opt.model)
		load_model(opt.model);
	if (opt.params) {
		load_params(opt.params);
		layer.mode = opt.set ? DDK_SET : DDK_RESET;
	}
	if (opt.png)
		png_dir();

	tool_out_apart("-o", opt.out, argc - first, argv + first, 2,
	               opt.model, opt.params);
	out = tool_out_open(opt.out);
	big_buffer(out);
	tool_records_begin(&in, argc - first, argv + first);
	while (tool_records_next(&in, &rec)) {
		check_finite();
		if (opt.device)
			run_device();
		else
			extract();
		tool_write(out, &res, opt.tsv);
		if (opt.png)
			picture();
		tool_progress("records", ++n, 0);
	}
	tool_records_end(&in);
	tool_progress_done("records", n);
	tool_out_commit();
	ddk_record_free(&rec);
	ddk_record_free(&res);
	ddk_pair_table_free(&layer.fits);
	free(layer.alpha_rows);
	free(layer.beta_rows);
	return 0;
}
