#include "stepgrad/optim.hpp"

#include "kernels/kernels.hpp"

#include <fmt/format.h>

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace stepgrad {

void Sgd::step(std::span<Parameter* const> parameters, double lr) {
    for (Parameter* p : parameters)
        for (std::size_t i = 0; i < p->size(); ++i) p->value[i] -= lr * p->grad[i];
}

Adam::Adam(double beta1, double beta2, double epsilon) : beta1_(beta1), beta2_(beta2), epsilon_(epsilon) {}

void Adam::step(std::span<Parameter* const> parameters, double lr) {
    if (m_.empty())
        for (const Parameter* p : parameters) {
            m_.emplace_back(p->size(), 0.0);
            v_.emplace_back(p->size(), 0.0);
        }
    ++t_;
    const double correction1 = 1 - std::pow(beta1_, static_cast<double>(t_));
    const double correction2 = 1 - std::pow(beta2_, static_cast<double>(t_));
    const kernels::AdamStep constants{beta1_, beta2_, epsilon_, correction1, correction2, lr};
    for (std::size_t k = 0; k < parameters.size(); ++k) {
        Parameter& p = *parameters[k];
        // m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;  θ ← θ − lr · m̂ / (√v̂ + ε)
        // (the plain loop: src/kernels/reference.cpp)
        kernels::adam(constants, p.value.data(), m_[k].data(), v_[k].data(), p.grad.data(), p.size());
    }
}

std::unique_ptr<Optimizer> make_optimizer(std::string_view name) {
    if (name == "adam") return std::make_unique<Adam>();
    if (name == "sgd") return std::make_unique<Sgd>();
    throw std::invalid_argument(fmt::format("unknown optimizer '{}' (allowed: adam, sgd)", name));
}

double clip_grad_norm(std::span<Parameter* const> parameters, double max_norm) {
    double squares = 0;
    for (const Parameter* p : parameters)
        for (double g : p->grad) squares += g * g;
    const double norm = std::sqrt(squares);
    if (max_norm > 0 && norm > max_norm) {
        const double factor = max_norm / (norm + 1e-6);
        for (Parameter* p : parameters)
            for (double& g : p->grad) g *= factor;
    }
    return norm;
}

double cosine_lr(double lr, int step, int total_steps) {
    if (total_steps <= 0) return lr;
    return lr * 0.5 * (1 + std::cos(std::numbers::pi * step / total_steps));
}

}  // namespace stepgrad
