/*
 * dense_micro.c - time the three dense kernels of lib/nn.c on one
 * batch: forward, dw (backward without dx) and dx (backward with dx
 * less backward without).  Prints the best of REPS rounds in
 * microseconds per call.  Build from the top of the checkout:
 *   cc -O2 -Ilib bench/dense_micro.c build/libddk.a -lm -o dense_micro
 * Usage: dense_micro [B n_in n_out [rounds [level]]]
 *   (default 32 784 48 7 2; level as ddk_dense_use_simd: 0 portable,
 *   1 AVX2, 2 AVX-512 where the CPU has it)
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ddk_nn.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + 1e-9 * t.tv_nsec;
}

static float *filled(size_t n, unsigned *seed)
{
	float *p = malloc(n * sizeof *p);

	for (size_t i = 0; p && i < n; i++) {
		*seed = *seed * 1103515245u + 12345u;
		p[i] = (float)((*seed >> 8) & 0xffff) / 32768.0f - 1.0f;
	}
	return p;
}

int main(int argc, char **argv)
{
	size_t B = 32, I = 784, O = 48, N = 200;
	int rounds = argc > 4 ? atoi(argv[4]) : 7;
	int level = argc > 5 ? atoi(argv[5]) : 2;
	unsigned seed = 1;
	double best[3] = { 1e9, 1e9, 1e9 };

	if (argc > 3) {
		B = strtoul(argv[1], 0, 10);
		I = strtoul(argv[2], 0, 10);
		O = strtoul(argv[3], 0, 10);
	}
	float *x = filled(B * I, &seed), *w = filled(O * I, &seed);
	float *b = filled(O, &seed), *dy = filled(B * O, &seed);
	float *y = filled(B * O, &seed), *dw = filled(O * I, &seed);
	float *db = filled(O, &seed), *dx = filled(B * I, &seed);

	if (!x || !w || !b || !dy || !y || !dw || !db || !dx)
		return 1;
	ddk_dense_use_simd(level);
	for (int r = 0; r < rounds; r++) {
		double t0 = now(), t1, t2, t3;

		for (size_t k = 0; k < N; k++)
			ddk_dense_forward(x, B, I, O, w, b, y);
		t1 = now();
		for (size_t k = 0; k < N; k++)
			ddk_dense_backward(x, dy, B, I, O, w, dw, db, NULL);
		t2 = now();
		for (size_t k = 0; k < N; k++)
			ddk_dense_backward(x, dy, B, I, O, w, dw, db, dx);
		t3 = now();
		double f = (t1 - t0) / N, g = (t2 - t1) / N;
		double h = (t3 - t2) / N - g;

		best[0] = f < best[0] ? f : best[0];
		best[1] = g < best[1] ? g : best[1];
		best[2] = h < best[2] ? h : best[2];
		memcpy(dw, w, O * I * sizeof *dw);  /* keep dw bounded */
	}
	printf("forward %.1f us  dw %.1f us  dx %.1f us  (%zux%zux%zu, "
	       "level %d)\n", 1e6 * best[0], 1e6 * best[1], 1e6 * best[2], B,
	       I, O, level);
	return 0;
}
