#pragma once
// Helpers for the exercise tests: each failure says, in the exercise's own symbols, which entry
// is wrong, what it is and what it should be — the learner reads these, not a stack of numbers.
#include <cmath>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "testing.hpp"

namespace stepgrad::exercises::testing {

using stepgrad::testing::random_parameter;
using stepgrad::testing::weighted_sum;

// Compares `actual` with the (rows, cols) values it should hold (llm.c's check_tensor): on a
// mismatch, the first three entries that differ as "h' differs at (1, 2): yours … expected …",
// then how many differ and the largest difference.
inline void check_tensor(Tensor actual, std::span<const double> expected, int rows, int cols,
                         std::string_view what, double tolerance = 1e-12) {
    if (actual.rows() != rows || actual.cols() != cols) {
        FAIL_CHECK(fmt::format("{} has shape ({}, {}); expected ({}, {})", what, actual.rows(), actual.cols(), rows, cols));
        return;
    }
    int wrong = 0;
    double largest = 0;
    for (std::size_t k = 0; k < expected.size(); ++k) {
        const double yours = actual.value(k), want = expected[k];
        const double diff = std::abs(yours - want);
        const bool bad = !(diff <= tolerance * std::max(1.0, std::abs(want)));  // NaN is bad too
        if (!bad) continue;
        largest = std::max(largest, std::isnan(diff) ? std::numeric_limits<double>::infinity() : diff);
        if (wrong++ < 3)
            FAIL_CHECK(fmt::format("{} differs at ({}, {}): yours {:.12g}, expected {:.12g}", what,
                                   k / static_cast<std::size_t>(cols), k % static_cast<std::size_t>(cols), yours, want));
    }
    if (wrong > 3) FAIL_CHECK(fmt::format("{}: {} of {} entries differ; largest difference {:.3g}", what, wrong, expected.size(), largest));
}

inline void check_tensor(Tensor actual, Tensor expected, std::string_view what, double tolerance = 1e-12) {
    const std::vector<double> values = expected.to_vector();
    check_tensor(actual, values, expected.rows(), expected.cols(), what, tolerance);
}

// Runs stepgrad::gradcheck (central differences) on every entry of `parameters` and reports each
// wrong one as "gradient of W_c differs at (0, 1): analytic … numeric …" (the first three).
inline void check_gradients(const std::function<Tensor()>& loss, std::vector<Parameter*> parameters,
                            double tolerance = 1e-6) {
    const GradcheckReport report = gradcheck(loss, parameters);
    REQUIRE_FALSE(report.entries.empty());
    int wrong = 0;
    bool all_zero = true;
    for (const GradcheckEntry& e : report.entries) {
        if (e.analytic != 0) all_zero = false;
        if (!(e.relative_error > tolerance) && !std::isnan(e.relative_error)) continue;
        if (wrong++ < 3)
            FAIL_CHECK(fmt::format("gradient of {} differs at ({}, {}): analytic {:.9g}, numeric {:.9g}", e.parameter,
                                   e.row, e.col, e.analytic, e.numeric));
    }
    if (wrong == 0) return;
    FAIL_CHECK(fmt::format("{} of {} gradient entries differ from finite differences (largest relative error {:.3g})",
                           wrong, report.entries.size(), report.max_relative_error()));
    if (all_zero)
        FAIL_CHECK("every analytic gradient is 0: was the result computed from .values() outside the tape, or "
                   "recorded without tape().on_backward? backward() cannot reach what the tape never saw");
}

// Central difference of a scalar function: (f(x + ε) − f(x − ε)) / 2ε.
inline double numeric_derivative(const std::function<double(double)>& f, double x, double epsilon = 1e-6) {
    return (f(x + epsilon) - f(x - epsilon)) / (2 * epsilon);
}

}  // namespace stepgrad::exercises::testing
