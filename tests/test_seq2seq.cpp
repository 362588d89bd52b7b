// The seq2seq models against the golden traces of an independent float64
// implementation, gradient checks of every cell × decoder × score, and padding masks.
#include "testing.hpp"

#include <functional>
#include <tuple>

#include "stepgrad/support/trace.hpp"

using namespace stepgrad;
using namespace stepgrad::testing;

namespace {

const char* const cells[] = {"rnn", "gru", "lstm"};
const char* const scores[] = {"concat", "dot", "general", "qk", "qk-scaled"};

ModelConfig config_of(const Json& trace) {
    const Json& model = trace.at("model");
    ModelConfig config;
    config.cell = parse_cell_kind(model.at("cell").as_string());
    config.decoder = parse_decoder_kind(model.at("decoder").as_string());
    config.score = model.at("decoder").as_string() == "plain" ? ScoreKind::none
                                                              : parse_score_kind(model.at("score").as_string());
    config.src_vocab = static_cast<int>(trace.at("src_vocab").size());
    config.tgt_vocab = static_cast<int>(trace.at("tgt_vocab").size());
    config.embed = model.at("embed_dim").as_int();
    config.hidden = model.at("hidden_dim").as_int();
    config.attn = model.at("attn_dim").as_int();
    if (model.contains("bidirectional")) config.bidirectional = model.at("bidirectional").as_bool();
    if (model.contains("layers")) config.layers = model.at("layers").as_int();
    return config;
}

// How many numbers the golden checks compared, and the largest relative difference.
struct GoldenStats {
    std::size_t count = 0;
    double max_relative = 0;
};
GoldenStats golden_stats;

void compare(const std::vector<double>& actual, const std::vector<double>& expected, const std::string& what) {
    check_close(actual, expected, what);
    for (std::size_t i = 0; i < std::min(actual.size(), expected.size()); ++i) {
        const double scale = std::max(std::abs(expected[i]), 1e-300);
        golden_stats.max_relative = std::max(golden_stats.max_relative,
                                             expected[i] == actual[i] ? 0.0 : std::abs(actual[i] - expected[i]) / scale);
    }
    golden_stats.count += expected.size();
}

void check_cell_step(const Json& expected, const CellStep& step, const char* state_name, const std::string& where) {
    compare(step.state.h.row(0), numbers(expected.at(state_name)), where + " " + state_name);
    CHECK(expected.contains("c") == step.state.c.defined());
    if (expected.contains("c")) compare(step.state.c.row(0), numbers(expected.at("c")), where + " c");
    if (!expected.contains("gates") || expected.at("gates").size() == 0) {
        CHECK(step.gate_count == 0);
        return;
    }
    for (const Gate& gate : step.gates())
        compare(gate.value.row(0), numbers(expected.at("gates").at(gate.name)), where + " gate " + gate.name);
}

// SPEC §11: the annotation h_t and every layer's states, both directions.
void check_encoder_layers(const Json& expected, const Encoded& encoded, std::size_t t, const std::string& where) {
    std::vector<double> annotation = encoded.layers.back().forward[t].state.h.row(0);
    if (!encoded.layers.back().backward.empty()) {
        const std::vector<double> back = encoded.layers.back().backward[t].state.h.row(0);
        annotation.insert(annotation.end(), back.begin(), back.end());
    }
    compare(annotation, numbers(expected.at("h")), where + " annotation h");
    const Json::Array& layers = expected.at("layers").as_array();
    REQUIRE(layers.size() == encoded.layers.size());
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const std::string at = fmt::format("{} layer {}", where, l + 1);
        check_cell_step(layers[l], encoded.layers[l].forward[t], "h", at);
        REQUIRE(layers[l].contains("reverse") == !encoded.layers[l].backward.empty());
        if (layers[l].contains("reverse"))
            check_cell_step(layers[l].at("reverse"), encoded.layers[l].backward[t], "h", at + " reverse");
    }
}

