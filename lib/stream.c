/*
 * stream.c - reading and writing tensor-stream records (ddk_stream.h).
 *
 * The reader keeps its own buffer over the FILE, so it can look
 * at the first bytes to tell binary from text without pushing anything
 * back, and so a binary record costs no system call of its own: its
 * header, key and label are decoded and checked where they lie in the
 * buffer, and its values copied out once.  (Mapping the file instead was
 * measured slower: the page-table work outweighed the copy it saves.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ddk_stream.h"

#define BUF_FILE (1u << 17)     /* read buffer over a regular file */
#define BUF_PIPE (1u << 16)     /* over anything else; holds any header */
#define SNIFF_SIZE 65536        /* bytes searched for NUL in a text stream */
#define HEADER_SIZE 24
#define NAMES_MAX (HEADER_SIZE + DDK_KEY_MAX + DDK_LABEL_MAX)
static const char magic[4] = { 'D', 'D', 'K', 'S' };

/* The bytes at hand are buf[pos..len). */
struct ddk_reader {
	FILE *f;
	char *name;
	unsigned char *buf;     /* cap bytes, allocated on first use */
	size_t cap, pos, len;
	int eof, error;
	int form;           /* 0 not yet known, 1 binary, 2 text */
	int regular;        /* f is a regular file, base its start offset */
	uint64_t base;
	uint64_t buf_at;    /* stream offset of buf[0] */
	uint64_t values_at; /* binary: stream offset of the last values */
	uint64_t count;     /* records read */
	uint64_t line;      /* text: lines read */
	char *lbuf;         /* text: the current line */
	size_t lcap;
};

void ddk_record_init(ddk_record *r)
{
	memset(r, 0, sizeof *r);
}

void ddk_record_free(ddk_record *r)
{
	free(r->key);
	free(r->label);
	free(r->v);
	ddk_record_init(r);
}

