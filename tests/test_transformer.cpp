// The Transformer (SPEC §14) against the golden traces of an independent float64
// implementation (checked against torch.nn.TransformerEncoderLayer / DecoderLayer), a
// gradient check of the whole model, and the masks: causal and padding.
#include "testing.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "stepgrad/support/files.hpp"              // defines: write_file_atomically
#include "stepgrad/support/trace.hpp"              // defines: load_parameters
#include "stepgrad/support/transformer_trace.hpp"  // defines: transformer_trace
#include "stepgrad/transformer.hpp"

using namespace stepgrad;
using namespace stepgrad::testing;

namespace {

TransformerConfig config_of(const Json& trace) {
    const Json& model = trace.at("model");
    REQUIRE(model.at("kind").as_string() == "transformer");
    TransformerConfig config;
    config.src_vocab = static_cast<int>(trace.at("src_vocab").size());
    config.tgt_vocab = static_cast<int>(trace.at("tgt_vocab").size());
    config.d_model = model.at("d_model").as_int();
    config.heads = model.at("heads").as_int();
    config.layers = model.at("layers").as_int();
    config.d_ff = model.at("d_ff").as_int();
    config.norm = parse_norm_position(model.at("norm").as_string());
    return config;
}

// The largest relative difference per kind of number (logits, loss, grads, alpha, …),
// |ours − golden| / max(|golden|, floor). Below the floor a number is held to
// golden_tolerance · floor = 1e-15 absolutely: such numbers are sums of O(1) terms that
// cancel (a q entry of 1e-4; b_K's gradient, 0 in exact arithmetic since softmax ignores
// a shift of every score), and the round-off both implementations leave there is
// absolute, ~1e-16, which a purely relative test would divide by almost nothing.
constexpr double relative_floor = 1e-3;
constexpr double golden_tolerance = 1e-12;

struct Agreement {
    std::map<std::string, double> max_relative;  // over |golden| ≥ floor
    double max_absolute_below_floor = 0;
    std::size_t count = 0;

