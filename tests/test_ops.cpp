// Every op: gradient-checked against central differences, plus the numbers that matter
// (stability at ±1000, masks, broadcasting) and the shape errors it raises.
#include "testing.hpp"

#include <cmath>
#include <functional>
#include <limits>

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
// A fused op against the composite it replaces (its test oracle): the same values and,
// for a weighted sum of them, the same gradient of every parameter.
void check_fused_equals_composite(const std::function<Tensor()>& fused, const std::function<Tensor()>& composite,
                                  const std::vector<Parameter*>& params) {
    auto values_and_gradients = [&](const std::function<Tensor()>& op) {
        for (Parameter* p : params) p->zero_grad();
        tape().reset();
        const Tensor y = op();
        std::vector<double> all = y.to_vector();
        tape().backward(weighted_sum(y));
        for (const Parameter* p : params) all.insert(all.end(), p->grad.begin(), p->grad.end());
        return all;
    };
    const std::vector<double> expected = values_and_gradients(composite), actual = values_and_gradients(fused);
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