/* Grow *p to at least n bytes; *cap tracks its size. */
static int grow(void *pp, size_t *cap, size_t n)
{
	void **p = pp;
	void *q;

	if (n <= *cap && *p)
		return 0;
	q = realloc(*p, n ? n : 1);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/*
 * Control characters (NUL among them) would break the text form, or
 * (right after a leading "DDKS") its detection.  Keys are checked for
 * every record read and written, so eight bytes are tested at a time: a
 * byte below 0x20 borrows into its top bit when 0x20 is taken from it
 * (bytes with the top bit set already are masked out), and 0x7f is a
 * zero byte after xor with 0x7f.  A borrow can only follow a byte that
 * is itself bad, so the test is exact.
 */
#define ONES UINT64_C(0x0101010101010101)
#define HIGH UINT64_C(0x8080808080808080)

static int bad_byte(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* The n bytes at p hold no control character (nor NUL). */
static int clean_bytes(const unsigned char *p, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w, d;

		memcpy(&w, p + i, 8);
		d = w ^ (0x7f * ONES);
		if ((((w - 0x20 * ONES) & ~w) | ((d - ONES) & ~d)) & HIGH)
			return 0;
	}
	for (; i < n; i++)
		if (bad_byte(p[i]))
			return 0;
	return 1;
}

int ddk_shown(const char *s, int max)
{
	int n = 0;

	while (n < max && s[n] && !bad_byte((unsigned char)s[n]))
		n++;
	return n;
}

/* Length of s, or SIZE_MAX when it holds a control character. */
static size_t clean_len(const char *s)
{
	size_t n = strlen(s);

	return clean_bytes((const unsigned char *)s, n) ? n : SIZE_MAX;
}

ddk_status ddk_check_names(const char *key, const char *label, ddk_err *err)
{
	size_t kc = clean_len(key), lc = clean_len(label);
	size_t kn = kc != SIZE_MAX ? kc : strlen(key);
	size_t ln = lc != SIZE_MAX ? lc : strlen(label);

	if (kn == 0)
		return ddk_fail(err, DDK_EINVAL, "empty key");
	if (kn > DDK_KEY_MAX)
		return ddk_fail(err, DDK_ERANGE, "key of %zu bytes (at most "
		                "%u)", kn, DDK_KEY_MAX);
	if (ln > DDK_LABEL_MAX)
		return ddk_fail(err, DDK_ERANGE,
		                "label of %zu bytes (at most %u)", ln,
		                DDK_LABEL_MAX);
	int shown = ddk_shown(key, 40);

	if (key[0] == '#')
		return ddk_fail(err, DDK_EINVAL, "key '%.*s' starts with '#', "
		                "which marks a comment in the text form", shown,
		                key);
	if (kc == SIZE_MAX)
		return ddk_fail(err, DDK_EINVAL, "key holds a tab, line break "
		                "or other control character after '%.*s'",
		                shown, key);
	if (lc == SIZE_MAX)
		return ddk_fail(err, DDK_EINVAL, "label of key '%.*s' holds "
		                "a tab, line break or other control character",
		                shown, key);
	return DDK_OK;
}
/* Size r for rows x cols, checking the value limit. */
static ddk_status record_shape(ddk_record *r, uint32_t rows, uint32_t cols,
                               ddk_err *err)
{
	uint64_t n = (uint64_t)rows * cols;

	if (n > DDK_VALUES_MAX)
		return ddk_fail(err, DDK_ERANGE,
		                "%u x %u values exceed the limit of %u", rows,
		                cols, DDK_VALUES_MAX);
	if (grow(&r->v, &r->v_cap, (size_t)n * sizeof(float)))
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	r->rows = rows;
	r->cols = cols;
	return DDK_OK;
}

static ddk_status set_string(char **dst, size_t *cap, const char *s,
                             size_t n, ddk_err *err)
{
	if (grow(dst, cap, n + 1))
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	memcpy(*dst, s, n);
	(*dst)[n] = '\0';
	return DDK_OK;
}

ddk_status ddk_record_set(ddk_record *r, const char *key, const char *label,
                          uint32_t rows, uint32_t cols, ddk_err *err)
{
	ddk_status s;

	if (!label)
		label = "";
	if ((s = ddk_check_names(key, label, err)))
		return s;
	if ((s = set_string(&r->key, &r->key_cap, key, strlen(key), err)))
		return s;
	if ((s = set_string(&r->label, &r->label_cap, label, strlen(label),
	                    err)))
		return s;
	return record_shape(r, rows, cols, err);
}

ddk_status ddk_record_copy(ddk_record *dst, const ddk_record *src,
                           ddk_err *err)
{
	ddk_status s = ddk_record_set(dst, src->key, src->label, src->rows,
	                              src->cols, err);

	if (s == DDK_OK)
		memcpy(dst->v, src->v,
		       (size_t)src->rows * src->cols * sizeof(float));
	return s;
}

ddk_reader *ddk_reader_new(FILE *f, const char *name)
{
	ddk_reader *rd = calloc(1, sizeof *rd);

	if (!rd)
		return NULL;
	rd->name = strdup(name ? name : "-");
	if (!rd->name) {
		free(rd);
		return NULL;
	}
	rd->f = f;
	return rd;
}

void ddk_reader_free(ddk_reader **rd)
{
	if (!rd || !*rd)
		return;
	free((*rd)->buf);
	free((*rd)->lbuf);
	free((*rd)->name);
	free(*rd);
	*rd = NULL;
}

uint64_t ddk_reader_count(const ddk_reader *rd)
{
	return rd->count;
}

int ddk_reader_place(const ddk_reader *rd, uint64_t *off)
{
	if (rd->form != 1 || !rd->regular || rd->count == 0)
		return 0;
	*off = rd->base + rd->values_at;
	return 1;
}

/*
 * The buffer: 128 KiB over a regular file, so a record costs no system call
 * of its own; 64 KiB over a pipe or terminal, since fread waits until it
 * has filled what it was asked for, and a record should not wait long
 * for the ones behind it.
 */
static int start(ddk_reader *rd)
{
	struct stat st;
	int fd = fileno(rd->f);
	off_t at;

	rd->regular = fd >= 0 && !fstat(fd, &st) && S_ISREG(st.st_mode);
	rd->cap = rd->regular ? BUF_FILE : BUF_PIPE;
	if (rd->regular && (at = ftello(rd->f)) >= 0)
		rd->base = (uint64_t)at;
	else
		rd->regular = 0;
	rd->buf = malloc(rd->cap);
	return rd->buf ? 0 : -1;
}

/*
 * Make at least want bytes (at most BUF_PIPE) lie together at buf + pos,
 * or as many as the stream still has: the unread bytes move to the front
 * and fread fills the rest of the buffer.  Returns the bytes at hand, or
 * SIZE_MAX when out of memory.
 */
static size_t need(ddk_reader *rd, size_t want)
{
	size_t have = rd->len - rd->pos, n;

	if (have >= want || rd->eof)
		return have;
	if (!rd->buf && start(rd))
		return SIZE_MAX;
	if (rd->pos)
		memmove(rd->buf, rd->buf + rd->pos, have);
	rd->buf_at += rd->pos;
	rd->pos = 0;
	rd->len = have;
	n = fread(rd->buf + have, 1, rd->cap - have, rd->f);
	rd->len += n;
	if (rd->len < rd->cap) {
		rd->eof = 1;
		rd->error = ferror(rd->f);
	}
	return rd->len;
}

/* Copy up to n bytes into dst; returns how many were copied.  What the
 * buffer lacks of a block larger than the buffer is read straight into
 * dst. */
static size_t take(ddk_reader *rd, void *dst, size_t n)
{
	unsigned char *d = dst;
	size_t done = 0;

	while (done < n) {
		size_t have = rd->len - rd->pos, k;

		if (have == 0 && rd->buf && !rd->eof && n - done >= rd->cap) {
			k = fread(d + done, 1, n - done, rd->f);
			rd->buf_at += rd->len + k;
			rd->pos = rd->len = 0;
			if ((done += k) < n) {
				rd->eof = 1;
				rd->error = ferror(rd->f);
			}
			break;
		}
		if (have == 0)
			have = need(rd, 1);
		if (have == 0 || have == SIZE_MAX)
			break;
		k = n - done < have ? n - done : have;
		memcpy(d + done, rd->buf + rd->pos, k);
		rd->pos += k;
		done += k;
	}
	return done;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

static int host_is_le(void)
{
	const uint16_t one = 1;

	return *(const unsigned char *)&one == 1;
}

/* Convert n float32 values between little-endian and host order. */
static void swap_floats(float *v, size_t n)
{
	unsigned char *p = (unsigned char *)v;

	if (host_is_le())
		return;
	for (size_t i = 0; i < n; i++, p += 4) {
		unsigned char t = p[0];
		p[0] = p[3];
		p[3] = t;
		t = p[1];
		p[1] = p[2];
		p[2] = t;
	}
}

static ddk_status read_error(ddk_reader *rd, ddk_err *err, const char *key,
                             const char *what)
{
	uint64_t n = rd->count + 1;

	if (rd->error)
		return ddk_fail(err, DDK_EIO, "%s: record %llu: %s", rd->name,
		                (unsigned long long)n, strerror(errno));
	if (key)
		return ddk_fail(err, DDK_EFORMAT,
		                "%s: record %llu (key %.80s): %s", rd->name,
		                (unsigned long long)n, key, what);
	return ddk_fail(err, DDK_EFORMAT, "%s: record %llu: %s", rd->name,
	                (unsigned long long)n, what);
}

/* The header, key and label of a binary record, decoded where they lie
 * in the buffer (need() puts them together). */
static ddk_status binary_names(ddk_reader *rd, ddk_record *r,
                               uint32_t *rows, uint32_t *cols, ddk_err *err)
{
	size_t have = need(rd, HEADER_SIZE);
	const unsigned char *h;
	uint32_t kn, ln;

	/* Header: a clean end is only allowed before its first byte. */
	if (have == SIZE_MAX)
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	if (have == 0 && !rd->error)
		return DDK_END;
	if (have < HEADER_SIZE)
		return read_error(rd, err, NULL, "truncated header");
	h = rd->buf + rd->pos;
	if (memcmp(h, magic, 4))
		return read_error(rd, err, NULL,
		                  "bad magic (not a ddk record)");
	kn = le32(h + 8);
	ln = le32(h + 12);
	if (le32(h + 4) != DDK_STREAM_VERSION)
		return read_error(rd, err, NULL, "unsupported stream version");
	if (kn == 0 || kn > DDK_KEY_MAX)
		return read_error(rd, err, NULL, "key length out of range");
	if (ln > DDK_LABEL_MAX)
		return read_error(rd, err, NULL, "label length out of range");

	/* Key and label, checked where they lie, then copied once. */
	if (grow(&r->key, &r->key_cap, kn + 1) ||
	    grow(&r->label, &r->label_cap, ln + 1))
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	if ((have = need(rd, HEADER_SIZE + kn + ln)) == SIZE_MAX)
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	h = rd->buf + rd->pos;
	if (have < HEADER_SIZE + kn)
		return read_error(rd, err, NULL, "truncated key");
	memcpy(r->key, h + HEADER_SIZE, kn);
	r->key[kn] = '\0';
	if (have < HEADER_SIZE + kn + ln)
		return read_error(rd, err, r->key, "truncated label");
	memcpy(r->label, h + HEADER_SIZE + kn, ln);
	r->label[ln] = '\0';
	if (h[HEADER_SIZE] == '#' || !clean_bytes(h + HEADER_SIZE, kn + ln))
		return read_error(rd, err, NULL, "key or label holds a "
		                  "control character");
	*rows = le32(h + 16);
	*cols = le32(h + 20);
	rd->pos += HEADER_SIZE + kn + ln;
	return DDK_OK;
}

static ddk_status next_binary(ddk_reader *rd, ddk_record *r, ddk_err *err)
{
	uint32_t rows = 0, cols = 0;
	size_t n;
	ddk_status s;
	ddk_err shape;

	if ((s = binary_names(rd, r, &rows, &cols, err)))
		return s;

	/* Values: one copy out of the buffer (or none, for large ones). */
	if (record_shape(r, rows, cols, &shape))
		return read_error(rd, err, r->key, shape.msg);
	n = (size_t)rows * cols;
	rd->values_at = rd->buf_at + rd->pos;
	if (take(rd, r->v, n * sizeof(float)) < n * sizeof(float))
		return read_error(rd, err, r->key, "truncated values");
	swap_floats(r->v, n);
	rd->count++;
	return DDK_OK;
}

/* Read one line into rd->lbuf without its newline; 0 at the end. */
static int read_line(ddk_reader *rd, size_t *len)
{
	size_t n = 0;

	for (;;) {
		size_t have = need(rd, 1);
		const unsigned char *nl;
		size_t k;

		if (have == SIZE_MAX)
			return -1;
		if (have == 0) {
			if (n == 0)
				return 0;
			break;
		}
		nl = memchr(rd->buf + rd->pos, '\n', have);
		k = nl ? (size_t)(nl - (rd->buf + rd->pos)) : have;
		if (grow(&rd->lbuf, &rd->lcap, n + k + 1))
			return -1;
		memcpy(rd->lbuf + n, rd->buf + rd->pos, k);
		n += k;
		rd->pos += k;
		if (nl) {
			rd->pos++;
			break;
		}
	}
	if (n && rd->lbuf[n - 1] == '\r')
		n--;
	rd->lbuf[n] = '\0';
	rd->line++;
	*len = n;
	return 1;
}

static ddk_status line_error(ddk_reader *rd, ddk_err *err, const char *key,
                             const char *what)
{
	if (key)
		return ddk_fail(err, DDK_EFORMAT,
		                "%s: line %llu (key %.80s): %s", rd->name,
		                (unsigned long long)rd->line, key, what);
	return ddk_fail(err, DDK_EFORMAT, "%s: line %llu: %s", rd->name,
	                (unsigned long long)rd->line, what);
}

/* Parse a whole field as an unsigned 32-bit count. */
static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static ddk_status parse_text(ddk_reader *rd, ddk_record *r, char *line,
                             ddk_err *err)
{
	char *f[4], *p = line, *t = NULL;
	uint32_t rows, cols;
	size_t n;
	ddk_err why;

	/* The four leading fields; t says whether values follow. */
	for (int i = 0; i < 4; i++) {
		t = strchr(p, '\t');
		f[i] = p;
		if (!t && i < 3)
			return line_error(rd, err, NULL, "fewer than 4 fields");
		if (t)
			*t = '\0';
		p = t ? t + 1 : p + strlen(p);
	}
	if (ddk_check_names(f[0], f[1], &why))
		return line_error(rd, err, NULL, why.msg);
	if (parse_u32(f[2], &rows) || parse_u32(f[3], &cols))
		return line_error(rd, err, f[0],
		                  "rows and cols must be counts");
	if (ddk_record_set(r, f[0], f[1], rows, cols, &why))
		return line_error(rd, err, f[0], why.msg);

	/* The values, exactly rows*cols of them. */
	n = (size_t)rows * cols;
	if (n > 0 && !t)
		return line_error(rd, err, r->key, "fewer values than "
		                  "rows x cols");
	if (n == 0 && t)
		return line_error(rd, err, r->key,
		                  "more values than rows x cols");
	for (size_t i = 0; i < n; i++) {
		char *end;

		r->v[i] = strtof(p, &end);
		if (end == p || (*end && *end != '\t'))
			return line_error(rd, err, r->key, "a value is not a "
			                  "number");
		if (i + 1 < n && !*end)
			return line_error(rd, err, r->key, "fewer values than "
			                  "rows x cols");
		if (i + 1 == n && *end)
			return line_error(rd, err, r->key, "more values than "
			                  "rows x cols");
		p = end + 1;
	}
	rd->count++;
	return DDK_OK;
}

static ddk_status next_text(ddk_reader *rd, ddk_record *r, ddk_err *err)
{
	size_t len;
	int got;

	while ((got = read_line(rd, &len)) > 0)
		if (len && rd->lbuf[0] != '#')
			break;
	if (got < 0)
		return ddk_fail(err, DDK_ENOMEM, "out of memory");
	if (got == 0)
		return rd->error ? read_error(rd, err, NULL, "read failed")
		                 : DDK_END;
	if (strlen(rd->lbuf) != len)
		return line_error(rd, err, NULL, "NUL byte in a text line");
	return parse_text(rd, r, rd->lbuf, err);
}

ddk_status ddk_reader_next(ddk_reader *rd, ddk_record *r, ddk_err *err)
{
	/* The first bytes decide the form of the whole stream. */
	if (rd->form == 0) {
		size_t have = need(rd, 5);
		const unsigned char *b = rd->buf + rd->pos;

		if (have == SIZE_MAX)
			return ddk_fail(err, DDK_ENOMEM, "out of memory");
		if (have == 0)
			return rd->error
			       ? read_error(rd, err, NULL, "read failed")
			       : DDK_END;

		/* A text key may start with the magic too, but is then followed
		 * by a printable byte or a TAB, never by the low byte of a
		 * version number. */
		rd->form = (have >= 5 && !memcmp(b, magic, 4) && b[4] < 0x20 &&
		            b[4] != '\t') ? 1 : 2;
		if (rd->form == 2 &&
		    memchr(b, '\0', have < SNIFF_SIZE ? have : SNIFF_SIZE))
			return read_error(rd, err, NULL, "neither a binary ddk "
			                  "stream nor text");
	}
	return rd->form == 1 ? next_binary(rd, r, err)
	                     : next_text(rd, r, err);
}

static void write_text(FILE *f, const ddk_record *r)
{
	size_t n = (size_t)r->rows * r->cols;

	fprintf(f, "%s\t%s\t%u\t%u", r->key, r->label, r->rows, r->cols);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "\t%.9g", r->v[i]);
	putc('\n', f);
}

/* Header, key and label go out as one block, the values as another, so a
 * record costs two copies into f's buffer and no system call of its own
 * (give f a buffer of a few hundred KiB: see setvbuf). */
static void write_binary(FILE *f, const ddk_record *r)
{
	unsigned char h[NAMES_MAX];
	size_t kn = strlen(r->key), ln = strlen(r->label);
	size_t n = (size_t)r->rows * r->cols;

	memcpy(h, magic, 4);
	put_le32(h + 4, DDK_STREAM_VERSION);
	put_le32(h + 8, (uint32_t)kn);
	put_le32(h + 12, (uint32_t)ln);
	put_le32(h + 16, r->rows);
	put_le32(h + 20, r->cols);
	memcpy(h + HEADER_SIZE, r->key, kn);
	memcpy(h + HEADER_SIZE + kn, r->label, ln);
	fwrite(h, 1, HEADER_SIZE + kn + ln, f);
	if (host_is_le()) {
		fwrite(r->v, sizeof(float), n, f);
	} else {
		for (size_t i = 0; i < n; i++) {
			float x = r->v[i];
			swap_floats(&x, 1);
			fwrite(&x, sizeof x, 1, f);
		}
	}
}

ddk_status ddk_read_values(int fd, uint64_t off, float *v, size_t n,
                            ddk_err *err)
{
	unsigned char *p = (unsigned char *)v;
	size_t want = n * sizeof *v, done = 0;

	while (done < want) {
		ssize_t k = pread(fd, p + done, want - done,
		                  (off_t)(off + done));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return ddk_fail(err, DDK_EIO, "%s", strerror(errno));
		if (k == 0)
			return ddk_fail(err, DDK_EFORMAT, "values cut short");
		done += (size_t)k;
	}
	swap_floats(v, n);
	return DDK_OK;
}

ddk_status ddk_write_record(FILE *f, const ddk_record *r, int tsv,
                            ddk_err *err)
{
	ddk_status s = ddk_check_names(r->key, r->label, err);

	if (s)
		return s;
	if ((uint64_t)r->rows * r->cols > DDK_VALUES_MAX)
		return ddk_fail(err, DDK_ERANGE, "key %.80s: record too large",
		                r->key);
	if (tsv)
		write_text(f, r);
	else
		write_binary(f, r);
	if (ferror(f))
		return ddk_fail(err, DDK_EIO, "write error: %s",
		                strerror(errno));
	return DDK_OK;
}
