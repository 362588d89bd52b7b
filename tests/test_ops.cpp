// Every op: gradient-checked against central differences, plus the numbers that matter
// (stability at ±1000, masks, broadcasting) and the shape errors it raises.
#include "testing.hpp"

#include <cmath>
#include <functional>
#include <limits>
#include <tuple>

using namespace stepgrad;
using stepgrad::testing::random_parameter;
using stepgrad::testing::require_gradients;
using stepgrad::testing::weighted_sum;

namespace {
constexpr double op_tolerance = 1e-6;  // SPEC §2

// Gradient check of a unary op on a 3×4 input drawn from [lo, hi].
void check_unary(Tensor (*op)(Tensor), double lo, double hi) {
    auto x = random_parameter("x", 3, 4, 1, lo, hi);
    require_gradients([&] { return weighted_sum(op(x->use())); }, {x.get()}, op_tolerance);
}
// op's values, then the gradient of every parameter for a weighted sum of them, as one list.
std::vector<double> values_and_gradients(const std::function<Tensor()>& op, const std::vector<Parameter*>& params) {
    for (Parameter* p : params) p->zero_grad();
    tape().reset();
    const Tensor y = op();
    std::vector<double> all = y.to_vector();
    tape().backward(weighted_sum(y));
    for (const Parameter* p : params) all.insert(all.end(), p->grad.begin(), p->grad.end());
    return all;
}

// A fused op against the composite it replaces (its test oracle): the same values and,
// for a weighted sum of them, the same gradient of every parameter.
void check_fused_equals_composite(const std::function<Tensor()>& fused, const std::function<Tensor()>& composite,
                                  const std::vector<Parameter*>& params) {
    const std::vector<double> expected = values_and_gradients(composite, params), actual = values_and_gradients(fused, params);
    REQUIRE(actual.size() == expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) CHECK(actual[i] == doctest::Approx(expected[i]).epsilon(1e-14));
}
}  // namespace

TEST_CASE("add: gradient, same shape and row broadcast") {
    auto a = random_parameter("a", 3, 4, 1), b = random_parameter("b", 3, 4, 2);
    auto bias = random_parameter("bias", 1, 4, 3);
    require_gradients([&] { return weighted_sum(add(a->use(), b->use())); }, {a.get(), b.get()}, op_tolerance);
    require_gradients([&] { return weighted_sum(add(a->use(), bias->use())); }, {a.get(), bias.get()}, op_tolerance);
}

TEST_CASE("sub: gradient") {
    auto a = random_parameter("a", 2, 3, 1), b = random_parameter("b", 1, 3, 2);
    require_gradients([&] { return weighted_sum(sub(a->use(), b->use())); }, {a.get(), b.get()}, op_tolerance);
}

TEST_CASE("mul: gradient, same shape and row broadcast") {
    auto a = random_parameter("a", 3, 4, 1), b = random_parameter("b", 3, 4, 2);
    auto row = random_parameter("row", 1, 4, 3);
    require_gradients([&] { return weighted_sum(mul(a->use(), b->use())); }, {a.get(), b.get()}, op_tolerance);
    require_gradients([&] { return weighted_sum(mul(a->use(), row->use())); }, {a.get(), row.get()}, op_tolerance);
}

TEST_CASE("mul: a tensor used twice gets both gradient contributions") {
    auto a = random_parameter("a", 2, 2, 1);
    tape().reset();
    a->zero_grad();
    Tensor x = a->use();
    tape().backward(sum(mul(x, x)));  // d Σ x² / dx = 2x
    for (std::size_t i = 0; i < a->size(); ++i) CHECK(a->grad[i] == doctest::Approx(2 * a->value[i]));
}

TEST_CASE("scale: gradient") {
    auto a = random_parameter("a", 2, 3, 1);
    require_gradients([&] { return weighted_sum(scale(a->use(), -2.5)); }, {a.get()}, op_tolerance);
}

TEST_CASE("matmul: gradient and values") {
    auto a = random_parameter("a", 3, 4, 1), b = random_parameter("b", 4, 5, 2);
    require_gradients([&] { return weighted_sum(matmul(a->use(), b->use())); }, {a.get(), b.get()}, op_tolerance);
    tape().reset();
    Tensor y = matmul(a->use(), b->use());
    double expected = 0;
    for (int k = 0; k < 4; ++k) expected += a->value[static_cast<std::size_t>(2 * 4 + k)] * b->value[static_cast<std::size_t>(k * 5 + 3)];
    CHECK(y.at(2, 3) == doctest::Approx(expected).epsilon(1e-14));
}

TEST_CASE("matmul_nt: gradient, and equals matmul with the transpose") {
    auto a = random_parameter("a", 3, 7, 1), b = random_parameter("b", 5, 7, 2);
    require_gradients([&] { return weighted_sum(matmul_nt(a->use(), b->use())); }, {a.get(), b.get()}, op_tolerance);
    tape().reset();
    std::vector<double> bt(35);
    for (int r = 0; r < 5; ++r)
        for (int c = 0; c < 7; ++c) bt[static_cast<std::size_t>(c * 5 + r)] = b->value[static_cast<std::size_t>(r * 7 + c)];
    Tensor y1 = matmul_nt(a->use(), b->use());
    Tensor y2 = matmul(a->use(), constant(7, 5, bt));
    for (std::size_t i = 0; i < y1.size(); ++i) CHECK(y1.value(i) == doctest::Approx(y2.value(i)).epsilon(1e-14));
}

TEST_CASE("linear: gradient, and equals its composite matmul_nt then add") {
    // 5 rows: the batched kernel path (a batch of 1 takes the dot-product path)
    for (int rows : {2, 5}) {
        auto x = random_parameter("x", rows, 3, 1), w = random_parameter("W", 4, 3, 2);
        auto b = random_parameter("b", 1, 4, 3);
        require_gradients([&] { return weighted_sum(linear(x->use(), w->use(), b->use())); },
                          {x.get(), w.get(), b.get()}, op_tolerance);
        check_fused_equals_composite([&] { return linear(x->use(), w->use(), b->use()); },
                                     [&] { return add(matmul_nt(x->use(), w->use()), b->use()); },
                                     {x.get(), w.get(), b.get()});
    }
}

TEST_CASE("ReusedWeights: a weight read again uses one transposed copy, with the same bits, and none is kept after") {
    // rows 1 and 3 (dot products), 8 (a small W, transposed whole), and a W of 75,000 entries
    // (panels): a chain of five layers through one W, inside a scope and without one
    for (const std::tuple<int, int, int>& shape : {std::tuple{1, 8, 8}, std::tuple{3, 6, 6}, std::tuple{8, 12, 12}, std::tuple{8, 300, 250}}) {
        const int rows = std::get<0>(shape), width = std::get<1>(shape), out = std::get<2>(shape);
        INFO("rows ", rows, ", W ", out, " × ", width);
        auto x = random_parameter("x", rows, width, 1), w = random_parameter("W", out, width, 2, -0.1, 0.1);
        auto b = random_parameter("b", 1, out, 3);
        const auto chain = [&] {
            Tensor h = x->use();
            for (int i = 0; i < 5; ++i) h = stepgrad::tanh(linear(h, *w, *b));
            return h;
        };
        const std::vector<Parameter*> params = {x.get(), w.get(), b.get()};
        if (width != out) {  // the last shape cannot chain: one layer, read twice
            const auto twice = [&] { return add(linear(x->use(), *w, *b), linear(x->use(), *w, *b)); };
            const std::vector<double> plain = values_and_gradients(twice, params);
            const ReusedWeights reused;
            CHECK(values_and_gradients(twice, params) == plain);
            continue;
        }
        const std::vector<double> plain = values_and_gradients(chain, params);
        std::vector<double> with_scope;
        {
            const ReusedWeights reused;
            with_scope = values_and_gradients(chain, params);
        }
        CHECK(with_scope == plain);
        // a new W after the scope closed: a new scope must not use the old copy
        for (double& v : w->value) v = -v;
        const std::vector<double> changed = values_and_gradients(chain, params);
        CHECK(changed != plain);
        const ReusedWeights reused;
        CHECK(values_and_gradients(chain, params) == changed);
    }
}

