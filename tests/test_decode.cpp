// Beam search (SPEC §13): width 1 is greedy decoding; a beam wide enough to prune nothing
// is the exhaustive search; the length penalty's ordering; the reference solution of
// exercise 08 agrees with the library on that exercise's inputs; evaluate() with a beam
// and its BLEU.
#include "testing.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/ranges.h>

#include "exercises/solutions/08_beam_search.hpp"
#include "stepgrad/bleu.hpp"
#include "stepgrad/decode.hpp"
#include "stepgrad/tasks.hpp"
#include "stepgrad/train.hpp"
#include "stepgrad/transformer.hpp"

using namespace stepgrad;

namespace {

std::unique_ptr<Seq2Seq> random_model(ModelConfig config, std::uint64_t seed) {
    auto model = std::make_unique<Seq2Seq>(config);
    model->init(seed);
    return model;
}

ModelConfig small_config(int src_vocab, int tgt_vocab) {
    ModelConfig config;
    config.score = ScoreKind::dot;
    config.src_vocab = src_vocab;
    config.tgt_vocab = tgt_vocab;
    config.embed = config.hidden = 8;
    return config;
}

// Sources of 2 to 5 regular tokens, then <eos> (as tests/exercises/test_08_beam_search.cpp).
std::vector<std::vector<int>> random_sources(int count, std::uint64_t seed, int src_vocab = 7) {
    Rng rng(seed);
    std::vector<std::vector<int>> sources;
    for (int k = 0; k < count; ++k) {
        std::vector<int> source;
        const int length = 2 + static_cast<int>(rng.uniform(0.0, 4.0));
        for (int t = 0; t < length; ++t) source.push_back(3 + static_cast<int>(rng.uniform(0.0, src_vocab - 3.0)));
        source.push_back(Vocab::eos);
        sources.push_back(source);
    }
    return sources;
}

Batch one(const std::vector<int>& source) { return make_batch(std::vector<Example>{Example{source, {Vocab::eos}}}); }

std::vector<int> greedy(Seq2Seq& model, const std::vector<int>& source, int max_length) {
    tape().reset();
    return model.greedy_decode(one(source), max_length).at(0);
}

BeamResult beam(Seq2Seq& model, const std::vector<int>& source, int width, int max_length, double a = 0) {
    tape().reset();
    return beam_search(model, source, width, max_length, a, record_every_candidate);
}

// Every target of at most max_length tokens: ended by <eos>, or max_length long.
std::vector<std::vector<int>> every_target(int V, int max_length) {
    std::vector<std::vector<int>> targets;
    for (int length = 1, count = V; length <= max_length; ++length, count *= V)
        for (int code = 0; code < count; ++code) {
            std::vector<int> ids;
            for (int rest = code, j = 0; j < length; ++j, rest /= V) ids.push_back(rest % V);
            if (std::find(ids.begin(), ids.end() - 1, Vocab::eos) != ids.end() - 1) continue;  // finished earlier
            if (length < max_length && ids.back() != Vocab::eos) continue;                      // would go on
            targets.push_back(ids);
        }
    return targets;
}

// A plain model whose every step has the same distribution p: output.W = 0, output.b = log p,
// so logits_j = log p whatever the state. Ids: <pad>, <bos>, <eos>, x, y.
std::unique_ptr<Seq2Seq> fixed_model(const std::vector<double>& p) {
    ModelConfig config;
    config.decoder = DecoderKind::plain;
    config.score = ScoreKind::none;
    config.src_vocab = 5;
    config.tgt_vocab = static_cast<int>(p.size());
    config.embed = config.hidden = 4;
    auto model = random_model(config, 3);
    std::fill(model->output_W.value.begin(), model->output_W.value.end(), 0.0);
    for (std::size_t t = 0; t < p.size(); ++t) model->output_b.value[t] = std::log(p[t]);
    return model;
}

}  // namespace

TEST_CASE("lp(n) = ((5 + n) / 6)^a") {
    CHECK(length_penalty(1, 1.0) == 1.0);
    CHECK(length_penalty(7, 0.0) == 1.0);
    CHECK(length_penalty(7, 1.0) == doctest::Approx(2.0).epsilon(1e-15));
    CHECK(length_penalty(4, 0.5) == doctest::Approx(std::sqrt(1.5)).epsilon(1e-15));
}

