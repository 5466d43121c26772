/*
 * ddk-train - learn a DDK layer and its classifier from input maps.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "tool.h"

static const char usage[] =
"usage: ddk-train [OPTIONS] -m MODEL [FILE...]\n"
"Train a DDK network on labelled input maps; write the model (JSON).\n"
"  -m, --model FILE       the model to write (atomically)\n"
"      --hidden LIST      hidden widths, e.g. 48 or 128,128 (default\n"
"                         none: a linear classifier)\n"
"      --activation F     sigmoid (default), tanh, relu, identity\n"
"      --batchnorm        batch normalisation after each hidden layer\n"
"      --no-ddk           no DDK layer: the classifier sees the maps\n"
"      --feature-norm     standardise the classifier's inputs\n"
"      --mode M           reset (default) or set\n"
"      --per-row          a DDK pair per row instead of a shared one\n"
"      --channels K       K DDK pairs, K feature maps (default 1)\n"
"      --alpha A, --beta B  starting values (default: random in bounds)\n"
"      --alpha-bounds LO,HI, --beta-bounds LO,HI  (default 0,1)\n"
"      --freeze-ddk       keep alpha and beta as they start\n"
"      --init-model FILE  start from this model (its shape is kept)\n"
"      --epochs N         (default 10)\n"
"      --batch N          mini-batch size (default 32)\n"
"      --optimizer O      adam (default) or sgd\n"
"      --lr X             learning rate (default 0.001 adam, 0.01 sgd)\n"
"      --momentum X       SGD momentum (default 0.9)\n"
"      --weight-decay X   L2 on dense weights (default 0)\n"
"      --lr-steps E,...   multiply lr by --lr-gamma after these epochs\n"
"      --lr-gamma G       (default 0.1)\n"
"      --seed N           initialisation and shuffling (default 1)\n"
"      --val FILE         validation maps: keep the best epoch's model\n"
"      --val-split F      hold out a fraction F of the records, by key\n"
"      --in-place         read binary maps in regular files from there\n"
"                         each epoch instead of holding them in memory\n"
"      --checkpoint FILE  (default MODEL.ckpt; removed on success)\n"
"      --resume           continue from the checkpoint if there is one\n"
"                         (with more --epochs, extend a finished run)\n"
"      --keep-checkpoint  keep it after success, to extend the run later\n"
"      --summary          print parameters and operations (TSV)\n"
"      --recipe TEXT      the preprocessing, recorded in the model\n"
"      --hardware FILE    a JSON object of hardware constraints\n"
"  -q, --quiet            no progress on stderr\n"
"      --help, --version\n";

static struct {
	ddk_net_config net;
	ddk_train_opts train;
	const char *model, *val, *init, *ckpt, *recipe, *hardware;
	double alpha0, beta0, val_split;
	int freeze, resume, keep_ckpt, summary, lr_set, in_place;
	const char *shape_opt;  /* an option that sets the network's shape */
} opt;

static char *recorded;  /* the options that shape the result */
static char *matched;   /* those a checkpoint must match: all but
                         * --epochs, so that a run can be extended */

static void parse_hidden(const char *s)
{
	double v[DDK_NN_MAX_HIDDEN];

	opt.net.n_hidden = 0;
	if (strcmp(s, "none") == 0 || strcmp(s, "") == 0)
		return;
	opt.net.n_hidden = tool_list("--hidden", s, v, DDK_NN_MAX_HIDDEN, 1,
	                             65536, 1);
	for (size_t k = 0; k < opt.net.n_hidden; k++)
		opt.net.hidden[k] = (size_t)v[k];
}

static void parse_steps(const char *s)
{
	double v[DDK_MAX_LR_STEPS];

	opt.train.n_lr_steps = tool_list("--lr-steps", s, v,
	                                 DDK_MAX_LR_STEPS, 1, 1000000, 1);
	for (size_t k = 0; k < opt.train.n_lr_steps; k++)
		opt.train.lr_steps[k] = (size_t)v[k];
}

