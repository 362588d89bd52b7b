#pragma once
// Optimizers, gradient clipping and the learning-rate schedule: how a gradient becomes
// a step.
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "stepgrad/tensor.hpp"

namespace stepgrad {

class Optimizer {
public:
    virtual ~Optimizer() = default;
    // θ ← θ − update(∇θ), with the learning rate of this step.
    virtual void step(std::span<Parameter* const> parameters, double lr) = 0;
};

// θ ← θ − lr · g
class Sgd final : public Optimizer {
public:
    void step(std::span<Parameter* const> parameters, double lr) override;
};

// Adam (Kingma & Ba 2015), as torch.optim.Adam without weight decay:
//   m ← β₁ m + (1 − β₁) g      v ← β₂ v + (1 − β₂) g²
//   θ ← θ − lr · m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
class Adam final : public Optimizer {
public:
    explicit Adam(double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8);
    void step(std::span<Parameter* const> parameters, double lr) override;

private:
    double beta1_, beta2_, epsilon_;
    long t_ = 0;
    std::vector<std::vector<double>> m_, v_;
};

std::unique_ptr<Optimizer> make_optimizer(std::string_view name);  // "adam" | "sgd"

// ‖g‖ over every parameter; when it exceeds max_norm, every gradient is scaled by
// max_norm / ‖g‖ (as torch.nn.utils.clip_grad_norm_). Returns the norm before clipping.
double clip_grad_norm(std::span<Parameter* const> parameters, double max_norm);

// lr_t = lr · ½ (1 + cos(π t / T)): large steps first, then settling (TRAINING-NOTES).
double cosine_lr(double lr, int step, int total_steps);

}  // namespace stepgrad
