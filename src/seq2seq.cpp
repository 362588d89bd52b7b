#include "stepgrad/seq2seq.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "stepgrad/ops.hpp"
#include "stepgrad/random.hpp"

namespace stepgrad {

DecoderKind parse_decoder_kind(std::string_view name) {
    if (name == "plain") return DecoderKind::plain;
    if (name == "bahdanau") return DecoderKind::bahdanau;
    if (name == "luong") return DecoderKind::luong;
    throw std::invalid_argument(fmt::format("unknown decoder '{}' (allowed: plain, bahdanau, luong)", name));
}

const char* decoder_kind_name(DecoderKind kind) {
    switch (kind) {
        case DecoderKind::plain: return "plain";
        case DecoderKind::bahdanau: return "bahdanau";
        case DecoderKind::luong: return "luong";
    }
    return "?";
}

void validate(const ModelConfig& config) {
    auto positive = [](const char* what, int value) {
        if (value <= 0) throw std::invalid_argument(fmt::format("model: {} must be positive, got {}", what, value));
    };
    positive("embed size E", config.embed);
    positive("hidden size H", config.hidden);
    positive("attention size A", config.attn);
    if (config.src_vocab < 4 || config.tgt_vocab < 4)
        throw std::invalid_argument("model: a vocabulary needs <pad>, <bos>, <eos> and at least one token");
    if ((config.decoder == DecoderKind::plain) != (config.score == ScoreKind::none))
        throw std::invalid_argument(fmt::format("model: decoder '{}' cannot use score '{}' (plain has no score; "
                                                "bahdanau and luong need one)",
                                                decoder_kind_name(config.decoder), score_kind_name(config.score)));
    if (config.layers < 1 || config.layers > 4)
        throw std::invalid_argument(fmt::format("model: layers must be from 1 to 4, got {}", config.layers));
    if (config.bidirectional && config.score == ScoreKind::dot)
        throw std::invalid_argument("model: score 'dot' needs keys as wide as the decoder state, but a bidirectional "
                                    "encoder's [→h; ←h] are 2H wide: use 'general' or 'qk'");
}

int key_size(const ModelConfig& config) { return config.bidirectional ? 2 * config.hidden : config.hidden; }

namespace {
// The decoder's layer 1 reads [tgt_embed[y_{j−1}]; c_j] in bahdanau, the embedding alone otherwise.
int decoder_input_size(const ModelConfig& c) {
    return c.decoder == DecoderKind::bahdanau ? c.embed + key_size(c) : c.embed;
}
// The output layer reads [s_j; c_j] in bahdanau (H + H_k), s_j (plain) or h̃_j (luong), both H wide.
int feature_size(const ModelConfig& c) {
    return c.decoder == DecoderKind::bahdanau ? c.hidden + key_size(c) : c.hidden;
}

// Parameter names of layer ℓ (from 0): "encoder", "encoder.l2", … (SPEC §11)
std::string layer_prefix(const char* who, int layer) {
    return layer == 0 ? std::string(who) : fmt::format("{}.l{}", who, layer + 1);
}

const ModelConfig& validated(const ModelConfig& config) {
    validate(config);
    return config;
}

// Runs one direction of one encoder layer over its inputs x_1 … x_m (each B × In) and
// returns its steps by position. Forward: h_t = cell(x_t, h_{t−1}), t = 1..m; backward:
// ←h_t = cell(x_t, ←h_{t+1}), t = m..1, from ←h_{m+1} = 0. At a padded position an
// example keeps its state: the forward cell carries its last real state on, the backward
// cell stays at 0 until it meets the example's last real token.
// W_ih x_t + b_ih for t = 1..m. When the inputs are one time-major (m·B, In) tensor (layer 1's
// embeddings) one product serves every position, since it does not depend on the recurrence.
std::vector<Tensor> input_projections(Cell& cell, std::span<const Tensor> inputs, Tensor time_major, int B) {
    std::vector<Tensor> projected;
    if (time_major.defined()) {
        const Tensor all = cell.input_projection(time_major);  // (m·B, G·H)
        for (std::size_t t = 0; t < inputs.size(); ++t) projected.push_back(slice_rows(all, static_cast<int>(t) * B, B));
    } else {
        for (const Tensor& x : inputs) projected.push_back(cell.input_projection(x));
    }
    return projected;
}

// One direction of one encoder layer, from its input projections W_ih x_t + b_ih.
std::vector<CellStep> run_direction(Cell& cell, std::span<const Tensor> inputs, bool backward, const Batch& batch) {
    const int B = batch.size, m = static_cast<int>(inputs.size());
    const bool padded = std::any_of(batch.src_lengths.begin(), batch.src_lengths.end(), [m](int n) { return n != m; });
    std::vector<CellStep> steps(static_cast<std::size_t>(m));
    CellState state = cell.initial_state(B);
    std::vector<int> running(static_cast<std::size_t>(B));
    for (int k = 0; k < m; ++k) {
        const int t = backward ? m - 1 - k : k;
        CellStep step = cell.step_projected(inputs[static_cast<std::size_t>(t)], state);
        if (padded) {  // only examples whose source reaches position t take the step
            for (int b = 0; b < B; ++b) running[static_cast<std::size_t>(b)] = t < batch.src_lengths[static_cast<std::size_t>(b)];
            step.state.h = select_rows(running, step.state.h, state.h);
            if (step.state.c.defined()) step.state.c = select_rows(running, step.state.c, state.c);
        }
        state = step.state;
        steps[static_cast<std::size_t>(t)] = step;
    }
    return steps;
}
}  // namespace

Seq2Seq::Seq2Seq(const ModelConfig& config)
    : src_embed("src_embed", validated(config).src_vocab, config.embed),
      tgt_embed("tgt_embed", config.tgt_vocab, config.embed),
      output_W("output.W", config.tgt_vocab, feature_size(config)),
      output_b("output.b", 1, config.tgt_vocab, true),
      config_(config) {
    const int H = config.hidden, directions = config.bidirectional ? 2 : 1;
    for (int l = 0; l < config.layers; ++l) {
        // layer 1 reads the embeddings (E), layer ℓ > 1 layer ℓ−1's →h or [→h; ←h]
        const int input = l == 0 ? config.embed : directions * H;
        encoder.push_back(make_cell(config.cell, layer_prefix("encoder", l), input, H));
        if (config.bidirectional)
            encoder_reverse.push_back(make_cell(config.cell, layer_prefix("encoder", l) + ".reverse", input, H));
    }
    for (int l = 0; l < config.layers; ++l)
        decoder.push_back(make_cell(config.cell, layer_prefix("decoder", l), l == 0 ? decoder_input_size(config) : H, H));
    if (config.bidirectional)
        for (int l = 0; l < config.layers; ++l) bridge.push_back(std::make_unique<Bridge>(layer_prefix("bridge", l), H));
    if (config.score != ScoreKind::none) score = make_score(config.score, key_size(config), H, config.attn);
    if (config.decoder == DecoderKind::luong)
        output_W_c = std::make_unique<Parameter>("output.W_c", H, H + key_size(config));
}

std::vector<Parameter*> Seq2Seq::parameters() {
    std::vector<Parameter*> all = {&src_embed, &tgt_embed};
    auto add_cell = [&all](Cell& cell) {
        for (Parameter* p : cell.parameters()) all.push_back(p);
    };
    for (std::size_t l = 0; l < encoder.size(); ++l) {
        add_cell(*encoder[l]);
        if (!encoder_reverse.empty()) add_cell(*encoder_reverse[l]);
    }
    for (const auto& cell : decoder) add_cell(*cell);
    for (const auto& b : bridge) all.insert(all.end(), {&b->W, &b->b});
    if (score)
        for (Parameter* p : score->parameters()) all.push_back(p);
    if (output_W_c) all.push_back(output_W_c.get());
    all.push_back(&output_W);
    all.push_back(&output_b);
    return all;
}

Parameter& Seq2Seq::parameter(std::string_view name) {
    for (Parameter* p : parameters())
        if (p->name() == name) return *p;
    throw std::invalid_argument(fmt::format("this {} {} model has no parameter '{}'", cell_kind_name(config_.cell),
                                            decoder_kind_name(config_.decoder), name));
}

void Seq2Seq::init(std::uint64_t seed) {
    Rng rng(seed);
    src_embed.init_uniform(rng, 1.0);
    tgt_embed.init_uniform(rng, 1.0);
    for (std::size_t l = 0; l < encoder.size(); ++l) {
        encoder[l]->init(rng);
        if (!encoder_reverse.empty()) encoder_reverse[l]->init(rng);
    }
    for (const auto& cell : decoder) cell->init(rng);
    for (const auto& b : bridge)  // nn.Linear(H, H)
        for (Parameter* p : {&b->W, &b->b}) p->init_uniform(rng, 1.0 / std::sqrt(static_cast<double>(config_.hidden)));
    if (score) score->init(rng);
    for (Parameter* p : {output_W_c.get(), &output_W, &output_b})
        if (p) p->init_uniform(rng, 1.0 / std::sqrt(static_cast<double>(output_W.cols())));
}

Encoded Seq2Seq::encode(const Batch& batch) {
    const int B = batch.size, m = batch.src_len;
    // Time-major ids, so the B inputs of step t are consecutive rows of one lookup.
    std::vector<int> ids(static_cast<std::size_t>(B) * m);
    for (int b = 0; b < B; ++b)
        for (int t = 0; t < m; ++t) ids[static_cast<std::size_t>(t) * B + b] = batch.src[static_cast<std::size_t>(b) * m + t];
    const Tensor embedded = gather_rows(src_embed.use(), ids);  // (m·B, E)

    // Layer 1 reads x_t = src_embed[x_t]; layer ℓ > 1 reads layer ℓ−1's →h_t or [→h_t; ←h_t].
    std::vector<Tensor> inputs(static_cast<std::size_t>(m));
    for (int t = 0; t < m; ++t) inputs[static_cast<std::size_t>(t)] = slice_rows(embedded, t * B, B);
    Encoded out;
    for (std::size_t l = 0; l < encoder.size(); ++l) {
        EncoderLayer layer;
        const Tensor time_major = l == 0 ? embedded : Tensor{};
        layer.forward = run_direction(*encoder[l], input_projections(*encoder[l], inputs, time_major, B), false, batch);
        if (config_.bidirectional)
            layer.backward =
                run_direction(*encoder_reverse[l], input_projections(*encoder_reverse[l], inputs, time_major, B), true, batch);
        if (l + 1 < encoder.size())
            for (int t = 0; t < m; ++t) {
                const auto i = static_cast<std::size_t>(t);
                inputs[i] = config_.bidirectional ? concat_cols({layer.forward[i].state.h, layer.backward[i].state.h})
                                                  : layer.forward[i].state.h;
            }
        out.layers.push_back(std::move(layer));
    }
    out.steps = out.layers.back().forward;

    // The decoder's layer ℓ starts from the encoder's layer ℓ: (h_m, c_m) forward, or
    // s_0 = tanh(bridge.W ←h_1 + bridge.b) and c_0 = 0 bidirectional (Bahdanau et al. 2014, A.2.2).
    for (std::size_t l = 0; l < out.layers.size(); ++l) {
        if (!config_.bidirectional) {
            out.initial.push_back(out.layers[l].forward.back().state);
            continue;
        }
        const Tensor back_h1 = out.layers[l].backward.front().state.h;  // ←h_1
        CellState s0{stepgrad::tanh(linear(back_h1, bridge[l]->W, bridge[l]->b)), {}};
        if (config_.cell == CellKind::lstm) s0.c = zeros(B, config_.hidden);
        out.initial.push_back(s0);
    }
    out.final = out.initial.back();

    if (score) {  // the top layer's annotations h_i = →h_i or [→h_i; ←h_i], as blocks (B, m·H_k)
        std::vector<Tensor> states;
        for (int t = 0; t < m; ++t) {
            const EncoderLayer& top = out.layers.back();
            states.push_back(top.forward[static_cast<std::size_t>(t)].state.h);
            if (config_.bidirectional) states.push_back(top.backward[static_cast<std::size_t>(t)].state.h);
        }
        out.attention = prepare_attention(*score, concat_cols(states), m);
    }
    const bool padded = std::any_of(batch.src_lengths.begin(), batch.src_lengths.end(), [m](int n) { return n != m; });
    if (padded) {
        std::vector<int> mask(static_cast<std::size_t>(B) * m);
        for (int b = 0; b < B; ++b)
            for (int t = 0; t < m; ++t) mask[static_cast<std::size_t>(b) * m + t] = t >= batch.src_lengths[static_cast<std::size_t>(b)];
        out.source_mask = tape().save(mask);
    }
    return out;
}

DecoderStep Seq2Seq::decoder_step(const Encoded& encoded, const CellState& previous, std::span<const int> inputs) {
    return decoder_step(encoded, std::span<const CellState>(&previous, 1), inputs);
}

DecoderStep Seq2Seq::decoder_step(const Encoded& encoded, std::span<const CellState> previous,
                                  std::span<const int> inputs, Keep keep) {
    if (previous.size() != decoder.size())
        throw std::invalid_argument(fmt::format("decoder_step: the decoder has {} layers, got {} states",
                                                decoder.size(), previous.size()));
    const Tensor embedded = gather_rows(tgt_embed.use(), inputs);  // tgt_embed[y_{j−1}]
    DecoderStep step;
    Tensor x = embedded;
    if (config_.decoder == DecoderKind::bahdanau) {
        // e_{j,i} = score(h_i, s_{j−1}): the query is the top layer's state *before* this step
        step.attention = attend(*score, encoded.attention, previous.back().h, encoded.source_mask, keep);
        x = concat_cols({embedded, step.attention.context});  // layer 1 reads [tgt_embed[y_{j−1}]; c_j]
    }
    // s_j = cell(x, s_{j−1}) per layer; layer ℓ > 1 reads layer ℓ−1's s_j
    for (std::size_t l = 0; l < decoder.size(); ++l) {
        step.layers.push_back(decoder[l]->step(x, previous[l]));
        x = step.layers.back().state.h;
    }
    step.cell = step.layers.back();
    const Tensor s = step.cell.state.h;
    switch (config_.decoder) {
        case DecoderKind::plain: step.features = s; break;
        case DecoderKind::bahdanau:
            // a training pass reads s_j and c_j where they are (Seq2Seq::forward)
            if (keep == Keep::printouts) step.features = concat_cols({s, step.attention.context});
            break;
        case DecoderKind::luong:
            // e_{j,i} = score(h_i, s_j): the query is the state *after* this step
            step.attention = attend(*score, encoded.attention, s, encoded.source_mask, keep);
            // h̃_j = tanh(W_c [s_j; c_j])
            step.attentional = stepgrad::tanh(matmul_nt(concat_cols({s, step.attention.context}), output_W_c->use()));
            step.features = step.attentional;
            break;
    }
    return step;
}

Tensor Seq2Seq::output_logits(Tensor features) { return linear(features, output_W, output_b); }

namespace {

// The index of the largest of each row of `logits` (B, V); ties: the lower id, as greedy_decode.
std::vector<int> argmax_rows(const Tensor& logits) {
    const auto V = static_cast<std::size_t>(logits.cols());
    std::vector<int> best(static_cast<std::size_t>(logits.rows()));
    for (std::size_t b = 0; b < best.size(); ++b) {
        const auto row = logits.values().subspan(b * V, V);
        best[b] = static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin());
    }
    return best;
}

// Scheduled sampling at step j (0-based, j ≥ 1): y_{j−1} := argmax logits_{j−1} for each
// example whose coin said so (feed_gold 0) and whose target reaches j. Only ids change, so
// no gradient flows through the choice; the logits are computed only when some example needs them.
void feed_back_argmax(Seq2Seq& model, const DecoderStep& previous, const Batch& batch,
                      std::span<const std::uint8_t> feed_gold, int j, std::vector<int>& inputs) {
    std::vector<std::size_t> sampled;
    for (int b = 0; b < batch.size; ++b) {
        const auto k = static_cast<std::size_t>(b) * batch.tgt_len + j;
        if (!feed_gold[k] && batch.tgt_in[k] != Vocab::pad) sampled.push_back(k);
    }
    if (sampled.empty()) return;
    const Tensor features =
        previous.features.defined() ? previous.features : concat_cols({previous.cell.state.h, previous.attention.context});
    const std::vector<int> predicted = argmax_rows(model.output_logits(features));
    for (const std::size_t k : sampled) inputs[k] = predicted[k / static_cast<std::size_t>(batch.tgt_len)];
}

}  // namespace