/* Add " --name arg" to the list *to. */
static void append_option(char **to, const char *name, const char *arg)
{
	size_t n = *to ? strlen(*to) : 0;
	char *p = realloc(*to, n + strlen(name) + (arg ? strlen(arg) : 0)
	                  + 5);

	if (!p)
		tool_die("out of memory");
	*to = p;
	sprintf(p + n, "%s--%s%s%s", n ? " " : "", name, arg ? " " : "",
	        arg ? arg : "");
}

/* Options that do not change the model are left out of the record. */
static void record_option(const char *name, const char *arg)
{
	static const char *const skip[] = { "model", "checkpoint", "resume",
	                                    "keep-checkpoint", "quiet",
	                                    "summary", "in-place", NULL };

	for (int i = 0; skip[i]; i++)
		if (strcmp(name, skip[i]) == 0)
			return;
	append_option(&recorded, name, arg);
	if (strcmp(name, "epochs"))
		append_option(&matched, name, arg);
}

static void option(int c, const char *name)
{
	static const char *const modes[] = { "reset", "set", NULL };
	static const char *const opts[] = { "sgd", "adam", NULL };
	static const char *const acts[] = { "identity", "sigmoid", "tanh",
	                                    "relu", NULL };

	switch (c) {
	case 'm': opt.model = optarg; break;
	case 'H': parse_hidden(optarg); break;
	case 'A': opt.net.act = tool_choice("--activation", optarg, acts);
		break;
	case 'N': opt.net.batchnorm = 1; break;
	case 'D': opt.net.use_ddk = 0; break;
	case 'F': opt.net.feature_norm = 1; break;
	case 'M': opt.net.mode = tool_choice("--mode", optarg, modes); break;
	case 'R': opt.net.per_row = 1; break;
	case 'K': opt.net.channels = (size_t)tool_long("--channels", optarg,
	                                               1, 64);
		break;
	case 'a': opt.alpha0 = tool_double("--alpha", optarg, 0, 1e9); break;
	case 'b': opt.beta0 = tool_double("--beta", optarg, -1e9, 1e9); break;
	case 'x': tool_pair("--alpha-bounds", optarg, &opt.net.alpha_lo,
	                    &opt.net.alpha_hi);
		break;
	case 'y': tool_pair("--beta-bounds", optarg, &opt.net.beta_lo,
	                    &opt.net.beta_hi);
		break;
	case 'Z': opt.freeze = 1; break;
	case 'I': opt.init = optarg; break;
	case 'E': opt.train.epochs = (size_t)tool_long("--epochs", optarg, 1,
	                                               1000000);
		break;
	case 'B': opt.train.batch = (size_t)tool_long("--batch", optarg, 1,
	                                              1 << 20);
		break;
	case 'O': opt.train.optim.kind = tool_choice("--optimizer", optarg,
	                                             opts);
		break;
	case 'L': opt.train.optim.lr = tool_double("--lr", optarg, -1e9, 1e9);
		opt.lr_set = 1;
		break;
	case 'U': opt.train.optim.momentum = tool_double("--momentum", optarg,
	                                                 0, 1);
		break;
	case 'W': opt.train.optim.weight_decay = tool_double("--weight-decay",
	                                                     optarg, 0, 1e9);
		break;
	case 'S': parse_steps(optarg); break;
	case 'G': opt.train.lr_gamma = tool_double("--lr-gamma", optarg, 0,
	                                           1e9);
		break;
	case 's': opt.train.seed = tool_seed("--seed", optarg); break;
	case 'V': opt.val = optarg; break;
	case 'P': opt.val_split = tool_double("--val-split", optarg, 0, 0.99);
		break;
	case 'C': opt.ckpt = optarg; break;
	case 'r': opt.resume = 1; break;
	case 'k': opt.keep_ckpt = 1; break;
	case 'Y': opt.summary = 1; break;
	case 'g': opt.in_place = 1; break;
	case 'T': opt.recipe = optarg; break;
	case 'X': opt.hardware = optarg; break;
	case 'q': tool_quiet = 1; break;
	}
	if (strchr("HANDFMRKabxy", c))
		opt.shape_opt = name;
	record_option(name, optarg && c != 'm' ? optarg : NULL);
}