TEST_CASE("ReusedWeights: a parameter's column slice is made once a pass and its gradient is every use's") {
    // a decoder slices W_s out of W at every step; inside a scope the three slices are one tensor
    auto w = random_parameter("W", 3, 6, 1), x = random_parameter("x", 2, 3, 2);
    const std::vector<Parameter*> params = {w.get(), x.get()};
    const auto three_steps = [&] {
        Tensor h = x->use();
        for (int j = 0; j < 3; ++j) h = stepgrad::tanh(matmul_nt(h, slice_cols(w->use(), 3, 3)));
        return h;
    };
    const std::vector<double> plain = values_and_gradients(three_steps, params);
    const std::size_t entries_plain = tape().size();
    const ReusedWeights reused;
    // the values bit for bit; W's gradient sums the steps' products in the slice first, then adds
    // them to W (a product's last columns, c mod the SIMD width, continue one chain of
    // multiply-adds through all steps instead of rounding each step's): equal to rounding
    const std::vector<double> reused_once = values_and_gradients(three_steps, params);
    REQUIRE(reused_once.size() == plain.size());
    for (std::size_t i = 0; i < plain.size(); ++i) {
        if (i < 6) CHECK(reused_once[i] == plain[i]);
        CHECK(reused_once[i] == doctest::Approx(plain[i]).epsilon(1e-14));
    }
    CHECK(tape().size() == entries_plain - 2);  // two slices fewer
    tape().reset();
    const Tensor first = slice_cols(w->use(), 3, 3);
    CHECK(slice_cols(w->use(), 3, 3).id() == first.id());
    CHECK(slice_cols(w->use(), 0, 3).id() != first.id());  // another range, another slice
    // after a reset the old handle is not served again: a new tape gets a new slice
    tape().reset();
    CHECK(slice_cols(w->use(), 3, 3).values()[0] == w->value[3]);
    require_gradients([&] { return weighted_sum(three_steps()); }, params, op_tolerance);
}

TEST_CASE("tanh: gradient") { check_unary(stepgrad::tanh, -2, 2); }
TEST_CASE("sigmoid: gradient") { check_unary(stepgrad::sigmoid, -3, 3); }
TEST_CASE("exp: gradient") { check_unary(stepgrad::exp, -2, 2); }
TEST_CASE("log: gradient") { check_unary(stepgrad::log, 0.5, 3); }

TEST_CASE("relu: gradient away from the kink, and 0 at x = 0") {
    check_unary(stepgrad::relu, -2, 2);
    tape().reset();
    Parameter p("x", 1, 1);
    p.value[0] = 0.0;
    Tensor y = relu(p.use());
    tape().backward(sum(y));
    CHECK(p.grad[0] == 0.0);
}

TEST_CASE("softmax: gradient, rows sum to 1") {
    check_unary(stepgrad::softmax, -3, 3);
    tape().reset();
    auto x = random_parameter("x", 3, 5, 4, -3, 3);
    Tensor y = softmax(x->use());
    for (int r = 0; r < 3; ++r) {
        double total = 0;
        for (int c = 0; c < 5; ++c) total += y.at(r, c);
        CHECK(total == doctest::Approx(1.0).epsilon(1e-15));
    }
}

TEST_CASE("log_softmax: gradient, equals log of softmax") {
    check_unary(stepgrad::log_softmax, -3, 3);
    tape().reset();
    auto x = random_parameter("x", 2, 4, 5, -3, 3);
    Tensor a = log_softmax(x->use()), b = stepgrad::log(softmax(x->use()));
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(a.value(i) == doctest::Approx(b.value(i)).epsilon(1e-14));
}

TEST_CASE("softmax and log_softmax are stable for scores like ±1000") {
    tape().reset();
    const std::vector<double> extreme = {1000, -1000, 999, 0, -1000, 1000};
    Tensor p = softmax(constant(2, 3, extreme));
    Tensor lp = log_softmax(constant(2, 3, extreme));
    for (std::size_t i = 0; i < p.size(); ++i) {
        CAPTURE(i);
        CHECK(std::isfinite(p.value(i)));
        CHECK(std::isfinite(lp.value(i)));
    }
    CHECK(p.at(0, 0) == doctest::Approx(1 / (1 + std::exp(-1.0))));
    CHECK(lp.at(0, 1) == doctest::Approx(-2000 - std::log1p(std::exp(-1.0))));
    CHECK(p.at(1, 2) == doctest::Approx(1.0));
    CHECK(lp.at(1, 0) == doctest::Approx(-1000.0));
    CHECK(lp.at(1, 1) == doctest::Approx(-2000.0));
}

TEST_CASE("softmax gives exactly 0 to −∞ entries (masked positions)") {
    tape().reset();
    const double inf = std::numeric_limits<double>::infinity();
    Tensor p = softmax(constant(1, 3, std::vector<double>{0.5, -inf, 0.5}));
    CHECK(p.at(0, 1) == 0.0);
    CHECK(p.at(0, 0) == doctest::Approx(0.5));
}

TEST_CASE("nll_loss and cross_entropy: gradient, ignore index adds nothing") {
    auto logits = random_parameter("logits", 3, 5, 1, -2, 2);
    const std::vector<int> targets = {4, 0, 2};
    require_gradients([&] { return cross_entropy(logits->use(), targets, 0); }, {logits.get()}, op_tolerance);
    tape().reset();
    logits->zero_grad();
    Tensor loss = cross_entropy(logits->use(), targets, 0);
    tape().backward(loss);
    for (int c = 0; c < 5; ++c) CHECK(logits->grad[static_cast<std::size_t>(5 + c)] == 0.0);  // row 1 ignored
    Tensor lp = log_softmax(logits->use());
    CHECK(loss.value(0) == doctest::Approx(-(lp.at(0, 4) + lp.at(2, 2)) / 2).epsilon(1e-14));
}

TEST_CASE("cross_entropy: every target ignored is an error, bad target ids are named") {
    tape().reset();
    Tensor logits = zeros(2, 3);
    const std::vector<int> all_pad = {0, 0}, bad = {1, 7};
    CHECK_THROWS_WITH(cross_entropy(logits, all_pad, 0), doctest::Contains("every target is ignore_index"));
    CHECK_THROWS_WITH(cross_entropy(logits, bad, 0), doctest::Contains("target id 7"));
}

