#pragma once
// Where an op's backward puts d loss / d t. Internal: shared by src/ops.cpp and src/cells.cpp.
#include "kernels/kernel_table.hpp"  // Store, GradientTarget
#include "stepgrad/tensor.hpp"

namespace stepgrad {

// For a backward that writes every entry of d loss / d t: in place of the old numbers when no
// gradient has reached t yet (no zeroing pass first), else added to it.
using kernels::GradientTarget;
inline GradientTarget gradient_target(Tensor t) {
    const Tape::GradientSlot slot = tape().gradient_slot(t);
    return {slot.values.data(), slot.fresh ? kernels::Store::overwrite : kernels::Store::add};
}
// The same, or no destination (data null) when t needs no gradient.
inline GradientTarget gradient_target_if_needed(Tensor t) {
    return t.requires_grad() ? gradient_target(t) : GradientTarget{nullptr, kernels::Store::add};
}
// For a backward that writes only part of it (the rest is another op's): zeroed when first
// touched, then added to; no destination when t needs no gradient.
inline GradientTarget partial_gradient_target(Tensor t) {
    return {t.requires_grad() ? t.grads().data() : nullptr, kernels::Store::add};
}
// Entry i of it: 0 + gradient the first time (the rounding of a zeroed gradient added to: −0
// becomes 0), else added.
inline void put(const GradientTarget& target, std::size_t i, double gradient) {
    if (target.data) target.data[i] = (target.store == kernels::Store::add ? target.data[i] : 0.0) + gradient;
}

}  // namespace stepgrad
