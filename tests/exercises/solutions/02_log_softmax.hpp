#pragma once
// Exercise 02, reference solution: log-softmax as a new op on the tape (lesson 02).
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "stepgrad/ops.hpp"

namespace stepgrad::exercises {

// y_j = x_j − max x − ln Σ_k e^(x_k − max x), row by row
// dx_j = dy_j − softmax(x)_j Σ_k dy_k, with softmax(x)_j = e^(y_j)
inline Tensor log_softmax(Tensor x) {
    const std::size_t rows = static_cast<std::size_t>(x.rows()), cols = static_cast<std::size_t>(x.cols());
    Tensor y = tape().record("log_softmax", x.rows(), x.cols(), {x});
    const auto xv = x.values(), yv = y.values();
    for (std::size_t r = 0; r < rows; ++r) {
        const auto in = xv.subspan(r * cols, cols);
        const auto out = yv.subspan(r * cols, cols);
        const double max = *std::max_element(in.begin(), in.end());
        double total = 0;
        for (double v : in) total += std::exp(v - max);
        const double log_total = std::log(total);
        for (std::size_t j = 0; j < cols; ++j) out[j] = in[j] - max - log_total;
    }
    tape().on_backward(y, [x, rows, cols](Tensor out) {
        for (std::size_t r = 0; r < rows; ++r) {
            const auto yv = out.values().subspan(r * cols, cols);
            const auto dy = out.grads().subspan(r * cols, cols);
            const auto dx = x.grads().subspan(r * cols, cols);
            double total = 0;
            for (double g : dy) total += g;
            // the forward was y_j = x_j − (terms shared by the row): each x_k moves every y_j
            for (std::size_t j = 0; j < cols; ++j) dx[j] += dy[j] - std::exp(yv[j]) * total;
        }
    });
    return y;
}

}  // namespace stepgrad::exercises
