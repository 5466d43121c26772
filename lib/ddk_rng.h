/*
 * ddk_rng.h - a small, seedable random generator (xoshiro256**).
 *
 * Randomness that belongs to one record is drawn from
 * ddk_rng_for_key(seed, key): the same seed and key always give the same
 * numbers, whatever else is in the stream, so sharding never changes a
 * result.
 */
#ifndef DDK_RNG_H
#define DDK_RNG_H

#include <stdint.h>

typedef struct ddk_rng {
	uint64_t s[4];
	double spare;       /* second Gaussian of the last Box-Muller pair */
	int has_spare;
} ddk_rng;

void ddk_rng_seed(ddk_rng *g, uint64_t seed);
/* Seed from a global seed and a record key (FNV-1a of the key, mixed). */
void ddk_rng_for_key(ddk_rng *g, uint64_t seed, const char *key);
uint64_t ddk_rng_u64(ddk_rng *g);
/* Uniform in [0, 1). */
double ddk_rng_uniform(ddk_rng *g);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t ddk_rng_below(ddk_rng *g, uint64_t n);
/* Standard normal. */
double ddk_rng_normal(ddk_rng *g);

#endif
