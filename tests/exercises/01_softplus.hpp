#pragma once
// Exercise 01 — softplus for the scalar engine (extends lesson 01, include/stepgrad/value.hpp).
//
// Write softplus(a) = ln(1 + eᵃ), a smooth relu, as one new node of the Value graph: like the ops
// in src/value.cpp, compute the value and the local derivative ∂out/∂a = σ(a) = 1 / (1 + e⁻ᵃ)
// and return Value::from_op(value, "softplus", {{a, derivative}}). Mind large |a|: e⁸⁰⁰
// overflows a double, but ln(1 + eᵃ) = max(a, 0) + ln(1 + e^−|a|) never does.
//
// Your tests: ctest --test-dir build/learner -R "exercise 01"   (README, "Exercises")
#include <stdexcept>

#include "stepgrad/value.hpp"

namespace stepgrad::exercises {

inline Value softplus([[maybe_unused]] const Value& a) {
    throw std::logic_error("exercise 01: write softplus in tests/exercises/01_softplus.hpp");
}

}  // namespace stepgrad::exercises
