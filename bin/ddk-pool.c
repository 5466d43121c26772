/*
 * ddk-pool - raw sound, IDX images and NumPy arrays into input maps.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tool.h"

static const char usage[] =
"usage: ddk-pool [OPTIONS] [SOUND...]\n"
"       ddk-pool [OPTIONS] --manifest FILE\n"
"       ddk-pool [OPTIONS] --idx IMAGES [--labels LABELS]\n"
"       ddk-pool [OPTIONS] --npy ARRAY [--labels LABELS]\n"
"Turn raw patterns into input maps (a tensor stream on stdout).\n"
"  -l, --length N         crop or zero-pad each signal to N samples\n"
"  -u, --utterances U     cut a sound into U equal utterances (rows)\n"
"  -p, --pool P           reduce windows of P samples (default 1)\n"
"      --pool-op OP       mean (default), absmean, rms or max\n"
"      --normalize HOW    row, full or none (default: row for sound,\n"
"                         full for uint8 arrays, none for float arrays)\n"
"      --window N         cut each sound into examples of N samples\n"
"      --hop H            start a window every H samples (default N)\n"
"      --manifest FILE    sounds and labels, 'path<TAB>label' per line\n"
"      --label L          label for the sounds named on the command line\n"
"      --idx FILE         IDX images (gzipped or not)\n"
"      --npy FILE         NumPy array (uint8, float32, float64)\n"
"      --labels FILE      labels for --idx or --npy (IDX, .npy or text)\n"
"  -o, --output FILE      write to FILE (atomically) instead of stdout\n"
"      --tsv              write the text form instead of binary\n"
"  -q, --quiet            no progress on stderr\n"
"      --help, --version\n";

static struct {
	ddk_pool_opts pool;
	int norm_set;
	size_t window, hop;
	const char *manifest, *label, *idx, *npy, *labels, *out;
	int tsv;
} opt = { .pool = { .pool = 1 } };

static FILE *out;
static ddk_record rec;
static uint64_t written;

static void put(const ddk_record *r)
{
	tool_write(out, r, opt.tsv);
	tool_progress("examples", ++written, 0);
}

static void emit(const char *key, const char *label, const float *x,
                 size_t rows, size_t n, double lo, double hi)
{
	ddk_err err;

	if (ddk_pool_map(&rec, key, label, x, rows, n, &opt.pool, lo, hi,
	                 &err))
		tool_die("%s", err.msg);
	put(&rec);
}

/* One example per whole window of the sound, keys path#k, read a window
 * at a time: memory does not grow with the sound.  A sound shorter than
 * one window gives one, padded with zeros. */
static void pool_windows(ddk_sound *snd, const char *path, const char *key,
                         const char *label)
{
	size_t W = opt.window, H = opt.hop, have;
	float *w = malloc(W * sizeof *w), *skip = NULL;
	char *wkey = malloc(strlen(key) + 24);

	if (!w || !wkey)
		tool_die("out of memory");
	if (!(have = ddk_sound_read(snd, w, W)))
		tool_die("%s: empty sound", path);
	if (have < W)
		memset(w + have, 0, (W - have) * sizeof *w);
	for (size_t k = 0;; k++) {
		sprintf(wkey, "%s#%zu", key, k);
		emit(wkey, label, w, 1, W, -1, 1);
		if (have < W)
			break;
		/* the next window starts H samples on */
		if (H < W) {
			memmove(w, w + H, (W - H) * sizeof *w);
			have = W - H + ddk_sound_read(snd, w + W - H, H);
		} else {
			size_t gap = H - W, got = 0, g = 1, n;

			if (gap && !skip &&
			    !(skip = malloc(4096 * sizeof *skip)))
				tool_die("out of memory");
			while (got < gap && g) {
				n = gap - got < 4096 ? gap - got : 4096;
				g = ddk_sound_read(snd, skip, n);
				got += g;
			}
			have = got < gap ? 0 : ddk_sound_read(snd, w, W);
		}
		if (have < W)
			break;          /* whole windows only */
	}
	free(skip);
	free(wkey);
	free(w);
}

/* One sound: one example, or one per window with keys path#k; either
 * way read a piece at a time. */