TEST_CASE("beam width 1 gives exactly greedy_decode's tokens, for every model kind") {
    int compared = 0;
    for (const char* cell : {"gru", "lstm", "rnn"})
        for (const char* decoder : {"plain", "bahdanau", "luong"})
            for (const int layers : {1, 2}) {
                ModelConfig config = small_config(7, 9);
                config.cell = parse_cell_kind(cell);
                config.decoder = parse_decoder_kind(decoder);
                config.score = config.decoder == DecoderKind::plain ? ScoreKind::none : ScoreKind::concat;
                config.layers = layers;
                config.bidirectional = layers == 2;
                auto model = random_model(config, 17 + static_cast<std::uint64_t>(compared));
                for (const auto& source : random_sources(10, 5 + static_cast<std::uint64_t>(compared))) {
                    const std::vector<int> expected = greedy(*model, source, 9);
                    const BeamResult got = beam(*model, source, 1, 9);
                    CHECK_MESSAGE(got.ids == expected, fmt::format("{} {} L={} source {}: beam {} greedy {}", cell, decoder,
                                                                   layers, source, got.ids, expected));
                    ++compared;
                }
            }
    CHECK(compared == 180);
}

TEST_CASE("fixed distributions: the beam's best is the exhaustive search's, for every length penalty") {
    // p = <pad> 1e−6, <bos> 1e−6, <eos> 0.35, x 0.6, y ≈ 0.05: log p(y_1 … y_n) = Σ log p(y_j)
    const std::vector<double> p{1e-6, 1e-6, 0.35, 0.6, 0.05 - 2e-6};
    auto model = fixed_model(p);
    const int V = static_cast<int>(p.size()), max_length = 3;
    const std::vector<int> source{3, 4, Vocab::eos};
    for (const double a : {0.0, 0.5, 1.0, 2.0}) {
        std::vector<int> best;
        double best_score = -std::numeric_limits<double>::infinity();
        for (const auto& ids : every_target(V, max_length)) {
            double log_p = 0;
            for (const int id : ids) log_p += std::log(p[static_cast<std::size_t>(id)]);
            const double score = log_p / length_penalty(static_cast<int>(ids.size()), a);
            if (score > best_score) best = ids, best_score = score;
        }
        const BeamResult got = beam(*model, source, V * V, max_length, a);  // prunes nothing
        CAPTURE(a);
        CHECK(got.ids == best);
        CHECK(got.score == doctest::Approx(best_score).epsilon(1e-12));
    }
}

TEST_CASE("the length penalty reorders the hypotheses: a = 0 prefers <eos> now, a = 2 the longer x x x") {
    // [<eos>]: log p = log 0.35 = −1.050, lp = 1.        [x x x] (cut off): 3 log 0.6 = −1.532,
    // lp(3) = (8/6)^a: a = 0 → −1.532 < −1.050; a = 2 → −1.532 / 1.778 = −0.862 > −1.050.
    auto model = fixed_model({1e-6, 1e-6, 0.35, 0.6, 0.05 - 2e-6});
    const std::vector<int> source{3, Vocab::eos};
    const BeamResult plain = beam(*model, source, 3, 3, 0.0);
    CHECK(plain.ids == std::vector<int>{Vocab::eos});
    CHECK(plain.score == doctest::Approx(std::log(0.35)).epsilon(1e-12));
    const BeamResult normalised = beam(*model, source, 3, 3, 2.0);
    CHECK(normalised.ids == std::vector<int>{3, 3, 3});
    CHECK(normalised.log_prob == doctest::Approx(3 * std::log(0.6)).epsilon(1e-12));
    CHECK(normalised.score == doctest::Approx(3 * std::log(0.6) / std::pow(8.0 / 6.0, 2)).epsilon(1e-12));
    for (std::size_t k = 1; k < normalised.ranked.size(); ++k) CHECK(normalised.ranked[k - 1].score >= normalised.ranked[k].score);
}