Forward Seq2Seq::forward(const Batch& batch) { return forward(batch, {}); }

Forward Seq2Seq::forward(const Batch& batch, std::span<const std::uint8_t> feed_gold) {
    return forward(batch, feed_gold, Keep::printouts);
}

Forward Seq2Seq::forward(const Batch& batch, std::span<const std::uint8_t> feed_gold, Keep keep) {
    const int B = batch.size, n = batch.tgt_len;
    if (!feed_gold.empty() && feed_gold.size() != batch.tgt_in.size())
        throw std::invalid_argument(fmt::format("forward: {} feed_gold flags for a batch of {} × {} decoder inputs",
                                                feed_gold.size(), B, n));
    const ReusedWeights reused;  // W_hh and the decoder's W_ih are read at every step
    Forward out;
    out.encoder = encode(batch);
    out.inputs = batch.tgt_in;
    std::vector<CellState> state = out.encoder.initial;  // s_0 per layer: h_m, or the bridge's
    std::vector<int> inputs(static_cast<std::size_t>(B));
    std::vector<Tensor> features;  // every step's, [s_j; c_j] as its two parts: copied once, below
    for (int j = 0; j < n; ++j) {
        if (j > 0 && !feed_gold.empty()) feed_back_argmax(*this, out.decoder.back(), batch, feed_gold, j, out.inputs);
        for (int b = 0; b < B; ++b) inputs[static_cast<std::size_t>(b)] = out.inputs[static_cast<std::size_t>(b) * n + j];
        DecoderStep step = decoder_step(out.encoder, state, inputs, keep);
        for (std::size_t l = 0; l < state.size(); ++l) state[l] = step.layers[l].state;
        if (config_.decoder == DecoderKind::bahdanau) features.insert(features.end(), {step.cell.state.h, step.attention.context});
        else features.push_back(step.features);
        out.decoder.push_back(step);
    }
    // All n steps through the output layer at once: (B, n·F) read as (B·n, F) puts
    // example b's step j at row b·n + j, the order of batch.tgt_out.
    const Tensor all_steps = concat_cols(features);
    out.logits = output_logits(reshape(all_steps, B * n, all_steps.cols() / n));
    out.token_losses = nll_loss(log_softmax(out.logits), batch.tgt_out, Vocab::pad);
    out.loss = scale(sum(out.token_losses), 1.0 / static_cast<double>(loss_token_count(batch)));
    return out;
}

