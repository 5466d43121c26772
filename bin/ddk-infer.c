/*
 * ddk-infer - classify input maps with a trained model.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tool.h"

static const char usage[] =
"usage: ddk-infer -m MODEL [OPTIONS] [FILE...]\n"
"Classify input maps; write 'key label predicted p_<class>...' (TSV).\n"
"  -m, --model FILE       the trained model (ddk-train)\n"
"      --report FILE      per-class precision, recall and the confusion\n"
"                         matrix (TSV)\n"
"      --vote SEP         one majority vote per group of records whose\n"
"                         keys agree up to the last SEP: write the group\n"
"                         table instead of the record table\n"
"      --summary          print the model's parameters and operations\n"
"                         (TSV) and exit\n"
"      --batch N          records per batch (default 256)\n"
"      --digits N         significant digits of probabilities (1-17,\n"
"                         default 6; 9 give float32 back exactly)\n"
"  -o, --output FILE      write to FILE (atomically) instead of stdout\n"
"  -q, --quiet            no progress on stderr\n"
"      --help, --version\n";

static struct {
	const char *model, *report, *vote, *out;
	size_t batch;
	int digits;
	int summary;
} opt = { .batch = 256, .digits = 6 };

static ddk_model *model;
static FILE *out;
static size_t C;
static uint64_t *conf;          /* C x C: true class, predicted */
static uint64_t n_total, n_labelled, n_right;
static uint64_t vote_labelled, vote_right;   /* groups, with --vote */
static uint64_t n_unknown;      /* labels that are not classes */
static char *unknown_key, *unknown_label;   /* the first of them */

typedef struct group {
	char *name, *label;
	size_t len;                     /* of name */
	uint64_t records, *votes;
	double *psum;
	int mixed;                      /* a record of another label seen */
} group;

static group *groups;                   /* in order of first record */
static size_t n_groups, cap_groups;
static uint64_t n_mixed;                /* groups of more than one label */
static char *mixed_group, *mixed_label; /* the first of them, and the
                                         * label that differed */
static size_t *slots, n_slots;          /* open addressing by name: a
                                         * group's index + 1, 0 empty;
                                         * n_slots a power of two */

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		tool_die("out of memory");
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		tool_die("out of memory");
	return p;
}

static int class_index(const char *label)
{
	for (size_t c = 0; c < C; c++)
		if (strcmp(model->classes[c], label) == 0)
			return (int)c;
	return -1;
}

static size_t argmax(const float *p, size_t n)
{
	size_t best = 0;

	for (size_t c = 1; c < n; c++)
		if (p[c] > p[best])
			best = c;
	return best;
}

/* FNV-1a over the n bytes of s. */
static uint64_t name_hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* The slot that holds the group called name (len bytes), or the empty
 * slot where it would go. */
static size_t *slot_of(const char *name, size_t len)
{
	size_t mask = n_slots - 1, i = (size_t)name_hash(name, len) & mask;

	while (slots[i]) {
		const group *g = &groups[slots[i] - 1];

		if (g->len == len && memcmp(g->name, name, len) == 0)
			break;
		i = (i + 1) & mask;
	}
	return &slots[i];
}

/* Room for one more group, the table at most half full. */
static void grow_groups(void)
{
	if (n_groups == cap_groups) {
		cap_groups = cap_groups ? 2 * cap_groups : 64;
		groups = realloc(groups, cap_groups * sizeof *groups);
		if (!groups)
			tool_die("out of memory");
	}
	if (2 * (n_groups + 1) > n_slots) {
		free(slots);
		n_slots = n_slots ? 2 * n_slots : 128;
		slots = xcalloc(n_slots, sizeof *slots);
		for (size_t g = 0; g < n_groups; g++)
			*slot_of(groups[g].name, groups[g].len) = g + 1;
	}
}