static int parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "model", 1, 0, 'm' }, { "hidden", 1, 0, 'H' },
		{ "activation", 1, 0, 'A' }, { "batchnorm", 0, 0, 'N' },
		{ "no-ddk", 0, 0, 'D' }, { "feature-norm", 0, 0, 'F' },
		{ "mode", 1, 0, 'M' }, { "per-row", 0, 0, 'R' },
		{ "channels", 1, 0, 'K' }, { "alpha", 1, 0, 'a' },
		{ "beta", 1, 0, 'b' }, { "alpha-bounds", 1, 0, 'x' },
		{ "beta-bounds", 1, 0, 'y' }, { "freeze-ddk", 0, 0, 'Z' },
		{ "init-model", 1, 0, 'I' }, { "epochs", 1, 0, 'E' },
		{ "batch", 1, 0, 'B' }, { "optimizer", 1, 0, 'O' },
		{ "lr", 1, 0, 'L' }, { "momentum", 1, 0, 'U' },
		{ "weight-decay", 1, 0, 'W' }, { "lr-steps", 1, 0, 'S' },
		{ "lr-gamma", 1, 0, 'G' }, { "seed", 1, 0, 's' },
		{ "val", 1, 0, 'V' }, { "val-split", 1, 0, 'P' },
		{ "checkpoint", 1, 0, 'C' }, { "resume", 0, 0, 'r' },
		{ "keep-checkpoint", 0, 0, 'k' },
		{ "summary", 0, 0, 'Y' }, { "recipe", 1, 0, 'T' },
		{ "in-place", 0, 0, 'g' },
		{ "hardware", 1, 0, 'X' }, { "quiet", 0, 0, 'q' },
		{ "help", 0, 0, 'h' }, { "version", 0, 0, 'v' },
		{ 0, 0, 0, 0 }
	};
	int c, li;

	while ((c = getopt_long(argc, argv, "m:q", lo, &li)) != -1) {
		if (c == 'h')
			tool_help();
		if (c == 'v')
			tool_version();
		if (c == '?' || c == ':')
			tool_bad_option(argv);
		for (li = 0; lo[li].name && lo[li].val != c; li++)
			;
		option(c, lo[li].name);
	}
	return optind;
}

/* Fail before training, not after, when the model cannot be written. */
static void check_writable(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, (size_t)(slash - path) + 1)
	                  : strdup(".");
	int bad, e;

	if (!dir)
		tool_die("out of memory");
	bad = access(dir, W_OK | X_OK) != 0;
	e = errno;
	free(dir);
	if (bad)
		tool_die("%s: cannot write there (%s)", path, strerror(e));
}

static void check_options(void)
{
	ddk_net_config *c = &opt.net;

	if (!opt.model)
		tool_usage_error("-m MODEL is required");
	if (opt.val && opt.val_split > 0)
		tool_usage_error("give --val or --val-split, not both");
	if (!opt.lr_set)
		opt.train.optim.lr = opt.train.optim.kind == DDK_OPT_SGD ?
			0.01 : 0.001;
	if (!(opt.train.optim.lr > 0))
		tool_die("--lr: %g: the learning rate must be > 0",
		         opt.train.optim.lr);
	if (opt.train.optim.kind != DDK_OPT_SGD)
		opt.train.optim.momentum = 0;
	if (!isnan(opt.alpha0) && (opt.alpha0 < c->alpha_lo ||
	                           opt.alpha0 > c->alpha_hi))
		tool_usage_error("--alpha %g is outside --alpha-bounds",
		                 opt.alpha0);
	if (!isnan(opt.beta0) && (opt.beta0 < c->beta_lo ||
	                          opt.beta0 > c->beta_hi))
		tool_usage_error("--beta %g is outside --beta-bounds",
		                 opt.beta0);
	if (c->alpha_lo < 0)
		tool_usage_error("--alpha-bounds: alpha must stay >= 0");
	if (opt.init && opt.shape_opt)
		tool_usage_error("--%s: the network's shape comes from "
		                 "--init-model", opt.shape_opt);
	if (opt.freeze && !c->use_ddk)
		tool_usage_error("--freeze-ddk: there is no DDK layer "
		                 "(--no-ddk)");
	if (c->batchnorm && opt.train.batch < 2)
		tool_usage_error("--batchnorm needs --batch 2 or more");
	check_writable(opt.model);
	if (!opt.ckpt) {
		char *p = malloc(strlen(opt.model) + 6);

		if (!p)
			tool_die("out of memory");
		sprintf(p, "%s.ckpt", opt.model);
		opt.ckpt = p;
	}
	if (strcmp(opt.ckpt, opt.model) == 0)
		tool_usage_error("--checkpoint %s: the model's own file",
		                 opt.ckpt);
}

