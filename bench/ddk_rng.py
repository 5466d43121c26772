"""ddk's random generator in Python (lib/rng.c): xoshiro256** seeded
through splitmix64, the seed mixed with the FNV-1a hash of a key as
ddk_rng_for_key does, so a bench script draws exactly what a tool draws.
"""

M64 = (1 << 64) - 1


def splitmix64(state):
    """The next state and output of splitmix64."""
    state = (state + 0x9e3779b97f4a7c15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
    return state, z ^ (z >> 31)


def _rotl(v, k):
    return ((v << k) | (v >> (64 - k))) & M64


class Rng:
    """xoshiro256** seeded like ddk_rng_for_key(seed, key)."""

    def __init__(self, seed, key):
        h = 0xcbf29ce484222325
        for c in key.encode():
            h ^= c
            h = (h * 0x100000001b3) & M64
        _, mix = splitmix64(h)
        x = seed ^ mix
        self.s = []
        for _ in range(4):
            x, v = splitmix64(x)
            self.s.append(v)

    def u64(self):
        s = self.s
        r = (_rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        return r

    def uniform(self):
        """Uniform in [0, 1) from the top 53 bits (ddk_rng_uniform)."""
        return (self.u64() >> 11) * 2.0 ** -53

    def below(self, n):
        """Uniform in 0..n-1 by rejection (ddk_rng_below)."""
        lim = (1 << 64) % n
        while True:
            r = self.u64()
            if r >= lim:
                return r % n
