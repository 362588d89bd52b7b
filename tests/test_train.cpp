// Learning: optimizers, clipping, the schedule, a short run that learns, evaluation,
// checkpoints (round trip and every kind of damage), and NaN detection.
#include "testing.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "stepgrad/support/checkpoint.hpp"
#include "stepgrad/random.hpp"
#include "stepgrad/train.hpp"
#include "stepgrad/transformer.hpp"

using namespace stepgrad;
using namespace stepgrad::testing;

namespace {

std::string temp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("stepgrad_test_" + name)).string();
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

struct Setup {
    TaskGenerator task{TaskConfig{"reverse", 3, 5, 6, 4}, 50};
    Seq2Seq model;
    explicit Setup(const char* decoder = "bahdanau", const char* score = "dot")
        : model([&] {
              ModelConfig c;
              c.decoder = parse_decoder_kind(decoder);
              c.score = std::string(decoder) == "plain" ? ScoreKind::none : parse_score_kind(score);
              c.src_vocab = task.src_vocab().size();
              c.tgt_vocab = task.tgt_vocab().size();
              c.embed = c.hidden = c.attn = 8;
              return c;
          }()) {
        model.init(5);
    }
};

}  // namespace

TEST_CASE("Adam's first step moves each parameter by lr against its gradient's sign") {
    Parameter p("p", 1, 3);
    p.value = {1.0, -2.0, 0.5};
    p.grad = {0.3, -4.0, 0.0};
    Adam adam;
    Parameter* ps[] = {&p};
    adam.step(ps, 0.1);
    // m̂ = g, v̂ = g², so the step is lr · g / (|g| + ε)
    CHECK(p.value[0] == doctest::Approx(1.0 - 0.1 * 0.3 / (0.3 + 1e-8)));
    CHECK(p.value[1] == doctest::Approx(-2.0 + 0.1 * 4.0 / (4.0 + 1e-8)));
    CHECK(p.value[2] == 0.5);
}

TEST_CASE("SGD steps by lr · g") {
    Parameter p("p", 1, 2);
    p.value = {1.0, 1.0};
    p.grad = {2.0, -1.0};
    Sgd sgd;
    Parameter* ps[] = {&p};
    sgd.step(ps, 0.5);
    CHECK(p.value == std::vector<double>{0.0, 1.5});
    CHECK_THROWS_WITH(make_optimizer("rmsprop"), doctest::Contains("unknown optimizer 'rmsprop' (allowed: adam, sgd)"));
}

TEST_CASE("clip_grad_norm scales the global norm down to the limit and reports it") {
    Parameter a("a", 1, 2), b("b", 1, 1);
    a.grad = {3.0, 0.0};
    b.grad = {4.0};
    Parameter* ps[] = {&a, &b};
    CHECK(clip_grad_norm(ps, 1.0) == doctest::Approx(5.0));
    CHECK(std::hypot(a.grad[0], b.grad[0]) == doctest::Approx(1.0).epsilon(1e-6));
    CHECK(clip_grad_norm(ps, 10.0) == doctest::Approx(1.0).epsilon(1e-6));  // under the limit: untouched
}

TEST_CASE("cosine schedule goes from lr to 0") {
    CHECK(cosine_lr(0.01, 0, 100) == doctest::Approx(0.01));
    CHECK(cosine_lr(0.01, 50, 100) == doctest::Approx(0.005));
    CHECK(cosine_lr(0.01, 100, 100) == doctest::Approx(0.0));
}

TEST_CASE("a short training run lowers the loss") {
    Setup s;
    TrainOptions options;
    options.steps = 150;
    options.batch_size = 16;
    options.progress = false;
    const TrainResult result = train(s.model, s.task, options);
    REQUIRE(result.losses.size() == 150);
    const double first = (result.losses[0] + result.losses[1] + result.losses[2]) / 3;
    const double last = (result.losses[147] + result.losses[148] + result.losses[149]) / 3;
    CAPTURE(first);
    CAPTURE(last);
    CHECK(last < 0.5 * first);
}

TEST_CASE("evaluate counts tokens and whole sequences") {
    Setup s;
    const Accuracy a = evaluate(s.model, s.task.held_out());
    CHECK(a.examples == 50);
    CHECK(a.token_accuracy >= 0.0);
    CHECK(a.token_accuracy <= 1.0);
    CHECK(a.sequence_accuracy <= a.token_accuracy + 1e-12);
}

