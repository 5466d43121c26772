/*
 * tool.h - what every ddk tool shares: messages, exit codes, option
 * values, atomic output, input iteration and progress.
 *
 * Exit codes: 0 success, 1 bad input or a failure while running, 2 usage.
 * Messages go to stderr as "prog: where: what".  Data goes to stdout, or to
 * -o FILE, written to a temporary file beside FILE and renamed only when the
 * tool succeeds; any exit through tool_die() or a nonzero status removes it.
 */
#ifndef DDK_TOOL_H
#define DDK_TOOL_H

#include <stdint.h>
#include <stdio.h>
#include "ddk.h"

enum { EXIT_BAD = 1, EXIT_USAGE = 2 };

/* Set the program name, the usage text (printed by --help and on usage
 * errors), C locale, default SIGPIPE, and an exit hook that checks stdout
 * closed cleanly and removes unfinished -o files. */
void tool_init(const char *prog, const char *usage);
extern const char *tool_prog;
extern int tool_quiet;       /* -q: no progress */

/* "prog: fmt\n" on stderr. */
void tool_warn(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* tool_warn, then exit(1). */
_Noreturn void tool_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* "prog: fmt", usage hint on stderr, exit(2). */
_Noreturn void tool_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* A usage error for the option getopt_long just refused (its '?'). */
_Noreturn void tool_bad_option(char **argv);
/* Usage on stdout, exit 0 (--help); version on stdout, exit 0. */
_Noreturn void tool_help(void);
_Noreturn void tool_version(void);

/*
 * Option values.  Each parses the whole of s or calls tool_usage_error
 * naming the option opt ("--length").  SI prefixes (p n u m k M G, and 'µ')
 * are accepted by tool_si.
 */
long tool_long(const char *opt, const char *s, long lo, long hi);
double tool_double(const char *opt, const char *s, double lo, double hi);
double tool_si(const char *opt, const char *s, double lo, double hi);
uint64_t tool_seed(const char *opt, const char *s);
/* "V[,V...]": at most max values into v, each in [lo, hi] and whole
 * when whole is set; returns the count.  An empty value or more than max
 * values is a usage error naming "at most max values". */
size_t tool_list(const char *opt, const char *s, double *v, size_t max,
                 double lo, double hi, int whole);
/* "LO,HI" with lo <= hi, each in [lo_min, hi_max]. */
void tool_pair(const char *opt, const char *s, double *lo, double *hi);
/* Index of s in the NULL-terminated names, or a usage error. */
int tool_choice(const char *opt, const char *s, const char *const *names);

/* Output: path NULL or "-" is stdout.  tool_out_open returns the stream to
 * write; tool_out_commit flushes, checks and renames it into place (call
 * once, on success).  One -o file per tool.  An existing device or FIFO
 * (-o /dev/null) is written directly, never replaced. */
FILE *tool_out_open(const char *path);
void tool_out_commit(void);

/* A usage error (status 2) when out, the file an output option opt names,
 * is one of the n input files ins under any name (same device and inode,
 * or the same name when out does not exist yet; NULL and "-" are
 * skipped): writing it would replace what is read. */
void tool_not_input(const char *opt, const char *out,
                    const char *const *ins, size_t n);
/* The same against the inputs argv[0..argc-1] and the more other files
 * the tool reads (const char *, NULL for none), listed after. */
void tool_out_apart(const char *opt, const char *out, int argc, char **argv,
                    int more, ...);

/* Open a named input, "-" meaning stdin, or die naming it. */
FILE *tool_in_open(const char *path);
void tool_in_close(FILE *f);

/*
 * Iterate over the records of the inputs named in argv[0..argc-1] (stdin
 * when argc is 0).  Returns 1 with rec filled, 0 at the end of all inputs;
 * a bad stream dies with the message from the library.
 */
typedef struct tool_records {
	char **names;
	int n, i;
	FILE *f;
	ddk_reader *rd;
	const char *name;   /* name of the current input */
} tool_records;
void tool_records_begin(tool_records *it, int argc, char **argv);
int tool_records_next(tool_records *it, ddk_record *rec);
void tool_records_end(tool_records *it);

/* Write a record or die. */
void tool_write(FILE *f, const ddk_record *r, int tsv);

/* Progress: a bar on a terminal, plain lines every few seconds otherwise,
 * nothing with -q.  total 0 means unknown.  tool_progress_done ends it.
 * Call it as often as you like: whether stderr is a terminal is asked
 * once, in tool_init; with -q a call costs one test, and otherwise one
 * read of the clock (a line is printed at most every 0.2 s or 5 s). */
void tool_progress_show(const char *what, uint64_t done, uint64_t total);
static inline void tool_progress(const char *what, uint64_t done,
                                 uint64_t total)
{
	if (!tool_quiet)
		tool_progress_show(what, done, total);
}
void tool_progress_done(const char *what, uint64_t done);

#endif