// Loads a golden trace, runs its example through our model with its params and compares
// every number: encoder and decoder steps, loss and every gradient.
void check_golden(const std::string& name) {
    INFO("golden trace ", name);
    const Json trace = read_json_file(golden_path(name));
    Seq2Seq model(config_of(trace));
    const std::vector<Parameter*> parameters = model.parameters();
    load_parameters(trace.at("params"), parameters);
    const Example example{ids(trace.at("src")), ids(trace.at("tgt"))};
    const TraceRun run = run_traced_example(model, example);

    const Json::Array& encoder = trace.at("encoder").as_array();
    REQUIRE(encoder.size() == run.forward.encoder.steps.size());
    for (std::size_t t = 0; t < encoder.size(); ++t) {
        const std::string where = fmt::format("encoder t={}", t + 1);
        if (encoder[t].contains("layers"))
            check_encoder_layers(encoder[t], run.forward.encoder, t, where);
        else
            check_cell_step(encoder[t], run.forward.encoder.steps[t], "h", where);
    }
    if (trace.contains("decoder_init")) {  // SPEC §11: every decoder layer's s_0 (and c_0)
        const Json::Array& init = trace.at("decoder_init").as_array();
        REQUIRE(init.size() == run.forward.encoder.initial.size());
        for (std::size_t l = 0; l < init.size(); ++l) {
            const CellState& s0 = run.forward.encoder.initial[l];
            compare(s0.h.row(0), numbers(init[l].at("s")), fmt::format("decoder_init layer {} s", l + 1));
            CHECK(init[l].contains("c") == s0.c.defined());
            if (init[l].contains("c")) compare(s0.c.row(0), numbers(init[l].at("c")), fmt::format("decoder_init layer {} c", l + 1));
        }
    }

    const Json::Array& decoder = trace.at("decoder").as_array();
    REQUIRE(decoder.size() == run.forward.decoder.size());
    for (std::size_t j = 0; j < decoder.size(); ++j) {
        const std::string where = fmt::format("decoder t={}", j + 1);
        const DecoderStep& step = run.forward.decoder[j];
        if (decoder[j].contains("alpha")) {
            compare(step.attention.scores.row(0), numbers(decoder[j].at("scores")), where + " scores e");
            compare(step.attention.alpha.row(0), numbers(decoder[j].at("alpha")), where + " alpha");
            compare(step.attention.context.row(0), numbers(decoder[j].at("context")), where + " context c");
        }
        if (decoder[j].contains("h_tilde"))
            compare(step.attentional.row(0), numbers(decoder[j].at("h_tilde")), where + " h_tilde");
        check_cell_step(decoder[j], step.cell, "s", where);
        if (decoder[j].contains("layers")) {
            const Json::Array& layers = decoder[j].at("layers").as_array();
            REQUIRE(layers.size() == step.layers.size());
            for (std::size_t l = 0; l < layers.size(); ++l)
                check_cell_step(layers[l], step.layers[l], "s", fmt::format("{} layer {}", where, l + 1));
        }
        compare(run.forward.logits.row(static_cast<int>(j)), numbers(decoder[j].at("logits")), where + " logits");
    }
    compare({run.forward.loss.value(0)}, {trace.at("loss").as_number()}, "loss");
    REQUIRE(trace.at("grads").size() == parameters.size());
    for (const Parameter* p : parameters)
        compare(p->grad, read_tensor(trace.at("grads").at(p->name())).data, "grad of " + p->name());
}

}  // namespace

TEST_CASE("golden: plain seq2seq for every cell") {
    for (const char* cell : cells) check_golden(fmt::format("{}-plain", cell));
}

TEST_CASE("golden: bahdanau decoder for every cell and score") {
    for (const char* cell : cells)
        for (const char* score : scores) check_golden(fmt::format("{}-bahdanau-{}", cell, score));
}

TEST_CASE("golden: luong decoder for every cell and score") {
    for (const char* cell : cells)
        for (const char* score : scores) check_golden(fmt::format("{}-luong-{}", cell, score));
}

TEST_CASE("golden: bidirectional and stacked encoders (SPEC 11) for every cell") {
    golden_stats = {};
    for (const char* cell : cells)
        for (const char* model : {"bi1-bahdanau-concat", "uni2-luong-general", "bi2-bahdanau-qk-scaled"})
            check_golden(fmt::format("{}-{}", cell, model));
    MESSAGE(fmt::format("SPEC 11 golden traces: {} numbers compared, largest relative difference {:.3g}",
                        golden_stats.count, golden_stats.max_relative));
    CHECK(golden_stats.count > 0);
}

