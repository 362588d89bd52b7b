#pragma once
// Exercise 01, reference solution: softplus for the scalar engine (lesson 01).
#include <algorithm>
#include <cmath>

#include "stepgrad/value.hpp"

namespace stepgrad::exercises {

// out = ln(1 + eᵃ) = max(a, 0) + ln(1 + e^−|a|)    (the exponent is ≤ 0: no overflow)
// ∂out/∂a = eᵃ / (1 + eᵃ) = σ(a), computed in the form whose exponent is ≤ 0 as well
inline Value softplus(const Value& a) {
    const double x = a.data();
    const double out = std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x)));
    const double slope = x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
    return Value::from_op(out, "softplus", {{a, slope}});
}

}  // namespace stepgrad::exercises