/* With --in-place, records of a binary stream in a regular file stay
 * there (the set keeps their places); anything else is copied into
 * memory. */
static void load(ddk_dataset *d, int argc, char **argv)
{
	tool_records it;
	ddk_record rec;
	ddk_err err;
	int input = -1;
	uint64_t off;

	ddk_record_init(&rec);
	tool_records_begin(&it, argc, argv);
	d->in_place = opt.in_place;
	while (tool_records_next(&it, &rec)) {
		ddk_status st;

		if (!ddk_reader_place(it.rd, &off)) {
			st = ddk_dataset_add(d, &rec, it.name,
			                     ddk_reader_count(it.rd), &err);
		} else {
			st = input == it.i ? DDK_OK : ddk_dataset_open(d,
			        fileno(it.f), it.name, &err);
			input = it.i;
			if (st == DDK_OK)
				st = ddk_dataset_add_at(d, &rec, off, it.name,
				        ddk_reader_count(it.rd), &err);
		}
		if (st)
			tool_die("%s", err.msg);
		tool_progress("records", d->n, 0);
	}
	tool_records_end(&it);
	ddk_record_free(&rec);
	ddk_dataset_finish(d);
}

/* FNV-style multiply-xor over 8-byte words in four independent lanes (a
 * byte at a time took a quarter second on 60,000 images), record by
 * record, then the labels; it only has to notice that a checkpoint's
 * data changed. */
static uint64_t data_hash(const ddk_dataset *d)
{
	size_t n = (size_t)d->rows * d->cols * sizeof(float);
	float *buf = malloc(n ? n : 1);
	const uint64_t prime = 1099511628211ULL;
	uint64_t h[4] = { 1469598103934665603ULL, 1, 2, 3 }, w;
	ddk_err err;

	if (!buf)
		tool_die("out of memory");
	for (size_t r = 0; r < d->n; r++) {
		const unsigned char *p = (const unsigned char *)
		                         ddk_dataset_values(d, r, buf, &err);
		size_t i = 0;

		if (!p)
			tool_die("%s", err.msg);
		for (; i + 32 <= n; i += 32)
			for (int k = 0; k < 4; k++) {
				memcpy(&w, p + i + 8 * k, 8);
				h[k] = (h[k] ^ w) * prime;
			}
		for (; i < n; i++)
			h[0] = (h[0] ^ p[i]) * prime;
	}
	free(buf);
	for (int k = 1; k < 4; k++)
		h[0] = (h[0] ^ (h[k] >> 29) ^ h[k]) * prime;
	for (size_t i = 0; i < d->n; i++)
		h[0] = (h[0] ^ (uint64_t)d->y[i]) * prime;
	return h[0] ^ h[0] >> 31;
}

static char *fingerprint(const ddk_dataset *d, const ddk_dataset *v,
                         int argc, char **argv)
{
	char *s;
	size_t n;
	FILE *f = open_memstream(&s, &n);

	if (!f)
		tool_die("out of memory");
	fprintf(f, "%s|%zu %016llx|%zu %016llx", matched ? matched : "",
	        d->n, (unsigned long long)data_hash(d), v->n,
	        (unsigned long long)data_hash(v));
	for (int i = 0; i < argc; i++)
		fprintf(f, "|%s", argv[i]);
	if (fclose(f) != 0)
		tool_die("out of memory");
	return s;
}