    void compare(const std::string& kind, const std::vector<double>& actual, const Json& expected,
                 const std::string& where, std::span<const int> mask = {}) {
        INFO(where);
        const Json::Array& data = expected.is_object() ? expected.at("data").as_array() : expected.as_array();
        REQUIRE(actual.size() == data.size());
        double& worst = max_relative[kind];
        for (std::size_t i = 0; i < data.size(); ++i) {
            CAPTURE(i);
            if (data[i].is_null()) {  // a masked score: null in the trace, masked in ours
                REQUIRE_FALSE(mask.empty());
                CHECK(mask[i] == 1);
                continue;
            }
            if (!mask.empty()) CHECK(mask[i] == 0);
            const double e = data[i].as_number(), difference = std::abs(actual[i] - e);
            if (std::abs(e) >= relative_floor) worst = std::max(worst, difference / std::abs(e));
            else max_absolute_below_floor = std::max(max_absolute_below_floor, difference);
            const double relative = difference / std::max(std::abs(e), relative_floor);
            if (relative > golden_tolerance) CHECK_MESSAGE(relative <= golden_tolerance, "ours ", actual[i], " golden ", e);
        }
        count += data.size();
    }
};

void compare_norm(Agreement& agreement, const LayerNormOutput& ours, const Json& golden, const std::string& where) {
    agreement.compare("norm statistics", ours.mean.to_vector(), golden.at("mean"), where + " mean");
    agreement.compare("norm statistics", ours.variance.to_vector(), golden.at("var"), where + " var");
    agreement.compare("sub-layer outputs", ours.out.to_vector(), golden.at("out"), where + " out");
}

// Every head's q, k, v, scores (null where masked) and α, then the sub-layer's output. Batch 1.
void compare_attention(Agreement& agreement, const AttentionResult& ours, const Json& golden, const std::string& where) {
    const Json::Array& heads = golden.at("heads").as_array();
    REQUIRE(heads.size() == static_cast<std::size_t>(ours.heads));
    const int rows = ours.scores.rows() / ours.heads, keys = ours.scores.cols();
    for (int i = 0; i < ours.heads; ++i) {
        const std::string at = fmt::format("{} head {}", where, i);
        const Json& head = heads[static_cast<std::size_t>(i)];
        agreement.compare("q, k, v", ours.head(ours.query, 0, i).to_vector(), head.at("q"), at + " q");
        agreement.compare("q, k, v", ours.head(ours.key, 0, i).to_vector(), head.at("k"), at + " k");
        agreement.compare("q, k, v", ours.head(ours.value, 0, i).to_vector(), head.at("v"), at + " v");
        const auto mask = ours.mask.subspan(static_cast<std::size_t>(i * rows * keys), static_cast<std::size_t>(rows * keys));
        agreement.compare("scores", ours.head(ours.scores, 0, i).to_vector(), head.at("scores"), at + " scores", mask);
        agreement.compare("alpha", ours.head(ours.alpha, 0, i).to_vector(), head.at("alpha"), at + " alpha");
    }
    agreement.compare("sub-layer outputs", ours.out.to_vector(), golden.at("out"), where + " out");
}

// Loads a golden trace, sets the params, runs its ids teacher-forced and compares every
// number it holds: per layer and head q, k, v, scores, α, every norm's μ, σ² and output,
// every sub-layer's and layer's output, memory, logits, loss and every gradient.
Agreement check_golden(const std::string& name) {
    INFO("golden trace ", name);
    const Json trace = read_json_file(golden_path("transformer/" + name));
    Transformer model(config_of(trace));
    std::vector<Parameter*> parameters = model.parameters();
    std::vector<std::string> golden_names;
    for (const auto& [parameter_name, value] : trace.at("params").as_object()) golden_names.push_back(parameter_name);
    std::vector<std::string> our_names;
    for (const Parameter* p : parameters) our_names.push_back(p->name());
    CHECK(our_names == golden_names);  // SPEC §14's names, in the same order
    load_parameters(trace.at("params"), parameters);

    tape().reset();
    for (Parameter* p : parameters) p->zero_grad();
    const std::vector<Example> examples = {Example{ids(trace.at("src")), ids(trace.at("tgt"))}};
    const Batch batch = make_batch(examples);
    REQUIRE(batch.tgt_in.front() == trace.at("bos").as_int());
    const TransformerForward run = model.forward(batch);
    tape().backward(run.loss);

    Agreement agreement;
    const Json::Array& encoder_layers = trace.at("encoder_layers").as_array();
    REQUIRE(encoder_layers.size() == run.encoder.layers.size());
    for (std::size_t l = 0; l < encoder_layers.size(); ++l) {
        const std::string where = fmt::format("encoder layer {}", l);
        const EncoderLayerForward& ours = run.encoder.layers[l];
        compare_norm(agreement, ours.norm1, encoder_layers[l].at("norm1"), where + " norm1");
        compare_attention(agreement, ours.self_attn, encoder_layers[l].at("self_attn"), where + " self_attn");
        compare_norm(agreement, ours.norm2, encoder_layers[l].at("norm2"), where + " norm2");
        agreement.compare("sub-layer outputs", ours.out.to_vector(), encoder_layers[l].at("out"), where + " out");
    }
    const Json::Array& decoder_layers = trace.at("decoder_layers").as_array();
    REQUIRE(decoder_layers.size() == run.decoder.layers.size());
    for (std::size_t l = 0; l < decoder_layers.size(); ++l) {
        const std::string where = fmt::format("decoder layer {}", l);
        const DecoderLayerForward& ours = run.decoder.layers[l];
        compare_norm(agreement, ours.norm1, decoder_layers[l].at("norm1"), where + " norm1");
        compare_attention(agreement, ours.self_attn, decoder_layers[l].at("self_attn"), where + " self_attn");
        compare_norm(agreement, ours.norm2, decoder_layers[l].at("norm2"), where + " norm2");
        compare_attention(agreement, ours.cross_attn, decoder_layers[l].at("cross_attn"), where + " cross_attn");
        compare_norm(agreement, ours.norm3, decoder_layers[l].at("norm3"), where + " norm3");
        agreement.compare("sub-layer outputs", ours.out.to_vector(), decoder_layers[l].at("out"), where + " out");
    }
    agreement.compare("memory", run.encoder.memory.to_vector(), trace.at("memory"), "memory");
    agreement.compare("logits", run.logits.to_vector(), trace.at("logits"), "logits");
    agreement.compare("loss", {run.loss.value(0)}, Json(Json::Array{trace.at("loss")}), "loss");
    for (const Parameter* p : parameters) agreement.compare("grads", p->grad, trace.at("grads").at(p->name()), "grad of " + p->name());
    std::string summary = fmt::format("{}: {} numbers compared; max relative difference", name, agreement.count);
    for (const auto& [kind, worst] : agreement.max_relative) summary += fmt::format(" | {} {:.2g}", kind, worst);
    summary += fmt::format(" | largest absolute difference where |golden| < {}: {:.2g}", relative_floor,
                           agreement.max_absolute_below_floor);
    MESSAGE(summary);
    return agreement;
}

// A small model and a padded batch of two: d = 4, h = 2, d_ff = 6, vocabularies of 7.
TransformerConfig small_config(NormPosition norm, int layers = 2) {
    TransformerConfig config;
    config.src_vocab = 7;
    config.tgt_vocab = 7;
    config.d_model = 4;
    config.heads = 2;
    config.layers = layers;
    config.d_ff = 6;
    config.norm = norm;
    return config;
}

const std::vector<Example> padded_examples = {
    Example{{3, 5, 4, 6, 2}, {4, 6, 3, 2}},  // the longest: no padding
    Example{{6, 3, 2}, {5, 2}},              // src padded by 2, tgt by 2
};

bool any_nonzero(const std::vector<double>& values) {
    return std::any_of(values.begin(), values.end(), [](double v) { return v != 0.0; });
}

}  // namespace