TEST_CASE("checkpoint round trip gives bit-identical parameters and predictions") {
    for (const char* decoder : {"plain", "bahdanau", "luong"}) {
        INFO(decoder);
        Setup s(decoder, "concat");
        const std::string path = temp_path("roundtrip.ckpt");
        save_checkpoint(path, s.model, s.task, 7);
        const Checkpoint checkpoint = read_checkpoint(path);
        CHECK(checkpoint.step == 7);
        auto loaded = load_model(checkpoint, s.task);
        const auto original = s.model.parameters(), restored = loaded->parameters();
        REQUIRE(original.size() == restored.size());
        for (std::size_t k = 0; k < original.size(); ++k) CHECK(original[k]->value == restored[k]->value);
        tape().reset();
        const Batch batch = make_batch(s.task.held_out());
        const auto before = s.model.greedy_decode(batch, 8);
        tape().reset();
        CHECK(loaded->greedy_decode(batch, 8) == before);
        std::filesystem::remove(path);
    }
}

TEST_CASE("damaged checkpoints are refused with a message that says what is wrong") {
    Setup s;
    const std::string path = temp_path("damaged.ckpt");
    save_checkpoint(path, s.model, s.task, 1);
    const std::string good = read_file(path);

    auto refused = [&](const std::string& text, const char* message) {
        write_file(path, text);
        CHECK_THROWS_WITH_AS(read_checkpoint(path), doctest::Contains(message), CheckpointError);
    };
    refused("", "is empty");
    refused(good.substr(0, good.size() / 2), "corrupt or truncated");
    refused(good.substr(0, 10), "truncated or not a checkpoint");
    std::string flipped = good;
    flipped[flipped.size() / 2] ^= 0x04;  // one bit somewhere in the parameters
    refused(flipped, "corrupt or truncated");
    std::string other_version = good;
    other_version.replace(0, checkpoint_format.size(), "stepgrad-checkpoint/9");
    refused(other_version, "has format 'stepgrad-checkpoint/9'");
    refused(read_file(golden_path("gru-plain")), "is not a stepgrad checkpoint");
    std::filesystem::remove(path);
    CHECK_THROWS_WITH_AS(read_checkpoint(temp_path("missing.ckpt")), doctest::Contains("cannot read checkpoint"), CheckpointError);
}

TEST_CASE("a checkpoint for another task's vocabulary is refused") {
    Setup s;
    const std::string path = temp_path("other.ckpt");
    save_checkpoint(path, s.model, s.task, 1);
    TaskGenerator dates(default_task_config("dates"), 10);
    CHECK_THROWS_WITH_AS(load_model(read_checkpoint(path), dates), doctest::Contains("vocabularies do not match"), CheckpointError);
    std::filesystem::remove(path);
}

TEST_CASE("saving over a checkpoint replaces it whole, and no temporary file is left") {
    Setup s;
    const auto folder = std::filesystem::temp_directory_path() / "stepgrad_atomic";
    std::filesystem::create_directories(folder);
    const std::string path = (folder / "model.ckpt").string();
    save_checkpoint(path, s.model, s.task, 1);
    save_checkpoint(path, s.model, s.task, 2);
    CHECK(read_checkpoint(path).step == 2);
    CHECK(std::distance(std::filesystem::directory_iterator(folder), {}) == 1);
    std::filesystem::remove_all(folder);
    CHECK_THROWS_WITH(save_checkpoint("/nonexistent-dir/model.ckpt", s.model, s.task, 1), doctest::Contains("cannot write /nonexistent-dir/model.ckpt"));
}

TEST_CASE("a NaN in the loss stops training, naming the step and the op") {
    Setup s("plain", "none");
    s.model.output_b.value[3] = std::numeric_limits<double>::quiet_NaN();
    auto optimizer = make_optimizer("adam");
    const Batch batch = make_batch(s.task.held_out());
    CHECK_THROWS_WITH_AS(train_step(s.model, *optimizer, batch, 0.01, 1.0, 12),
                         doctest::Contains("step 12: the loss is not finite"), TrainingError);
    CHECK_THROWS_WITH(train_step(s.model, *optimizer, batch, 0.01, 1.0, 12), doctest::Contains("made by op 'output.b'"));
}