TEST_CASE("every step lists each hypothesis considered, its log p and score, kept or pruned") {
    auto model = random_model(small_config(7, 6), 4);
    const BeamResult got = beam(*model, {3, 4, 5, Vocab::eos}, 2, 5, 1.0);
    REQUIRE(!got.steps.empty());
    CHECK(got.steps.front().candidates.size() == 6u);  // one live prefix × V tokens
    for (std::size_t j = 0; j < got.steps.size(); ++j) {
        const BeamStep& step = got.steps[j];
        int kept = 0;
        for (std::size_t c = 0; c < step.candidates.size(); ++c) {
            const BeamHypothesis& h = step.candidates[c];
            CHECK(h.ids.size() == j + 1);
            CHECK(h.score == doctest::Approx(h.log_prob / length_penalty(static_cast<int>(j + 1), 1.0)));
            CHECK(h.kept == (c < 2));  // the 2 of highest log p
            if (c > 0) CHECK(step.candidates[c - 1].log_prob >= h.log_prob);
            kept += h.kept;
            if (j > 0) {  // the parent is a live prefix of the previous step
                const BeamStep& before = got.steps[j - 1];
                REQUIRE(h.parent >= 0);
                REQUIRE(h.parent < static_cast<int>(before.kept.size()));
                const auto& prefix = before.candidates[static_cast<std::size_t>(before.kept[static_cast<std::size_t>(h.parent)])].ids;
                CHECK(std::equal(prefix.begin(), prefix.end(), h.ids.begin()));
            }
        }
        CHECK(kept == std::min<int>(2, static_cast<int>(step.candidates.size())));
    }
}

TEST_CASE("the library agrees with exercise 08's reference solution on every input of its tests") {
    struct Case {
        int tgt_vocab;
        std::uint64_t model_seed, source_seed;
        int sources;
        double eos_bias;  // added to output.b[<eos>]; −1000: impossible
        std::vector<int> widths;
        int max_length;
    };
    const std::vector<Case> cases{{8, 1, 2, 12, 0, {1}, 8},       {8, 3, 4, 6, 2, {3}, 10},
                                  {8, 5, 6, 4, -1000, {3}, 7},   {8, 7, 8, 12, 0, {1, 2, 3, 5}, 8},
                                  {5, 11, 10, 4, 0, {25}, 3}};
    int compared = 0;
    for (const Case& c : cases) {
        auto model = random_model(small_config(7, c.tgt_vocab), c.model_seed);
        if (c.eos_bias == -1000) model->output_b.value[Vocab::eos] = -1000.0;
        else model->output_b.value[Vocab::eos] += c.eos_bias;
        for (const auto& source : random_sources(c.sources, c.source_seed))
            for (const int width : c.widths) {
                tape().reset();
                const std::vector<int> solution = exercises::beam_search(*model, one(source), width, c.max_length);
                const BeamResult library = beam(*model, source, width, c.max_length);
                CHECK_MESSAGE(library.ids == solution, fmt::format("model seed {} source {} width {}: library {} solution {}",
                                                                    c.model_seed, source, width, library.ids, solution));
                ++compared;
            }
    }
    CHECK(compared == 12 + 6 + 4 + 48 + 4);
}

namespace {

// A task and an untrained model for it (uncertain predictions: greedy and beam differ).
struct Evaluated {
    TaskGenerator task;
    std::unique_ptr<Seq2Seq> model;
    Evaluated(const char* name, int held_out) : task(TaskConfig{name, 3, 5, 6, 4}, held_out) {
        ModelConfig config = small_config(task.src_vocab().size(), task.tgt_vocab().size());
        model = random_model(config, 21);
    }
};

// What evaluate() should report for these predictions, computed here from scratch.
Accuracy expected(const std::vector<Example>& examples, const std::vector<std::vector<int>>& predictions, const Vocab* vocab) {
    long tokens = 0, right = 0, whole = 0;
    std::vector<Tokens> hypotheses, references;
    const auto words = [&](const std::vector<int>& ids) {
        Tokens out;
        for (const int id : ids) {
            if (id == Vocab::eos) break;
            out.push_back(vocab->token(id));
        }
        return out;
    };
    for (std::size_t k = 0; k < examples.size(); ++k) {
        const auto& target = examples[k].tgt;
        for (std::size_t j = 0; j < target.size(); ++j) right += j < predictions[k].size() && predictions[k][j] == target[j];
        tokens += static_cast<long>(target.size());
        whole += predictions[k] == target;
        if (vocab) hypotheses.push_back(words(predictions[k])), references.push_back(words(target));
    }
    Accuracy a;
    a.examples = static_cast<int>(examples.size());
    a.token_accuracy = static_cast<double>(right) / static_cast<double>(tokens);
    a.sequence_accuracy = static_cast<double>(whole) / static_cast<double>(examples.size());
    if (vocab) a.bleu = corpus_bleu(hypotheses, references).bleu;
    return a;
}

int longest_target(const std::vector<Example>& examples) {
    std::size_t n = 0;
    for (const Example& e : examples) n = std::max(n, e.tgt.size());
    return static_cast<int>(n);
}

}  // namespace

