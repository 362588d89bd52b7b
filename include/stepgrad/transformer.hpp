#pragma once
// The encoder–decoder Transformer (SPEC §14; Vaswani et al. 2017) on the same tape as the
// RNN models, batched and padded the same way (a Batch from make_batch).
//
// Letters: d = d_model, h heads of d_k = d/h columns, N layers, d_ff the FFN's width,
// m source and n target positions, B examples; a sequence batch is (B·m, d) or (B·n, d),
// row b·m + t holding position t of example b (the layout of batch.src and batch.tgt_in).
//
//   X = src_embed[x] · √d + PE        Y = tgt_embed[<bos> y_1 … y_{n−1}] · √d + PE
//   MHA(Q_in, KV_in, mask):  Q = Q_in W_Qᵀ + b_Q,  K = KV_in W_Kᵀ + b_K,  V = KV_in W_Vᵀ + b_V
//       head i takes columns i·d_k … (i+1)·d_k − 1 of each
//       α_i = softmax(Q_i K_iᵀ / √d_k, −∞ where masked),  head_i = α_i V_i
//       out = [head_1 … head_h] W_Oᵀ + b_O           (nn.MultiheadAttention's layout)
//   LN(x) = γ ⊙ (x − μ) / √(σ² + 1e-5) + β            FFN(x) = relu(x W_1ᵀ + b_1) W_2ᵀ + b_2
//   pre   encoder  x += MHA(LN₁x, LN₁x, pad);  x += FFN(LN₂x);  memory = LN(x)
//         decoder  y += MHA(LN₁y, LN₁y, causal ∧ pad);  y += MHA(LN₂y, memory, src pad);
//                  y += FFN(LN₃y);  then LN(y)
//   post  (the paper) x = LN₁(x + MHA(x, x));  x = LN₂(x + FFN(x)); likewise with three
//         sub-layers in the decoder; no final LN
//   logits = y W_outᵀ + b_out;   loss = mean over the non-pad target tokens of −log softmax(logits)[y_j]
// No dropout: the same seed gives the same bytes.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stepgrad/data.hpp"
#include "stepgrad/model.hpp"
#include "stepgrad/ops.hpp"

namespace stepgrad {

// Where each sub-layer's layer norm sits: before it, inside the residual branch (pre, the
// default: trains without warm-up), or after the residual sum (post, the paper's).
enum class NormPosition { pre, post };

NormPosition parse_norm_position(std::string_view name);  // "pre" | "post"
const char* norm_position_name(NormPosition position);

struct TransformerConfig {
    int src_vocab = 0;
    int tgt_vocab = 0;
    int d_model = 32;  // d: even (sin and cos columns pair up) and a multiple of heads
    int heads = 4;     // h
    int layers = 2;    // N, encoder and decoder alike
    int d_ff = 64;
    NormPosition norm = NormPosition::pre;
};

// Throws std::invalid_argument naming the field and what is allowed.
void validate(const TransformerConfig& config);

// ---- parameters, under SPEC §14's names ----

struct LayerNorm {  // prefix.gamma, prefix.beta: (d)
    LayerNorm(const std::string& prefix, int d);
    LayerNormOutput operator()(Tensor x);
    Parameter gamma, beta;
};

struct MultiHeadAttention {  // prefix.{W_Q, b_Q, W_K, b_K, W_V, b_V, W_O, b_O}: W (d × d), b (d)
    MultiHeadAttention(const std::string& prefix, int d);
    Parameter W_Q, b_Q, W_K, b_K, W_V, b_V, W_O, b_O;
};

struct FeedForward {  // prefix.{W_1 (d_ff × d), b_1 (d_ff), W_2 (d × d_ff), b_2 (d)}
    FeedForward(const std::string& prefix, int d, int d_ff);
    Parameter W_1, b_1, W_2, b_2;
};

struct TransformerEncoderLayer {  // encoder.N.{self_attn, norm1, ffn, norm2}
    TransformerEncoderLayer(const std::string& prefix, int d, int d_ff);
    MultiHeadAttention self_attn;
    LayerNorm norm1;
    FeedForward ffn;
    LayerNorm norm2;
};

struct TransformerDecoderLayer {  // decoder.N.{self_attn, norm1, cross_attn, norm2, ffn, norm3}
    TransformerDecoderLayer(const std::string& prefix, int d, int d_ff);
    MultiHeadAttention self_attn;
    LayerNorm norm1;
    MultiHeadAttention cross_attn;
    LayerNorm norm2;
    FeedForward ffn;
    LayerNorm norm3;
};

// ---- what a pass computed: every number a trace or a lesson prints ----

// One MHA call, every head of every example at once. Per-head tensors are "split"
// (B·h·rows, ·): example b's head i is rows (b·h + i)·rows … (see split_heads); head() views one.
struct AttentionResult {
    int batch = 0;
    int heads = 0;
    Tensor query;   // Q_i: (B·h·n, d_k)
    Tensor key;     // K_i: (B·h·m, d_k)
    Tensor value;   // V_i: (B·h·m, d_k)
    Tensor scores;  // Q_i K_iᵀ / √d_k: (B·h·n, m), before the mask
    std::span<const int> mask;  // (B·h·n·m) flags, 1 where the score became −∞
    Tensor alpha;   // α_i = softmax of the masked scores: exactly 0 where masked
    Tensor context; // head_i = α_i V_i: (B·h·n, d_k)
    Tensor out;     // [head_1 … head_h] W_Oᵀ + b_O: (B·n, d)
    // Example b's head i of a split tensor (query, key, value, scores, alpha, context): a view.
    Tensor head(Tensor split, int example, int head) const;
};

struct EncoderLayerForward {
    LayerNormOutput norm1, norm2;
    AttentionResult self_attn;
    Tensor ffn;  // FFN's output (B·m, d), before the residual sum
    Tensor out;  // the residual stream after the layer (B·m, d)
};

struct DecoderLayerForward {
    LayerNormOutput norm1, norm2, norm3;
    AttentionResult self_attn, cross_attn;
    Tensor ffn;
    Tensor out;  // (B·n, d)
};

struct TransformerEncoded {
    int batch = 0;
    int length = 0;                    // m
    std::vector<int> src_lengths;      // per example; empty when nothing is padded
    Tensor input;                      // X = src_embed[x] · √d + PE: (B·m, d)
    std::vector<EncoderLayerForward> layers;
    LayerNormOutput final_norm;        // encoder.norm (pre only)
    Tensor memory;                     // what cross-attention reads: (B·m, d)
};

struct TransformerDecoded {
    Tensor input;                      // Y = tgt_embed[y_in] · √d + PE: (B·n, d)
    std::vector<DecoderLayerForward> layers;
    LayerNormOutput final_norm;        // decoder.norm (pre only)
    Tensor logits;                     // (B·n, V_tgt): row b·n + (j−1) holds logits_j of example b
};

struct TransformerForward {
    TransformerEncoded encoder;
    TransformerDecoded decoder;
    Tensor logits;        // decoder.logits
    Tensor token_losses;  // (B·n, 1): −log softmax(logits_j)[y_j], 0 at padding
    Tensor loss;          // (1, 1): mean over the target tokens that are not padding
};

class Transformer final : public Model {
public:
    explicit Transformer(const TransformerConfig& config);

