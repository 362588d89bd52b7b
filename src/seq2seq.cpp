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
}

namespace {
// The decoder cell reads [tgt_embed[y_{j−1}]; c_j] in bahdanau, the embedding alone otherwise.
int decoder_input_size(const ModelConfig& c) {
    return c.decoder == DecoderKind::bahdanau ? c.embed + c.hidden : c.embed;
}
// The output layer reads [s_j; c_j] in bahdanau, s_j (plain) or h̃_j (luong), both H wide.
int feature_size(const ModelConfig& c) { return c.decoder == DecoderKind::bahdanau ? 2 * c.hidden : c.hidden; }

const ModelConfig& validated(const ModelConfig& config) {
    validate(config);
    return config;
}
}  // namespace

Seq2Seq::Seq2Seq(const ModelConfig& config)
    : src_embed("src_embed", validated(config).src_vocab, config.embed),
      tgt_embed("tgt_embed", config.tgt_vocab, config.embed),
      encoder(make_cell(config.cell, "encoder", config.embed, config.hidden)),
      decoder(make_cell(config.cell, "decoder", decoder_input_size(config), config.hidden)),
      output_W("output.W", config.tgt_vocab, feature_size(config)),
      output_b("output.b", 1, config.tgt_vocab, true),
      config_(config) {
    if (config.score != ScoreKind::none) score = make_score(config.score, config.hidden, config.attn);
    if (config.decoder == DecoderKind::luong)
        output_W_c = std::make_unique<Parameter>("output.W_c", config.hidden, 2 * config.hidden);
}