TEST_CASE("evaluate with beam width 1 gives today's greedy numbers, and no BLEU for a character-level task") {
    Evaluated e("reverse", 40);
    const Accuracy before = evaluate(*e.model, e.task.held_out());  // the default: greedy
    EvaluateOptions options;
    options.target = &e.task.tgt_vocab();
    const Accuracy greedy_options = evaluate(*e.model, e.task.held_out(), options);
    const Accuracy by_int = evaluate(*e.model, e.task.held_out(), 7);  // the batch size does not matter
    for (const Accuracy* a : {&greedy_options, &by_int}) {
        CHECK(a->token_accuracy == before.token_accuracy);
        CHECK(a->sequence_accuracy == before.sequence_accuracy);
        CHECK(!a->bleu.has_value());  // reverse writes characters
    }
    tape().reset();
    const auto& held_out = e.task.held_out();
    const auto predictions = e.model->greedy_decode(make_batch(held_out), longest_target(held_out) + 1);
    const Accuracy want = expected(held_out, predictions, nullptr);
    CHECK(before.token_accuracy == doctest::Approx(want.token_accuracy).epsilon(1e-15));
    CHECK(before.sequence_accuracy == doctest::Approx(want.sequence_accuracy).epsilon(1e-15));
}

TEST_CASE("evaluate with a beam scores beam_search's predictions, and BLEU on a word-level task") {
    for (const char* name : {"translate", "en-zh"}) {
        INFO(name);
        Evaluated e(name, 30);
        REQUIRE(e.task.tgt_vocab().level == Vocab::Level::word);
        const auto& held_out = e.task.held_out();
        EvaluateOptions options;
        options.batch_size = 1000;  // one chunk: max_length is the longest target + 1
        options.beam_width = 3;
        options.length_penalty = 0.6;
        options.target = &e.task.tgt_vocab();
        const Accuracy got = evaluate(*e.model, held_out, options);
        std::vector<std::vector<int>> predictions;
        for (const Example& example : held_out) {
            tape().reset();
            predictions.push_back(beam_search(*e.model, example.src, 3, longest_target(held_out) + 1, 0.6).ids);
        }
        const Accuracy want = expected(held_out, predictions, &e.task.tgt_vocab());
        CHECK(got.examples == want.examples);
        CHECK(got.token_accuracy == want.token_accuracy);
        CHECK(got.sequence_accuracy == want.sequence_accuracy);
        REQUIRE(got.bleu.has_value());
        CHECK(*got.bleu == *want.bleu);
        CHECK(*got.bleu >= 0.0);
        CHECK(*got.bleu <= 100.0);
        // greedy reports BLEU too, and the gold targets themselves score 100
        options.beam_width = 1;
        CHECK(evaluate(*e.model, held_out, options).bleu.has_value());
        std::vector<std::vector<int>> gold;
        for (const Example& example : held_out) gold.push_back(example.tgt);
        CHECK(*expected(held_out, gold, &e.task.tgt_vocab()).bleu == doctest::Approx(100.0));
    }
}

