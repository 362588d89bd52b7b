#pragma once
// Sequence-to-sequence models (SPEC §4): an encoder cell reads the source, a decoder
// cell writes the target, and — except in the plain model — attention lets every
// decoder step look at every encoder state.
//
//   encoder   h_0 = 0,  h_i = cell(src_embed[x_i], h_{i−1}),  i = 1..m;  s_0 = h_m
//   plain     s_j = cell(tgt_embed[y_{j−1}], s_{j−1})             logits_j = W_out s_j + b_out
//   bahdanau  e_{j,i} = score(h_i, s_{j−1}),  α_j = softmax(e_j),  c_j = Σ_i α_{j,i} h_i
//             s_j = cell([tgt_embed[y_{j−1}]; c_j], s_{j−1})       logits_j = W_out [s_j; c_j] + b_out
//   luong     s_j = cell(tgt_embed[y_{j−1}], s_{j−1}),  e_{j,i} = score(h_i, s_j),  α, c as above
//             h̃_j = tanh(W_c [s_j; c_j])                          logits_j = W_out h̃_j + b_out
//   loss      mean over the target tokens of −log softmax(logits_j)[y_j]
//
// One decoder loop serves all three: `decoder_step` is the only place they differ.
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "stepgrad/attention.hpp"
#include "stepgrad/cells.hpp"
#include "stepgrad/data.hpp"

namespace stepgrad {

enum class DecoderKind { plain, bahdanau, luong };

DecoderKind parse_decoder_kind(std::string_view name);  // "plain" | "bahdanau" | "luong"
const char* decoder_kind_name(DecoderKind kind);

struct ModelConfig {
    CellKind cell = CellKind::gru;
    DecoderKind decoder = DecoderKind::bahdanau;
    ScoreKind score = ScoreKind::concat;  // ScoreKind::none for plain
    int src_vocab = 0;
    int tgt_vocab = 0;
    int embed = 16;   // E
    int hidden = 16;  // H
    int attn = 16;    // A (concat, qk, qk-scaled)
};

// Throws std::invalid_argument naming the field and what is allowed.
void validate(const ModelConfig& config);

struct Encoded {
    std::vector<CellStep> steps;     // h_1 … h_m (and c, gates), one CellStep per source position
    CellState final;                 // h_m (and c_m): the decoder's s_0
    AttentionKeys attention;         // H as blocks, and the score's keys
    std::span<const int> source_mask;  // B·m flags, 1 at padding; empty when none is padded
};

struct DecoderStep {
    CellStep cell;              // s_j (and c, gates)
    AttentionStep attention;    // e_j, α_j, c_j — not for plain
    Tensor attentional;         // h̃_j — luong only
    Tensor features;            // what the output layer reads: s_j, [s_j; c_j] or h̃_j
};

struct Forward {
    Encoded encoder;
    std::vector<DecoderStep> decoder;  // j = 1..n
    Tensor logits;        // (B·n, V): row b·n + (j−1) holds logits_j of example b
    Tensor token_losses;  // (B·n, 1): −log softmax(logits_j)[y_j], 0 at padding
    Tensor loss;          // (1, 1): mean over the target tokens that are not padding
};

class Seq2Seq {
public:
    explicit Seq2Seq(const ModelConfig& config);

    const ModelConfig& config() const { return config_; }
    // Every parameter, in the order of SPEC §4's names.
    std::vector<Parameter*> parameters();
    Parameter& parameter(std::string_view name);  // throws naming the unknown parameter
    std::size_t parameter_count();
    // Embeddings uniform(−1, 1); cells uniform(±1/√H); W, v, W_K, W_Q, W_c, output
    // uniform(±1/√fan_in) as PyTorch's nn.Linear. All from one Rng, in parameter order.
    void init(std::uint64_t seed);

    Encoded encode(const Batch& batch);
    // One decoder step for every example: `inputs` are the B ids y_{j−1}.
    DecoderStep decoder_step(const Encoded& encoded, const CellState& previous, std::span<const int> inputs);
    // logits_j = W_out features_j + b_out
    Tensor output_logits(Tensor features);

    // Teacher-forced pass over a batch (y_{j−1} from the data), with the loss.
    Forward forward(const Batch& batch);
    // The model's own argmax fed back; per example the ids up to and including <eos>
    // (or max_length ids). Reads only the source side of the batch.
    std::vector<std::vector<int>> greedy_decode(const Batch& batch, int max_length);

    Parameter src_embed;
    Parameter tgt_embed;
    std::unique_ptr<Cell> encoder;
    std::unique_ptr<Cell> decoder;
    std::unique_ptr<Score> score;         // null for plain
    std::unique_ptr<Parameter> output_W_c;  // luong only
    Parameter output_W;
    Parameter output_b;

private:
    ModelConfig config_;
};

}  // namespace stepgrad