namespace {
// loss = Σ log w: finite for w = 1e−320, whose gradient 1/w is not (it overflows)
class LogModel final : public Model {
public:
    std::vector<Parameter*> parameters() override { return {&w}; }
    Tensor loss(const Batch&, std::span<const std::uint8_t>) override { return sum(stepgrad::log(scale(w.use(), 1.0))); }
    std::vector<std::vector<int>> greedy_decode(const Batch&, int) override { throw std::logic_error("not a decoder"); }
    std::unique_ptr<DecoderState> start_decoding(const Batch&) override { throw std::logic_error("not a decoder"); }
    Tensor next_log_probs(DecoderState&, std::span<const int>) override { throw std::logic_error("not a decoder"); }
    void select_rows(DecoderState&, std::span<const int>) override { throw std::logic_error("not a decoder"); }
    Parameter w{"w", 1, 2};
};
}  // namespace

TEST_CASE("an infinite gradient of a finite loss stops training, naming the step and the op") {
    // train_step keeps only the parameters' gradients; to name the op it runs the step again keeping all
    LogModel model;
    model.w.value = {1e-320, 0.5};
    auto optimizer = make_optimizer("sgd");
    const Batch batch = make_batch(std::vector<Example>{{{3, 2}, {3, 2}}});
    CHECK_THROWS_WITH_AS(train_step(model, *optimizer, batch, 0.01, 1.0, 7),
                         doctest::Contains("step 7: the gradient norm is not finite (NaN or Inf); first non-finite gradient made by op 'w'"),
                         TrainingError);
    CHECK(model.w.value[1] == 0.5);  // not stepped
}

// ---- scheduled sampling (SPEC §13) ----

namespace {

// Three targets of 3, 5 and 1 tokens: padding on both sides of the batch.
std::vector<Example> ragged_examples() {
    return {{{3, 4, 5, 6, 2}, {4, 3, 2}}, {{6, 3, 2}, {5, 5, 4, 3, 2}}, {{4, 2}, {2}}};
}

ModelConfig tiny_config(const char* decoder, const char* score) {
    ModelConfig c;
    c.decoder = parse_decoder_kind(decoder);
    c.score = std::string(decoder) == "plain" ? ScoreKind::none : parse_score_kind(score);
    c.src_vocab = 7;
    c.tgt_vocab = 6;
    c.embed = c.hidden = 3;
    c.attn = 2;
    return c;
}

std::vector<double> all_grads(Seq2Seq& model) {
    std::vector<double> grads;
    for (const Parameter* p : model.parameters()) grads.insert(grads.end(), p->grad.begin(), p->grad.end());
    return grads;
}

// Forward and backward with these coins: the loss, and every gradient.
std::pair<double, std::vector<double>> loss_and_grads(Seq2Seq& model, const Batch& batch, std::span<const std::uint8_t> feed_gold) {
    tape().reset();
    for (Parameter* p : model.parameters()) p->zero_grad();
    const Forward forward = model.forward(batch, feed_gold);
    tape().backward(forward.loss);
    return {forward.loss.value(0), all_grads(model)};
}

// The losses of train() before scheduled sampling existed: its loop, teacher forced.
std::vector<double> teacher_forced_losses(Seq2Seq& model, TaskGenerator& task, const TrainOptions& options) {
    auto optimizer = make_optimizer(options.optimizer);
    std::vector<double> losses;
    for (int step = 1; step <= options.steps; ++step) {
        const Batch batch = make_batch(task.next(options.batch_size));
        losses.push_back(train_step(model, *optimizer, batch, cosine_lr(options.lr, step - 1, options.steps), options.clip, step));
    }
    return losses;
}

}  // namespace

TEST_CASE("scheduled sampling: coins that all say gold give exactly teacher forcing, bit for bit") {
    for (const char* decoder : {"plain", "bahdanau", "luong"}) {
        INFO(decoder);
        Seq2Seq model(tiny_config(decoder, "concat"));
        model.init(7);
        const Batch batch = make_batch(ragged_examples());
        const std::vector<std::uint8_t> gold(batch.tgt_in.size(), 1);
        const auto [loss, grads] = loss_and_grads(model, batch, {});
        const auto [gold_loss, gold_grads] = loss_and_grads(model, batch, gold);
        CHECK(gold_loss == loss);
        CHECK(gold_grads == grads);
        tape().reset();
        CHECK(model.forward(batch, gold).inputs == batch.tgt_in);
    }
}