/* The group a key belongs to: the part before the last SEP. */
static group *group_of(const char *key, const char *label)
{
	const char *sep = NULL;
	size_t len, *slot;

	for (const char *p = key; (p = strstr(p, opt.vote)); p++)
		sep = p;
	len = sep ? (size_t)(sep - key) : strlen(key);
	grow_groups();
	slot = slot_of(key, len);
	if (*slot) {
		group *g = &groups[*slot - 1];

		if (!g->mixed && strcmp(g->label, label)) {
			g->mixed = 1;
			if (n_mixed++ == 0) {
				mixed_group = xstrndup(g->name, g->len);
				mixed_label = xstrndup(label, strlen(label));
			}
		}
		return g;
	}

	group *g = &groups[n_groups++];

	*slot = n_groups;
	g->name = xstrndup(key, len);
	g->len = len;
	g->label = xstrndup(label, strlen(label));
	g->records = 0;
	g->mixed = 0;
	g->votes = xcalloc(C, sizeof *g->votes);
	g->psum = xcalloc(C, sizeof *g->psum);
	return g;
}

static void header(const char *first)
{
	fprintf(out, "%s\tlabel\tpredicted", first);
	if (opt.vote)
		fprintf(out, "\tvotes\trecords");
	for (size_t c = 0; c < C; c++)
		fprintf(out, "\tp_%s", model->classes[c]);
	fputc('\n', out);
}

/* One classified record: count it, and print it or add its vote. */
static void emit(const char *key, const char *label, const float *p)
{
	size_t pred = argmax(p, C);
	int y = label[0] ? class_index(label) : -1;

	n_total++;
	if (label[0]) {
		n_labelled++;
		n_right += y == (int)pred;
		if (y >= 0)
			conf[(size_t)y * C + pred]++;
		else if (n_unknown++ == 0) {
			unknown_key = xstrndup(key, strlen(key));
			unknown_label = xstrndup(label, strlen(label));
		}
	}
	if (opt.vote) {
		group *g = group_of(key, label);

		g->records++;
		g->votes[pred]++;
		for (size_t c = 0; c < C; c++)
			g->psum[c] += p[c];
		return;
	}
	fprintf(out, "%s\t%s\t%s", key, label, model->classes[pred]);
	for (size_t c = 0; c < C; c++)
		fprintf(out, "\t%.*g", opt.digits, (double)p[c]);
	fputc('\n', out);
}

/* Majority vote; a tie goes to the larger summed probability. */
static void emit_groups(void)
{
	uint64_t right = 0, labelled = 0;

	for (size_t i = 0; i < n_groups; i++) {
		group *g = &groups[i];
		size_t best = 0;

		for (size_t c = 1; c < C; c++)
			if (g->votes[c] > g->votes[best] ||
			    (g->votes[c] == g->votes[best] &&
			     g->psum[c] > g->psum[best]))
				best = c;
		fprintf(out, "%s\t%s\t%s\t%llu\t%llu", g->name, g->label,
		        model->classes[best],
		        (unsigned long long)g->votes[best],
		        (unsigned long long)g->records);
		for (size_t c = 0; c < C; c++)
			fprintf(out, "\t%.*g", opt.digits,
			        g->psum[c] / (double)g->records);
		fputc('\n', out);
		if (g->label[0]) {
			labelled++;
			right += strcmp(g->label, model->classes[best]) == 0;
		}
		free(g->name);
		free(g->label);
		free(g->votes);
		free(g->psum);
	}
	free(groups);
	free(slots);
	vote_right = right;
	vote_labelled = labelled;
}