namespace {

ModelConfig tiny_config(const char* cell, const char* decoder, const char* score) {
    ModelConfig config;
    config.cell = parse_cell_kind(cell);
    config.decoder = parse_decoder_kind(decoder);
    config.score = std::string(decoder) == "plain" ? ScoreKind::none : parse_score_kind(score);
    config.src_vocab = 7;
    config.tgt_vocab = 6;
    config.embed = 3;
    config.hidden = 3;
    config.attn = 2;
    return config;
}

// Three examples of different lengths, so padding and masks are exercised.
std::vector<Example> ragged_examples() {
    return {{{3, 4, 5, 6, 2}, {4, 3, 2}}, {{6, 3, 2}, {5, 5, 4, 3, 2}}, {{4, 2}, {2}}};
}

void check_model_gradients(const char* cell, const char* decoder, const char* score) {
    INFO(cell, " ", decoder, " ", score);
    Seq2Seq model(tiny_config(cell, decoder, score));
    model.init(7);
    const std::vector<Example> examples = ragged_examples();
    const Batch batch = make_batch(examples);
    require_gradients([&] { return model.forward(batch).loss; }, model.parameters(), 1e-5);
}

}  // namespace

TEST_CASE("whole-model gradient check: plain decoder, every cell, padded batch") {
    for (const char* cell : cells) check_model_gradients(cell, "plain", "none");
}

TEST_CASE("whole-model gradient check: bahdanau decoder, every cell and score, padded batch") {
    for (const char* cell : cells)
        for (const char* score : scores) check_model_gradients(cell, "bahdanau", score);
}

TEST_CASE("whole-model gradient check: luong decoder, every cell and score, padded batch") {
    for (const char* cell : cells)
        for (const char* score : scores) check_model_gradients(cell, "luong", score);
}

namespace {
// The loss and every parameter's gradient after backward of `loss`, as one list.
std::vector<double> loss_and_gradients(Seq2Seq& model, const std::function<Tensor()>& loss) {
    tape().reset();
    for (Parameter* p : model.parameters()) p->zero_grad();
    const Tensor l = loss();
    tape().backward(l);
    std::vector<double> all{l.value(0)};
    for (const Parameter* p : model.parameters()) all.insert(all.end(), p->grad.begin(), p->grad.end());
    return all;
}
}  // namespace

TEST_CASE("Model::loss keeps less than forward (no e, no [s; c] a step) and gives its loss and gradients bit for bit") {
    const std::vector<Example> examples = ragged_examples();
    const Batch batch = make_batch(examples);
    // scheduled sampling too: steps that read the model's own argmax need the last step's features
    std::vector<std::uint8_t> feed_gold(batch.tgt_in.size(), 1);
    for (std::size_t k = 1; k < feed_gold.size(); k += 2) feed_gold[k] = 0;
    for (const char* decoder : {"plain", "bahdanau", "luong"})
        for (const char* score : scores) {
            if (std::string(decoder) == "plain" && std::string(score) != "concat") continue;
            INFO(decoder, " ", score);
            Seq2Seq model(tiny_config("gru", decoder, score));
            model.init(5);
            for (const std::span<const std::uint8_t> feed : {std::span<const std::uint8_t>{}, std::span<const std::uint8_t>(feed_gold)}) {
                const std::vector<double> printed = loss_and_gradients(model, [&] { return model.forward(batch, feed).loss; });
                const std::size_t entries = tape().size();
                CHECK(loss_and_gradients(model, [&] { return model.loss(batch, feed); }) == printed);
                // fewer tensors: bahdanau's [s_j; c_j] at each step, concat's e; the rest keep all
                const bool drops = std::string(decoder) == "bahdanau" || (std::string(decoder) == "luong" && std::string(score) == "concat");
                if (drops) CHECK(tape().size() < entries);
                else CHECK(tape().size() == entries);
            }
        }
}

