#pragma once
// Exercise 10, reference solution: the query of Bahdanau's attention (lesson 05).
#include <vector>

#include "stepgrad/ops.hpp"
#include "stepgrad/seq2seq.hpp"

namespace stepgrad::exercises {

struct TeacherForced {
    std::vector<Tensor> alpha;   // α_j: (B, m), j = 1..n
    std::vector<Tensor> logits;  // logits_j: (B, V), j = 1..n
};

inline TeacherForced bahdanau_teacher_forced(Seq2Seq& model, const Batch& batch) {
    const int B = batch.size, n = batch.tgt_len;
    const Encoded encoded = model.encode(batch);
    CellState state = encoded.final;  // s_0 = h_m
    TeacherForced out;
    std::vector<int> inputs(static_cast<std::size_t>(B));
    for (int j = 0; j < n; ++j) {
        for (int b = 0; b < B; ++b) inputs[static_cast<std::size_t>(b)] = batch.tgt_in[static_cast<std::size_t>(b * n + j)];
        const Tensor embedded = gather_rows(model.tgt_embed.use(), inputs);  // tgt_embed[y_{j−1}]
        // Attend first, while `state` is still s_{j−1}: e_{j,i} = score(h_i, s_{j−1}), α_j, c_j.
        // (Seed 000 names this context c_{j−1}, after the state it comes from: the same vector.)
        const AttentionStep attention = attend(*model.score, encoded.attention, state.h, encoded.source_mask);
        // s_j = cell([tgt_embed[y_{j−1}]; c_j], s_{j−1})
        state = model.decoder[0]->step(concat_cols({embedded, attention.context}), state).state;
        out.alpha.push_back(attention.alpha);
        // logits_j = W_out [s_j; c_j] + b_out: the same c_j the cell read
        out.logits.push_back(model.output_logits(concat_cols({state.h, attention.context})));
    }
    return out;
}

}  // namespace stepgrad::exercises