TEST_CASE("scheduled sampling with every coin on the model: a hand-checked case feeds back the argmax") {
    // A plain model whose every step predicts token 4: output.W = 0, output.b = 5 at id 4, 0
    // elsewhere. Each example reads <bos>, then 4 at each of its own positions; padding stays.
    Seq2Seq model(tiny_config("plain", "none"));
    model.init(3);
    std::fill(model.output_W.value.begin(), model.output_W.value.end(), 0.0);
    std::fill(model.output_b.value.begin(), model.output_b.value.end(), 0.0);
    model.output_b.value[4] = 5.0;
    const Batch batch = make_batch(ragged_examples());  // n = 5; targets of 3, 5 and 1 tokens
    const std::vector<std::uint8_t> sampled(batch.tgt_in.size(), 0);
    tape().reset();
    const Forward forward = model.forward(batch, sampled);
    const std::vector<int> expected{1, 4, 4, 0, 0,  //
                                    1, 4, 4, 4, 4,  //
                                    1, 0, 0, 0, 0};
    CHECK(forward.inputs == expected);
    // and the loss is teacher forcing's on a batch whose decoder inputs are those ids
    const double loss = forward.loss.value(0);
    Batch fed = batch;
    fed.tgt_in = expected;
    tape().reset();
    CHECK(model.forward(fed).loss.value(0) == doctest::Approx(loss).epsilon(1e-14));
}

TEST_CASE("scheduled sampling on a random attention model: each sampled input is the previous step's argmax") {
    Seq2Seq model(tiny_config("bahdanau", "general"));
    model.init(11);
    const Batch batch = make_batch(ragged_examples());
    const int n = batch.tgt_len, V = model.config().tgt_vocab;
    std::vector<std::uint8_t> coins(batch.tgt_in.size(), 0);
    coins[static_cast<std::size_t>(n) + 2] = 1;  // example 1 reads its gold y_2 at step 3
    tape().reset();
    const Forward forward = model.forward(batch, coins);
    int sampled = 0;
    for (int b = 0; b < batch.size; ++b)
        for (int j = 1; j < batch.tgt_lengths[static_cast<std::size_t>(b)]; ++j) {
            const auto k = static_cast<std::size_t>(b * n + j);
            const auto row = forward.logits.values().subspan((k - 1) * static_cast<std::size_t>(V), static_cast<std::size_t>(V));
            const int argmax = static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin());
            CAPTURE(b);
            CAPTURE(j);
            CHECK(forward.inputs[k] == (coins[k] ? batch.tgt_in[k] : argmax));
            sampled += !coins[k];
        }
    CHECK(sampled == 5);  // 2 + 4 + 0 real positions past <bos>, one of them gold
}

TEST_CASE("scheduled sampling: gradients match finite differences (the argmax is a constant)") {
    for (const char* decoder : {"plain", "bahdanau", "luong"}) {
        INFO(decoder);
        Seq2Seq model(tiny_config(decoder, "concat"));
        model.init(7);
        const Batch batch = make_batch(ragged_examples());
        std::vector<std::uint8_t> coins(batch.tgt_in.size());
        for (std::size_t k = 0; k < coins.size(); ++k) coins[k] = k % 3 == 0;  // a mix of gold and sampled
        require_gradients([&] { return model.forward(batch, coins).loss; }, model.parameters(), 1e-5);
    }
}

