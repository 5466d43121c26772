/*
 * tool.c - conventions shared by every ddk tool (see tool.h).
 */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "tool.h"

const char *tool_prog = "ddk";
int tool_quiet;
static const char *usage_text = "";
static char *out_tmp;        /* temporary -o file, until committed */
static char *out_path;
static FILE *out_file;
static int progress_tty;     /* stderr is a terminal: asked once */
static int progress_shown;   /* a bar is on the terminal's last line */
static int progress_any;     /* some progress was printed */
static int dying;            /* tool_die or a usage error has spoken */

static void remove_tmp(void)
{
	if (out_tmp) {
		unlink(out_tmp);
		free(out_tmp);
		out_tmp = NULL;
	}
}

static void on_signal(int sig)
{
	if (out_tmp)
		unlink(out_tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* At exit: an unfinished -o file goes; a failed stdout is an error,
 * said once: not again after tool_die has said why the tool stops. */
static void at_exit(void)
{
	remove_tmp();
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		if (!dying)
			fprintf(stderr, "%s: stdout: write error: %s\n",
			        tool_prog, strerror(errno));
		_exit(EXIT_BAD);
	}
}

void tool_init(const char *prog, const char *usage)
{
	tool_prog = prog;
	usage_text = usage;
	setlocale(LC_ALL, "C");
	opterr = 0;      /* tool_bad_option says it, in our format */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	atexit(at_exit);
	progress_tty = isatty(STDERR_FILENO);
}

static void vwarn(const char *fmt, va_list ap)
{
	if (progress_shown) {
		fputc('\n', stderr);
		progress_shown = 0;
	}
	fprintf(stderr, "%s: ", tool_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void tool_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void tool_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	dying = 1;
	exit(EXIT_BAD);
}

void tool_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	fputs(usage_text, stderr);
	dying = 1;
	exit(EXIT_USAGE);
}

void tool_bad_option(char **argv)
{
	const char *arg = argv[optind - 1];

	if (optopt && strncmp(arg, "--", 2))
		tool_usage_error("-%c: unknown option or missing value", optopt);
	tool_usage_error("%s: unknown option or missing value", arg);
}

void tool_help(void)
{
	fputs(usage_text, stdout);
	exit(EXIT_SUCCESS);
}

void tool_version(void)
{
	printf("%s (ddk) %s\n", tool_prog, DDK_VERSION);
	exit(EXIT_SUCCESS);
}

long tool_long(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || errno)
		tool_usage_error("%s: '%s' is not a whole number", opt, s);
	if (v < lo || v > hi)
		tool_usage_error("%s: %ld is outside [%ld, %ld]", opt, v, lo, hi);
	return v;
}

/* Parse a number with an optional SI suffix; si says whether allowed. */
static double parse_number(const char *opt, const char *s, int si)
{
	static const struct { const char *p; double f; } pre[] = {
		{ "p", 1e-12 }, { "n", 1e-9 }, { "u", 1e-6 }, { "\xc2\xb5", 1e-6 },
		{ "m", 1e-3 }, { "k", 1e3 }, { "M", 1e6 }, { "G", 1e9 },
	};
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(v))
		tool_usage_error("%s: '%s' is not a finite number", opt, s);
	if (*end && si) {
		for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
			if (!strcmp(end, pre[i].p))
				return v * pre[i].f;
	}
	if (*end)
		tool_usage_error("%s: '%s' is not a number", opt, s);
	return v;
}

static double in_range(const char *opt, double v, double lo, double hi)
{
	if (!(v >= lo && v <= hi))
		tool_usage_error("%s: %g is outside [%g, %g]", opt, v, lo, hi);
	return v;
}

double tool_double(const char *opt, const char *s, double lo, double hi)
{
	return in_range(opt, parse_number(opt, s, 0), lo, hi);
}

double tool_si(const char *opt, const char *s, double lo, double hi)
{
	return in_range(opt, parse_number(opt, s, 1), lo, hi);
}

