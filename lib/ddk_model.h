/*
 * ddk_model.h - model files: a trained DDK network with its metadata, as
 * JSON (man/ddk-model.5).
 *
 * A model file holds the format name "ddk-model" and its version, the
 * input shape, the preprocessing recipe, the DDK layer
 *   "ddk": {"mode": "reset"|"set", "layout": "shared"|"row",
 *           "channels": K, "alpha": [...], "beta": [...], ...}
 * (null without a DDK layer), the feature-norm statistics, the classifier
 * layers, the class names, how it was trained and a hardware-constraints
 * object.  Numbers are written with 17 significant digits, so every
 * float and double reads back bit for bit.
 *
 * Ownership.  ddk_model_load allocates the model and its network;
 * ddk_model_free releases both and clears the pointer.  Strings in the
 * model are owned by it.
 * Errors.  Loading returns DDK_EIO (cannot read), DDK_EFORMAT (not JSON,
 * another format or version, a missing or mistyped field, an array of the
 * wrong size) or DDK_ENOMEM, with err naming the file and the field; no
 * model is returned then.  Saving writes a temporary file beside the
 * target and renames it into place, so a reader never sees half a model.
 */
#ifndef DDK_MODEL_H
#define DDK_MODEL_H

#include <stddef.h>
#include "ddk_base.h"
#include "ddk_nn.h"

#define DDK_MODEL_FORMAT "ddk-model"
#define DDK_MODEL_VERSION 1

typedef struct ddk_model {
	ddk_net *net;               /* shape, parameters, statistics */
	char **classes;             /* net->cfg.n_classes names */
	char *recipe;               /* preprocessing text, "" when unknown */
	int freeze_ddk;             /* the DDK pair was not trained */
	char *training_json;        /* "training" object as JSON, or NULL */
	char *hardware_json;        /* "hardware" object as JSON, or NULL */
} ddk_model;

/* Read a model file.  The network gets a workspace for batch_cap
 * examples (0 means 256). */
ddk_status ddk_model_load(const char *path, size_t batch_cap,
                          ddk_model **out, ddk_err *err);

/* The same from JSON text; name is used in messages. */
ddk_status ddk_model_parse(const char *text, const char *name,
                           size_t batch_cap, ddk_model **out, ddk_err *err);

/* The model as JSON text (malloc'd, caller frees), or NULL when out of
 * memory. */
char *ddk_model_to_json(const ddk_model *m);

/* Write atomically to path. */
ddk_status ddk_model_save(const char *path, const ddk_model *m,
                          ddk_err *err);

void ddk_model_free(ddk_model **m);

/* The DDK pair of channel k spread over the U rows (alpha_rows and
 * beta_rows hold U floats), as ddk_map_forward takes them.  DDK_EINVAL
 * when the model has no DDK layer or k >= K. */
ddk_status ddk_model_ddk_rows(const ddk_model *m, size_t k,
                              float *alpha_rows, float *beta_rows);

#endif