std::vector<std::vector<int>> Seq2Seq::greedy_decode(const Batch& batch, int max_length) {
    const int B = batch.size;
    const ReusedWeights reused;
    const Encoded encoded = encode(batch);
    std::vector<CellState> state = encoded.initial;
    std::vector<int> inputs(static_cast<std::size_t>(B), Vocab::bos);
    std::vector<std::vector<int>> outputs(static_cast<std::size_t>(B));
    std::vector<bool> done(static_cast<std::size_t>(B), false);
    for (int j = 0; j < max_length; ++j) {
        const DecoderStep step = decoder_step(encoded, state, inputs);
        for (std::size_t l = 0; l < state.size(); ++l) state[l] = step.layers[l].state;
        const std::vector<int> predicted = argmax_rows(output_logits(step.features));
        for (int b = 0; b < B; ++b) {
            const int best = predicted[static_cast<std::size_t>(b)];
            inputs[static_cast<std::size_t>(b)] = best;
            if (!done[static_cast<std::size_t>(b)]) outputs[static_cast<std::size_t>(b)].push_back(best);
            done[static_cast<std::size_t>(b)] = done[static_cast<std::size_t>(b)] || best == Vocab::eos;
        }
        if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
    }
    return outputs;
}

Tensor Seq2Seq::loss(const Batch& batch, std::span<const std::uint8_t> feed_gold) {
    return forward(batch, feed_gold, Keep::for_backward).loss;
}