TEST_CASE("golden trace transformer-pre: every number to 1e-12 relative") { check_golden("transformer-pre"); }

TEST_CASE("golden trace transformer-post: every number to 1e-12 relative") { check_golden("transformer-post"); }

TEST_CASE("whole-model gradient check: pre and post, padded batch") {
    for (NormPosition norm : {NormPosition::pre, NormPosition::post}) {
        CAPTURE(norm_position_name(norm));
        Transformer model(small_config(norm));
        model.init(7);
        const Batch batch = make_batch(padded_examples);
        require_gradients([&] { return model.forward(batch).loss; }, model.parameters(), 1e-5);
    }
}

TEST_CASE("pre and post: different parameters, different losses from the same weights") {
    Transformer pre(small_config(NormPosition::pre)), post(small_config(NormPosition::post));
    pre.init(3);
    CHECK(pre.parameters().size() == post.parameters().size() + 4);  // encoder.norm and decoder.norm
    CHECK_THROWS_WITH_AS(post.parameter("encoder.norm.gamma"), doctest::Contains("encoder.norm.gamma"), std::invalid_argument);
    for (Parameter* p : post.parameters()) p->value = pre.parameter(p->name()).value;
    const Batch batch = make_batch(padded_examples);
    tape().reset();
    const double pre_loss = pre.forward(batch).loss.value(0);
    const double post_loss = post.forward(batch).loss.value(0);
    CHECK(std::isfinite(pre_loss));
    CHECK(std::isfinite(post_loss));
    CHECK(pre_loss != doctest::Approx(post_loss).epsilon(1e-6));
}

TEST_CASE("masks: α exactly 0 above the diagonal of decoder self-attention and at padded keys") {
    for (NormPosition norm : {NormPosition::pre, NormPosition::post}) {
        CAPTURE(norm_position_name(norm));
        Transformer model(small_config(norm));
        model.init(11);
        const Batch batch = make_batch(padded_examples);
        tape().reset();
        const TransformerForward run = model.forward(batch);
        const int h = model.config().heads, m = batch.src_len, n = batch.tgt_len;
        for (int b = 0; b < batch.size; ++b) {
            const int src_length = batch.src_lengths[static_cast<std::size_t>(b)];
            const int tgt_length = batch.tgt_lengths[static_cast<std::size_t>(b)];
            for (int i = 0; i < h; ++i) {
                CAPTURE(b);
                CAPTURE(i);
                for (const EncoderLayerForward& layer : run.encoder.layers) {
                    const Tensor alpha = layer.self_attn.head(layer.self_attn.alpha, b, i);
                    for (int t = 0; t < m; ++t)
                        for (int s = src_length; s < m; ++s) CHECK(alpha.at(t, s) == 0.0);
                }
                for (const DecoderLayerForward& layer : run.decoder.layers) {
                    const Tensor self = layer.self_attn.head(layer.self_attn.alpha, b, i);
                    const Tensor cross = layer.cross_attn.head(layer.cross_attn.alpha, b, i);
                    for (int t = 0; t < n; ++t) {
                        for (int s = 0; s < n; ++s)
                            if (s > t || s >= tgt_length) CHECK(self.at(t, s) == 0.0);
                        for (int s = src_length; s < m; ++s) CHECK(cross.at(t, s) == 0.0);
                        CHECK(cross.at(t, 0) > 0.0);
                    }
                }
            }
        }
    }
}

