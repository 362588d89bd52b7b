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
//
// Bidirectional and stacked encoders (SPEC §11), L = layers:
//   layer ℓ   reads the embeddings (ℓ = 1) or layer ℓ−1's output at the same step
//   forward   →h_t = cell(x_t, →h_{t−1}), t = 1..m        backward  ←h_t = cell(x_t, ←h_{t+1}), t = m..1
//   keys      h_t = [→h_t; ←h_t] of the top layer (H_k = 2H), or →h_t (H_k = H)
//   decoder   layer ℓ starts from the encoder's layer ℓ final state, or when bidirectional from
//             s_0 = tanh(bridge.W ←h_1 + bridge.b) (LSTM c_0 = 0); layer ℓ > 1 reads layer ℓ−1's s_j;
//             the query and the output layer use the top layer, c_j goes into layer 1.
// A padded position is skipped by both directions: the backward cell of a shorter source
// starts at its last real token.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stepgrad/attention.hpp"
#include "stepgrad/cells.hpp"
#include "stepgrad/data.hpp"
#include "stepgrad/model.hpp"

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
    bool bidirectional = false;  // encoder only: keys [→h; ←h], H_k = 2H (SPEC §11)
    int layers = 1;              // L, 1–4, encoder and decoder alike
};

// H_k, the width of the attention keys h_i: 2H bidirectional, else H.
int key_size(const ModelConfig& config);

// Throws std::invalid_argument naming the field and what is allowed.
void validate(const ModelConfig& config);

// One encoder layer: a CellStep per source position and direction.
struct EncoderLayer {
    std::vector<CellStep> forward;   // →h_1 … →h_m
    std::vector<CellStep> backward;  // ←h_1 … ←h_m, by position; empty unless bidirectional
};

struct Encoded {
    std::vector<CellStep> steps;       // the top layer's →h_1 … →h_m: with one forward layer, the h_i
    std::vector<EncoderLayer> layers;  // every layer, bottom first
    std::vector<CellState> initial;    // the decoder's s_0 (and c_0) per layer, bottom first
    CellState final;                   // the top layer's s_0: h_m (and c_m) for one forward layer
    AttentionKeys attention;           // the annotations h_i as blocks (B, m·H_k), and the score's keys
    std::span<const int> source_mask;  // B·m flags, 1 at padding; empty when none is padded
};

struct DecoderStep {
    CellStep cell;              // the top layer's s_j (and c, gates)
    std::vector<CellStep> layers;  // every layer's, bottom first (the last is `cell`)
    AttentionStep attention;    // e_j, α_j, c_j — not for plain
    Tensor attentional;         // h̃_j — luong only
    Tensor features;            // what the output layer reads: s_j, [s_j; c_j] (not under Keep::for_backward) or h̃_j
};

struct Forward {
    Encoded encoder;
    std::vector<DecoderStep> decoder;  // j = 1..n
    // (B·n) the y_{j−1} step j read, laid out as batch.tgt_in: the data's, or where scheduled
    // sampling fed it back, the model's own argmax of logits_{j−1}
    std::vector<int> inputs;
    Tensor logits;        // (B·n, V): row b·n + (j−1) holds logits_j of example b
    Tensor token_losses;  // (B·n, 1): −log softmax(logits_j)[y_j], 0 at padding
    Tensor loss;          // (1, 1): mean over the target tokens that are not padding
};

class Seq2Seq final : public Model {
public:
    explicit Seq2Seq(const ModelConfig& config);

    const ModelConfig& config() const { return config_; }
    // Every parameter, in the order of SPEC §4's names (§11's layers, reverse and bridge
    // after their layer-1 kin: encoder…, decoder…, bridge…).
    std::vector<Parameter*> parameters() override;
    Parameter& parameter(std::string_view name);  // throws naming the unknown parameter
    // Embeddings uniform(−1, 1); cells uniform(±1/√H); W, v, W_K, W_Q, W_c, output
    // uniform(±1/√fan_in) as PyTorch's nn.Linear. All from one Rng, in parameter order.
    void init(std::uint64_t seed);

    Encoded encode(const Batch& batch);
    // One decoder step for every example: `inputs` are the B ids y_{j−1}, `previous` every
    // layer's s_{j−1} (bottom first); the next step's is in the result's `layers`. Under
    // Keep::for_backward the attention's e is not kept (AttentionStep::scores undefined), nor
    // bahdanau's [s_j; c_j] made (features undefined).
    DecoderStep decoder_step(const Encoded& encoded, std::span<const CellState> previous, std::span<const int> inputs,
                             Keep keep = Keep::printouts);
    // The same for a one-layer decoder, whose state is one CellState.
    DecoderStep decoder_step(const Encoded& encoded, const CellState& previous, std::span<const int> inputs);
    // logits_j = W_out features_j + b_out
    Tensor output_logits(Tensor features);

    // Teacher-forced pass over a batch (y_{j−1} from the data), with the loss.
    Forward forward(const Batch& batch);
    // Scheduled sampling (Bengio et al. 2015, SPEC §13): as forward, except that where
    // feed_gold[b·n + j] is 0 (the layout of tgt_in, 0-based j ≥ 1) example b's step j + 1
    // reads the model's own argmax of logits_j instead of y_j. The argmax is a constant id:
    // no gradient flows through the choice. The flag of <bos> (j = 0) and of padding are
    // ignored; empty flags, or all 1, give exactly forward(batch).
    Forward forward(const Batch& batch, std::span<const std::uint8_t> feed_gold);
    // The model's own argmax fed back; per example the ids up to and including <eos>
    // (or max_length ids). Reads only the source side of the batch.
    std::vector<std::vector<int>> greedy_decode(const Batch& batch, int max_length) override;

    // ---- Model: forward(batch, feed_gold).loss keeping only what its backward needs, and
    // decoding one step at a time ----
    Tensor loss(const Batch& batch, std::span<const std::uint8_t> feed_gold = {}) override;
    // The state is s_{j−1} of every layer and the encoder's keys, one row per prefix.
    std::unique_ptr<DecoderState> start_decoding(const Batch& batch) override;
    Tensor next_log_probs(DecoderState& state, std::span<const int> inputs) override;
    void select_rows(DecoderState& state, std::span<const int> rows) override;

    // s_0 = tanh(bridge.W ←h_1 + bridge.b): where one decoder layer of a bidirectional model starts.
    struct Bridge {
        Bridge(const std::string& prefix, int H) : W(prefix + ".W", H, H), b(prefix + ".b", 1, H, true) {}
        Parameter W;  // (H × H)
        Parameter b;  // (H)
    };

    Parameter src_embed;
    Parameter tgt_embed;
    std::vector<std::unique_ptr<Cell>> encoder;          // layer ℓ's forward cell, bottom first
    std::vector<std::unique_ptr<Cell>> encoder_reverse;  // layer ℓ's backward cell (bidirectional)
    std::vector<std::unique_ptr<Cell>> decoder;          // layer ℓ's cell, bottom first
    std::vector<std::unique_ptr<Bridge>> bridge;         // per layer (bidirectional)
    std::unique_ptr<Score> score;         // null for plain
    std::unique_ptr<Parameter> output_W_c;  // luong only
    Parameter output_W;
    Parameter output_b;

private:
    Forward forward(const Batch& batch, std::span<const std::uint8_t> feed_gold, Keep keep);

    ModelConfig config_;
};

}  // namespace stepgrad