namespace {

// Each example alone (losses, α rows, gradients weighted by its tokens) against the
// padded batch of all three.
void check_padded_batch(const ModelConfig& config) {
    Seq2Seq model(config);
    model.init(3);
    const std::vector<Example> examples = ragged_examples();
    const std::vector<Parameter*> parameters = model.parameters();

    std::vector<double> losses_alone, weighted_grads;
    std::vector<std::vector<std::vector<double>>> alpha_alone;
    std::size_t total_tokens = 0;
    for (const Example& example : examples) {
        const TraceRun run = run_traced_example(model, example);
        losses_alone.push_back(run.forward.loss.value(0));
        std::vector<std::vector<double>> rows;
        for (const DecoderStep& step : run.forward.decoder) rows.push_back(step.attention.alpha.row(0));
        alpha_alone.push_back(rows);
        std::vector<double> grads;
        for (const Parameter* p : parameters)
            for (double g : p->grad) grads.push_back(g * static_cast<double>(example.tgt.size()));
        if (weighted_grads.empty()) weighted_grads.assign(grads.size(), 0.0);
        for (std::size_t i = 0; i < grads.size(); ++i) weighted_grads[i] += grads[i];
        total_tokens += example.tgt.size();
    }

    tape().reset();
    for (Parameter* p : parameters) p->zero_grad();
    const Batch batch = make_batch(examples);
    const Forward forward = model.forward(batch);
    tape().backward(forward.loss);
    for (std::size_t b = 0; b < examples.size(); ++b) {
        const int n = static_cast<int>(examples[b].tgt.size()), m = static_cast<int>(examples[b].src.size());
        double loss = 0;
        for (int j = 0; j < n; ++j) loss += forward.token_losses.value(b * static_cast<std::size_t>(batch.tgt_len) + static_cast<std::size_t>(j));
        check_close({loss / n}, {losses_alone[b]}, fmt::format("loss of example {}", b));
        for (int j = 0; j < n; ++j) {
            std::vector<double> alpha = forward.decoder[static_cast<std::size_t>(j)].attention.alpha.row(static_cast<int>(b));
            for (int i = m; i < batch.src_len; ++i) CHECK(alpha[static_cast<std::size_t>(i)] == 0.0);  // padding gets α = 0 exactly
            alpha.resize(static_cast<std::size_t>(m));
            check_close(alpha, alpha_alone[b][static_cast<std::size_t>(j)], fmt::format("alpha of example {} step {}", b, j + 1));
        }
    }
    std::vector<double> batch_grads;
    for (const Parameter* p : parameters)
        for (double g : p->grad) batch_grads.push_back(g * static_cast<double>(total_tokens));
    check_close(batch_grads, weighted_grads, "gradients of the padded batch");
}

ModelConfig section11_config(const char* cell, const char* decoder, const char* score, bool bidirectional, int layers) {
    ModelConfig config = tiny_config(cell, decoder, score);
    config.bidirectional = bidirectional;
    config.layers = layers;
    return config;
}

}  // namespace

TEST_CASE("a padded batch gives each example the losses, alpha and gradients it gets alone") {
    for (const char* cell : cells) {
        INFO(cell);
        check_padded_batch(tiny_config(cell, "bahdanau", "general"));
    }
}

TEST_CASE("bidirectional and stacked: a padded batch gives each example what it gets alone") {
    for (const char* cell : cells) {
        INFO(cell, " bidirectional, 1 layer");
        check_padded_batch(section11_config(cell, "bahdanau", "concat", true, 1));
        INFO(cell, " forward, 3 layers");
        check_padded_batch(section11_config(cell, "luong", "general", false, 3));
        INFO(cell, " bidirectional, 2 layers");
        check_padded_batch(section11_config(cell, "bahdanau", "qk", true, 2));
    }
}

TEST_CASE("whole-model gradient check: bidirectional and stacked encoders, every cell, padded batch") {
    for (const char* cell : cells) {
        for (const auto& variant :
             {std::tuple{"bahdanau", "concat", true, 1}, std::tuple{"luong", "general", false, 2},
              std::tuple{"bahdanau", "qk-scaled", true, 2}, std::tuple{"plain", "none", true, 2}}) {
            const char *decoder = std::get<0>(variant), *score = std::get<1>(variant);
            const bool bidirectional = std::get<2>(variant);
            const int layers = std::get<3>(variant);
            INFO(cell, " ", decoder, " ", score, bidirectional ? " bidirectional" : " forward", " layers ", layers);
            Seq2Seq model(section11_config(cell, decoder, score, bidirectional, layers));
            model.init(7);
            const Batch batch = make_batch(ragged_examples());
            require_gradients([&] { return model.forward(batch).loss; }, model.parameters(), 1e-5);
        }
    }
}