TEST_CASE("scheduled_sampling_coins: P = 1 is all gold, P = 0 all sampled, P = 0.5 about half, <bos> and padding always 1") {
    const Batch batch = make_batch(ragged_examples());
    Rng rng(1);
    const std::vector<std::uint8_t> ones(batch.tgt_in.size(), 1);
    CHECK(scheduled_sampling_coins(batch, 1.0, rng) == ones);
    CHECK(rng.next_u64() == Rng(1).next_u64());  // P = 1 draws no coin
    const std::vector<std::uint8_t> none{1, 0, 0, 1, 1,  //
                                         1, 0, 0, 0, 0,  //
                                         1, 1, 1, 1, 1};
    CHECK(scheduled_sampling_coins(batch, 0.0, rng) == none);
    std::vector<Example> many(200, Example{{3, 2}, {3, 4, 5, 3, 4, 5, 2}});
    const Batch big = make_batch(many);
    const auto coins = scheduled_sampling_coins(big, 0.5, rng);
    long gold = 0;
    for (std::size_t k = 0; k < coins.size(); ++k)
        if (k % 7 != 0) gold += coins[k];
    CHECK(gold == doctest::Approx(600).epsilon(0.1));  // 1,200 coins
    CHECK_THROWS_WITH(scheduled_sampling_coins(batch, 1.5, rng), doctest::Contains("from 0 to 1; got 1.5"));
}

TEST_CASE("train with teacher_forcing 1 gives exactly the losses of teacher forcing, and P < 1 is repeatable and differs") {
    TrainOptions options;
    options.steps = 12;
    options.batch_size = 8;
    options.progress = false;
    Setup before, with_p1, half, half_again;
    const std::vector<double> expected = teacher_forced_losses(before.model, before.task, options);
    options.teacher_forcing = 1.0;
    CHECK(train(with_p1.model, with_p1.task, options).losses == expected);
    options.teacher_forcing = 0.5;
    const std::vector<double> sampled = train(half.model, half.task, options).losses;
    CHECK(train(half_again.model, half_again.task, options).losses == sampled);  // same seed, same coins
    CHECK(sampled.front() != expected.front());
    options.teacher_forcing = -0.1;
    CHECK_THROWS_WITH(train(half.model, half.task, options), doctest::Contains("from 0 to 1; got -0.1"));
}

// ---- the Transformer is a Model: the same training loop, evaluation and checkpoints ----

namespace {

Transformer small_transformer(const TaskGenerator& task, NormPosition norm) {
    TransformerConfig config;
    config.src_vocab = task.src_vocab().size();
    config.tgt_vocab = task.tgt_vocab().size();
    config.d_model = 16;
    config.heads = 2;
    config.layers = 1;
    config.d_ff = 32;
    config.norm = norm;
    Transformer model(config);
    model.init(9);
    return model;
}

}  // namespace

TEST_CASE("the Transformer learns with the same train(): a short run lowers the loss, pre and post") {
    for (const NormPosition norm : {NormPosition::pre, NormPosition::post}) {
        const std::string norm_name = norm_position_name(norm);
        CAPTURE(norm_name);
        TaskGenerator task{TaskConfig{"reverse", 3, 5, 6, 4}, 50};
        Transformer model = small_transformer(task, norm);
        TrainOptions options;
        options.steps = 120;
        options.batch_size = 16;
        options.lr = 1e-2;
        options.progress = false;
        const TrainResult result = train(model, task, options);
        REQUIRE(result.losses.size() == 120);
        const double first = (result.losses[0] + result.losses[1] + result.losses[2]) / 3;
        const double last = (result.losses[117] + result.losses[118] + result.losses[119]) / 3;
        CAPTURE(first);
        CAPTURE(last);
        CHECK(last < 0.5 * first);
    }
}

TEST_CASE("the Transformer trains teacher forced only: a scheduled-sampling coin is refused") {
    TaskGenerator task{TaskConfig{"reverse", 3, 5, 6, 4}, 50};
    Transformer model = small_transformer(task, NormPosition::pre);
    const Batch batch = make_batch(std::span(task.held_out()).subspan(0, 4));
    std::vector<std::uint8_t> gold(batch.tgt_in.size(), 1);
    tape().reset();
    CHECK(model.loss(batch, gold).value(0) == doctest::Approx(model.forward(batch).loss.value(0)).epsilon(1e-15));
    gold[1] = 0;
    CHECK_THROWS_WITH_AS(model.loss(batch, gold), doctest::Contains("teacher forced only"), std::invalid_argument);
    TrainOptions options;
    options.steps = 2;
    options.progress = false;
    options.teacher_forcing = 0.5;
    CHECK_THROWS_AS(train(model, task, options), std::invalid_argument);
    tape().reset();
}

