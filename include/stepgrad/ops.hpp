#pragma once
// Every differentiable op of stepgrad. Each one is defined once in src/ops.cpp with its
// forward and its backward side by side. Shapes are (rows, cols); letters as in
// tensor.hpp (B batch, m source length, K a block width).
#include <initializer_list>
#include <span>
#include <vector>

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
// relu(x Wᵀ + b) as one op, the Transformer's FFN layer: x Wᵀ + b and its gradient never reach
// the tape, and relu's derivative is read from the output (y > 0 exactly where x Wᵀ + b > 0).
// The same bits as relu(linear(x, W, b)), the tests' oracle.
Tensor linear_relu(Tensor x, Tensor weight, Tensor bias);

// While one lives on this thread, linear() and matmul_nt() keep a transposed copy of each
// parameter they read a second time and use it from then on: a recurrent cell reads W_hh at
// every time step, and each product transposed it again (4 % of a GRU + concat training step,
// issue 19). The same numbers, bit for bit. slice_cols of a parameter is made once and the
// same tensor returned again (the concat score's W_s half of W, sliced at every decoder step
// for its product: 13 MB of a step at m = 400); its gradient reaches the parameter once, the
// steps' summed. The parameters must not change while it lives: a forward pass opens one
// (Seq2Seq::forward, greedy_decode).
class ReusedWeights {
public:
    ReusedWeights();
    ~ReusedWeights();
    ReusedWeights(const ReusedWeights&) = delete;
    ReusedWeights& operator=(const ReusedWeights&) = delete;
};

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
// decoder's backward a third slower; the tests hold the fused op to it (within a few ε:
// the op takes tanh(k + q) as 1 − 2 / (1 + e^{2k} e^{2q}), with the keys' e^{2k} made once a
// pass, and keeps nothing of size m·A — its backward rebuilds t).
Tensor additive_scores(Tensor keys, Tensor query, Tensor v);
// α[b] = softmax(e[b]) with e[b, i] = vᵀ tanh(keys[b, i] + query[b]), −∞ where mask[b·m + i]
// (mask: B·m flags, or empty)   (B, m·A), (B, A), (1, A) → (B, m)
// softmax(masked_fill(additive_scores(…))) without keeping e: a training step needs only α, and
// e was the other B × m tensor of every decoder step (the tests hold it to the composite).
Tensor additive_attention_weights(Tensor keys, Tensor query, Tensor v, std::span<const int> mask);

// ---- the Transformer's ops (SPEC §14) ----
// Letters: d = d_model features, h heads of d_k = d/h columns, n query and m key
// positions; a batch of B sequences is (B·n, d), row b·n + t holding position t of example b.

// y = 1/√x;  the inverse standard deviation of a layer norm
Tensor rsqrt(Tensor x);
// y_r = (1/c) Σ_j x_rj: (r, c) → (r, 1), the mean of each row's features
Tensor row_mean(Tensor x);
// y_rj = x_r: (r, 1) → (r, cols), a per-row number (μ, 1/σ) laid over every feature
Tensor repeat_cols(Tensor x, int cols);

// LN(x) = γ ⊙ (x − μ) / √(σ² + ε) + β over each row's d features, σ² the biased variance.
// One op with its own backward (its composite from the ops above, row_mean, repeat_cols,
// rsqrt, …, is its oracle in tests/test_ops.cpp); μ and σ² are kept for traces, each a
// small op of its own with its gradient.
struct LayerNormOutput {
    Tensor out;       // (r, d)
    Tensor mean;      // μ: (r, 1)
    Tensor variance;  // σ²: (r, 1)
};
LayerNormOutput layer_norm(Tensor x, Tensor gamma, Tensor beta, double epsilon = 1e-5);

// Heads: (B·n, h·d_k) → (B·h·n, d_k), row (b·h + i)·n + t = x[b·n + t, i·d_k : (i+1)·d_k];
// head i of example b becomes the contiguous rows a batched product reads as one matrix.
Tensor split_heads(Tensor x, int batch, int heads);
// The inverse, [head_1 … head_h] side by side: (B·h·n, d_k) → (B·n, h·d_k)
Tensor merge_heads(Tensor x, int batch, int heads);

// The projections into heads and out of them as one op each (issue 18's profile: the split
// and merge copies and their gradients were 6 % of a Transformer step), the same bits as
//   linear_split_heads(x, W, b, B, h)  = split_heads(linear(x, W, b), B, h)
//   merge_heads_linear(x, B, h, W, b)  = linear(merge_heads(x, B, h), W, b)
// (b may be undefined: no bias). The composites are the tests' oracle.
Tensor linear_split_heads(Tensor x, Tensor weight, Tensor bias, int batch, int heads);
Tensor merge_heads_linear(Tensor x, int batch, int heads, Tensor weight, Tensor bias);

// One matrix product per group g of rows (an example's head): G = groups.
// batched_matmul     (G·r, k)·(G·k, c) → (G·r, c),  y_g = a_g b_g
// batched_matmul_nt  (G·r, k)·(G·c, k) → (G·r, c),  y_g = a_g b_gᵀ
Tensor batched_matmul(Tensor a, Tensor b, int groups);
Tensor batched_matmul_nt(Tensor a, Tensor b, int groups);
// y_g = factor · a_g b_gᵀ: attention's scaled scores Q Kᵀ / √d_k as one op, the same bits as
// scale(batched_matmul_nt(a, b, groups), factor) without a second (G·r, c) tensor and its
// gradient on the tape (issue 18's profile)
Tensor scaled_batched_matmul_nt(Tensor a, Tensor b, int groups, double factor);

// Flags for masked_fill on scores (B·h·n, m), 1 where query t of example b must not see
// key s: s ≥ key_lengths[b] (padding; empty key_lengths: nothing is padded) or, when
// causal, s > t (a decoder position sees only itself and earlier ones). Fill with −∞
// before the softmax and α is exactly 0 there.
std::vector<int> attention_mask(int batch, int heads, int queries, int keys, std::span<const int> key_lengths,
                                bool causal);

// PE[p, 2k] = sin(p / 10000^{2k/d}),  PE[p, 2k+1] = cos(p / 10000^{2k/d}),  p = 0 … length−1,
// repeated for each of the B examples: a constant (B·length, d), no gradient.
Tensor positional_encoding(int length, int d, int batch = 1);

}  // namespace stepgrad