static void write_report(void)
{
	char *text;
	size_t len;
	FILE *f = open_memstream(&text, &len);
	ddk_err err;

	if (!f)
		tool_die("out of memory");
	fprintf(f, "class\trecords\tpredicted\tprecision\trecall");
	for (size_t c = 0; c < C; c++)
		fprintf(f, "\t%s", model->classes[c]);
	fputc('\n', f);
	for (size_t y = 0; y < C; y++) {
		uint64_t row = 0, col = 0, hit = conf[y * C + y];

		for (size_t c = 0; c < C; c++) {
			row += conf[y * C + c];
			col += conf[c * C + y];
		}
		fprintf(f, "%s\t%llu\t%llu", model->classes[y],
		        (unsigned long long)row, (unsigned long long)col);
		fprintf(f, col ? "\t%.6f" : "\tnan", (double)hit / (double)col);
		fprintf(f, row ? "\t%.6f" : "\tnan", (double)hit / (double)row);
		for (size_t c = 0; c < C; c++)
			fprintf(f, "\t%llu",
			        (unsigned long long)conf[y * C + c]);
		fputc('\n', f);
	}
	if (fclose(f) != 0)
		tool_die("out of memory");
	if (ddk_write_atomic(opt.report, text, len, &err))
		tool_die("%s", err.msg);
	free(text);
}

/* One batch of records (static, so an exit in mid-run leaks nothing). */
static float *x, *probs;        /* B x n_in, B x C */
static char **keys, **labels;   /* B each */

static void run(int argc, char **argv)
{
	ddk_net *net = model->net;
	size_t B = opt.batch, n_in = net->n_in, nb = 0;
	tool_records it;
	ddk_record rec;
	int more = 1;

	x = xcalloc(B * n_in, sizeof *x);
	probs = xcalloc(B * C, sizeof *probs);
	keys = xcalloc(B, sizeof *keys);
	labels = xcalloc(B, sizeof *labels);
	ddk_record_init(&rec);
	tool_records_begin(&it, argc, argv);
	while (more) {
		more = tool_records_next(&it, &rec);
		if (more) {
			if (rec.rows != net->cfg.rows ||
			    rec.cols != net->cfg.cols)
				tool_die("%s: record %llu (key %s): map of "
				         "%ux%u, the model takes %ux%u", it.name,
				         (unsigned long long)ddk_reader_count(
				                 it.rd), rec.key, rec.rows,
				         rec.cols, net->cfg.rows, net->cfg.cols);
			for (size_t i = 0; i < n_in; i++)
				if (!isfinite(rec.v[i]))
					tool_die("%s: record %llu (key %s): "
					         "value %zu is not finite", it.name,
					         (unsigned long long)
					         ddk_reader_count(it.rd), rec.key,
					         i + 1);
			memcpy(x + nb * n_in, rec.v, n_in * sizeof *x);
			keys[nb] = xstrndup(rec.key, strlen(rec.key));
			labels[nb++] = xstrndup(rec.label, strlen(rec.label));
		}
		if (nb == B || (!more && nb)) {
			ddk_net_predict(net, x, nb, probs);
			for (size_t k = 0; k < nb; k++) {
				emit(keys[k], labels[k], probs + k * C);
				free(keys[k]);
				free(labels[k]);
			}
			nb = 0;
			tool_progress("records", n_total, 0);
		}
	}
	tool_records_end(&it);
	ddk_record_free(&rec);
	free(x);
	free(probs);
	free(keys);
	free(labels);
}

static int parse(int argc, char **argv)
{
	enum { REPORT = 256, VOTE, SUMMARY, BATCH, DIGITS, HELP, VERSION };
	static const struct option lo[] = {
		{ "model", 1, 0, 'm' }, { "report", 1, 0, REPORT },
		{ "vote", 1, 0, VOTE }, { "summary", 0, 0, SUMMARY },
		{ "batch", 1, 0, BATCH }, { "digits", 1, 0, DIGITS },
		{ "output", 1, 0, 'o' },
		{ "quiet", 0, 0, 'q' }, { "help", 0, 0, HELP },
		{ "version", 0, 0, VERSION }, { 0, 0, 0, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "m:o:q", lo, NULL)) != -1) {
		switch (c) {
		case 'm': opt.model = optarg; break;
		case REPORT: opt.report = optarg; break;
		case VOTE: opt.vote = optarg; break;
		case SUMMARY: opt.summary = 1; break;
		case BATCH: opt.batch = (size_t)tool_long("--batch", optarg, 1,
		                                          65536);
			break;
		case DIGITS: opt.digits = (int)tool_long("--digits", optarg,
		                                         1, 17);
			break;
		case 'o': opt.out = optarg; break;
		case 'q': tool_quiet = 1; break;
		case HELP: tool_help();
		case VERSION: tool_version();
		default: tool_bad_option(argv);
		}
	}
	if (!opt.model)
		tool_usage_error("-m MODEL is required");
	if (opt.vote && !opt.vote[0])
		tool_usage_error("--vote: the separator is empty");
	if (opt.report && opt.out && strcmp(opt.report, opt.out) == 0)
		tool_usage_error("--report %s: the -o file", opt.report);
	return optind;
}