static ddk_net *make_net(const ddk_dataset *d, ddk_model *init)
{
	ddk_net *net;
	ddk_err err;
	ddk_rng g;
	/* Evaluation runs in training-sized batches too: a larger workspace
	 * would only add memory (each example's result is the same). */
	size_t cap = opt.train.batch;

	if (init) {
		ddk_net_config c = init->net->cfg;

		if (c.rows != d->rows || c.cols != d->cols)
			tool_die("%s: the model takes %ux%u maps, the data is "
			         "%ux%u", opt.init, c.rows, c.cols, d->rows,
			         d->cols);
		if (ddk_net_new(&c, cap, &net, &err))
			tool_die("%s", err.msg);
		ddk_net_copy(net, init->net);
	} else {
		opt.net.rows = d->rows;
		opt.net.cols = d->cols;
		opt.net.n_classes = d->n_classes;
		if (ddk_net_new(&opt.net, cap, &net, &err))
			tool_die("network: %s", err.msg);
		ddk_rng_for_key(&g, opt.train.seed, "init");
		ddk_net_init(net, &g, opt.alpha0, opt.beta0);
	}
	if (net->n_pairs)
		net->param[0].frozen = net->param[1].frozen = opt.freeze;
	return net;
}

static int on_epoch(void *ctx, size_t epoch, const ddk_epoch_stats *s)
{
	(void)ctx;
	if (tool_quiet)
		return 0;
	tool_progress_done("examples", 0);
	fprintf(stderr, "%s: epoch %zu/%zu loss %.5f train %.4f", tool_prog,
	        epoch, opt.train.epochs, s->loss, s->train_acc);
	if (!isnan(s->val_acc))
		fprintf(stderr, " val %.4f", s->val_acc);
	if (s->skipped)
		fprintf(stderr, " skipped %llu (non-finite gradient)",
		        (unsigned long long)s->skipped);
	fprintf(stderr, " %.2f s\n", s->seconds);
	return 0;
}

static void on_batch(void *ctx, size_t epoch, size_t done, size_t total)
{
	(void)ctx;
	(void)epoch;
	tool_progress("examples", done, total);
}

static void describe(const ddk_net *net, const ddk_dataset *d,
                     const ddk_dataset *v)
{
	const ddk_net_config *c = &net->cfg;

	if (tool_quiet)
		return;
	fprintf(stderr, "%s: %zu examples of %ux%u, %zu classes", tool_prog,
	        d->n, d->rows, d->cols, d->n_classes);
	if (v->n)
		fprintf(stderr, ", %zu for validation", v->n);
	fprintf(stderr, ", %s", d->placed ? "read in place" : "in memory");
	fprintf(stderr, "\n%s: ", tool_prog);
	if (c->use_ddk)
		fprintf(stderr, "ddk %s %s K=%zu%s -> ", c->per_row ? "per-row"
		        : "shared", c->mode == DDK_SET ? "set" : "reset",
		        c->channels, opt.freeze ? " frozen" : "");
	fprintf(stderr, "%zu%s", net->n_feat,
	        c->feature_norm ? " (normalised)" : "");
	for (size_t l = 0; l < c->n_hidden; l++)
		fprintf(stderr, " -> %zu%s %s", c->hidden[l],
		        c->batchnorm ? " bn" : "", ddk_activation_name(c->act));
	fprintf(stderr, " -> %zu softmax\n%s: %s lr %g batch %zu, %zu "
	        "epochs, seed %llu\n", c->n_classes, tool_prog,
	        opt.train.optim.kind == DDK_OPT_SGD ? "sgd" : "adam",
	        opt.train.optim.lr, opt.train.batch, opt.train.epochs,
	        (unsigned long long)opt.train.seed);
}

