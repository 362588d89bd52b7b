#pragma once
// Exercise 07, reference solution: Luong's attentional hidden state (lesson 06).
#include "stepgrad/ops.hpp"

namespace stepgrad::exercises {

// h̃ = tanh(W_c [s; c]): [s; c] is (B, 2H); with W_c stored (H, 2H), row by row that is [s; c] W_cᵀ
inline Tensor luong_attentional(Tensor s, Tensor context, Tensor W_c) {
    return tanh(matmul_nt(concat_cols({s, context}), W_c));
}

}  // namespace stepgrad::exercises