/* Fail before the run, not after it, when the report cannot be written. */
static void check_writable(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, (size_t)(slash - path) + 1)
	                  : xstrndup(".", 1);

	int bad = access(dir, W_OK | X_OK) != 0, e = errno;

	free(dir);
	if (bad)
		tool_die("%s: cannot write there (%s)", path, strerror(e));
}

static void print_summary(void)
{
	ddk_net_cost c;

	ddk_net_cost_of(model->net, &c);
	fprintf(out, "part\tparameters\toperations\n");
	fprintf(out, "ddk\t%llu\t%llu\n", (unsigned long long)c.ddk_params,
	        (unsigned long long)c.ddk_ops);
	fprintf(out, "feature_norm\t0\t%llu\n",
	        (unsigned long long)c.norm_ops);
	fprintf(out, "classifier\t%llu\t%llu\n",
	        (unsigned long long)c.clf_params,
	        (unsigned long long)c.clf_macs);
	fprintf(out, "total\t%llu\t%llu\n",
	        (unsigned long long)(c.ddk_params + c.clf_params),
	        (unsigned long long)(c.ddk_ops + c.norm_ops + c.clf_macs));
}

int main(int argc, char **argv)
{
	ddk_err err;
	int first;

	tool_init("ddk-infer", usage);
	first = parse(argc, argv);
	tool_out_apart("-o", opt.out, argc - first, argv + first, 1,
	               opt.model);
	if (opt.report) {
		tool_out_apart("--report", opt.report, argc - first,
		               argv + first, 2, opt.model, opt.out);
		check_writable(opt.report);
	}
	if (ddk_model_load(opt.model, opt.batch, &model, &err))
		tool_die("%s", err.msg);
	C = model->net->cfg.n_classes;
	out = tool_out_open(opt.out);
	if (opt.summary) {
		print_summary();
		tool_out_commit();
		ddk_model_free(&model);
		return 0;
	}
	conf = xcalloc(C * C, sizeof *conf);
	header(opt.vote ? "group" : "key");
	run(argc - first, argv + first);
	if (opt.vote)
		emit_groups();
	tool_out_commit();      /* the table is whole before any summary */
	if (vote_labelled)
		tool_warn("vote accuracy %.6f (%llu/%llu groups)",
		          (double)vote_right / (double)vote_labelled,
		          (unsigned long long)vote_right,
		          (unsigned long long)vote_labelled);
	if (n_labelled)
		tool_warn("accuracy %.6f (%llu/%llu)",
		          (double)n_right / (double)n_labelled,
		          (unsigned long long)n_right,
		          (unsigned long long)n_labelled);
	if (n_unknown)
		tool_warn("%llu labelled records have a label the model does "
		          "not know (first: key %s, label '%s'); they count as "
		          "wrong", (unsigned long long)n_unknown, unknown_key,
		          unknown_label);
	if (n_mixed)
		tool_warn("--vote: %llu groups hold records of more than one "
		          "label (first: group %s, label '%s'); each group "
		          "takes its first record's",
		          (unsigned long long)n_mixed, mixed_group,
		          mixed_label);
	if (opt.report)
		write_report();
	free(unknown_key);
	free(mixed_group);
	free(mixed_label);
	free(unknown_label);
	free(conf);
	ddk_model_free(&model);
	return 0;
}