static void print_summary(const ddk_net *net)
{
	ddk_net_cost c;

	ddk_net_cost_of(net, &c);
	printf("part\tparameters\toperations\n");
	printf("ddk\t%llu\t%llu\n", (unsigned long long)c.ddk_params,
	       (unsigned long long)c.ddk_ops);
	printf("feature_norm\t0\t%llu\n", (unsigned long long)c.norm_ops);
	printf("classifier\t%llu\t%llu\n", (unsigned long long)c.clf_params,
	       (unsigned long long)c.clf_macs);
	printf("total\t%llu\t%llu\n",
	       (unsigned long long)(c.ddk_params + c.clf_params),
	       (unsigned long long)(c.ddk_ops + c.norm_ops + c.clf_macs));
}

static void json_number(FILE *f, const char *key, double v, int last)
{
	if (isnan(v))
		fprintf(f, "\"%s\": null%s", key, last ? "" : ", ");
	else
		fprintf(f, "\"%s\": %.17g%s", key, v, last ? "" : ", ");
}

/* The "training" object: deterministic, so no times. */
static char *training_json(const ddk_dataset *d, const ddk_dataset *v,
                           const ddk_train_state *s)
{
	char *out;
	size_t n;
	FILE *f = open_memstream(&out, &n);
	cJSON *str = cJSON_CreateString(recorded ? recorded : "");
	char *quoted = str ? cJSON_PrintUnformatted(str) : NULL;

	if (!f || !quoted)
		tool_die("out of memory");
	fprintf(f, "{\"seed\": %llu, \"options\": %s, \"examples\": %zu, "
	        "\"val_examples\": %zu, \"epochs\": %zu, \"best_epoch\": "
	        "%zu,\n    \"history\": [", (unsigned long long)opt.train.seed,
	        quoted, d->n, v->n, s->epoch, s->best_epoch);
	for (size_t e = 0; e < s->epoch; e++) {
		fprintf(f, "%s\n      {\"epoch\": %zu, ", e ? "," : "", e + 1);
		json_number(f, "loss", s->history[e].loss, 0);
		json_number(f, "train_accuracy", s->history[e].train_acc, 0);
		json_number(f, "val_accuracy", s->history[e].val_acc, 1);
		fprintf(f, "}");
	}
	fprintf(f, "]}");
	if (fclose(f) != 0)
		tool_die("out of memory");
	cJSON_free(quoted);
	cJSON_Delete(str);
	return out;
}

static char *read_hardware(const char *path)
{
	FILE *f = tool_in_open(path);
	char *text = NULL, *out;
	size_t cap = 0;
	ssize_t n = getdelim(&text, &cap, '\0', f);
	cJSON *j;

	tool_in_close(f);
	j = n > 0 ? cJSON_Parse(text) : NULL;
	if (!cJSON_IsObject(j))
		tool_die("%s: not a JSON object", path);
	out = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	free(text);
	if (!out)
		tool_die("out of memory");
	return out;
}

static void resume(ddk_net *net, ddk_train_state *s, const char *fp)
{
	ddk_err err;
	ddk_status st = ddk_checkpoint_load(opt.ckpt, net, s, fp, &err);

	if (st == DDK_ENOTFOUND)
		tool_warn("%s: no checkpoint, starting from the beginning",
		          opt.ckpt);
	else if (st != DDK_OK)
		tool_die("%s", err.msg);
	else if (!tool_quiet)
		tool_warn("%s: resuming after epoch %zu", opt.ckpt, s->epoch);
}