TEST_CASE("concat_cols and slice_cols: gradient and round trip") {
    auto a = random_parameter("a", 2, 3, 1), b = random_parameter("b", 2, 2, 2);
    require_gradients([&] { return weighted_sum(concat_cols({a->use(), b->use(), a->use()})); },
                      {a.get(), b.get()}, op_tolerance);
    require_gradients([&] { return weighted_sum(slice_cols(a->use(), 1, 2)); }, {a.get()}, op_tolerance);
    tape().reset();
    Tensor ab = concat_cols({a->use(), b->use()});
    Tensor back = slice_cols(ab, 3, 2);
    for (std::size_t i = 0; i < back.size(); ++i) CHECK(back.value(i) == b->value[i]);
}

TEST_CASE("gather_rows: gradient with a repeated id, and id range checked") {
    auto table = random_parameter("src_embed", 5, 3, 1);
    const std::vector<int> ids = {4, 1, 4};
    require_gradients([&] { return weighted_sum(gather_rows(table->use(), ids)); }, {table.get()}, op_tolerance);
    tape().reset();
    const std::vector<int> bad = {5};
    CHECK_THROWS_WITH(gather_rows(table->use(), bad), doctest::Contains("id 5 outside"));
}

TEST_CASE("reshape: shares data and gradient") {
    auto a = random_parameter("a", 2, 6, 1);
    require_gradients([&] { return weighted_sum(mul(reshape(a->use(), 4, 3), reshape(a->use(), 4, 3))); },
                      {a.get()}, op_tolerance);
    tape().reset();
    CHECK_THROWS_AS(reshape(a->use(), 5, 3), ShapeError);
}

TEST_CASE("sum and mean: gradient and value") {
    auto a = random_parameter("a", 2, 3, 1);
    require_gradients([&] { return mean(mul(a->use(), a->use())); }, {a.get()}, op_tolerance);
    tape().reset();
    double total = 0;
    for (double v : a->value) total += v;
    CHECK(sum(a->use()).value(0) == doctest::Approx(total).epsilon(1e-15));
}

TEST_CASE("rowwise_dot: gradient") {
    auto a = random_parameter("a", 3, 5, 1), b = random_parameter("b", 3, 5, 2);
    require_gradients([&] { return weighted_sum(rowwise_dot(a->use(), b->use())); }, {a.get(), b.get()}, op_tolerance);
}

TEST_CASE("masked_fill: masked entries take the fill value and pass no gradient") {
    auto a = random_parameter("a", 2, 3, 1);
    const std::vector<int> mask = {0, 1, 0, 0, 0, 1};
    require_gradients([&] { return weighted_sum(masked_fill(a->use(), mask, -5.0)); }, {a.get()}, op_tolerance);
    CHECK(a->grad[1] == 0.0);
    CHECK(a->grad[5] == 0.0);
    tape().reset();
    Tensor y = masked_fill(a->use(), mask, -5.0);
    CHECK(y.at(0, 1) == -5.0);
    CHECK(y.at(0, 0) == a->value[0]);
}

TEST_CASE("blocks_dot: gradient with a query per row and a shared query") {
    auto blocks = random_parameter("blocks", 2, 12, 1), q = random_parameter("q", 2, 4, 2);
    auto v = random_parameter("v", 1, 4, 3);
    require_gradients([&] { return weighted_sum(blocks_dot(blocks->use(), q->use())); },
                      {blocks.get(), q.get()}, op_tolerance);
    require_gradients([&] { return weighted_sum(blocks_dot(blocks->use(), v->use())); },
                      {blocks.get(), v.get()}, op_tolerance);
    tape().reset();
    Tensor y = blocks_dot(blocks->use(), q->use());
    CHECK(y.cols() == 3);
    double expected = 0;
    for (int k = 0; k < 4; ++k) expected += blocks->value[static_cast<std::size_t>(12 + 8 + k)] * q->value[static_cast<std::size_t>(4 + k)];
    CHECK(y.at(1, 2) == doctest::Approx(expected).epsilon(1e-14));
}

TEST_CASE("blocks_weighted_sum: gradient and value") {
    auto w = random_parameter("w", 2, 3, 1), blocks = random_parameter("blocks", 2, 12, 2);
    require_gradients([&] { return weighted_sum(blocks_weighted_sum(w->use(), blocks->use())); },
                      {w.get(), blocks.get()}, op_tolerance);
    tape().reset();
    Tensor y = blocks_weighted_sum(w->use(), blocks->use());
    double expected = 0;
    for (int i = 0; i < 3; ++i) expected += w->value[static_cast<std::size_t>(3 + i)] * blocks->value[static_cast<std::size_t>(12 + 4 * i + 1)];
    CHECK(y.at(1, 1) == doctest::Approx(expected).epsilon(1e-14));
}

TEST_CASE("add_to_blocks: gradient") {
    auto blocks = random_parameter("blocks", 2, 9, 1), row = random_parameter("row", 2, 3, 2);
    require_gradients([&] { return weighted_sum(stepgrad::tanh(add_to_blocks(blocks->use(), row->use()))); },
                      {blocks.get(), row.get()}, op_tolerance);
}

TEST_CASE("additive_scores: gradient, and equals its composite blocks_dot(tanh(add_to_blocks(k, q)), v)") {
    // B = 2 examples, m = 3 keys of width A = 5: the tanh runs over a full register and a tail
    auto keys = random_parameter("keys", 2, 15, 1, -2, 2), query = random_parameter("query", 2, 5, 2);
    auto v = random_parameter("v", 1, 5, 3);
    const std::vector<Parameter*> params = {keys.get(), query.get(), v.get()};
    require_gradients([&] { return weighted_sum(additive_scores(keys->use(), query->use(), v->use())); }, params, op_tolerance);
    check_fused_equals_composite(
        [&] { return additive_scores(keys->use(), query->use(), v->use()); },
        [&] { return blocks_dot(stepgrad::tanh(add_to_blocks(keys->use(), query->use())), v->use()); }, params);
    tape().reset();
    CHECK_THROWS_WITH_AS(additive_scores(zeros(2, 15), zeros(2, 5), zeros(1, 4)),
                         "additive_scores: shapes (2, 5) and (1, 4) do not match: v must be one row of the query's width",
                         ShapeError);
    CHECK_THROWS_WITH_AS(additive_scores(zeros(2, 15), zeros(3, 5), zeros(1, 5)),
                         doctest::Contains("query needs one row per example"), ShapeError);
}

namespace {
// The concat score from primitives, the fused op's oracle: vᵀ tanh(keys[b, i] + query[b]).
Tensor additive_scores_composite(Tensor keys, Tensor query, Tensor v) {
    return blocks_dot(stepgrad::tanh(add_to_blocks(keys, query)), v);
}
struct ScoreShape {
    int B, m, A;
};
// B > 1, m = 1, A = 1, and widths that fill SIMD registers and leave tails
constexpr ScoreShape score_shapes[] = {{1, 1, 1}, {3, 1, 1}, {2, 4, 1}, {1, 1, 6}, {3, 1, 5}, {2, 7, 3}, {4, 5, 9}, {3, 6, 16}};
}  // namespace