TEST_CASE("padding changes nothing: an example alone and in a padded batch give the same numbers") {
    for (NormPosition norm : {NormPosition::pre, NormPosition::post}) {
        CAPTURE(norm_position_name(norm));
        Transformer model(small_config(norm));
        model.init(5);
        tape().reset();
        const TransformerForward together = model.forward(make_batch(padded_examples));
        const std::vector<Example> alone_examples = {padded_examples[1]};
        const TransformerForward alone = model.forward(make_batch(alone_examples));
        const int n_batch = together.logits.rows() / 2, n_alone = alone.logits.rows();
        for (int j = 0; j < n_alone; ++j)
            for (int v = 0; v < model.config().tgt_vocab; ++v)
                CHECK(together.logits.at(n_batch + j, v) == doctest::Approx(alone.logits.at(j, v)).epsilon(1e-12));
        // and no gradient reaches the <pad> embeddings: padded positions are never attended
        for (Parameter* p : model.parameters()) p->zero_grad();
        tape().backward(together.loss);
        const auto d = static_cast<std::ptrdiff_t>(model.config().d_model);
        CHECK_FALSE(any_nonzero(std::vector<double>(model.src_embed.grad.begin(), model.src_embed.grad.begin() + d)));
        CHECK_FALSE(any_nonzero(std::vector<double>(model.tgt_embed.grad.begin(), model.tgt_embed.grad.begin() + d)));
        CHECK(any_nonzero(model.src_embed.grad));
    }
}

TEST_CASE("greedy decoding: each token is the teacher-forced argmax of its prefix") {
    Transformer model(small_config(NormPosition::pre));
    model.init(9);
    const Batch batch = make_batch(padded_examples);
    tape().reset();
    const std::vector<std::vector<int>> decoded = model.greedy_decode(batch, 6);
    REQUIRE(decoded.size() == 2);
    for (std::size_t b = 0; b < decoded.size(); ++b) {
        CAPTURE(b);
        const std::vector<int>& tokens = decoded[b];
        REQUIRE_FALSE(tokens.empty());
        CHECK((tokens.size() == 6 || tokens.back() == Vocab::eos));
        // teacher-forced over the decoded tokens, the causal mask makes logits_j depend only
        // on <bos> ŷ_1 … ŷ_{j−1}: its argmax must be ŷ_j again
        const std::vector<Example> forced = {Example{padded_examples[b].src, tokens}};
        const TransformerForward run = model.forward(make_batch(forced));
        for (std::size_t j = 0; j < tokens.size(); ++j) {
            const std::vector<double> row = run.logits.row(static_cast<int>(j));
            CHECK(std::max_element(row.begin(), row.end()) - row.begin() == tokens[j]);
        }
    }
}