int main(int argc, char **argv)
{
	ddk_dataset d, v;
	ddk_model *init = NULL, m = { 0 };
	ddk_train_state s;
	ddk_err err;
	ddk_net *net;
	int first;
	char *fp;

	tool_init("ddk-train", usage);
	ddk_net_config_default(&opt.net);
	ddk_train_opts_default(&opt.train);
	opt.alpha0 = opt.beta0 = NAN;
	first = parse(argc, argv);
	check_options();
	/* nothing the run reads may be overwritten; the model may be the
	 * starting model (which updates it), the checkpoint may not */
	tool_out_apart("-m", opt.model, argc - first, argv + first, 2,
	               opt.val, opt.hardware);
	tool_out_apart("--checkpoint", opt.ckpt, argc - first, argv + first,
	               3, opt.val, opt.hardware, opt.init);
	if (opt.hardware)
		m.hardware_json = read_hardware(opt.hardware);

	/* the data, with the classes of the starting model if there is one */
	ddk_dataset_init(&d);
	ddk_dataset_init(&v);
	d.keep_keys = opt.val_split > 0;
	if (opt.init && ddk_model_load(opt.init, 0, &init, &err))
		tool_die("%s", err.msg);
	if (init && ddk_dataset_set_classes(&d, init->classes,
	                                    init->net->cfg.n_classes, &err))
		tool_die("%s", err.msg);
	load(&d, argc - first, argv + first);
	if (opt.val_split > 0 &&
	    ddk_dataset_split(&d, opt.val_split, opt.train.seed, &v, &err))
		tool_die("%s", err.msg);
	if (d.n == 0 && v.n > 0)
		tool_die("--val-split %g: no record left for training (%zu "
		         "records)", opt.val_split, v.n);
	if (d.n == 0)
		tool_die("%s: no training records", first < argc ?
		         argv[first] : "-");
	if (opt.val_split > 0 && v.n == 0)
		tool_die("--val-split %g: no record went to validation (%zu "
		         "records)", opt.val_split, d.n);
	if (d.n_classes < 2 && !init)
		tool_die("%s: only one class ('%s'); training needs two or "
		         "more", first < argc ? argv[first] : "-",
		         d.n_classes ? d.classes[0] : "");
	if (opt.val) {
		char *names[1] = { (char *)opt.val };

		if (ddk_dataset_set_classes(&v, d.classes, d.n_classes, &err))
			tool_die("%s", err.msg);
		load(&v, 1, names);
		if (v.n == 0)
			tool_die("%s: no validation records", opt.val);
		if (v.rows != d.rows || v.cols != d.cols)
			tool_die("%s: maps of %ux%u, the training maps are "
			         "%ux%u", opt.val, v.rows, v.cols, d.rows,
			         d.cols);
	}

	/* the network, a fresh state or the checkpoint's, the epochs */
	net = make_net(&d, init);
	fp = fingerprint(&d, &v, argc - first, argv + first);
	opt.train.checkpoint = opt.ckpt;
	opt.train.fingerprint = fp;
	opt.train.on_epoch = on_epoch;
	opt.train.on_batch = on_batch;
	if (ddk_train_state_init(&s, net, &opt.train, &err))
		tool_die("%s", err.msg);
	describe(net, &d, &v);
	if (opt.summary)
		print_summary(net);
	if (opt.resume)
		resume(net, &s, fp);
	if (ddk_train(net, &d, &v, &opt.train, &s, &err))
		tool_die("%s", err.msg);

	/* the model file, then the checkpoint is no longer needed */
	m.net = net;
	m.classes = d.classes;
	m.recipe = (char *)(opt.recipe ? opt.recipe :
	                    init && init->recipe ? init->recipe : "");
	m.freeze_ddk = opt.freeze;
	m.training_json = training_json(&d, &v, &s);
	if (!m.hardware_json && init && init->hardware_json)
		m.hardware_json = strdup(init->hardware_json);
	if (ddk_model_save(opt.model, &m, &err))
		tool_die("%s", err.msg);
	if (!opt.keep_ckpt)
		unlink(opt.ckpt);
	if (!tool_quiet && s.best_epoch)
		tool_warn("kept epoch %zu (validation accuracy %.4f)",
		          s.best_epoch, s.best_acc);

	free(m.training_json);
	free(m.hardware_json);
	free(fp);
	ddk_train_state_free(&s);
	ddk_net_free(&net);
	ddk_model_free(&init);
	ddk_dataset_free(&d);
	ddk_dataset_free(&v);
	return 0;
}
