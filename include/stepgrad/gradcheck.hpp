#pragma once
// Gradient checking: compare backward's gradients with central finite differences.
//
//   numeric = (L(θ + ε) − L(θ − ε)) / 2ε        error O(ε²) from truncation
//   relative error = |analytic − numeric| / max(|analytic|, |numeric|, floor)
//
// The floor keeps entries whose true gradient is ~0 from dividing by ~0: below it the
// check is on the absolute difference. In double precision ε = 1e-5 balances the ε²
// truncation error (≈ 1e-11·|L'''|) against the rounding error of L (≈ 1e-16·|L| / ε):
// with ε = 1e-6 rounding alone reaches ~1e-10, a relative 1e-6 at the floor.
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "stepgrad/tensor.hpp"

namespace stepgrad {

struct GradcheckOptions {
    double epsilon = 1e-5;
    double floor = 1e-4;
    // At most this many entries per parameter, spread evenly (0: every entry).
    std::size_t max_entries = 0;
    // Return true to skip an entry (e.g. relu exactly at its kink).
    std::function<bool(const Parameter&, std::size_t index)> skip;
};

struct GradcheckEntry {
    std::string parameter;
    std::size_t index;
    int row;
    int col;
    double analytic;
    double numeric;
    double relative_error;
};

struct GradcheckReport {
    std::vector<GradcheckEntry> entries;
    double max_relative_error() const;
    const GradcheckEntry* worst() const;
    bool passed(double tolerance) const { return max_relative_error() <= tolerance; }
};

// `loss` builds the graph from the parameters (on a fresh tape each call) and returns a
// 1×1 tensor. The parameters' values are restored afterwards; their grads hold the
// analytic gradient.
GradcheckReport gradcheck(const std::function<Tensor()>& loss, std::span<Parameter* const> parameters,
                          const GradcheckOptions& options = {});

double relative_error(double analytic, double numeric, double floor);

}  // namespace stepgrad
