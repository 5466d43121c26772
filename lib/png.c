/*
 * png.c - heat maps of input and feature maps (see ddk_png.h), written
 * with libpng's simplified API, which reports errors by return value
 * rather than longjmp.
 */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ddk_png.h"

enum { GAP_PX = 8, MAX_CELL_PX = 16, MAX_SIDE_PX = 1 << 15 };

/* Colour stops at 0, 1/4, 1/2, 3/4, 1: dark blue to pale yellow. */
static const unsigned char stops[5][3] = {
	{ 13, 8, 60 }, { 84, 20, 130 }, { 182, 54, 121 },
	{ 243, 120, 60 }, { 252, 235, 160 }
};

static void colour(double f, unsigned char *px)
{
	double pos = (f < 0 ? 0 : f > 1 ? 1 : f) * 4;
	int i = pos >= 4 ? 3 : (int)pos;
	double w = pos - i;

	for (int c = 0; c < 3; c++)
		px[c] = (unsigned char)lround((1 - w) * stops[i][c]
		                              + w * stops[i + 1][c]);
}

static size_t cell_px(size_t target, size_t n)
{
	size_t s = target / n;

	return s < 1 ? 1 : s > MAX_CELL_PX ? MAX_CELL_PX : s;
}

/* Paint one panel into the RGB image (stride bytes a row) at column x0. */
static void paint(unsigned char *img, size_t stride, size_t x0,
                  const ddk_heat *m, size_t sx, size_t sy)
{
	float lo = m->v[0], hi = m->v[0];

	for (size_t i = 1; i < m->rows * m->cols; i++) {
		lo = m->v[i] < lo ? m->v[i] : lo;
		hi = m->v[i] > hi ? m->v[i] : hi;
	}
	for (size_t r = 0; r < m->rows; r++) {
		for (size_t c = 0; c < m->cols; c++) {
			double f = hi > lo ? ((double)m->v[r * m->cols + c]
			                      - lo) / ((double)hi - lo) : 0.5;
			unsigned char px[3];

			colour(f, px);
			for (size_t y = r * sy; y < (r + 1) * sy; y++)
				for (size_t x = c * sx; x < (c + 1) * sx; x++)
					memcpy(img + y * stride
					       + (x0 + x) * 3, px, 3);
		}
	}
}

/* Write img to a temporary file beside path, then rename it there. */
static ddk_status write_atomic(const char *path, png_image *im,
                               const unsigned char *img, ddk_err *err)
{
	char *tmp = malloc(strlen(path) + 16);
	FILE *f;
	int fd, ok;

	if (!tmp)
		return ddk_fail(err, DDK_ENOMEM, "%s: out of memory", path);
	sprintf(tmp, "%s.tmp.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0 || !(f = fdopen(fd, "wb"))) {
		int e = errno;

		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return ddk_fail(err, DDK_EIO, "%s: %s", path, strerror(e));
	}
	ok = png_image_write_to_stdio(im, f, 0, img, 0, NULL);
	ok = fclose(f) == 0 && ok;
	if (ok && rename(tmp, path) == 0) {
		free(tmp);
		return DDK_OK;
	}
	unlink(tmp);
	free(tmp);
	return ddk_fail(err, DDK_EIO, "%s: cannot write the PNG: %s", path,
	                im->message[0] ? im->message : strerror(errno));
}

ddk_status ddk_png_heatmaps(const char *path, const ddk_heat *maps,
                            size_t n, ddk_err *err)
{
	size_t rows = 0, cols = 0, width, height, sx, sy, x0 = 0;
	unsigned char *img;
	png_image im;
	ddk_status s;

	if (n == 0)
		return ddk_fail(err, DDK_EINVAL, "%s: no maps to draw", path);
	for (size_t i = 0; i < n; i++) {
		if (!maps[i].rows || !maps[i].cols)
			return ddk_fail(err, DDK_EINVAL, "%s: map %zu is "
			                "empty", path, i + 1);
		rows = maps[i].rows > rows ? maps[i].rows : rows;
		cols = maps[i].cols > cols ? maps[i].cols : cols;
	}

	/* one cell size for every panel, so rows line up; square cells
	 * where they fit, but at least 64 pixels of height */
	sx = cell_px(512, cols);
	sy = cell_px(256, rows);
	sx = sy = sx < sy ? sx : sy;
	if (sy < cell_px(64, rows))
		sy = cell_px(64, rows);
	width = (n - 1) * GAP_PX;
	for (size_t i = 0; i < n; i++)
		width += maps[i].cols * sx;
	height = rows * sy;
	if (width > MAX_SIDE_PX || height > MAX_SIDE_PX)
		return ddk_fail(err, DDK_ERANGE, "%s: %zu x %zu pixels is too "
		                "large a picture", path, width, height);
	if (!(img = malloc(width * height * 3)))
		return ddk_fail(err, DDK_ENOMEM, "%s: out of memory", path);
	memset(img, 255, width * height * 3);
	for (size_t i = 0; i < n; i++) {
		paint(img, width * 3, x0, &maps[i], sx, sy);
		x0 += maps[i].cols * sx + GAP_PX;
	}

	memset(&im, 0, sizeof im);
	im.version = PNG_IMAGE_VERSION;
	im.width = (png_uint_32)width;
	im.height = (png_uint_32)height;
	im.format = PNG_FORMAT_RGB;
	s = write_atomic(path, &im, img, err);
	free(img);
	return s;
}