TEST_CASE("additive_scores: forward within 4 ε · Σ|v| and gradients equal its composite on random shapes") {
    std::uint64_t seed = 10;
    for (const ScoreShape& shape : score_shapes) {
        const int B = shape.B, m = shape.m, A = shape.A;
        CAPTURE(B);
        CAPTURE(m);
        CAPTURE(A);
        auto keys = random_parameter("keys", B, m * A, ++seed, -2, 2), query = random_parameter("query", B, A, ++seed, -2, 2);
        auto v = random_parameter("v", 1, A, ++seed);
        // t = 1 − 2 / (1 + e^{2k} e^{2q}) is within 1.5 ε of tanh(k + q), the composite's tanh
        // within 3 ulp of it: e = vᵀ t then differs by a few ε per unit of Σ|v|
        tape().reset();
        const std::vector<double> fused = additive_scores(keys->use(), query->use(), v->use()).to_vector();
        const std::vector<double> composite = additive_scores_composite(keys->use(), query->use(), v->use()).to_vector();
        double v_norm = 0;
        for (double x : v->value) v_norm += std::abs(x);
        REQUIRE(fused.size() == composite.size());
        for (std::size_t i = 0; i < fused.size(); ++i)
            CHECK(std::abs(fused[i] - composite[i]) <= 4 * std::numeric_limits<double>::epsilon() * v_norm);
        check_fused_equals_composite([&] { return additive_scores(keys->use(), query->use(), v->use()); },
                                     [&] { return additive_scores_composite(keys->use(), query->use(), v->use()); },
                                     {keys.get(), query.get(), v.get()});
    }
}

TEST_CASE("additive_scores: keys or queries beyond ±350 take tanh(k + q) itself, that example alone") {
    // e^{2·351} overflows a double's exponent; such an example's t is tanh(keys + query), exact
    // at the saturation (tanh(400 − 380) rounds to 1), and its batch-mates' scores do not move
    const int m = 3, A = 5;
    std::vector<double> keys_values(static_cast<std::size_t>(2 * m * A)), query_values(static_cast<std::size_t>(2 * A));
    for (std::size_t i = 0; i < keys_values.size(); ++i) keys_values[i] = std::sin(1.0 + static_cast<double>(i));
    for (std::size_t i = 0; i < query_values.size(); ++i) query_values[i] = std::cos(2.0 + static_cast<double>(i));
    const std::vector<double> v_values = {0.5, -0.25, 1.0, 0.75, -1.5};
    tape().reset();
    const Tensor v = constant(1, A, v_values);
    const std::vector<double> alone = additive_scores(constant(1, m * A, std::span(keys_values).first(m * A)),
                                                      constant(1, A, std::span(query_values).first(A)), v)
                                          .to_vector();
    for (const std::pair<double, double>& large : {std::pair{400.0, -380.0}, std::pair{1.0, 355.0}, std::pair{-351.0, 0.0}}) {
        const double key = large.first, query = large.second;  // (clang's lambdas cannot capture a structured binding)
        CAPTURE(key);
        CAPTURE(query);
        std::vector<double> k = keys_values, q = query_values;
        for (int i = m * A; i < 2 * m * A; ++i) k[static_cast<std::size_t>(i)] = key;
        for (int a = A; a < 2 * A; ++a) q[static_cast<std::size_t>(a)] = query;
        const std::vector<double> both = additive_scores(constant(2, m * A, k), constant(2, A, q), v).to_vector();
        for (int i = 0; i < m; ++i) {
            CHECK(both[static_cast<std::size_t>(i)] == alone[static_cast<std::size_t>(i)]);
            // every t of example 2 is tanh(key + query) = ±1, so e = ±Σ v
            CHECK(both[static_cast<std::size_t>(m + i)] == (key + query > 0 ? 1.0 : -1.0) * 0.5);
        }
    }
}

TEST_CASE("additive_scores: gradient on random shapes, and keys shared by several decoder steps") {
    std::uint64_t seed = 40;
    for (const ScoreShape& shape : score_shapes) {
        const int B = shape.B, m = shape.m, A = shape.A;
        CAPTURE(B);
        CAPTURE(m);
        CAPTURE(A);
        auto keys = random_parameter("keys", B, m * A, ++seed, -2, 2), query = random_parameter("query", B, A, ++seed, -2, 2);
        auto v = random_parameter("v", 1, A, ++seed);
        require_gradients([&] { return weighted_sum(additive_scores(keys->use(), query->use(), v->use())); },
                          {keys.get(), query.get(), v.get()}, op_tolerance);
    }
    // a decoder's n = 3 steps score the same keys with three queries: ∂/∂keys gets all three
    auto keys = random_parameter("keys", 2, 4 * 3, 1, -2, 2), queries = random_parameter("queries", 2, 3 * 3, 2, -2, 2);
    auto v = random_parameter("v", 1, 3, 3);
    require_gradients([&] {
        const Tensor k = keys->use(), qs = queries->use(), w = v->use();
        Tensor loss = weighted_sum(additive_scores(k, slice_cols(qs, 0, 3), w), 1);
        for (int j = 1; j < 3; ++j) loss = add(loss, weighted_sum(additive_scores(k, slice_cols(qs, 3 * j, 3), w), static_cast<std::uint64_t>(1 + j)));
        return loss;
    }, {keys.get(), queries.get(), v.get()}, op_tolerance);
}

TEST_CASE("additive_scores: a decoder step keeps nothing of size m·A on the tape, and the keys' e^{2k} is made once a pass") {
    // the backward rebuilds t = tanh(keys + query) from e^{2 keys}, made by the first score on
    // a keys tensor and read by every later one, and e^{2 query}: a sentence pair keeps
    // O((m + n)·A) numbers for the score, not m·n·A; all give the composite's gradients
    const std::size_t align = alignof(std::max_align_t);
    for (const std::tuple<int, int, int>& shape : {std::tuple{3, 1400, 16}, std::tuple{3, 50, 16}, std::tuple{2, 7, 3}}) {
        const int B = std::get<0>(shape), m = std::get<1>(shape), A = std::get<2>(shape);
        INFO("B = ", B, ", m = ", m, ", A = ", A);
        auto keys = random_parameter("keys", B, m * A, 1), query = random_parameter("query", B, A, 2);
        auto v = random_parameter("v", 1, A, 3);
        tape().reset();
        // keys an op made (the model's are a reshape of a projection): their values never change
        const Tensor k = reshape(add(keys->use(), zeros(B, m * A)), B, m * A), q = query->use(), w = v->use();
        const std::size_t scores = sizeof(TapeEntry) + 2 * sizeof(double) * B * m;
        const std::size_t exponentials = sizeof(double) * B * m * A + align;  // and B flags
        std::size_t before = tape().bytes_used();
        CHECK(additive_scores(k, q, w).cols() == m);
        CHECK(tape().bytes_used() - before == scores + exponentials);
        before = tape().bytes_used();
        CHECK(additive_scores(k, q, w).cols() == m);  // the next decoder step: its scores alone
        CHECK(tape().bytes_used() - before == scores);
        check_fused_equals_composite([&] { return additive_scores(keys->use(), query->use(), v->use()); },
                                     [&] { return additive_scores_composite(keys->use(), query->use(), v->use()); },
                                     {keys.get(), query.get(), v.get()});
        CHECK(v->grad != std::vector<double>(static_cast<std::size_t>(A), 0.0));
    }
    // keys made once and scored at three steps: the gradient through the shared exponentials
    auto keys = random_parameter("keys", 2, 4 * 3, 4, -2, 2), queries = random_parameter("queries", 2, 3 * 3, 5, -2, 2);
    auto v = random_parameter("v", 1, 3, 6);
    require_gradients([&] {
        const Tensor k = add(keys->use(), zeros(2, 12)), qs = queries->use(), w = v->use();
        Tensor loss = weighted_sum(additive_attention_weights(k, slice_cols(qs, 0, 3), w, {}), 1);
        for (int j = 1; j < 3; ++j)
            loss = add(loss, weighted_sum(additive_scores(k, slice_cols(qs, 3 * j, 3), w), static_cast<std::uint64_t>(1 + j)));
        return loss;
    }, {keys.get(), queries.get(), v.get()}, op_tolerance);
}

