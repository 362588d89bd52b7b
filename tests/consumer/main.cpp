// Uses an installed stepgrad: a forward pass, backward, and the gradient checked by hand.
//   y = tanh(x W),  L = Σ_j y_j,  dL/dW_ij = x_i (1 − y_j²)
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "stepgrad/ops.hpp"
#include "stepgrad/tensor.hpp"

int main() {
    using namespace stepgrad;
    Parameter W("W", 3, 2);  // (3, 2)
    W.value = {0.5, -0.25, 0.125, 1.0, -0.75, 0.5};
    const std::vector<double> x{1.0, -2.0, 0.5};

    const Tensor y = stepgrad::tanh(matmul(constant(1, 3, x), W.use()));  // (1, 2)
    const Tensor loss = sum(y);
    tape().backward(loss);

    bool ok = true;
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 2; ++j) {
            double z = 0;  // (x W)_j
            for (int k = 0; k < 3; ++k) z += x[static_cast<std::size_t>(k)] * W.value[static_cast<std::size_t>(k * 2 + j)];
            const double expected = x[static_cast<std::size_t>(i)] * (1 - std::tanh(z) * std::tanh(z));
            const double got = W.grad[static_cast<std::size_t>(i * 2 + j)];
            if (std::abs(got - expected) > 1e-12) {
                fmt::print("dL/dW[{}][{}] = {}, expected {}\n", i, j, got, expected);
                ok = false;
            }
        }
    fmt::print("stepgrad consumer: L = {:.6f}, dL/dW[0][0] = {:.6f}: {}\n", loss.value(0), W.grad[0],
               ok ? "OK" : "WRONG");
    return ok ? 0 : 1;
}
