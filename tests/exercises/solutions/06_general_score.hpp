#pragma once
// Exercise 06, reference solution: Luong's general score on blocks (lesson 06).
#include "stepgrad/ops.hpp"

namespace stepgrad::exercises {

// e_{b,i} = s_bᵀ W h_{b,i} = (s_bᵀ W) h_{b,i}: the query row q_b = s_bᵀ W is one (B, H)·(H, H)
// product per step, instead of one product W h_i per encoder state.
inline Tensor general_score(Tensor states, Tensor s, Tensor W) {
    const Tensor query = matmul(s, W);  // (B, H)
    return blocks_dot(states, query);   // (B, m)
}

}  // namespace stepgrad::exercises