    const TransformerConfig& config() const { return config_; }
    // Every parameter in SPEC §14's order: src_embed, tgt_embed, encoder.0 … (self_attn, norm1,
    // ffn, norm2), encoder.norm (pre), decoder.0 … (self_attn, norm1, cross_attn, norm2, ffn,
    // norm3), decoder.norm (pre), output.W, output.b.
    std::vector<Parameter*> parameters() override;
    Parameter& parameter(std::string_view name);  // throws naming the unknown parameter
    // From one Rng, in parameter order: embeddings uniform(±√(3/d)) (std 1/√d, so √d·embedding
    // has std 1, the scale of PE); W_Q, W_K, W_V, W_O Xavier uniform(±√(6/(d + d))) and their
    // biases 0, as nn.MultiheadAttention; FFN and output uniform(±1/√fan_in), as nn.Linear;
    // every γ = 1, β = 0, as nn.LayerNorm.
    void init(std::uint64_t seed);

    // Only the source side of the batch is read.
    TransformerEncoded encode(const Batch& batch);
    // The decoder over inputs (B·n ids: <bos>, y_1 …), target_lengths per example (empty:
    // none padded), reading the encoder's memory; to the logits.
    TransformerDecoded decode(const TransformerEncoded& encoded, std::span<const int> inputs, int length,
                              std::span<const int> target_lengths);
    // Teacher-forced pass over a batch, with the loss.
    TransformerForward forward(const Batch& batch);
    // The model's own argmax fed back, re-running the decoder over the whole prefix at each
    // step; per example the ids up to and including <eos> (or max_length ids).
    std::vector<std::vector<int>> greedy_decode(const Batch& batch, int max_length) override;

    // ---- Model ----
    // forward(batch).loss. Teacher forced only: every decoder position is computed at once
    // from the gold prefix, so scheduled sampling (a 0 in feed_gold) throws std::invalid_argument.
    Tensor loss(const Batch& batch, std::span<const std::uint8_t> feed_gold = {}) override;
    // The state is the encoder's memory and, per decoder layer, a cache of the keys and values
    // so far: a step computes only the new position (the same tokens as re-running the whole
    // prefix, as greedy_decode does; the numbers agree to rounding).
    std::unique_ptr<DecoderState> start_decoding(const Batch& batch) override;
    Tensor next_log_probs(DecoderState& state, std::span<const int> inputs) override;
    void select_rows(DecoderState& state, std::span<const int> rows) override;

    Parameter src_embed;
    Parameter tgt_embed;
    std::vector<TransformerEncoderLayer> encoder;
    std::unique_ptr<LayerNorm> encoder_norm;  // pre only
    std::vector<TransformerDecoderLayer> decoder;
    std::unique_ptr<LayerNorm> decoder_norm;  // pre only
    Parameter output_W;
    Parameter output_b;

private:
    AttentionResult attention(MultiHeadAttention& attn, Tensor query_input, Tensor key_value_input, int batch,
                              std::vector<int> mask);
    AttentionResult attend(MultiHeadAttention& attn, Tensor query, Tensor key, Tensor value, int batch,
                           std::vector<int> mask);
    DecoderLayerForward decoder_sublayers(TransformerDecoderLayer& layer, Tensor y,
                                          const std::function<AttentionResult(Tensor)>& self_attention,
                                          const std::function<AttentionResult(Tensor)>& cross_attention);
    Tensor feed_forward(FeedForward& ffn, Tensor x);
    Tensor embed(Parameter& table, std::span<const int> ids, int batch, int length);
    EncoderLayerForward encoder_layer(TransformerEncoderLayer& layer, Tensor x, const TransformerEncoded& encoded);
    DecoderLayerForward decoder_layer(TransformerDecoderLayer& layer, Tensor y, const TransformerEncoded& encoded,
                                      int length, std::span<const int> target_lengths);

    TransformerConfig config_;
};

}  // namespace stepgrad