namespace {

struct RecurrentDecoderState final : DecoderState {
    Encoded encoded;                // only its attention keys and source mask are read
    std::vector<CellState> states;  // s_{j−1} per layer, bottom first
    std::size_t source_length = 0;  // m
};

// Rows `rows` of a tensor with one row per prefix; an undefined one (c of a GRU) stays so.
Tensor rows_of(const Tensor& t, std::span<const int> rows) { return t.defined() ? gather_rows(t, rows) : t; }

}  // namespace

std::unique_ptr<DecoderState> Seq2Seq::start_decoding(const Batch& batch) {
    auto state = std::make_unique<RecurrentDecoderState>();
    state->encoded = encode(batch);
    state->states = state->encoded.initial;
    state->source_length = static_cast<std::size_t>(batch.src_len);
    return state;
}

Tensor Seq2Seq::next_log_probs(DecoderState& state, std::span<const int> inputs) {
    auto& recurrent = dynamic_cast<RecurrentDecoderState&>(state);
    const DecoderStep step = decoder_step(recurrent.encoded, recurrent.states, inputs);
    for (std::size_t l = 0; l < recurrent.states.size(); ++l) recurrent.states[l] = step.layers[l].state;
    return log_softmax(output_logits(step.features));
}

void Seq2Seq::select_rows(DecoderState& state, std::span<const int> rows) {
    auto& recurrent = dynamic_cast<RecurrentDecoderState&>(state);
    for (CellState& s : recurrent.states) s = {rows_of(s.h, rows), rows_of(s.c, rows)};
    AttentionKeys& keys = recurrent.encoded.attention;
    keys.states = rows_of(keys.states, rows);
    keys.keys = rows_of(keys.keys, rows);
    const std::span<const int> mask = recurrent.encoded.source_mask;
    if (mask.empty()) return;
    std::vector<int> selected;  // the padding flags travel with their rows
    for (const int r : rows) {
        const auto flags = mask.subspan(static_cast<std::size_t>(r) * recurrent.source_length, recurrent.source_length);
        selected.insert(selected.end(), flags.begin(), flags.end());
    }
    recurrent.encoded.source_mask = tape().save(selected);
}

}  // namespace stepgrad