TEST_CASE("a Transformer checkpoint round trip gives bit-identical parameters and predictions, and the wrong kind is refused") {
    for (const NormPosition norm : {NormPosition::pre, NormPosition::post}) {
        const std::string norm_name = norm_position_name(norm);
        CAPTURE(norm_name);
        TaskGenerator task{TaskConfig{"reverse", 3, 5, 6, 4}, 50};
        Transformer model = small_transformer(task, norm);
        const std::string path = temp_path("transformer.ckpt");
        save_checkpoint(path, model, task, 11);
        const Checkpoint checkpoint = read_checkpoint(path);
        REQUIRE(checkpoint.transformer.has_value());
        CHECK(checkpoint.transformer->norm == norm);
        CHECK(checkpoint.transformer->d_model == 16);
        CHECK(checkpoint.step == 11);
        auto loaded = load_transformer(checkpoint, task);
        const auto original = model.parameters(), restored = loaded->parameters();
        REQUIRE(original.size() == restored.size());
        for (std::size_t k = 0; k < original.size(); ++k) CHECK(original[k]->value == restored[k]->value);
        const Batch batch = make_batch(task.held_out());
        tape().reset();
        const auto before = model.greedy_decode(batch, 8);
        tape().reset();
        CHECK(loaded->greedy_decode(batch, 8) == before);
        tape().reset();
        CHECK_THROWS_WITH_AS(load_model(checkpoint, task), doctest::Contains("holds a Transformer"), CheckpointError);
        std::filesystem::remove(path);
    }
    Setup recurrent;
    const std::string path = temp_path("recurrent.ckpt");
    save_checkpoint(path, recurrent.model, recurrent.task, 3);
    CHECK_THROWS_WITH_AS(load_transformer(read_checkpoint(path), recurrent.task), doctest::Contains("not a Transformer"),
                         CheckpointError);
    std::filesystem::remove(path);
}

TEST_CASE("a Transformer checkpoint that claims more parameters than it holds is refused before allocating") {
    TaskGenerator task{TaskConfig{"reverse", 3, 5, 6, 4}, 50};
    Transformer model = small_transformer(task, NormPosition::pre);
    const std::string path = temp_path("transformer_big.ckpt");
    save_checkpoint(path, model, task, 1);
    std::string text = read_file(path);
    const auto at = text.find("\"d_model\": 16");
    REQUIRE(at != std::string::npos);
    text.replace(at, 13, "\"d_model\": 16000");
    // a valid checksum for the edited body, so that only the size check can refuse it
    const auto body_start = text.find('\n', text.find('\n') + 1) + 1;
    const std::string body = text.substr(body_start);
    text = fmt::format("{}\nchecksum fnv1a64 {:016x}\n{}", checkpoint_format, fnv1a64(body), body);
    write_file(path, text);
    CHECK_THROWS_WITH_AS(read_checkpoint(path), doctest::Contains("needs more parameters than it holds"), CheckpointError);
    std::filesystem::remove(path);
}

// ---- data parallel: train_step with threads ----

namespace {

// Every parameter's values after `steps` steps on the same batches with `threads`
std::vector<double> parameters_after(Model& model, const std::vector<Batch>& batches, int threads,
                                     std::span<const std::uint8_t> feed_gold = {}) {
    auto optimizer = make_optimizer("adam");
    for (std::size_t i = 0; i < batches.size(); ++i)
        train_step(model, *optimizer, batches[i], 0.01, 1.0, static_cast<int>(i) + 1, feed_gold, threads);
    std::vector<double> all;
    for (const Parameter* p : model.parameters()) all.insert(all.end(), p->value.begin(), p->value.end());
    return all;
}

std::vector<Batch> padded_batches(TaskGenerator& task, int count, int size) {
    std::vector<Batch> batches;
    for (int i = 0; i < count; ++i) batches.push_back(make_batch(task.next(size)));
    return batches;
}

}  // namespace

