#pragma once
// Exercise 02 — log-softmax as a new op on the tape (extends lesson 02; see softmax in src/ops.cpp).
//
// Row by row, y_j = x_j − max x − ln Σ_k e^(x_k − max x)  (subtracting the row max keeps e^… from
// overflowing). Record the op with tape().record("log_softmax", rows, cols, {x}), fill
// y.values(), then give it a backward with tape().on_backward(y, [x](Tensor out) { … }) that
// ADDS (+=) to x.grads():  dx_j += dy_j − e^(y_j) Σ_k dy_k   (e^(y_j) is softmax(x)_j).
//
// Your tests: ctest --test-dir build/learner -R "exercise 02"   (README, "Exercises")
#include <stdexcept>

#include "stepgrad/ops.hpp"

namespace stepgrad::exercises {

// x: (rows, cols) → y: (rows, cols). Not stepgrad::log_softmax: yours, written from scratch.
inline Tensor log_softmax([[maybe_unused]] Tensor x) {
    throw std::logic_error("exercise 02: write log_softmax in tests/exercises/02_log_softmax.hpp");
}

}  // namespace stepgrad::exercises
