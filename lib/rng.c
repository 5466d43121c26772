/*
 * rng.c - xoshiro256** seeded through splitmix64 (Blackman and Vigna,
 * "Scrambled linear pseudorandom number generators", 2021).
 */
#include <math.h>
#include "ddk_rng.h"

#define DDK_TWO_PI 6.283185307179586476925

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void ddk_rng_seed(ddk_rng *g, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		g->s[i] = splitmix64(&seed);
	g->has_spare = 0;
	g->spare = 0;
}

void ddk_rng_for_key(ddk_rng *g, uint64_t seed, const char *key)
{
	uint64_t h = 0xcbf29ce484222325ULL;     /* FNV-1a offset basis */

	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	ddk_rng_seed(g, seed ^ splitmix64(&h));
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t ddk_rng_u64(ddk_rng *g)
{
	uint64_t *s = g->s;
	uint64_t r = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

double ddk_rng_uniform(ddk_rng *g)
{
	return (double)(ddk_rng_u64(g) >> 11) * 0x1.0p-53;
}

uint64_t ddk_rng_below(ddk_rng *g, uint64_t n)
{
	uint64_t lim = -n % n;   /* 2^64 mod n: reject below it */
	uint64_t r;

	do
		r = ddk_rng_u64(g);
	while (r < lim);
	return r % n;
}

double ddk_rng_normal(ddk_rng *g)
{
	double u, v, rad;

	if (g->has_spare) {
		g->has_spare = 0;
		return g->spare;
	}

	/* Box-Muller; 1 - u keeps the logarithm's argument in (0, 1]. */
	u = 1.0 - ddk_rng_uniform(g);
	v = ddk_rng_uniform(g);
	rad = sqrt(-2.0 * log(u));
	g->spare = rad * sin(DDK_TWO_PI * v);
	g->has_spare = 1;
	return rad * cos(DDK_TWO_PI * v);
}
