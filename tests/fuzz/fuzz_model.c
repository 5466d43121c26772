/*
 * fuzz_model.c - libFuzzer harness for the model reader: the bytes are
 * parsed as a model file; a model that is accepted must classify an
 * input of its shape to probabilities that sum to one, and must read
 * back from the JSON the writer makes of it.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ddk.h"

static void use(ddk_model *m)
{
	ddk_net *net = m->net;
	size_t C = net->cfg.n_classes;
	float *x = calloc(net->n_in, sizeof *x), *p = calloc(C, sizeof *p);
	char *text = ddk_model_to_json(m);
	ddk_model *back = NULL;
	ddk_err err;
	double sum = 0;

	if (x && p) {
		for (size_t i = 0; i < net->n_in; i++)
			x[i] = (float)(i % 7) / 7.0f;
		ddk_net_predict(net, x, 1, p);
		for (size_t c = 0; c < C; c++)
			sum += p[c];
		if (!(fabs(sum - 1) < 1e-3) && isfinite(sum))
			abort();
	}
	if (text && ddk_model_parse(text, "written", 1, &back, &err) != DDK_OK)
		abort();
	ddk_model_free(&back);
	free(text);
	free(x);
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	ddk_model *m = NULL;
	ddk_err err;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (ddk_model_parse(text, "fuzz", 1, &m, &err) == DDK_OK)
		use(m);
	ddk_model_free(&m);
	free(text);
	return 0;
}