namespace {
// The concat score's α from primitives, the fused op's oracle: softmax of e with −∞ where masked.
Tensor additive_weights_composite(Tensor keys, Tensor query, Tensor v, std::span<const int> mask) {
    const Tensor scores = additive_scores(keys, query, v);
    return softmax(mask.empty() ? scores : masked_fill(scores, mask, -std::numeric_limits<double>::infinity()));
}
// Flags marking the last `padded` keys of example 1 (if there is one) as padding.
std::vector<int> last_keys_padded(int B, int m, int padded) {
    std::vector<int> mask(static_cast<std::size_t>(B * m), 0);
    for (int i = m - padded; B > 1 && i < m; ++i) mask[static_cast<std::size_t>(m + i)] = 1;
    return mask;
}
}  // namespace

TEST_CASE("additive_attention_weights: α and every gradient bit for bit those of softmax(masked_fill(additive_scores))") {
    // shapes with tails, padding and none, small and long
    std::uint64_t seed = 60;
    for (const std::tuple<int, int, int>& shape : {std::tuple{1, 1, 1}, std::tuple{2, 4, 3}, std::tuple{3, 6, 16},
                                                   std::tuple{4, 5, 9}, std::tuple{3, 1400, 16}}) {
        const int B = std::get<0>(shape), m = std::get<1>(shape), A = std::get<2>(shape);
        for (const int padded : {0, m / 2}) {
            INFO("B = ", B, ", m = ", m, ", A = ", A, ", padded ", padded);
            auto keys = random_parameter("keys", B, m * A, ++seed, -2, 2), query = random_parameter("query", B, A, ++seed, -2, 2);
            auto v = random_parameter("v", 1, A, ++seed);
            const std::vector<Parameter*> params = {keys.get(), query.get(), v.get()};
            const std::vector<int> mask = padded ? last_keys_padded(B, m, padded) : std::vector<int>{};
            const std::vector<double> composite = values_and_gradients(
                [&] { return additive_weights_composite(keys->use(), query->use(), v->use(), mask); }, params);
            const std::vector<double> fused = values_and_gradients(
                [&] { return additive_attention_weights(keys->use(), query->use(), v->use(), mask); }, params);
            CHECK(fused == composite);
            if (padded) CHECK(fused[static_cast<std::size_t>(2 * m - 1)] == 0.0);  // α of a padded key
        }
    }
}

TEST_CASE("additive_attention_weights: gradient, keeps only α (not e) on the tape, and refuses a wrong mask") {
    auto keys = random_parameter("keys", 2, 4 * 3, 1, -2, 2), query = random_parameter("query", 2, 3, 2, -2, 2);
    auto v = random_parameter("v", 1, 3, 3);
    const std::vector<int> mask = last_keys_padded(2, 4, 1);
    require_gradients([&] { return weighted_sum(additive_attention_weights(keys->use(), query->use(), v->use(), mask)); },
                      {keys.get(), query.get(), v.get()}, op_tolerance);
    tape().reset();
    const Tensor k = keys->use(), q = query->use(), w = v->use();
    const std::size_t before = tape().bytes_used(), entries = tape().size();
    CHECK(additive_attention_weights(k, q, w, mask).cols() == 4);
    CHECK(tape().size() == entries + 1);  // one tensor, α; the composite makes three
    // α, the keys' e^{2k} (a parameter's, made at every score) with 2 flags, and the mask
    const std::size_t align = alignof(std::max_align_t);
    CHECK(tape().bytes_used() - before == sizeof(TapeEntry) + 2 * sizeof(double) * 2 * 4 + sizeof(double) * 2 * 4 * 3 +
                                              align + (sizeof(int) * mask.size() + align - 1) / align * align);
    CHECK_THROWS_WITH_AS(additive_attention_weights(k, q, w, std::vector<int>(5, 0)),
                         "additive_attention_weights: mask of 5 entries for 2 examples of 4 keys", ShapeError);
}

TEST_CASE("shape errors name the op and both shapes") {
    tape().reset();
    Tensor a = zeros(2, 3), b = zeros(4, 5);
    CHECK_THROWS_WITH_AS(matmul(a, b), "matmul: shapes (2, 3) and (4, 5) do not match: cols of a != rows of b", ShapeError);
    CHECK_THROWS_WITH_AS(add(a, b), doctest::Contains("add: shapes (2, 3) and (4, 5)"), ShapeError);
    CHECK_THROWS_WITH_AS(mul(a, zeros(2, 2)), doctest::Contains("mul: shapes (2, 3) and (2, 2)"), ShapeError);
    CHECK_THROWS_WITH_AS(matmul_nt(a, b), doctest::Contains("matmul_nt: shapes (2, 3) and (4, 5)"), ShapeError);
    CHECK_THROWS_WITH_AS(linear(a, zeros(4, 3), zeros(1, 5)),
                         "linear: shapes (4, 3) and (1, 5) do not match: b must be one row of W's height", ShapeError);
    CHECK_THROWS_WITH_AS(rowwise_dot(a, b), doctest::Contains("rowwise_dot: shapes (2, 3) and (4, 5)"), ShapeError);
    CHECK_THROWS_WITH_AS(concat_cols({a, b}), doctest::Contains("concat_cols: shapes (2, 3) and (4, 5)"), ShapeError);
    CHECK_THROWS_WITH_AS(blocks_dot(a, zeros(2, 2)), doctest::Contains("blocks_dot: shapes (2, 3) and (2, 2)"), ShapeError);
    CHECK_THROWS_WITH_AS(slice_cols(a, 2, 2), doctest::Contains("slice_cols: columns [2, 4) outside shape (2, 3)"), ShapeError);
}

TEST_CASE("slice_rows: a view, gradient flows back to the rows it shows") {
    auto a = random_parameter("a", 4, 3, 1);
    require_gradients([&] { return weighted_sum(mul(slice_rows(a->use(), 1, 2), slice_rows(a->use(), 2, 2))); },
                      {a.get()}, op_tolerance);
    tape().reset();
    CHECK(slice_rows(a->use(), 3, 1).at(0, 2) == a->value[11]);
    CHECK_THROWS_WITH_AS(slice_rows(a->use(), 3, 2), doctest::Contains("slice_rows: rows [3, 5) outside shape (4, 3)"), ShapeError);
}

TEST_CASE("select_rows: each row from a or b, gradient to the chosen one only") {
    auto a = random_parameter("a", 3, 2, 1), b = random_parameter("b", 3, 2, 2);
    const std::vector<int> take_a = {1, 0, 1};
    require_gradients([&] { return weighted_sum(select_rows(take_a, a->use(), b->use())); }, {a.get(), b.get()}, op_tolerance);
    CHECK(a->grad[2] == 0.0);
    CHECK(b->grad[0] == 0.0);
    tape().reset();
    Tensor y = select_rows(take_a, a->use(), b->use());
    CHECK(y.at(1, 1) == b->value[3]);
    CHECK(y.at(2, 0) == a->value[4]);
}

