// The seq2seq models against the golden traces of an independent float64
// implementation, gradient checks of every cell × decoder × score, and padding masks.
#include "testing.hpp"

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
    return config;
}

void check_cell_step(const Json& expected, const CellStep& step, const char* state_name, const std::string& where) {
    check_close(step.state.h.row(0), numbers(expected.at(state_name)), where + " " + state_name);
    if (expected.contains("c")) check_close(step.state.c.row(0), numbers(expected.at("c")), where + " c");
    if (!expected.contains("gates")) {
        CHECK(step.gate_count == 0);
        return;
    }
    for (const Gate& gate : step.gates())
        check_close(gate.value.row(0), numbers(expected.at("gates").at(gate.name)), where + " gate " + gate.name);
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
    for (std::size_t t = 0; t < encoder.size(); ++t)
        check_cell_step(encoder[t], run.forward.encoder.steps[t], "h", fmt::format("encoder t={}", t + 1));

    const Json::Array& decoder = trace.at("decoder").as_array();
    REQUIRE(decoder.size() == run.forward.decoder.size());
    for (std::size_t j = 0; j < decoder.size(); ++j) {
        const std::string where = fmt::format("decoder t={}", j + 1);
        const DecoderStep& step = run.forward.decoder[j];
        if (decoder[j].contains("alpha")) {
            check_close(step.attention.scores.row(0), numbers(decoder[j].at("scores")), where + " scores e");
            check_close(step.attention.alpha.row(0), numbers(decoder[j].at("alpha")), where + " alpha");
            check_close(step.attention.context.row(0), numbers(decoder[j].at("context")), where + " context c");
        }
        check_cell_step(decoder[j], step.cell, "s", where);
        check_close(run.forward.logits.row(static_cast<int>(j)), numbers(decoder[j].at("logits")), where + " logits");
    }
    check_close({run.forward.loss.value(0)}, {trace.at("loss").as_number()}, "loss");
    for (const Parameter* p : parameters)
        check_close(p->grad, read_tensor(trace.at("grads").at(p->name())).data, "grad of " + p->name());
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

TEST_CASE("a padded batch gives each example the losses, alpha and gradients it gets alone") {
    for (const char* cell : cells) {
        INFO(cell);
        Seq2Seq model(tiny_config(cell, "bahdanau", "general"));
        model.init(3);
        const std::vector<Example> examples = ragged_examples();
        const std::vector<Parameter*> parameters = model.parameters();

        // Alone: per-example loss, α rows and gradients weighted by the example's tokens.
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
}

TEST_CASE("model configuration errors name what is wrong") {
    ModelConfig config = tiny_config("gru", "plain", "none");
    config.score = ScoreKind::dot;
    CHECK_THROWS_WITH(Seq2Seq{config}, doctest::Contains("decoder 'plain' cannot use score 'dot'"));
    config = tiny_config("gru", "bahdanau", "concat");
    config.hidden = -3;
    CHECK_THROWS_WITH(Seq2Seq{config}, doctest::Contains("hidden size H must be positive, got -3"));
    CHECK_THROWS_WITH(parse_decoder_kind("x"), doctest::Contains("allowed: plain, bahdanau, luong"));
}