TEST_CASE("train_step with threads: the same bits for 1, 2, 3 and 8 threads, and the one-tape step's numbers to rounding") {
    // 37 examples: shards of 16, 16 and 5, ragged lengths (padding in every shard); 8 threads
    // for 3 shards: the shards' gradients summed in slices on 3 of them
    Setup reference_setup("bahdanau", "concat");
    const std::vector<Batch> batches = padded_batches(reference_setup.task, 3, 37);
    const std::vector<double> one_tape = parameters_after(reference_setup.model, batches, 0);
    std::vector<std::vector<double>> by_threads;
    for (int threads : {1, 2, 3, 8}) {
        Setup s("bahdanau", "concat");
        by_threads.push_back(parameters_after(s.model, batches, threads));
    }
    CHECK(by_threads[0] == by_threads[1]);
    CHECK(by_threads[0] == by_threads[2]);
    CHECK(by_threads[0] == by_threads[3]);
    REQUIRE(by_threads[0].size() == one_tape.size());
    double largest = 0;
    for (std::size_t i = 0; i < one_tape.size(); ++i) largest = std::max(largest, std::abs(by_threads[0][i] - one_tape[i]));
    CHECK(largest < 1e-12);  // the same step, its sums in another order
    Setup untouched("bahdanau", "concat");
    CHECK(parameters_after(untouched.model, {}, 2) != by_threads[0]);  // the steps moved the parameters
}

TEST_CASE("train_step with threads: the Transformer and scheduled sampling shard the same way") {
    TaskGenerator task{TaskConfig{"reverse", 3, 5, 6, 4}, 50};
    TransformerConfig config;
    config.src_vocab = task.src_vocab().size();
    config.tgt_vocab = task.tgt_vocab().size();
    config.d_model = 8, config.heads = 2, config.layers = 1, config.d_ff = 16;
    const std::vector<Batch> batches = padded_batches(task, 2, 20);
    std::vector<std::vector<double>> by_threads;
    for (int threads : {1, 2}) {
        Transformer model(config);
        model.init(3);
        by_threads.push_back(parameters_after(model, batches, threads));
    }
    CHECK(by_threads[0] == by_threads[1]);

    Rng coins(7);
    const std::vector<std::uint8_t> feed_gold = scheduled_sampling_coins(batches[0], 0.5, coins);
    std::vector<std::vector<double>> sampled;
    for (int threads : {0, 1, 2}) {
        Setup s("bahdanau", "dot");
        sampled.push_back(parameters_after(s.model, {batches[0]}, threads, feed_gold));
    }
    CHECK(sampled[1] == sampled[2]);
    for (std::size_t i = 0; i < sampled[0].size(); ++i) CHECK(sampled[1][i] == doctest::Approx(sampled[0][i]).epsilon(1e-12));
}

TEST_CASE("train_step with threads: a NaN is named with its shard, a thread count out of range is refused") {
    Setup s("plain", "none");
    auto optimizer = make_optimizer("adam");
    const Batch batch = make_batch(s.task.next(20));
    CHECK_THROWS_WITH_AS(train_step(s.model, *optimizer, batch, 0.01, 1.0, 1, {}, -1),
                         doctest::Contains("threads must be from 0 to 64, got -1"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(train_step(s.model, *optimizer, batch, 0.01, 1.0, 1, {}, 65), doctest::Contains("got 65"),
                         std::invalid_argument);
    s.model.output_b.value[3] = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(train_step(s.model, *optimizer, batch, 0.01, 1.0, 4, {}, 2),
                         doctest::Contains("step 4: the loss of examples 0–15 is not finite"), TrainingError);
}

TEST_CASE("slice_batch: a shard keeps the batch's padded lengths and its token count") {
    const Batch batch = make_batch(ragged_examples());
    const Batch middle = slice_batch(batch, 1, 2);
    CHECK(middle.size == 2);
    CHECK(middle.src_len == batch.src_len);
    CHECK(middle.tgt_len == batch.tgt_len);
    CHECK(middle.src_lengths == std::vector<int>{3, 2});
    CHECK(std::vector<int>(batch.tgt_out.begin() + batch.tgt_len, batch.tgt_out.end()) == middle.tgt_out);
    CHECK(loss_token_count(batch) == 9);
    CHECK(loss_token_count(middle) == 6);
    Batch counted = batch;
    counted.loss_tokens = 9;
    CHECK(loss_token_count(slice_batch(counted, 2, 1)) == 9);
    CHECK_THROWS_WITH_AS(slice_batch(batch, 2, 2), doctest::Contains("examples [2, 4) outside a batch of 3"), std::out_of_range);
}
