#pragma once
// Why qk-scaled divides by √d, measured. Vaswani et al. 2017, footnote 4: "assume that the
// components of q and k are independent random variables with mean 0 and variance 1. Then
// their dot product, q·k = Σ_{u=1..d} q_u k_u, has mean 0 and variance d_k." Scores that
// spread like √d push softmax towards one-hot, where its Jacobian ∂α/∂e = diag(α) − ααᵀ
// goes to 0: little gradient reaches the scores. Dividing by √d gives them variance 1.
#include <cstdint>

#include "stepgrad/random.hpp"
#include "stepgrad/support/print.hpp"

namespace stepgrad {

// What `trials` random queries q, each scored against `keys` random keys k_i, give at
// dimension d. Every entry is uniform(−√3, √3): mean 0, variance (2√3)²/12 = 1.
struct ScalingMeasurement {
    int d = 0;
    double sd_raw = 0;           // standard deviation of the trials·keys scores q·k_i
    double sd_scaled = 0;        // … of q·k_i / √d
    double peak_raw = 0;         // largest α_i of α = softmax(q·k_1 … q·k_m), averaged over the trials
    double peak_scaled = 0;      // … with the scores q·k_i / √d
    double jacobian_raw = 0;     // ‖diag(α) − ααᵀ‖_F, averaged over the trials
    double jacobian_scaled = 0;  // … with the scores q·k_i / √d
};
ScalingMeasurement measure_scaling(Rng& rng, int d, int trials, int keys);

// The measurement for d = 4, 8, …, 256 drawn from Rng(seed), as a table, and what it says.
void print_scaling_measured(Printer& out, std::uint64_t seed);

}  // namespace stepgrad