static void pool_sound(const char *path, const char *key, const char *label)
{
	ddk_sound *snd;
	size_t frames;
	int rate;
	ddk_err err;

	if (strcmp(path, "-") && access(path, R_OK) != 0)
		tool_die("%s: %s", path, strerror(errno));
	if (!opt.norm_set)
		opt.pool.norm = DDK_NORM_ROW;
	if (ddk_sound_open(path, &snd, &frames, &rate, &err))
		tool_die("%s", err.msg);
	if (opt.window) {
		pool_windows(snd, path, key, label);
		ddk_sound_close(&snd);
		return;
	}
	if (ddk_pool_sound(&rec, key, label, snd, frames, &opt.pool, &err))
		tool_die("%s", err.msg);
	ddk_sound_close(&snd);
	put(&rec);
}

/* The folder part of path, with its slash ("" for none). */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) + 1 : 0;
	char *d = malloc(n + 1);

	if (!d)
		tool_die("out of memory");
	memcpy(d, path, n);
	d[n] = '\0';
	return d;
}

/* One pass over a manifest: check every line, and pool them if run. */
static void manifest_pass(FILE *f, const char *mpath, int run)
{
	char *line = NULL, *dir = dir_of(mpath), *full = NULL;
	size_t cap = 0, lineno = 0;
	ddk_err err;

	while (getline(&line, &cap, f) >= 0) {
		char *tab, *label;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		tab = strchr(line, '\t');
		label = tab ? tab + 1 : NULL;
		if (!tab || !*label)
			tool_die("%s: line %zu: no label (want path<TAB>label)",
			         mpath, lineno);
		*tab = '\0';
		if (!line[0])
			tool_die("%s: line %zu: empty path", mpath, lineno);
		if (ddk_check_names(line, label, &err))
			tool_die("%s: line %zu: %s", mpath, lineno, err.msg);
		free(full);
		full = malloc(strlen(dir) + strlen(line) + 1);
		if (!full)
			tool_die("out of memory");
		sprintf(full, "%s%s", line[0] == '/' ? "" : dir, line);
		if (access(full, R_OK) != 0)
			tool_die("%s: line %zu: %s: %s", mpath, lineno, full,
			         strerror(errno));
		if (run)
			pool_sound(full, line, label);
	}
	if (ferror(f))
		tool_die("%s: %s", mpath, strerror(errno));
	free(full);
	free(line);
	free(dir);
}

/* A manifest that can be read twice is checked whole before any output. */
static void pool_manifest(const char *mpath)
{
	FILE *f = tool_in_open(mpath);

	if (f != stdin) {
		manifest_pass(f, mpath, 0);
		rewind(f);
	}
	manifest_pass(f, mpath, 1);
	tool_in_close(f);
}

static void pool_array(const char *path, int npy)
{
	ddk_array *a;
	ddk_labels *lab = NULL;
	size_t count, rows, cols;
	double lo, hi;
	char label[DDK_LABEL_MAX + 1] = "", *key;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	ddk_err err;
	float *x;

	if ((npy ? ddk_npy_open : ddk_idx_open)(&a, path, &err))
		tool_die("%s", err.msg);
	ddk_array_shape(a, &count, &rows, &cols, &lo, &hi);
	if (opt.labels && ddk_labels_open(&lab, opt.labels, &err))
		tool_die("%s", err.msg);
	if (lab && ddk_labels_count(lab) != count)
		tool_die("%s: %zu labels for %zu examples in %s", opt.labels,
		         ddk_labels_count(lab), count, path);
	if (!opt.norm_set)
		opt.pool.norm = hi > lo ? DDK_NORM_FULL : DDK_NORM_NONE;
	x = malloc(rows * cols * sizeof *x);
	key = malloc(strlen(base) + 24);
	if (!x || !key)
		tool_die("out of memory");
	for (size_t i = 0; i < count; i++) {
		if (ddk_array_next(a, x, &err))
			tool_die("%s", err.msg);
		if (lab && ddk_labels_next(lab, label, sizeof label, &err))
			tool_die("%s", err.msg);
		sprintf(key, "%s#%zu", base, i);
		emit(key, label, x, rows, cols, lo, hi);
	}
	free(key);
	free(x);
	ddk_labels_free(&lab);
	ddk_array_free(&a);
}

static size_t count_opt(const char *name, const char *s, long lo)
{
	return (size_t)tool_long(name, s, lo, DDK_VALUES_MAX);
}