std::vector<Parameter*> Seq2Seq::parameters() {
    std::vector<Parameter*> all = {&src_embed, &tgt_embed};
    for (Parameter* p : encoder->parameters()) all.push_back(p);
    for (Parameter* p : decoder->parameters()) all.push_back(p);
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

std::size_t Seq2Seq::parameter_count() {
    std::size_t total = 0;
    for (Parameter* p : parameters()) total += p->size();
    return total;
}

void Seq2Seq::init(std::uint64_t seed) {
    Rng rng(seed);
    src_embed.init_uniform(rng, 1.0);
    tgt_embed.init_uniform(rng, 1.0);
    encoder->init(rng);
    decoder->init(rng);
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

    const bool padded = std::any_of(batch.src_lengths.begin(), batch.src_lengths.end(), [m](int n) { return n != m; });
    Encoded out;
    out.steps.reserve(static_cast<std::size_t>(m));
    CellState state = encoder->initial_state(B);
    std::vector<int> running(static_cast<std::size_t>(B));
    for (int t = 0; t < m; ++t) {
        // h_t = cell(src_embed[x_t], h_{t−1})
        CellStep step = encoder->step(slice_rows(embedded, t * B, B), state);
        if (padded) {  // an example whose source has ended keeps its last state
            for (int b = 0; b < B; ++b) running[static_cast<std::size_t>(b)] = t < batch.src_lengths[static_cast<std::size_t>(b)];
            step.state.h = select_rows(running, step.state.h, state.h);
            if (step.state.c.defined()) step.state.c = select_rows(running, step.state.c, state.c);
        }
        state = step.state;
        out.steps.push_back(step);
    }
    out.final = state;
    if (score) {
        std::vector<Tensor> states;
        for (const CellStep& step : out.steps) states.push_back(step.state.h);
        out.attention = prepare_attention(*score, concat_cols(states), m);  // H: (B, m·H)
    }
    if (padded) {
        std::vector<int> mask(static_cast<std::size_t>(B) * m);
        for (int b = 0; b < B; ++b)
            for (int t = 0; t < m; ++t) mask[static_cast<std::size_t>(b) * m + t] = t >= batch.src_lengths[static_cast<std::size_t>(b)];
        out.source_mask = tape().save(mask);
    }
    return out;
}

DecoderStep Seq2Seq::decoder_step(const Encoded& encoded, const CellState& previous, std::span<const int> inputs) {
    const Tensor embedded = gather_rows(tgt_embed.use(), inputs);  // tgt_embed[y_{j−1}]
    DecoderStep step;
    switch (config_.decoder) {
        case DecoderKind::plain:
            // s_j = cell(tgt_embed[y_{j−1}], s_{j−1})
            step.cell = decoder->step(embedded, previous);
            step.features = step.cell.state.h;
            break;
        case DecoderKind::bahdanau:
            // e_{j,i} = score(h_i, s_{j−1}): the query is the state *before* this step
            step.attention = attend(*score, encoded.attention, previous.h, encoded.source_mask);
            // s_j = cell([tgt_embed[y_{j−1}]; c_j], s_{j−1})
            step.cell = decoder->step(concat_cols({embedded, step.attention.context}), previous);
            step.features = concat_cols({step.cell.state.h, step.attention.context});
            break;
        case DecoderKind::luong:
            step.cell = decoder->step(embedded, previous);
            // e_{j,i} = score(h_i, s_j): the query is the state *after* this step
            step.attention = attend(*score, encoded.attention, step.cell.state.h, encoded.source_mask);
            // h̃_j = tanh(W_c [s_j; c_j])
            step.attentional = stepgrad::tanh(matmul_nt(concat_cols({step.cell.state.h, step.attention.context}),
                                                        output_W_c->use()));
            step.features = step.attentional;
            break;
    }
    return step;
}

Tensor Seq2Seq::output_logits(Tensor features) { return linear(features, output_W, output_b); }

Forward Seq2Seq::forward(const Batch& batch) {
    const int B = batch.size, n = batch.tgt_len;
    Forward out;
    out.encoder = encode(batch);
    CellState state = out.encoder.final;  // s_0 = h_m
    std::vector<int> inputs(static_cast<std::size_t>(B));
    std::vector<Tensor> features;
    for (int j = 0; j < n; ++j) {
        for (int b = 0; b < B; ++b) inputs[static_cast<std::size_t>(b)] = batch.tgt_in[static_cast<std::size_t>(b) * n + j];
        DecoderStep step = decoder_step(out.encoder, state, inputs);
        state = step.cell.state;
        features.push_back(step.features);
        out.decoder.push_back(step);
    }
    // All n steps through the output layer at once: (B, n·F) read as (B·n, F) puts
    // example b's step j at row b·n + j, the order of batch.tgt_out.
    const int F = features.front().cols();
    out.logits = output_logits(reshape(concat_cols(features), B * n, F));
    out.token_losses = nll_loss(log_softmax(out.logits), batch.tgt_out, Vocab::pad);
    const auto counted = std::count_if(batch.tgt_out.begin(), batch.tgt_out.end(), [](int y) { return y != Vocab::pad; });
    out.loss = scale(sum(out.token_losses), 1.0 / static_cast<double>(counted));
    return out;
}

std::vector<std::vector<int>> Seq2Seq::greedy_decode(const Batch& batch, int max_length) {
    const int B = batch.size;
    const Encoded encoded = encode(batch);
    CellState state = encoded.final;
    std::vector<int> inputs(static_cast<std::size_t>(B), Vocab::bos);
    std::vector<std::vector<int>> outputs(static_cast<std::size_t>(B));
    std::vector<bool> done(static_cast<std::size_t>(B), false);
    for (int j = 0; j < max_length; ++j) {
        const DecoderStep step = decoder_step(encoded, state, inputs);
        state = step.cell.state;
        const Tensor logits = output_logits(step.features);
        const int V = logits.cols();
        for (int b = 0; b < B; ++b) {
            const auto row = logits.values().subspan(static_cast<std::size_t>(b) * V, static_cast<std::size_t>(V));
            const int best = static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin());
            inputs[static_cast<std::size_t>(b)] = best;
            if (!done[static_cast<std::size_t>(b)]) outputs[static_cast<std::size_t>(b)].push_back(best);
            done[static_cast<std::size_t>(b)] = done[static_cast<std::size_t>(b)] || best == Vocab::eos;
        }
        if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
    }
    return outputs;
}

}  // namespace stepgrad
