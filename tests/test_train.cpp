// Learning: optimizers, clipping, the schedule, a short run that learns, evaluation,
// checkpoints (round trip and every kind of damage), and NaN detection.
#include "testing.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "stepgrad/support/checkpoint.hpp"
#include "stepgrad/train.hpp"

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