uint64_t tool_seed(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || *end || errno || *s == '-')
		tool_usage_error("%s: '%s' is not a seed (0 to 2^64-1)", opt, s);
	return v;
}

void tool_pair(const char *opt, const char *s, double *lo, double *hi)
{
	const char *comma = strchr(s, ',');
	char first[64];
	size_t n;

	if (!comma || (n = (size_t)(comma - s)) >= sizeof first)
		tool_usage_error("%s: '%s' is not LO,HI", opt, s);
	memcpy(first, s, n);
	first[n] = '\0';
	*lo = parse_number(opt, first, 1);
	*hi = parse_number(opt, comma + 1, 1);
	if (*lo > *hi)
		tool_usage_error("%s: LO %g is above HI %g", opt, *lo, *hi);
}

size_t tool_list(const char *opt, const char *s, double *v, size_t max,
                 double lo, double hi, int whole)
{
	char *copy = strdup(s), *p = copy;
	size_t n = 0;

	if (!copy)
		tool_die("out of memory");
	for (;;) {
		size_t len = strcspn(p, ",");
		int last = p[len] == '\0';

		if (len == 0)
			tool_usage_error("%s: empty value in '%s'", opt, s);
		if (n == max)
			tool_usage_error("%s: at most %zu values in '%s'", opt,
			                 max, s);
		p[len] = '\0';
		v[n++] = whole ? (double)tool_long(opt, p, (long)lo, (long)hi)
		               : tool_double(opt, p, lo, hi);
		if (last)
			break;
		p += len + 1;
	}
	free(copy);
	return n;
}

int tool_choice(const char *opt, const char *s, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(s, names[i]))
			return i;
	tool_usage_error("%s: '%s' is not one of the choices", opt, s);
}

void tool_not_input(const char *opt, const char *out,
                    const char *const *ins, size_t n)
{
	struct stat so, si;
	int exists;

	if (!out || !strcmp(out, "-"))
		return;
	exists = stat(out, &so) == 0;
	if (exists && !S_ISREG(so.st_mode))
		return;                 /* a device or FIFO is written into */
	for (size_t i = 0; i < n; i++) {
		if (!ins[i] || !strcmp(ins[i], "-"))
			continue;
		if (exists ? stat(ins[i], &si) == 0 &&
		             si.st_dev == so.st_dev && si.st_ino == so.st_ino
		           : !strcmp(ins[i], out))
			tool_usage_error("%s %s: that is the input file %s; "
			                 "writing it would lose the data", opt,
			                 out, ins[i]);
	}
}

void tool_out_apart(const char *opt, const char *out, int argc, char **argv,
                    int more, ...)
{
	const char **ins = malloc(((size_t)argc + (size_t)more) * sizeof *ins +
	                          1);
	size_t n = 0;
	va_list ap;

	if (!ins)
		tool_die("out of memory");
	for (int i = 0; i < argc; i++)
		ins[n++] = argv[i];
	va_start(ap, more);
	for (int i = 0; i < more; i++)
		ins[n++] = va_arg(ap, const char *);
	va_end(ap);
	tool_not_input(opt, out, ins, n);
	free(ins);
}

FILE *tool_out_open(const char *path)
{
	struct stat st;
	mode_t mask;
	int fd;

	if (!path || !strcmp(path, "-"))
		return stdout;
	if (out_file)
		tool_die("%s: only one output file", path);

	if (!(out_path = strdup(path)))
		tool_die("out of memory");

	/* A device or FIFO (-o /dev/null) is written in place: renaming a
	 * temporary onto it would replace the node with a regular file. */
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		if (!(out_file = fopen(path, "wb")))
			tool_die("%s: %s", path, strerror(errno));
		return out_file;
	}
	if (!(out_tmp = malloc(strlen(path) + 16)))
		tool_die("out of memory");
	sprintf(out_tmp, "%s.tmp.XXXXXX", path);
	fd = mkstemp(out_tmp);
	if (fd < 0) {
		free(out_tmp);
		out_tmp = NULL;
		tool_die("%s: %s", path, strerror(errno));
	}
	mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	out_file = fdopen(fd, "wb");
	if (!out_file)
		tool_die("%s: %s", path, strerror(errno));
	return out_file;
}