// ---- the tensor core against lesson 01's scalar engine, on tiny shapes ----

#include "stepgrad/value.hpp"

namespace {

using Scalars = std::vector<stepgrad::Value>;

Scalars scalars_of(const Parameter& p) {
    Scalars out;
    for (double v : p.value) out.emplace_back(v);
    return out;
}

// The same loss built twice, from tensors and from scalars: values and every gradient agree.
void check_against_scalars(Parameter& x, const std::function<Tensor(Tensor)>& tensor_loss,
                           const std::function<stepgrad::Value(const Scalars&)>& scalar_loss) {
    tape().reset();
    x.zero_grad();
    const Tensor loss = tensor_loss(x.use());
    tape().backward(loss);
    Scalars xs = scalars_of(x);
    stepgrad::Value scalar = scalar_loss(xs);
    scalar.backward();
    CHECK(loss.value(0) == doctest::Approx(scalar.data()).epsilon(1e-13));
    for (std::size_t i = 0; i < xs.size(); ++i) {
        CAPTURE(i);
        CHECK(x.grad[i] == doctest::Approx(xs[i].grad()).epsilon(1e-12));
    }
}

}  // namespace

TEST_CASE("elementwise ops agree with the scalar engine") {
    auto x = random_parameter("x", 2, 3, 21, 0.2, 1.5);
    const std::vector<double> r = {0.3, -1.2, 0.7, 2.0, -0.4, 1.1};
    struct Case {
        const char* name;
        Tensor (*tensor_op)(Tensor);
        stepgrad::Value (*scalar_op)(const stepgrad::Value&);
    };
    const Case cases[] = {{"tanh", stepgrad::tanh, stepgrad::tanh}, {"sigmoid", stepgrad::sigmoid, stepgrad::sigmoid},
                          {"exp", stepgrad::exp, stepgrad::exp},    {"log", stepgrad::log, stepgrad::log},
                          {"relu", stepgrad::relu, stepgrad::relu}};
    for (const Case& c : cases) {
        INFO(c.name);
        check_against_scalars(
            *x, [&](Tensor t) { return sum(mul(c.tensor_op(t), constant(2, 3, r))); },
            [&](const Scalars& xs) {
                stepgrad::Value total(0.0);
                for (std::size_t i = 0; i < xs.size(); ++i) total = total + c.scalar_op(xs[i]) * r[i];
                return total;
            });
    }
}

TEST_CASE("matmul, softmax and cross-entropy agree with the scalar engine") {
    auto x = random_parameter("x", 2, 3, 22);
    const std::vector<double> w = {0.5, -0.3, 0.8, 0.1, -0.6, 0.9};  // (3, 2)
    const std::vector<int> targets = {1, 0};
    check_against_scalars(
        *x, [&](Tensor t) { return cross_entropy(matmul(t, constant(3, 2, w)), targets, -1); },
        [&](const Scalars& xs) {
            stepgrad::Value total(0.0);
            for (int r = 0; r < 2; ++r) {
                // logits_c = Σ_k x[r,k] w[k,c];  −log softmax(logits)[t_r]
                std::vector<stepgrad::Value> logits;
                for (int c = 0; c < 2; ++c) {
                    stepgrad::Value z(0.0);
                    for (int k = 0; k < 3; ++k) z = z + xs[static_cast<std::size_t>(r * 3 + k)] * w[static_cast<std::size_t>(k * 2 + c)];
                    logits.push_back(z);
                }
                const stepgrad::Value normaliser = stepgrad::exp(logits[0]) + stepgrad::exp(logits[1]);
                total = total - (logits[static_cast<std::size_t>(targets[static_cast<std::size_t>(r)])] - stepgrad::log(normaliser));
            }
            return total / 2.0;
        });
}

// ---- the Transformer's ops (SPEC §14) ----

TEST_CASE("rsqrt: gradient and value") {
    check_unary(stepgrad::rsqrt, 0.5, 3);
    tape().reset();
    CHECK(rsqrt(full(1, 1, 4.0)).value(0) == 0.5);
}

TEST_CASE("row_mean and repeat_cols: gradients and values") {
    auto x = random_parameter("x", 3, 4, 31), column = random_parameter("column", 3, 1, 32);
    require_gradients([&] { return weighted_sum(row_mean(x->use())); }, {x.get()}, op_tolerance);
    require_gradients([&] { return weighted_sum(repeat_cols(column->use(), 5)); }, {column.get()}, op_tolerance);
    tape().reset();
    const Tensor mean_of_rows = row_mean(x->use());
    CHECK(mean_of_rows.rows() == 3);
    CHECK(mean_of_rows.cols() == 1);
    CHECK(mean_of_rows.at(1, 0) == doctest::Approx((x->value[4] + x->value[5] + x->value[6] + x->value[7]) / 4).epsilon(1e-15));
    const Tensor repeated = repeat_cols(column->use(), 5);
    for (int j = 0; j < 5; ++j) CHECK(repeated.at(2, j) == column->value[2]);
    CHECK_THROWS_AS(repeat_cols(x->use(), 2), ShapeError);
}

TEST_CASE("layer_norm: gradient of x, gamma and beta") {
    auto x = random_parameter("x", 3, 6, 33, -2, 2);
    auto gamma = random_parameter("gamma", 1, 6, 34, 0.5, 1.5), beta = random_parameter("beta", 1, 6, 35);
    require_gradients([&] { return weighted_sum(layer_norm(x->use(), gamma->use(), beta->use()).out); },
                      {x.get(), gamma.get(), beta.get()}, op_tolerance);
    // the statistics a trace prints are differentiable too
    require_gradients([&] {
        const LayerNormOutput ln = layer_norm(x->use(), gamma->use(), beta->use());
        return add(weighted_sum(ln.mean, 7), weighted_sum(ln.variance, 8));
    }, {x.get()}, op_tolerance);
}

TEST_CASE("layer_norm: values are γ (x − μ) / √(σ² + 1e-5) + β with the biased variance") {
    auto x = random_parameter("x", 2, 5, 36, -3, 3);
    auto gamma = random_parameter("gamma", 1, 5, 37), beta = random_parameter("beta", 1, 5, 38);
    tape().reset();
    const LayerNormOutput ln = layer_norm(x->use(), gamma->use(), beta->use());
    for (int r = 0; r < 2; ++r) {
        double mu = 0, var = 0;
        for (int j = 0; j < 5; ++j) mu += x->value[static_cast<std::size_t>(r * 5 + j)] / 5;
        for (int j = 0; j < 5; ++j) var += std::pow(x->value[static_cast<std::size_t>(r * 5 + j)] - mu, 2) / 5;
        CHECK(ln.mean.value(static_cast<std::size_t>(r)) == doctest::Approx(mu).epsilon(1e-14));
        CHECK(ln.variance.value(static_cast<std::size_t>(r)) == doctest::Approx(var).epsilon(1e-14));
        for (int j = 0; j < 5; ++j) {
            const auto k = static_cast<std::size_t>(j);
            const double expected = gamma->value[k] * (x->value[static_cast<std::size_t>(r * 5 + j)] - mu) / std::sqrt(var + 1e-5) + beta->value[k];
            CHECK(ln.out.at(r, j) == doctest::Approx(expected).epsilon(1e-13));
        }
    }
    CHECK_THROWS_AS(layer_norm(x->use(), constant(1, 4, std::vector<double>(4, 1.0)), beta->use()), ShapeError);
}

