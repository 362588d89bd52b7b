#pragma once
// Every differentiable op of stepgrad. Each one is defined once in src/ops.cpp with its
// forward and its backward side by side. Shapes are (rows, cols); letters as in
// tensor.hpp (B batch, m source length, K a block width).
#include <initializer_list>
#include <span>

#include "stepgrad/tensor.hpp"

namespace stepgrad {

// ---- elementwise, with row broadcast: b may be (rows, cols) or (1, cols) ----
Tensor add(Tensor a, Tensor b);  // a + b
Tensor sub(Tensor a, Tensor b);  // a − b
Tensor mul(Tensor a, Tensor b);  // a ⊙ b
Tensor scale(Tensor a, double factor);  // factor · a

// ---- matrix products ----
Tensor matmul(Tensor a, Tensor b);     // (r, k)·(k, c) → (r, c)
Tensor matmul_nt(Tensor a, Tensor b);  // a·bᵀ: (r, k)·(c, k)ᵀ → (r, c)
// x Wᵀ + b: a layer with W stored (out, in) as PyTorch and SPEC §3 do. b: (1, out).
Tensor linear(Tensor x, Tensor weight, Tensor bias);  // one op, not matmul_nt + add
// The same with parameters, put on the tape W first, then b: C++ leaves the order of
// `linear(x, W.use(), b.use())`'s arguments to the compiler, and the tape should not vary.
Tensor linear(Tensor x, Parameter& weight, Parameter& bias);

// ---- activations ----
Tensor tanh(Tensor x);
Tensor sigmoid(Tensor x);
Tensor relu(Tensor x);
Tensor exp(Tensor x);
Tensor log(Tensor x);

// ---- softmax and losses, row by row ----
Tensor softmax(Tensor x);      // row-wise, stable for any finite input and for −∞ entries
Tensor log_softmax(Tensor x);  // row-wise, stable
// Per-row negative log-likelihood −log_probs[r, targets[r]]: (B, V) → (B, 1).
// Rows whose target is ignore_index give 0 and no gradient (padding).
Tensor nll_loss(Tensor log_probs, std::span<const int> targets, int ignore_index);
// Mean of −log softmax(logits)[r, targets[r]] over the rows not ignored → (1, 1).
Tensor cross_entropy(Tensor logits, std::span<const int> targets, int ignore_index);

// ---- reshaping and indexing ----
Tensor concat_cols(std::span<const Tensor> parts);  // [a b …] side by side
Tensor concat_cols(std::initializer_list<Tensor> parts);
Tensor slice_cols(Tensor x, int start, int count);  // x[:, start : start+count]
Tensor gather_rows(Tensor table, std::span<const int> ids);  // table[ids]: embedding lookup
Tensor reshape(Tensor x, int rows, int cols);  // same row-major data, another shape
Tensor slice_rows(Tensor x, int start, int count);  // x[start : start+count, :], no copy
// Row r of the result is a[r] where take_a[r] != 0, else b[r] (a padded example keeps
// its last state once its sequence has ended).
Tensor select_rows(std::span<const int> take_a, Tensor a, Tensor b);

// ---- reductions ----
Tensor sum(Tensor x);   // → (1, 1)
Tensor mean(Tensor x);  // → (1, 1)
Tensor rowwise_dot(Tensor a, Tensor b);  // (B, K)·(B, K) → (B, 1), row r: a_rᵀ b_r

// ---- masks ----
// Where mask[i] != 0 the output is `fill` and no gradient flows (padded positions).
Tensor masked_fill(Tensor x, std::span<const int> mask, double fill);

// ---- blocks: attention over m encoder states kept side by side ----
// A "blocks" tensor (B, m·K) holds, in row b, m vectors of width K one after the other:
// all encoder states h_1 … h_m of example b. Three ops cover every score of SPEC §4.
// out[b, i] = blocks[b, i]ᵀ query[b]   (B, m·K), (B or 1, K) → (B, m)
Tensor blocks_dot(Tensor blocks, Tensor query);
// out[b] = Σ_i weights[b, i] · blocks[b, i]   (B, m), (B, m·K) → (B, K)
Tensor blocks_weighted_sum(Tensor weights, Tensor blocks);
// out[b, i] = blocks[b, i] + row[b]   (B, m·K), (B, K) → (B, m·K)
Tensor add_to_blocks(Tensor blocks, Tensor row);
// out[b, i] = vᵀ tanh(keys[b, i] + query[b])   (B, m·A), (B, A), (1, A) → (B, m)
// The concat score in one op. Its composite, blocks_dot(tanh(add_to_blocks(keys, query)), v),
// keeps two (B, m·A) tensors and their gradients per target step and made the concat
// decoder's backward a third slower; the tests hold the fused op to it.
Tensor additive_scores(Tensor keys, Tensor query, Tensor v);

}  // namespace stepgrad