void tool_out_commit(void)
{
	if (!out_file) {
		if (fflush(stdout) != 0 || ferror(stdout))
			tool_die("stdout: write error: %s", strerror(errno));
		return;
	}
	if (fflush(out_file) != 0 || ferror(out_file) || fclose(out_file)) {
		out_file = NULL;
		tool_die("%s: write error: %s", out_path, strerror(errno));
	}
	out_file = NULL;
	if (!out_tmp)
		return;
	if (rename(out_tmp, out_path) != 0)
		tool_die("%s: %s", out_path, strerror(errno));
	free(out_tmp);
	out_tmp = NULL;
}

FILE *tool_in_open(const char *path)
{
	FILE *f;

	if (!strcmp(path, "-"))
		return stdin;
	f = fopen(path, "rb");
	if (!f)
		tool_die("%s: %s", path, strerror(errno));
	return f;
}

void tool_in_close(FILE *f)
{
	if (f && f != stdin)
		fclose(f);
}

static char *stdin_name[] = { "-" };

void tool_records_begin(tool_records *it, int argc, char **argv)
{
	memset(it, 0, sizeof *it);
	it->names = argc > 0 ? argv : stdin_name;
	it->n = argc > 0 ? argc : 1;
}

int tool_records_next(tool_records *it, ddk_record *rec)
{
	ddk_err err;

	for (;;) {
		ddk_status s;

		if (!it->rd) {
			if (it->i >= it->n)
				return 0;
			it->name = it->names[it->i++];
			it->f = tool_in_open(it->name);
			it->rd = ddk_reader_new(it->f, it->name);
			if (!it->rd)
				tool_die("out of memory");
		}
		s = ddk_reader_next(it->rd, rec, &err);
		if (s == DDK_OK)
			return 1;
		if (s != DDK_END)
			tool_die("%s", err.msg);
		ddk_reader_free(&it->rd);
		tool_in_close(it->f);
		it->f = NULL;
	}
}

void tool_records_end(tool_records *it)
{
	ddk_reader_free(&it->rd);
	tool_in_close(it->f);
	it->f = NULL;
}

void tool_write(FILE *f, const ddk_record *r, int tsv)
{
	ddk_err err;

	if (ddk_write_record(f, r, tsv, &err))
		tool_die("%s: %s", f == stdout ? "stdout" : out_path, err.msg);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void tool_progress_show(const char *what, uint64_t done, uint64_t total)
{
	static double last;
	int tty = progress_tty;
	double t = now_s();

	if (t - last < (tty ? 0.2 : 5.0))
		return;
	if (last == 0) {
		last = t;       /* the clock starts with the first call */
		return;
	}
	last = t;
	progress_any = 1;
	if (tty && total) {
		int w = (int)(30.0 * done / total);
		fprintf(stderr, "\r%s: %s [%.*s%*s] %3d%%", tool_prog, what, w,
		        "##############################", 30 - w, "",
		        (int)(100.0 * done / total));
		progress_shown = 1;
	} else if (tty) {
		fprintf(stderr, "\r%s: %s %llu", tool_prog, what,
		        (unsigned long long)done);
		progress_shown = 1;
	} else if (total) {
		fprintf(stderr, "%s: %s %llu/%llu\n", tool_prog, what,
		        (unsigned long long)done, (unsigned long long)total);
	} else {
		fprintf(stderr, "%s: %s %llu\n", tool_prog, what,
		        (unsigned long long)done);
	}
}

void tool_progress_done(const char *what, uint64_t done)
{
	if (tool_quiet || !progress_any)
		return;
	if (progress_shown)
		fputc('\r', stderr);
	fprintf(stderr, "%s: %s %llu done%s\n", tool_prog, what,
	        (unsigned long long)done, progress_shown ? "        " : "");
	progress_shown = 0;
}