static int parse(int argc, char **argv)
{
	static const char *const ops[] = { "mean", "absmean", "rms", "max",
	                                   NULL };
	static const char *const norms[] = { "row", "full", "none", NULL };
	enum { POOL_OP = 256, NORMALIZE, WINDOW, HOP, MANIFEST, LABEL, IDX,
	       NPY, LABELS, TSV, HELP, VERSION };
	static const struct option lo[] = {
		{ "length", 1, 0, 'l' }, { "utterances", 1, 0, 'u' },
		{ "pool", 1, 0, 'p' }, { "pool-op", 1, 0, POOL_OP },
		{ "normalize", 1, 0, NORMALIZE }, { "window", 1, 0, WINDOW },
		{ "hop", 1, 0, HOP }, { "manifest", 1, 0, MANIFEST },
		{ "label", 1, 0, LABEL }, { "idx", 1, 0, IDX },
		{ "npy", 1, 0, NPY }, { "labels", 1, 0, LABELS },
		{ "output", 1, 0, 'o' }, { "tsv", 0, 0, TSV },
		{ "quiet", 0, 0, 'q' }, { "help", 0, 0, HELP },
		{ "version", 0, 0, VERSION }, { 0, 0, 0, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "l:u:p:o:q", lo, NULL)) != -1) {
		switch (c) {
		case 'l': opt.pool.length = count_opt("--length", optarg, 1);
			break;
		case 'u': opt.pool.utterances = count_opt("--utterances",
			                                  optarg, 1);
			break;
		case 'p': opt.pool.pool = count_opt("--pool", optarg, 1); break;
		case POOL_OP: opt.pool.op = tool_choice("--pool-op", optarg, ops);
			break;
		case NORMALIZE:
			opt.pool.norm = tool_choice("--normalize", optarg, norms);
			opt.norm_set = 1;
			break;
		case WINDOW: opt.window = count_opt("--window", optarg, 1); break;
		case HOP: opt.hop = count_opt("--hop", optarg, 1); break;
		case MANIFEST: opt.manifest = optarg; break;
		case LABEL: opt.label = optarg; break;
		case IDX: opt.idx = optarg; break;
		case NPY: opt.npy = optarg; break;
		case LABELS: opt.labels = optarg; break;
		case 'o': opt.out = optarg; break;
		case TSV: opt.tsv = 1; break;
		case 'q': tool_quiet = 1; break;
		case HELP: tool_help();
		case VERSION: tool_version();
		default: tool_bad_option(argv);
		}
	}
	return optind;
}

/* Combinations of options that cannot mean anything. */
static void check_options(int nfiles)
{
	int sources = !!opt.manifest + !!opt.idx + !!opt.npy;

	if (sources > 1 || (sources && nfiles))
		tool_usage_error("give one of --manifest, --idx, --npy or "
		                 "sound files");
	if (opt.labels && !opt.idx && !opt.npy)
		tool_usage_error("--labels goes with --idx or --npy");
	if (opt.label && (sources || !nfiles))
		tool_usage_error("--label goes with sound files named on the "
		                 "command line");
	if ((opt.window || opt.hop) && (opt.idx || opt.npy))
		tool_usage_error("--window and --hop are for sound");
	if (opt.hop && !opt.window)
		tool_usage_error("--hop needs --window");
	if (!opt.hop)
		opt.hop = opt.window;
	if (opt.label && ddk_check_names("x", opt.label, NULL))
		tool_usage_error("--label: a label holds no control character");
}

int main(int argc, char **argv)
{
	int first;

	tool_init("ddk-pool", usage);
	first = parse(argc, argv);
	check_options(argc - first);
	tool_out_apart("-o", opt.out, argc - first, argv + first, 4,
	               opt.manifest, opt.idx, opt.npy, opt.labels);
	out = tool_out_open(opt.out);
	if (opt.manifest)
		pool_manifest(opt.manifest);
	else if (opt.idx)
		pool_array(opt.idx, 0);
	else if (opt.npy)
		pool_array(opt.npy, 1);
	else if (first == argc)
		pool_sound("-", "-", "");
	else
		for (int i = first; i < argc; i++)
			pool_sound(argv[i], argv[i], opt.label ? opt.label : "");
	tool_progress_done("examples", written);
	tool_out_commit();
	ddk_record_free(&rec);
	return 0;
}