TEST_CASE("split_heads and merge_heads: layout, inverse of each other, gradients") {
    // B = 2 examples of n = 3 positions, h = 2 heads of d_k = 2
    auto x = random_parameter("x", 6, 4, 39);
    require_gradients([&] { return weighted_sum(split_heads(x->use(), 2, 2)); }, {x.get()}, op_tolerance);
    require_gradients([&] { return weighted_sum(merge_heads(x->use(), 2, 3)); }, {x.get()}, op_tolerance);
    tape().reset();
    const Tensor split = split_heads(x->use(), 2, 2);
    CHECK(split.rows() == 12);
    CHECK(split.cols() == 2);
    // row (b·h + i)·n + t holds x[b·n + t, i·d_k …]: example 1, head 1, position 2
    CHECK(split.at((1 * 2 + 1) * 3 + 2, 0) == x->value[(1 * 3 + 2) * 4 + 2]);
    CHECK(split.at((1 * 2 + 1) * 3 + 2, 1) == x->value[(1 * 3 + 2) * 4 + 3]);
    const Tensor merged = merge_heads(split, 2, 2);
    CHECK(merged.to_vector() == x->value);
    CHECK_THROWS_AS(split_heads(x->use(), 4, 2), ShapeError);  // 6 rows are not 4 examples
    CHECK_THROWS_AS(split_heads(x->use(), 2, 3), ShapeError);  // 4 columns are not 3 heads
}

TEST_CASE("linear_relu: gradients, and the bits of relu(linear(x, W, b))") {
    // inputs from −3 to 3: about half of the pre-activations negative, so both sides of relu count
    auto x = random_parameter("x", 7, 5, 61, -3, 3), w = random_parameter("W", 9, 5, 62), b = random_parameter("b", 1, 9, 63);
    require_gradients([&] { return weighted_sum(linear_relu(x->use(), w->use(), b->use())); }, {x.get(), w.get(), b.get()},
                      op_tolerance);
    const std::vector<Parameter*> all = {x.get(), w.get(), b.get()};
    const std::vector<double> fused = values_and_gradients([&] { return linear_relu(x->use(), w->use(), b->use()); }, all);
    CHECK(fused == values_and_gradients([&] { return relu(linear(x->use(), w->use(), b->use())); }, all));
    CHECK(std::count(fused.begin(), fused.begin() + 63, 0.0) > 10);  // relu cut some
    tape().reset();
    CHECK_THROWS_AS(linear_relu(x->use(), b->use(), b->use()), ShapeError);  // W (1, 9) against 5 columns
}

TEST_CASE("linear_split_heads and merge_heads_linear: gradients, and the bits of their composites") {
    // B = 2 examples of n = 3 positions, 5 inputs into d = 6 outputs as h = 3 heads of d_k = 2;
    // then (B·h·n, d_k) = (18, 2) heads back through a (4, 6) layer
    auto x = random_parameter("x", 6, 5, 43), w = random_parameter("W", 6, 5, 44), b = random_parameter("b", 1, 6, 45);
    auto heads = random_parameter("heads", 18, 2, 46), w_out = random_parameter("W_O", 4, 6, 47);
    auto b_out = random_parameter("b_O", 1, 4, 48);
    require_gradients([&] { return weighted_sum(linear_split_heads(x->use(), w->use(), b->use(), 2, 3)); },
                      {x.get(), w.get(), b.get()}, op_tolerance);
    require_gradients([&] { return weighted_sum(merge_heads_linear(heads->use(), 2, 3, w_out->use(), b_out->use())); },
                      {heads.get(), w_out.get(), b_out.get()}, op_tolerance);
    require_gradients([&] { return weighted_sum(merge_heads_linear(heads->use(), 2, 3, w_out->use(), Tensor{})); },
                      {heads.get(), w_out.get()}, op_tolerance);
    // values, then every gradient, as one list: bit for bit, not close
    const std::vector<Parameter*> all = {x.get(), w.get(), b.get(), heads.get(), w_out.get(), b_out.get()};
    auto run = [&](const std::function<Tensor()>& layer) { return values_and_gradients(layer, all); };
    // each used twice, so that a gradient is written fresh once and added to once
    CHECK(run([&] {
              const Tensor q = linear_split_heads(x->use(), w->use(), b->use(), 2, 3);
              return merge_heads_linear(add(q, linear_split_heads(x->use(), w->use(), b->use(), 2, 3)), 2, 3, w_out->use(), b_out->use());
          }) == run([&] {
              const Tensor q = split_heads(linear(x->use(), w->use(), b->use()), 2, 3);
              return linear(merge_heads(add(q, split_heads(linear(x->use(), w->use(), b->use()), 2, 3)), 2, 3), w_out->use(), b_out->use());
          }));
    tape().reset();
    CHECK_THROWS_AS(linear_split_heads(x->use(), w->use(), b->use(), 4, 3), ShapeError);  // 6 rows are not 4 examples
    CHECK_THROWS_AS(linear_split_heads(x->use(), w->use(), b->use(), 2, 4), ShapeError);  // 6 outputs are not 4 heads
    CHECK_THROWS_AS(linear_split_heads(x->use(), w_out->use(), b->use(), 2, 3), ShapeError);  // W is (4, 6), x has 5 columns
    CHECK_THROWS_AS(merge_heads_linear(heads->use(), 2, 3, w->use(), b->use()), ShapeError);  // 6 merged columns, W takes 5
    CHECK_THROWS_AS(merge_heads_linear(heads->use(), 4, 3, w_out->use(), b_out->use()), ShapeError);  // 18 rows: not 4·3·n
}

TEST_CASE("batched_matmul and batched_matmul_nt: gradients, and each group is its own matmul") {
    const int groups = 3;
    auto a = random_parameter("a", groups * 2, 4, 40), b = random_parameter("b", groups * 4, 3, 41);
    auto c = random_parameter("c", groups * 5, 4, 42);
    require_gradients([&] { return weighted_sum(batched_matmul(a->use(), b->use(), groups)); }, {a.get(), b.get()}, op_tolerance);
    require_gradients([&] { return weighted_sum(batched_matmul_nt(a->use(), c->use(), groups)); }, {a.get(), c.get()}, op_tolerance);
    tape().reset();
    const Tensor ab = batched_matmul(a->use(), b->use(), groups), act = batched_matmul_nt(a->use(), c->use(), groups);
    for (int g = 0; g < groups; ++g) {
        const Tensor expected_ab = matmul(slice_rows(a->use(), 2 * g, 2), slice_rows(b->use(), 4 * g, 4));
        const Tensor expected_act = matmul_nt(slice_rows(a->use(), 2 * g, 2), slice_rows(c->use(), 5 * g, 5));
        for (int r = 0; r < 2; ++r) {
            for (int j = 0; j < 3; ++j) CHECK(ab.at(2 * g + r, j) == doctest::Approx(expected_ab.at(r, j)).epsilon(1e-14));
            for (int j = 0; j < 5; ++j) CHECK(act.at(2 * g + r, j) == doctest::Approx(expected_act.at(r, j)).epsilon(1e-14));
        }
    }
    // the scaled scores of attention: gradients, and the bits of the product then scale()
    require_gradients([&] { return weighted_sum(scaled_batched_matmul_nt(a->use(), c->use(), groups, 0.25)); },
                      {a.get(), c.get()}, op_tolerance);
    const double factor = 1 / std::sqrt(3.0);
    const std::vector<Parameter*> both = {a.get(), c.get()};
    CHECK(values_and_gradients([&] { return scaled_batched_matmul_nt(a->use(), c->use(), groups, factor); }, both) ==
          values_and_gradients([&] { return scale(batched_matmul_nt(a->use(), c->use(), groups), factor); }, both));
    CHECK_THROWS_AS(batched_matmul(a->use(), b->use(), 4), ShapeError);
    CHECK_THROWS_AS(batched_matmul_nt(a->use(), b->use(), groups), ShapeError);  // widths 4 and 3
}