TEST_CASE("config errors name the field and what is allowed") {
    TransformerConfig config = small_config(NormPosition::pre);
    config.heads = 3;
    CHECK_THROWS_WITH_AS(Transformer{config}, doctest::Contains("not a multiple of heads 3"), std::invalid_argument);
    config = small_config(NormPosition::pre);
    config.d_model = 5;
    config.heads = 1;
    CHECK_THROWS_WITH_AS(Transformer{config}, doctest::Contains("d_model must be even"), std::invalid_argument);
    config = small_config(NormPosition::pre);
    config.d_ff = 0;
    CHECK_THROWS_WITH_AS(Transformer{config}, doctest::Contains("d_ff must be positive"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(parse_norm_position("middle"), doctest::Contains("allowed: pre, post"), std::invalid_argument);
}

TEST_CASE("init: γ = 1, β = 0, attention biases 0, the same seed gives the same bytes") {
    Transformer a(small_config(NormPosition::pre, 1)), b(small_config(NormPosition::pre, 1));
    a.init(42);
    b.init(42);
    for (Parameter* p : a.parameters()) CHECK(p->value == b.parameter(p->name()).value);
    CHECK(a.parameter("encoder.0.norm1.gamma").value == std::vector<double>(4, 1.0));
    CHECK(a.parameter("decoder.norm.beta").value == std::vector<double>(4, 0.0));
    CHECK(a.parameter("decoder.0.cross_attn.b_K").value == std::vector<double>(4, 0.0));
    CHECK(any_nonzero(a.parameter("decoder.0.cross_attn.W_K").value));
    CHECK(a.parameter_count() == 7 * 4 * 2 + (4 * 20 + 4 * 4 + (6 * 4 + 6 + 4 * 6 + 4)) +
                                     (2 * (4 * 20) + 6 * 4 + (6 * 4 + 6 + 4 * 6 + 4)) + 4 * 4 + 7 * 4 + 7);
}

// ---- traces (SPEC §14's content, the golden layout) ----

namespace {

// Same keys in the same order, same array lengths, nulls where the golden has them, numbers to
// golden_tolerance relative: our trace holds what the golden holds, the way it holds it.
void check_same_trace(const Json& ours, const Json& golden, const std::string& where, double& worst) {
    INFO(where);
    REQUIRE(ours.type() == golden.type());
    if (golden.is_object()) {
        // ours holds the golden keys in the same order, and may add only what the golden layout
        // leaves out: each layer's FFN output and the final norms of pre (transformer_trace.hpp)
        const Json::Object &a = ours.as_object(), &b = golden.as_object();
        std::size_t k = 0;
        for (const auto& member : a) {
            const std::string& key = member.first;  // not a structured binding: clang 14's CHECK_MESSAGE cannot capture one
            if (k < b.size() && key == b[k].first) {
                check_same_trace(member.second, b[k].second, where + "." + key, worst);
                ++k;
            } else {
                CHECK_MESSAGE((key == "ffn" || key == "encoder_norm" || key == "decoder_norm"), where, ": unexpected key ", key);
            }
        }
        CHECK_MESSAGE(k == b.size(), where, ": golden keys missing from ours");
    } else if (golden.is_array()) {
        const Json::Array &a = ours.as_array(), &b = golden.as_array();
        REQUIRE(a.size() == b.size());
        for (std::size_t i = 0; i < b.size(); ++i) check_same_trace(a[i], b[i], fmt::format("{}[{}]", where, i), worst);
    } else if (golden.is_number()) {
        const double e = golden.as_number();
        const double relative = std::abs(ours.as_number() - e) / std::max(std::abs(e), relative_floor);
        worst = std::max(worst, relative);
        CHECK(relative <= golden_tolerance);
    } else if (golden.is_string()) {
        CHECK(ours.as_string() == golden.as_string());
    }
}

Vocab vocab_of(const Json& tokens, const char* name) {
    std::vector<std::string> regular;
    for (std::size_t i = Vocab::first_regular; i < tokens.size(); ++i) regular.push_back(tokens.as_array()[i].as_string());
    return Vocab(name, Vocab::Level::character, regular);
}

}  // namespace

TEST_CASE("transformer_trace writes the golden traces again: same layout, same numbers") {
    for (const std::string name : {"transformer-pre", "transformer-post"}) {
        CAPTURE(name);
        const Json golden = read_json_file(golden_path("transformer/" + name));
        Transformer model(config_of(golden));
        load_parameters(golden.at("params"), model.parameters());
        const Vocab src_vocab = vocab_of(golden.at("src_vocab"), "src"), tgt_vocab = vocab_of(golden.at("tgt_vocab"), "tgt");
        REQUIRE(src_vocab.tokens.size() == golden.at("src_vocab").size());
        const TransformerTraceRun run = run_traced_example(model, Example{ids(golden.at("src")), ids(golden.at("tgt"))});
        const Json ours = parse_json(transformer_trace("golden", model, src_vocab, tgt_vocab, run));
        double worst = 0;
        check_same_trace(ours, golden, "trace", worst);
        MESSAGE(name, ": trace written again, max relative difference ", worst);
    }
}

TEST_CASE("transformer_trace: a padded batch is refused, the masked scores are null") {
    Transformer model(small_config(NormPosition::post, 1));
    model.init(1);
    const Vocab vocab("v", Vocab::Level::character, {"a", "b", "c", "d"});
    TransformerTraceRun run = run_traced_example(model, padded_examples[1]);
    const Json trace = parse_json(transformer_trace("10", model, vocab, vocab, run));
    const Json& scores = trace.at("decoder_layers").as_array()[0].at("self_attn").at("heads").as_array()[0].at("scores");
    CHECK(scores.at("data").as_array()[1].is_null());   // (0, 1): above the diagonal
    CHECK(scores.at("data").as_array()[2].is_number()); // (1, 0)
    run.batch = make_batch(padded_examples);
    CHECK_THROWS_AS(transformer_trace("10", model, vocab, vocab, run), std::invalid_argument);
}

namespace {
// A small random model (d = 8, h = 2, N = 2, d_ff = 12; every parameter moved off its init, so
// no bias of 0 or γ of 1 hides a mistake) and one unpadded example, m = 6 and n = 4: its trace
// goes where STEPGRAD_TRACE_OUT says (tests/CMakeLists.txt: check_trace.py then recomputes it).
void write_trace_for_check(NormPosition norm) {
    TransformerConfig config = small_config(norm);
    config.d_model = 8;
    config.d_ff = 12;
    Transformer model(config);
    model.init(13);
    Rng rng(17);
    for (Parameter* p : model.parameters())
        for (double& v : p->value) v += rng.uniform(-0.2, 0.2);
    const Vocab vocab("v", Vocab::Level::character, {"a", "b", "c", "d"});  // 7 ids, as small_config
    const TransformerTraceRun run = run_traced_example(model, Example{{3, 5, 4, 6, 6, 2}, {4, 6, 3, 2}});
    const std::string text = transformer_trace("test", model, vocab, vocab, run);
    CHECK(parse_json(text).at("model").at("norm").as_string() == norm_position_name(norm));
    if (const char* path = std::getenv("STEPGRAD_TRACE_OUT")) write_file_atomically(path, text);
}
}  // namespace

TEST_CASE("written for check_trace.py: transformer pre") { write_trace_for_check(NormPosition::pre); }

TEST_CASE("written for check_trace.py: transformer post") { write_trace_for_check(NormPosition::post); }

TEST_CASE("the decoder's key-value cache writes the same tokens as re-running the whole prefix") {
    // greedy_decode re-runs the decoder over <bos> ŷ_1 … ŷ_{j−1} at every step; decoding step by
    // step (Model::next_log_probs, which beam search uses) appends one position to a cache of K
    // and V per layer. Padded batches of random sources, pre and post, several seeds.
    int compared = 0;
    for (const NormPosition norm : {NormPosition::pre, NormPosition::post})
        for (std::uint64_t seed = 1; seed <= 4; ++seed) {
            Transformer model(small_config(norm));
            model.init(seed);
            Rng rng(seed + 100);
            std::vector<Example> examples;
            for (int k = 0; k < 6; ++k) {
                std::vector<int> source;
                const int length = 1 + static_cast<int>(rng.below(6));
                for (int t = 0; t < length; ++t) source.push_back(3 + static_cast<int>(rng.below(4)));
                source.push_back(Vocab::eos);
                examples.push_back({source, {Vocab::eos}});
            }
            const Batch batch = make_batch(examples);
            const int max_length = 8;
            tape().reset();
            const std::vector<std::vector<int>> rerun = model.greedy_decode(batch, max_length);
            tape().reset();
            const auto state = model.start_decoding(batch);
            std::vector<std::vector<int>> cached(examples.size());
            std::vector<int> inputs(examples.size(), Vocab::bos);
            for (int j = 0; j < max_length; ++j) {
                const Tensor log_p = model.next_log_probs(*state, inputs);
                for (std::size_t b = 0; b < examples.size(); ++b) {
                    const std::vector<double> row = log_p.row(static_cast<int>(b));
                    inputs[b] = static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin());
                    if (cached[b].empty() || cached[b].back() != Vocab::eos) cached[b].push_back(inputs[b]);
                }
            }
            tape().reset();
            CHECK(cached == rerun);
            compared += static_cast<int>(examples.size());
        }
    CHECK(compared == 48);
}