TEST_CASE("bidirectional and stacked: parameter names and shapes of SPEC 11") {
    Seq2Seq model(section11_config("lstm", "luong", "concat", true, 2));  // H = 3, E = 3, A = 2
    const auto shape = [&](const char* name) {
        const Parameter& p = model.parameter(name);
        return std::pair{p.rows(), p.cols()};
    };
    CHECK(shape("encoder.W_ih") == std::pair{12, 3});
    CHECK(shape("encoder.reverse.W_ih") == std::pair{12, 3});
    CHECK(shape("encoder.l2.W_ih") == std::pair{12, 6});           // reads [→h; ←h] of layer 1
    CHECK(shape("encoder.l2.reverse.W_hh") == std::pair{12, 3});
    CHECK(shape("decoder.W_ih") == std::pair{12, 3});
    CHECK(shape("decoder.l2.b_hh") == std::pair{1, 12});
    CHECK(shape("bridge.W") == std::pair{3, 3});
    CHECK(shape("bridge.l2.b") == std::pair{1, 3});
    CHECK(shape("attention.W") == std::pair{2, 9});                // A × (H_k + H)
    CHECK(shape("output.W_c") == std::pair{3, 9});                 // H × (H + H_k)
    Seq2Seq bahdanau(section11_config("gru", "bahdanau", "general", true, 1));
    CHECK(bahdanau.parameter("decoder.W_ih").cols() == 3 + 6);     // E + H_k
    CHECK(bahdanau.parameter("output.W").cols() == 3 + 6);         // H + H_k
    CHECK(bahdanau.parameter("attention.W").rows() == 3);          // H × H_k
    CHECK(bahdanau.parameter("attention.W").cols() == 6);
    CHECK_THROWS_WITH(bahdanau.parameter("encoder.l2.W_ih"), doctest::Contains("no parameter 'encoder.l2.W_ih'"));
}

TEST_CASE("a one-layer forward model has exactly SPEC 4's parameters") {
    Seq2Seq model(tiny_config("gru", "bahdanau", "concat"));
    std::vector<std::string> names;
    for (const Parameter* p : model.parameters()) names.push_back(p->name());
    CHECK(names == std::vector<std::string>{"src_embed", "tgt_embed", "encoder.W_ih", "encoder.W_hh", "encoder.b_ih",
                                            "encoder.b_hh", "decoder.W_ih", "decoder.W_hh", "decoder.b_ih",
                                            "decoder.b_hh", "attention.W", "attention.v", "output.W", "output.b"});
}

TEST_CASE("model configuration errors name what is wrong") {
    ModelConfig config = tiny_config("gru", "plain", "none");
    config.score = ScoreKind::dot;
    CHECK_THROWS_WITH(Seq2Seq{config}, doctest::Contains("decoder 'plain' cannot use score 'dot'"));
    config = tiny_config("gru", "bahdanau", "concat");
    config.hidden = -3;
    CHECK_THROWS_WITH(Seq2Seq{config}, doctest::Contains("hidden size H must be positive, got -3"));
    CHECK_THROWS_WITH(parse_decoder_kind("x"), doctest::Contains("allowed: plain, bahdanau, luong"));
    config = tiny_config("gru", "bahdanau", "concat");
    for (int layers : {0, 5}) {
        config.layers = layers;
        const std::string message = fmt::format("layers must be from 1 to 4, got {}", layers);
        CHECK_THROWS_WITH(Seq2Seq{config}, doctest::Contains(message.c_str()));
    }
    config = tiny_config("gru", "luong", "dot");
    config.bidirectional = true;
    CHECK_THROWS_WITH(Seq2Seq{config}, doctest::Contains("score 'dot' needs keys as wide as the decoder state"));
    CHECK_THROWS_WITH(Seq2Seq{config}, doctest::Contains("use 'general' or 'qk'"));
}
