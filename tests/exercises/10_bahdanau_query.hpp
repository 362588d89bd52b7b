#pragma once
// Exercise 10 — fix the bug: the query of Bahdanau's attention (lesson 05; compare
// Seq2Seq::decoder_step in src/seq2seq.cpp).
//
// The bahdanau decoder, teacher forced over a batch (SPEC §4), step j = 1..n:
//   e_{j,i} = score(h_i, s_{j−1}),  α_j = softmax(e_j),  c_j = Σ_i α_{j,i} h_i
//   s_j = cell([tgt_embed[y_{j−1}]; c_j], s_{j−1})
//   logits_j = W_out [s_j; c_j] + b_out
// The query is the state BEFORE the step: s_{j−1}, and s_0 = h_m. The code below runs and even
// learns, but it is not this model. What is wrong: it updates the state first and then attends
// with the new state s_j, so step j's α comes from s_j; the cell reads the context of the step
// before (zeros at j = 1), and the output layer a context one step ahead. Put the computation back
// in the order of the equations.
//
// Your tests: ctest --test-dir build/learner -R "exercise 10"   (README, "Exercises")
#include <vector>

#include "stepgrad/ops.hpp"
#include "stepgrad/seq2seq.hpp"

namespace stepgrad::exercises {

struct TeacherForced {
    std::vector<Tensor> alpha;   // α_j: (B, m), j = 1..n
    std::vector<Tensor> logits;  // logits_j: (B, V), j = 1..n
};

// model: one-layer bahdanau; the decoder reads batch.tgt_in (<bos>, y_1 … y_{n−1}).
inline TeacherForced bahdanau_teacher_forced(Seq2Seq& model, const Batch& batch) {
    const int B = batch.size, n = batch.tgt_len;
    const Encoded encoded = model.encode(batch);
    CellState state = encoded.final;                                 // s_0 = h_m
    Tensor context = zeros(B, encoded.attention.states.cols() / batch.src_len);  // nothing attended yet
    TeacherForced out;
    std::vector<int> inputs(static_cast<std::size_t>(B));
    for (int j = 0; j < n; ++j) {
        for (int b = 0; b < B; ++b) inputs[static_cast<std::size_t>(b)] = batch.tgt_in[static_cast<std::size_t>(b * n + j)];
        const Tensor embedded = gather_rows(model.tgt_embed.use(), inputs);  // tgt_embed[y_{j−1}]
        // s_j = cell([tgt_embed[y_{j−1}]; c_j], s_{j−1})
        state = model.decoder[0]->step(concat_cols({embedded, context}), state).state;
        // e_{j,i} = score(h_i, s_{j−1}),  α_j = softmax(e_j),  c_j = Σ_i α_{j,i} h_i
        const AttentionStep attention = attend(*model.score, encoded.attention, state.h, encoded.source_mask);
        context = attention.context;
        out.alpha.push_back(attention.alpha);
        // logits_j = W_out [s_j; c_j] + b_out
        out.logits.push_back(model.output_logits(concat_cols({state.h, context})));
    }
    return out;
}

}  // namespace stepgrad::exercises