TEST_CASE("evaluate returns what it scored: each prediction, and BLEU with its counts") {
    Evaluated e("translate", 25);
    const auto& held_out = e.task.held_out();
    EvaluateOptions options;
    options.target = &e.task.tgt_vocab();
    for (const int width : {1, 3}) {
        CAPTURE(width);
        options.beam_width = width;
        const Accuracy got = evaluate(*e.model, held_out, options);
        REQUIRE(got.predictions.size() == held_out.size());
        tape().reset();
        const auto greedy = e.model->greedy_decode(make_batch(held_out), longest_target(held_out) + 1);
        for (std::size_t k = 0; k < held_out.size(); ++k) {
            tape().reset();
            const std::vector<int> expected =
                width == 1 ? greedy[k] : beam_search(*e.model, held_out[k].src, width, longest_target(held_out) + 1).ids;
            CHECK(got.predictions[k] == expected);
        }
        REQUIRE(got.bleu_counts.has_value());
        CHECK(got.bleu_counts->bleu == *got.bleu);
        CHECK(*expected(held_out, got.predictions, &e.task.tgt_vocab()).bleu == *got.bleu);
    }
    CHECK_FALSE(evaluate(*e.model, held_out).bleu_counts.has_value());  // no target vocabulary: no BLEU
}

TEST_CASE("a beam that stops with K finished returns a finished hypothesis, never a prefix still growing") {
    // K = 2 on p = (<eos> 0.35, x 0.6): step 1 keeps x and <eos> (finished), step 2 keeps x x and
    // x <eos> (finished): K finished at j = 2 < max_length, and the live x x (log p = 2 log 0.6 =
    // −1.02) may not compete with its log p so far: every continuation falls below <eos>'s −1.05.
    auto model = fixed_model({1e-6, 1e-6, 0.35, 0.6, 0.05 - 2e-6});
    const BeamResult got = beam(*model, {3, Vocab::eos}, 2, 3);
    CHECK(got.ids == std::vector<int>{Vocab::eos});
    for (const BeamHypothesis& h : got.ranked) CHECK(h.finished);
}

// ---- every Model: the RNN models and the Transformer decode one step at a time alike ----

namespace {

std::unique_ptr<Transformer> random_transformer(NormPosition norm, int src_vocab, int tgt_vocab, std::uint64_t seed) {
    TransformerConfig config;
    config.src_vocab = src_vocab;
    config.tgt_vocab = tgt_vocab;
    config.d_model = 8;
    config.heads = 2;
    config.layers = 2;
    config.d_ff = 12;
    config.norm = norm;
    auto model = std::make_unique<Transformer>(config);
    model->init(seed);
    return model;
}

// One of each kind of Model: recurrent plain, bahdanau and luong (padded sources exercise the
// mask), a stacked bidirectional LSTM, and the Transformer pre and post.
std::vector<std::pair<std::string, std::unique_ptr<Model>>> every_kind_of_model(int src_vocab, int tgt_vocab) {
    std::vector<std::pair<std::string, std::unique_ptr<Model>>> models;
    for (const char* decoder : {"plain", "bahdanau", "luong"}) {
        ModelConfig config = small_config(src_vocab, tgt_vocab);
        config.decoder = parse_decoder_kind(decoder);
        config.score = config.decoder == DecoderKind::plain ? ScoreKind::none : ScoreKind::concat;
        models.emplace_back(decoder, random_model(config, 31));
    }
    ModelConfig stacked = small_config(src_vocab, tgt_vocab);
    stacked.cell = CellKind::lstm;
    stacked.layers = 2;
    stacked.bidirectional = true;
    stacked.score = ScoreKind::qk_scaled;
    models.emplace_back("lstm bidirectional 2 layers", random_model(stacked, 32));
    models.emplace_back("transformer pre", random_transformer(NormPosition::pre, src_vocab, tgt_vocab, 33));
    models.emplace_back("transformer post", random_transformer(NormPosition::post, src_vocab, tgt_vocab, 34));
    return models;
}

// log softmax of one row of `logits`, computed here.
std::vector<double> log_softmax_row(const Tensor& logits, int row) {
    std::vector<double> out(static_cast<std::size_t>(logits.cols()));
    double largest = -std::numeric_limits<double>::infinity(), total = 0;
    for (int v = 0; v < logits.cols(); ++v) largest = std::max(largest, logits.at(row, v));
    for (int v = 0; v < logits.cols(); ++v) total += std::exp(logits.at(row, v) - largest);
    for (int v = 0; v < logits.cols(); ++v) out[static_cast<std::size_t>(v)] = logits.at(row, v) - largest - std::log(total);
    return out;
}

// Σ_j log p(y_j) of each example's target under teacher forcing: the oracle for beam search.
std::vector<double> teacher_forced_log_probs(Model& model, const std::vector<Example>& examples) {
    tape().reset();
    const Batch batch = make_batch(examples);
    Tensor logits;
    if (auto* transformer = dynamic_cast<Transformer*>(&model)) logits = transformer->forward(batch).logits;
    else logits = dynamic_cast<Seq2Seq&>(model).forward(batch).logits;
    std::vector<double> totals;
    for (int b = 0; b < batch.size; ++b) {
        double total = 0;
        for (int j = 0; j < batch.tgt_lengths[static_cast<std::size_t>(b)]; ++j)
            total += log_softmax_row(logits, b * batch.tgt_len + j)[static_cast<std::size_t>(examples[static_cast<std::size_t>(b)].tgt[static_cast<std::size_t>(j)])];
        totals.push_back(total);
    }
    return totals;
}

}  // namespace

