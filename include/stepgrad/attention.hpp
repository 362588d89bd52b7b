#pragma once
// Attention (SPEC §4): how well does each encoder state h_i match the decoder's query s?
//
//   e_i = score(h_i, s)       α = softmax(e)       c = Σ_i α_i h_i
//
// Scores:
//   concat     e_i = vᵀ tanh(W [h_i; s])     W (A × (H_k + H)), v (A)   Bahdanau, seed 000 method 1
//   dot        e_i = sᵀ h_i                  (needs H_k = H)            seed 002 §1.5.1
//   general    e_i = sᵀ W h_i                W (H × H_k)                Luong
//   qk         k_i = W_K h_i, q = W_Q s, e_i = k_iᵀ q   W_K (A × H_k), W_Q (A × H)   seed 000 method 2
//   qk-scaled  as qk, divided by √A                                     the Transformer's scaling
//
// The keys h_i are H_k wide: H, or 2H for a bidirectional encoder's [→h_i; ←h_i] (SPEC §11);
// the query s is H wide. The encoder states of B examples are one "blocks" tensor
// (B, m·H_k): row b holds h_1 … h_m of example b side by side (see ops.hpp).
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "stepgrad/tensor.hpp"

namespace stepgrad {

enum class ScoreKind { none, concat, dot, general, qk, qk_scaled };

ScoreKind parse_score_kind(std::string_view name);  // "concat" | "dot" | "general" | "qk" | "qk-scaled"
const char* score_kind_name(ScoreKind kind);

// What a score computes once per source sentence and reuses at every decoder step.
struct AttentionKeys {
    Tensor states;  // (B, m·H_k), the blocks h_1 … h_m
    Tensor keys;    // what queries are compared with: W_h h_i (concat), k_i = W_K h_i (qk), else H
    int length;     // m
};

struct AttentionStep {
    Tensor query;    // what the score compares against the keys: W_s s, q = W_Q s, sᵀW, or s
    Tensor scores;   // e: (B, m), before masking (undefined under Keep::for_backward)
    Tensor alpha;    // α = softmax(e): (B, m); exactly 0 at padded positions
    Tensor context;  // c = Σ_i α_i h_i: (B, H_k)
};

// The one score interface: five implementations, one attend() for all.
class Score {
public:
    virtual ~Score() = default;
    virtual ScoreKind kind() const = 0;
    // From the blocks (B, m·H_k) to the keys every step compares with.
    virtual Tensor keys(Tensor states, int length) = 0;
    // The query the keys are compared with, from the decoder state s (B, H).
    virtual Tensor query(Tensor s) = 0;
    // e (B, m) from keys and query.
    virtual Tensor scores(Tensor keys, Tensor query) = 0;
    // α = softmax(e), −∞ in e where mask (B·m flags, or empty): the same bits as from
    // scores(); a score may make them without keeping e (concat does).
    virtual Tensor weights(Tensor keys, Tensor query, std::span<const int> mask);
    virtual std::vector<Parameter*> parameters() = 0;
    void init(Rng& rng);
};

// Keys H_k = key_size wide, queries H = query_size wide; `dot` needs them equal.
std::unique_ptr<Score> make_score(ScoreKind kind, int key_size, int query_size, int attn_size);
// Keys and queries both H wide (SPEC §4).
inline std::unique_ptr<Score> make_score(ScoreKind kind, int hidden_size, int attn_size) {
    return make_score(kind, hidden_size, hidden_size, attn_size);
}

// What a forward pass keeps: every number a printout shows, or only what the loss's gradient
// needs (Model::loss). Then the concat score's e (B × m a decoder step, half of what attention
// keeps that grows like m·n) is not kept and AttentionStep::scores stays undefined (and
// Seq2Seq::decoder_step leaves bahdanau's [s_j; c_j] unmade).
enum class Keep { printouts, for_backward };

AttentionKeys prepare_attention(Score& score, Tensor states, int length);
// source_mask: B·m flags, 1 at padded source positions (empty when nothing is padded).
AttentionStep attend(Score& score, const AttentionKeys& keys, Tensor s, std::span<const int> source_mask,
                     Keep keep = Keep::printouts);

}  // namespace stepgrad