TEST_CASE("attention_mask: causal hides later positions, padding hides keys past the length") {
    const std::vector<int> key_lengths = {3, 2};
    const std::vector<int> mask = attention_mask(2, 1, 3, 3, key_lengths, true);
    // example 0: only the causal upper triangle; example 1: also key 2 (padding)
    const std::vector<int> expected = {0, 1, 1,  0, 0, 1,  0, 0, 0,
                                       0, 1, 1,  0, 0, 1,  0, 0, 1};
    CHECK(mask == expected);
    CHECK(attention_mask(1, 2, 2, 3, {}, false) == std::vector<int>(12, 0));
    CHECK_THROWS_AS(attention_mask(3, 1, 2, 2, key_lengths, false), ShapeError);
}

TEST_CASE("masked softmax: α exactly 0 where masked with −∞, gradient of the rest") {
    auto scores = random_parameter("scores", 4, 4, 43, -2, 2);
    const std::vector<int> mask = attention_mask(1, 1, 4, 4, {}, true);
    const double minus_infinity = -std::numeric_limits<double>::infinity();
    require_gradients([&] { return weighted_sum(softmax(masked_fill(scores->use(), mask, minus_infinity))); },
                      {scores.get()}, op_tolerance);
    tape().reset();
    const Tensor alpha = softmax(masked_fill(scores->use(), mask, minus_infinity));
    for (int t = 0; t < 4; ++t)
        for (int s = 0; s < 4; ++s)
            if (s > t) CHECK(alpha.at(t, s) == 0.0);
    CHECK(alpha.at(0, 0) == 1.0);  // the first position sees only itself
}

TEST_CASE("positional_encoding: sin on even columns, cos on odd, repeated per example") {
    tape().reset();
    const int d = 6;
    const Tensor pe = positional_encoding(4, d, 2);
    CHECK(pe.rows() == 8);
    CHECK_FALSE(pe.requires_grad());
    for (int p = 0; p < 4; ++p)
        for (int k = 0; k < d / 2; ++k) {
            const double angle = p / std::pow(10000.0, 2.0 * k / d);
            CHECK(pe.at(p, 2 * k) == doctest::Approx(std::sin(angle)).epsilon(1e-15));
            CHECK(pe.at(p, 2 * k + 1) == doctest::Approx(std::cos(angle)).epsilon(1e-15));
            CHECK(pe.at(4 + p, 2 * k) == pe.at(p, 2 * k));  // example 1 has the same table
        }
    CHECK(pe.at(0, 1) == 1.0);  // position 0: sin 0 = 0, cos 0 = 1
    CHECK_THROWS_AS(positional_encoding(0, d), ShapeError);
}

// ---- issue 18: the Transformer's fused ops against their composites ----

namespace {
// LN from primitives, the fused layer_norm's oracle (SPEC §14):
//   c = x − μ,  σ² = row_mean(c ⊙ c),  x̂ = c ⊙ rsqrt(σ² + ε),  y = x̂ ⊙ γ + β
LayerNormOutput layer_norm_composite(Tensor x, Tensor gamma, Tensor beta, double epsilon = 1e-5) {
    const int rows = x.rows(), d = x.cols();
    LayerNormOutput result;
    result.mean = row_mean(x);
    const Tensor centered = sub(x, repeat_cols(result.mean, d));
    result.variance = row_mean(mul(centered, centered));
    const Tensor inverse_std = rsqrt(add(result.variance, full(rows, 1, epsilon)));
    result.out = add(mul(mul(centered, repeat_cols(inverse_std, d)), gamma), beta);
    return result;
}
// out, μ and σ² side by side: one tensor whose weighted sum reaches all three
Tensor norm_and_statistics(const LayerNormOutput& ln) { return concat_cols({ln.out, ln.mean, ln.variance}); }
}  // namespace

TEST_CASE("layer_norm: forward bit for bit and gradients equal its composite, μ and σ² included") {
    std::uint64_t seed = 200;
    // d = 1 (σ² = 0: x̂ = 0), widths that fill SIMD registers and leave tails, the Transformer's 64
    for (const std::pair<int, int>& shape : {std::pair{1, 1}, {3, 2}, {2, 5}, {4, 8}, {3, 13}, {5, 64}}) {
        const int rows = shape.first, d = shape.second;
        CAPTURE(rows);
        CAPTURE(d);
        auto x = random_parameter("x", rows, d, ++seed, -3, 3);
        auto gamma = random_parameter("gamma", 1, d, ++seed, 0.5, 1.5), beta = random_parameter("beta", 1, d, ++seed);
        tape().reset();
        const LayerNormOutput fused = layer_norm(x->use(), gamma->use(), beta->use());
        const LayerNormOutput composite = layer_norm_composite(x->use(), gamma->use(), beta->use());
        CHECK(fused.out.to_vector() == composite.out.to_vector());
        CHECK(fused.mean.to_vector() == composite.mean.to_vector());
        CHECK(fused.variance.to_vector() == composite.variance.to_vector());
        // the backward sums in another order: equal to rounding
        check_fused_equals_composite(
            [&] { return norm_and_statistics(layer_norm(x->use(), gamma->use(), beta->use())); },
            [&] { return norm_and_statistics(layer_norm_composite(x->use(), gamma->use(), beta->use())); },
            {x.get(), gamma.get(), beta.get()});
        require_gradients([&] { return weighted_sum(norm_and_statistics(layer_norm(x->use(), gamma->use(), beta->use()))); },
                          {x.get(), gamma.get(), beta.get()}, op_tolerance);
    }
}

TEST_CASE("layer_norm: a constant x still trains γ and β, in three tape entries") {
    auto gamma = random_parameter("gamma", 1, 4, 51, 0.5, 1.5), beta = random_parameter("beta", 1, 4, 52);
    const std::vector<double> x = {0.5, -1, 2, 0.25, 3, 1, -2, 0};
    require_gradients([&] { return weighted_sum(layer_norm(constant(2, 4, x), gamma->use(), beta->use()).out); },
                      {gamma.get(), beta.get()}, op_tolerance);
    tape().reset();
    const Tensor input = constant(2, 4, x), g = gamma->use(), b = beta->use();
    const std::size_t before = tape().size();
    const LayerNormOutput ln = layer_norm(input, g, b);
    CHECK(tape().size() == before + 3);  // μ, σ² and the norm itself
    CHECK(std::string(ln.out.op()) == "layer_norm");
}