TEST_CASE("step by step, every kind of model gives its teacher-forced log p, rows selected or not") {
    // Three examples of different source lengths; after two steps the rows become 2, 0, 0, 1
    // (dropped, copied, reordered): each row must go on exactly as its example would.
    const std::vector<Example> examples{{{3, 4, Vocab::eos}, {5, 3, 4, 6, Vocab::eos}},
                                        {{5, 6, 3, 4, 5, Vocab::eos}, {4, 4, 6, 3, Vocab::eos}},
                                        {{6, Vocab::eos}, {3, 5, 5, 4, Vocab::eos}}};
    const std::vector<int> rows{2, 0, 0, 1};
    for (auto& kind : every_kind_of_model(7, 7)) {
        const std::string& name = kind.first;
        auto& model = kind.second;
        CAPTURE(name);
        tape().reset();
        const Batch batch = make_batch(examples);
        Tensor logits;
        if (auto* transformer = dynamic_cast<Transformer*>(model.get())) logits = transformer->forward(batch).logits;
        else logits = dynamic_cast<Seq2Seq&>(*model).forward(batch).logits;
        const auto state = model->start_decoding(batch);
        std::vector<int> example_of_row{0, 1, 2};
        for (int j = 0; j < batch.tgt_len; ++j) {
            if (j == 2) {
                model->select_rows(*state, rows);
                example_of_row = rows;
            }
            std::vector<int> inputs;
            for (const int b : example_of_row) inputs.push_back(batch.tgt_in[static_cast<std::size_t>(b) * batch.tgt_len + j]);
            const Tensor log_p = model->next_log_probs(*state, inputs);
            REQUIRE(log_p.rows() == static_cast<int>(inputs.size()));
            for (int r = 0; r < log_p.rows(); ++r) {
                const std::vector<double> expected = log_softmax_row(logits, example_of_row[static_cast<std::size_t>(r)] * batch.tgt_len + j);
                for (int v = 0; v < log_p.cols(); ++v)
                    CHECK(log_p.at(r, v) == doctest::Approx(expected[static_cast<std::size_t>(v)]).epsilon(1e-12));
            }
        }
    }
}

TEST_CASE("every kind of model: width 1 is greedy_decode, and a beam that prunes nothing is the exhaustive search") {
    const int V = 5, max_length = 3;
    for (auto& kind : every_kind_of_model(7, V)) {
        const std::string& name = kind.first;
        auto& model = kind.second;
        CAPTURE(name);
        for (const auto& source : random_sources(3, 8, 7)) {
            CAPTURE(source);
            tape().reset();
            const auto greedy_ids = model->greedy_decode(one(source), max_length).at(0);
            tape().reset();
            CHECK(beam_search(*model, source, 1, max_length).ids == greedy_ids);
            const std::vector<std::vector<int>> targets = every_target(V, max_length);
            std::vector<Example> examples;
            for (const auto& target : targets) examples.push_back({source, target});
            const std::vector<double> log_p = teacher_forced_log_probs(*model, examples);
            const auto best = std::max_element(log_p.begin(), log_p.end()) - log_p.begin();
            tape().reset();
            const BeamResult got = beam_search(*model, source, V * V * V, max_length);
            CHECK(got.ids == targets[static_cast<std::size_t>(best)]);
            CHECK(got.log_prob == doctest::Approx(log_p[static_cast<std::size_t>(best)]).epsilon(1e-12));
        }
    }
}
