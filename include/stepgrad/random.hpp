#pragma once
// The project's one random number generator.
//
// std::uniform_real_distribution and friends are implemented differently by each
// standard library, so the same seed would print different numbers with libstdc++
// and libc++. We turn raw 64-bit words into doubles ourselves: same seed, same bytes
// of output, on any compiler (SPEC §2).
#include <cstdint>

namespace stepgrad {

// xoshiro256** (Blackman & Vigna), its state filled from the seed by splitmix64.
class Rng {
public:
    explicit Rng(std::uint64_t seed);

    std::uint64_t next_u64();
    // Uniform in [0, 1), 53 random bits.
    double uniform();
    // Uniform in [lo, hi).
    double uniform(double lo, double hi);
    // Uniform integer in [0, n), without modulo bias; n must be > 0.
    std::uint64_t below(std::uint64_t n);
    // Uniform integer in [lo, hi] (both included).
    int between(int lo, int hi);

private:
    std::uint64_t state_[4];
};

}  // namespace stepgrad
