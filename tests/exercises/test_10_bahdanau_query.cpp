// Exercise 10: fix the bug in Bahdanau's query. <10_bahdanau_query.hpp> is the learner's file or the
// reference solution, as STEPGRAD_EXERCISES chooses (tests/exercises/CMakeLists.txt).
#include <10_bahdanau_query.hpp>

#include "exercise_testing.hpp"

using namespace stepgrad;
using namespace stepgrad::exercises::testing;

namespace {

// Sources of 5, 3 and 2 tokens and targets of 3, 5 and 1: padding on both sides.
const std::vector<Example> examples = {{{3, 4, 5, 6, 2}, {4, 3, 2}}, {{6, 3, 2}, {5, 5, 4, 3, 2}}, {{4, 2}, {2}}};

std::unique_ptr<Seq2Seq> bahdanau_model(const char* cell, const char* score, std::uint64_t seed) {
    ModelConfig config;
    config.cell = parse_cell_kind(cell);
    config.score = parse_score_kind(score);
    config.src_vocab = 7;
    config.tgt_vocab = 6;
    config.embed = 4;
    config.hidden = 5;
    config.attn = 3;
    auto model = std::make_unique<Seq2Seq>(config);
    model->init(seed);
    return model;
}

// Row j of each example in the library's logits (B·n, V) as one (B, V) tensor.
Tensor logits_at(const Forward& forward, int j, int B, int n) {
    const int V = forward.logits.cols();
    std::vector<double> rows;
    for (int b = 0; b < B; ++b) {
        const std::vector<double> row = forward.logits.row(b * n + j);
        rows.insert(rows.end(), row.begin(), row.end());
    }
    return constant(B, V, rows);
}

}  // namespace

TEST_CASE("bahdanau query: α_1 comes from s_0 = h_m alone, whatever the first input token") {
    auto model = bahdanau_model("gru", "concat", 1);
    const Batch batch = make_batch(examples);
    Batch other_inputs = batch;  // the same batch, with another first input than <bos>
    for (int b = 0; b < batch.size; ++b) other_inputs.tgt_in[static_cast<std::size_t>(b * batch.tgt_len)] = 4;
    tape().reset();
    const Tensor alpha_1 = exercises::bahdanau_teacher_forced(*model, batch).alpha.at(0);
    const Tensor other_alpha_1 = exercises::bahdanau_teacher_forced(*model, other_inputs).alpha.at(0);
    check_tensor(other_alpha_1, alpha_1,
                 "α_1 after changing only the first input token (it must not move: step 1's scores are computed from "
                 "s_0 = h_m, before the cell reads its input)");
}

TEST_CASE("bahdanau query: every α_j is the library's, on a padded batch") {
    auto model = bahdanau_model("lstm", "general", 2);
    const Batch batch = make_batch(examples);
    tape().reset();
    const exercises::TeacherForced yours = exercises::bahdanau_teacher_forced(*model, batch);
    const Forward library = model->forward(batch);
    REQUIRE(yours.alpha.size() == library.decoder.size());
    for (std::size_t j = 0; j < yours.alpha.size(); ++j)
        check_tensor(yours.alpha[j], library.decoder[j].attention.alpha, fmt::format("α_{}", j + 1));
}

TEST_CASE("bahdanau query: every logits_j is the library's, for every cell") {
    for (const char* cell : {"rnn", "gru", "lstm"}) {
        INFO("cell ", cell);
        auto model = bahdanau_model(cell, "qk", 3);
        const Batch batch = make_batch(examples);
        tape().reset();
        const exercises::TeacherForced yours = exercises::bahdanau_teacher_forced(*model, batch);
        const Forward library = model->forward(batch);
        REQUIRE(yours.logits.size() == static_cast<std::size_t>(batch.tgt_len));
        for (int j = 0; j < batch.tgt_len; ++j)
            check_tensor(yours.logits[static_cast<std::size_t>(j)], logits_at(library, j, batch.size, batch.tgt_len),
                         fmt::format("logits_{} (steps 1 on: the cell must read c_j, and the output layer [s_j; c_j])", j + 1));
    }
}
