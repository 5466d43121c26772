/*
 * ddk_png.h - input and feature maps as PNG heat maps, to look at what the
 * DDK layer learned (as in the whale-song figure of Shi et al., 2025).
 *
 * Method.  Each panel is one map (rows top to bottom, steps left to
 * right), scaled to its own minimum and maximum and coloured from dark
 * blue (low) through magenta and orange to pale yellow (high); panels
 * stand side by side on white, a gap between them, tops aligned.  Every
 * cell is drawn as a block of sx by sy pixels, the same for all panels,
 * chosen so a small map is still visible (at most 16 pixels a side).
 * A panel whose values are all equal is drawn in the middle colour.
 *
 * Ownership.  The caller owns the maps; nothing is kept.
 * Errors.  DDK_EINVAL for no panels or an empty one, DDK_ERANGE when the
 * image would pass 2^15 pixels a side, DDK_EIO when the file cannot be
 * written (err names it), DDK_ENOMEM.  The file appears atomically: it is
 * written beside path and renamed, so a failure leaves no half image.
 */
#ifndef DDK_PNG_H
#define DDK_PNG_H

#include <stddef.h>
#include "ddk_base.h"

typedef struct ddk_heat {
	const float *v;         /* rows x cols, row-major, finite */
	size_t rows, cols;
} ddk_heat;

ddk_status ddk_png_heatmaps(const char *path, const ddk_heat *maps,
                            size_t n, ddk_err *err);

#endif
