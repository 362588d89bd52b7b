// Every op: its forward, what the backward needs, and its backward, side by side.
// The backward closure receives the op's output `out`; out.grads() is d loss / d out,
// and the closure adds (never assigns: an input used twice gets both contributions)
// its share to each input's grads().
#include "stepgrad/ops.hpp"

#include "gradient_target.hpp"  // GradientTarget, gradient_target
#include "kernels/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <cstring>
#include <string>
#include <vector>

namespace stepgrad {

namespace {

std::string shape_of(Tensor t) { return fmt::format("({}, {})", t.rows(), t.cols()); }

[[noreturn]] void shape_error(const char* op, Tensor a, Tensor b, const char* why) {
    throw ShapeError(fmt::format("{}: shapes {} and {} do not match: {}", op, shape_of(a),
                                 shape_of(b), why));
}

std::size_t count_of(int rows, int cols) {
    return static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
}

// dot, axpy and the matrix products as plain loops a learner reads: src/kernels/reference.cpp
using kernels::axpy;
using kernels::dot;
using kernels::gemm_nn;
using kernels::gemm_nt;
using kernels::gemm_tn;
using kernels::Store;


// n numbers from src to dst in registers: a libc memmove call per piece cost more than the
// copying when pieces are short (a head's slice of a row is d_k = 16 numbers: 5 % of a
// Transformer step went to the calls, issue 18)
void copy_short(const double* src, double* dst, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) std::memcpy(dst + i, src + i, 4 * sizeof(double));
    for (; i < n; ++i) dst[i] = src[i];
}

// dx += dy over n entries, or dx = 0 + dy: the rounding zeroing first would give (−0 becomes 0)
void add_gradient(const double* dy, double* dx, Store store, std::size_t n) {
    if (store == Store::add) axpy(1.0, dy, dx, static_cast<int>(n));
    else
        for (std::size_t i = 0; i < n; ++i) dx[i] = 0.0 + dy[i];
}

// Room for `count` numbers an op needs only while it runs (a rebuilt row, the merged heads of
// a fused head op), reused by every call on this thread: never on the tape. One user at a time:
// no op calls another that takes it.
// It only grows: resizing it down and up again zero-filled the regrown part on every call
// (1 % of a Transformer step, as the ops' sizes alternate).
double* scratch_row(std::size_t count) {
    thread_local std::vector<double> scratch;
    if (scratch.size() < count) scratch.resize(count);
    return scratch.data();
}

// Σ_j value(j) for j < n, in four interleaved partial sums added as (s0 + s1) + (s2 + s3): four
// chains of additions instead of one in which each waits for the last (a row of a layer norm,
// d = 64, was bound by that wait). Every row sum of the Transformer's ops goes through here,
// so a fused op and its composite add in the same order.
template <class Value>
double sum_of(int n, Value value) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        s0 += value(j);
        s1 += value(j + 1);
        s2 += value(j + 2);
        s3 += value(j + 3);
    }
    for (; j < n; ++j) s0 += value(j);
    return (s0 + s1) + (s2 + s3);
}

// b combines with a when it has a's shape, or is one row broadcast over a's rows.
bool row_broadcast(const char* op, Tensor a, Tensor b) {
    if (a.cols() == b.cols() && a.rows() == b.rows()) return false;
    if (a.cols() == b.cols() && b.rows() == 1) return true;
    shape_error(op, a, b, "b must have a's shape or be one row of a's width");
}

// y = f(x) entry by entry; dy/dx = derivative(x, y). forward maps a whole array (so
// tanh and σ can run a SIMD register at a time); both functions must be captureless.
template <class Forward, class Derivative>
Tensor unary(const char* op, Tensor x, Forward forward, Derivative derivative) {
    Tensor y = tape().record(op, x.rows(), x.cols(), {x});
    forward(x.values().data(), y.values().data(), x.size());
    tape().on_backward(y, [x, derivative](Tensor out) {
        auto xv = x.values(), yv = out.values(), dy = out.grads();
        const Tape::GradientSlot dx = tape().gradient_slot(x);
        const std::size_t n = dx.values.size();
        if (dx.fresh)  // 0 + …: what zeroing first gave (a −0 becomes 0)
            for (std::size_t i = 0; i < n; ++i) dx.values[i] = 0.0 + derivative(xv[i], yv[i]) * dy[i];
        else
            for (std::size_t i = 0; i < n; ++i) dx.values[i] += derivative(xv[i], yv[i]) * dy[i];
    });
    return y;
}

// unary's forward from a scalar function: y_i = f(x_i)
template <class Scalar>
auto each(Scalar f) {
    return [f](const double* x, double* y, std::size_t n) { std::transform(x, x + n, y, f); };
}

// y = f(a, b) entry by entry, b's one row reused for every row of a when broadcast. Row by
// row: an index i % cols per entry would cost an integer division each.
template <class F>
Tensor binary(const char* op, Tensor a, Tensor b, bool broadcast, F f) {
    const int rows = a.rows(), cols = a.cols();
    Tensor y = tape().record(op, rows, cols, {a, b});
    const double *av = a.values().data(), *bv = b.values().data();
    double* yv = y.values().data();
    for (int r = 0; r < rows; ++r) {
        const std::size_t row = count_of(r, cols), b_row = broadcast ? 0 : row;
        for (int j = 0; j < cols; ++j) yv[row + j] = f(av[row + j], bv[b_row + j]);
    }
    return y;
}

}  // namespace

// ---- elementwise ----

// y = a + b;  ∂y/∂a = 1, ∂y/∂b = 1 (summed over rows when b was broadcast)
Tensor add(Tensor a, Tensor b) {
    const bool broadcast = row_broadcast("add", a, b);
    const int rows = a.rows(), cols = a.cols();
    Tensor y = binary("add", a, b, broadcast, [](double x, double z) { return x + z; });
    tape().on_backward(y, [a, b, broadcast, rows, cols](Tensor out) {
        const double* dy = out.grads().data();
        if (a.requires_grad()) {
            const GradientTarget da = gradient_target(a);
            add_gradient(dy, da.data, da.store, count_of(rows, cols));
        }
        if (!b.requires_grad()) return;
        if (!broadcast) {
            const GradientTarget db = gradient_target(b);
            return add_gradient(dy, db.data, db.store, count_of(rows, cols));
        }
        double* db = b.grads().data();
        for (int r = 0; r < rows; ++r) axpy(1.0, dy + count_of(r, cols), db + (broadcast ? 0 : count_of(r, cols)), cols);
    });
    return y;
}

// y = a − b, built from primitives: no backward of its own to get wrong.
Tensor sub(Tensor a, Tensor b) { return add(a, scale(b, -1.0)); }

// y = a ⊙ b;  ∂y/∂a = b, ∂y/∂b = a
Tensor mul(Tensor a, Tensor b) {
    const bool broadcast = row_broadcast("mul", a, b);
    const int rows = a.rows(), cols = a.cols();
    Tensor y = binary("mul", a, b, broadcast, [](double x, double z) { return x * z; });
    tape().on_backward(y, [a, b, broadcast, rows, cols](Tensor out) {
        const double *dy = out.grads().data(), *av = a.values().data(), *bv = b.values().data();
        // a gradient written for the first time is written, not zeroed and added to (the same
        // bits: 0 + b·dy); a broadcast row's gradient sums over the rows, so it is added to
        const GradientTarget da = gradient_target(a);
        const GradientTarget db = broadcast ? GradientTarget{b.grads().data(), Store::add} : gradient_target(b);
        const bool add_a = da.store == Store::add, add_b = db.store == Store::add;
        for (int r = 0; r < rows; ++r) {
            const std::size_t row = count_of(r, cols), b_row = broadcast ? 0 : row;
            for (int j = 0; j < cols; ++j) {
                da.data[row + j] = (add_a ? da.data[row + j] : 0.0) + bv[b_row + j] * dy[row + j];
                db.data[b_row + j] = (add_b ? db.data[b_row + j] : 0.0) + av[row + j] * dy[row + j];
            }
        }
    });
    return y;
}

// y = factor · a;  ∂y/∂a = factor
Tensor scale(Tensor a, double factor) {
    Tensor y = tape().record("scale", a.rows(), a.cols(), {a});
    std::transform(a.values().begin(), a.values().end(), y.values().begin(),
                   [factor](double v) { return factor * v; });
    tape().on_backward(y, [a, factor](Tensor out) {
        axpy(factor, out.grads().data(), a.grads().data(), static_cast<int>(out.size()));
    });
    return y;
}

// ---- matrix products ----

// Y = A·B;  dA = dY·Bᵀ, dB = Aᵀ·dY
Tensor matmul(Tensor a, Tensor b) {
    if (a.cols() != b.rows()) shape_error("matmul", a, b, "cols of a != rows of b");
    const int r = a.rows(), k = a.cols(), c = b.cols();
    Tensor y = tape().record("matmul", r, c, {a, b});
    // the plain loop a learner reads: src/kernels/reference.cpp (gemm_nn, gemm_nt, gemm_tn)
    gemm_nn(a.values().data(), b.values().data(), y.values().data(), r, k, c, Store::overwrite);
    tape().on_backward(y, [a, b, r, k, c](Tensor out) {
        const double* dy = out.grads().data();
        if (a.requires_grad()) {
            const GradientTarget da = gradient_target(a);
            gemm_nt(dy, b.values().data(), da.data, r, c, k, da.store);
        }
        if (b.requires_grad()) {
            const GradientTarget db = gradient_target(b);
            gemm_tn(a.values().data(), dy, db.data, r, k, c, db.store);
        }
    });
    return y;
}

// ---- weights read at every step ----

namespace {
// A parameter a ReusedWeights scope has seen: its values and shape, and where its transposed
// copy is once it was read twice.
struct WeightUse {
    const double* values;
    int rows, cols;
    std::size_t transposed;  // offset in ReuseCache::transposed, or not_yet
};
constexpr std::size_t not_yet = static_cast<std::size_t>(-1);
// A column slice of a parameter taken within a ReusedWeights scope, on the tape of that generation.
struct SliceUse {
    const double* values;
    int rows, cols, start, width;
    std::uint32_t generation;
    Tensor slice;
};
struct ReuseCache {
    int depth = 0;  // scopes open on this thread
    std::vector<WeightUse> weights;
    std::vector<double> transposed;
    std::vector<SliceUse> slices;
};
ReuseCache& reuse_cache() {
    thread_local ReuseCache cache;
    return cache;
}

// A parameter's leaf on the tape, not a view of one nor an op's output: its values cannot
// change while a ReusedWeights scope lives.
bool is_parameter(Tensor t) {
    const TapeEntry& e = tape().entry(t);
    return !e.owns_grad && e.grad_owner == t.id();
}

// Wᵀ (k, c) of a parameter W (c, k) read again within a ReusedWeights scope, else nullptr: the
// first read only counts (most weights are read once a pass), the second one transposes.
// Valid until the next call: the copies share one growing array.
const double* reused_transpose(Tensor weight) {
    ReuseCache& cache = reuse_cache();
    const TapeEntry& e = tape().entry(weight);
    // the kernels read a large Wᵀ a transposed panel at a time (kernels::gemm_nt_given)
    if (cache.depth == 0 || !is_parameter(weight) || count_of(e.rows, e.cols) >= kernels::large_transpose) return nullptr;
    const auto seen = std::ranges::find_if(cache.weights, [&e](const WeightUse& use) {
        return use.values == e.value && use.rows == e.rows && use.cols == e.cols;
    });
    if (seen == cache.weights.end()) {
        cache.weights.push_back({e.value, e.rows, e.cols, not_yet});
        return nullptr;
    }
    if (seen->transposed == not_yet) {
        const int c = e.rows, k = e.cols;
        seen->transposed = cache.transposed.size();
        cache.transposed.resize(cache.transposed.size() + count_of(c, k));
        double* out = cache.transposed.data() + seen->transposed;
        for (int j = 0; j < c; ++j)
            for (int p = 0; p < k; ++p) out[count_of(p, c) + j] = e.value[count_of(j, k) + p];
    }
    return cache.transposed.data() + seen->transposed;
}

// Where a ReusedWeights scope keeps slice_cols(W, start, width) of a parameter W: an undefined
// Tensor until the first such slice is made; nullptr outside a scope or for a tensor that is
// not a parameter. Valid until the next call.
Tensor* reused_slice(Tensor x, int start, int width) {
    ReuseCache& cache = reuse_cache();
    if (cache.depth == 0 || !is_parameter(x)) return nullptr;
    const TapeEntry& e = tape().entry(x);
    const std::uint32_t generation = tape().generation();
    const auto seen = std::ranges::find_if(cache.slices, [&](const SliceUse& use) {
        return use.values == e.value && use.rows == e.rows && use.cols == e.cols && use.start == start &&
               use.width == width && use.generation == generation;
    });
    if (seen != cache.slices.end()) return &seen->slice;
    cache.slices.push_back({e.value, e.rows, e.cols, start, width, generation, Tensor{}});
    return &cache.slices.back().slice;
}
}  // namespace

ReusedWeights::ReusedWeights() { ++reuse_cache().depth; }

ReusedWeights::~ReusedWeights() {
    ReuseCache& cache = reuse_cache();
    if (--cache.depth > 0) return;
    cache.weights.clear();
    cache.transposed.clear();
    cache.slices.clear();
}

namespace {
// Y = X·Wᵀ + b into y (r, c), x (r, k), W (c, k): the bias is where each row's sum starts.
// weight_transposed: Wᵀ when the caller has it (ReusedWeights), else nullptr.
void linear_forward(const double* x, const double* weight, const double* bias, double* y, int r, int k, int c,
                    const double* weight_transposed = nullptr) {
    for (int i = 0; i < r; ++i) {
        if (bias) copy_short(bias, y + count_of(i, c), c);
        else std::fill_n(y + count_of(i, c), c, 0.0);
    }
    // the plain loop a learner reads: src/kernels/reference.cpp (gemm_nt, gemm_nn, gemm_tn)
    if (weight_transposed) kernels::gemm_nt_given(x, weight, weight_transposed, y, r, k, c);
    else gemm_nt(x, weight, y, r, k, c);
}

// dX = dY·W, dW = dYᵀ·X, db = Σ_rows dY, for the inputs that need them (dy: r × c)
void linear_backward(const double* dy, const double* x_values, Tensor x, Tensor weight, Tensor bias, int r, int k,
                     int c) {
    if (x.defined() && x.requires_grad()) {
        const GradientTarget dx = gradient_target(x);
        gemm_nn(dy, weight.values().data(), dx.data, r, c, k, dx.store);
    }
    if (weight.requires_grad()) {
        const GradientTarget dw = gradient_target(weight);
        gemm_tn(dy, x_values, dw.data, r, c, k, dw.store);
    }
    if (bias.defined() && bias.requires_grad())
        for (int i = 0; i < r; ++i) axpy(1.0, dy + count_of(i, c), bias.grads().data(), c);
}

void check_linear(const char* op, Tensor x_or_merged_width, int width, Tensor weight, Tensor bias) {
    if (width != weight.cols()) shape_error(op, x_or_merged_width, weight, "cols of x != cols of W (W is (out, in))");
    if (bias.defined() && (bias.rows() != 1 || bias.cols() != weight.rows()))
        shape_error(op, weight, bias, "b must be one row of W's height");
}

// The entry of a linear layer's output: its inputs are x, W and b when there is one.
Tensor record_linear(const char* op, int rows, int cols, Tensor x, Tensor weight, Tensor bias) {
    return bias.defined() ? tape().record(op, rows, cols, {x, weight, bias}) : tape().record(op, rows, cols, {x, weight});
}

const double* bias_values(Tensor bias) { return bias.defined() ? bias.values().data() : nullptr; }

// Y = X·Wᵀ (+ b when bias is defined);  dX = dY·W, dW = dYᵀ·X, db = Σ_rows dY.
// One entry for a whole layer: the bias is where the product starts, not an add after it
// (an add would be a second (r, c) tensor, its gradient, and a pass over both).
Tensor product_nt(const char* op, Tensor x, Tensor weight, Tensor bias) {
    check_linear(op, x, x.cols(), weight, bias);
    const int r = x.rows(), k = x.cols(), c = weight.rows();
    Tensor y = record_linear(op, r, c, x, weight, bias);
    linear_forward(x.values().data(), weight.values().data(), bias_values(bias), y.values().data(), r, k, c,
                   reused_transpose(weight));
    tape().on_backward(y, [x, weight, bias, r, k, c](Tensor out) {
        linear_backward(out.grads().data(), x.values().data(), x, weight, bias, r, k, c);
    });
    return y;
}
}  // namespace

// y = relu(x Wᵀ + b);  d(x Wᵀ + b) = 0 + [y > 0] dy, then linear's backward
Tensor linear_relu(Tensor x, Tensor weight, Tensor bias) {
    check_linear("linear_relu", x, x.cols(), weight, bias);
    const int r = x.rows(), k = x.cols(), c = weight.rows();
    Tensor y = record_linear("linear_relu", r, c, x, weight, bias);
    double* yv = y.values().data();
    linear_forward(x.values().data(), weight.values().data(), bias_values(bias), yv, r, k, c);
    for (std::size_t i = 0; i < count_of(r, c); ++i) yv[i] = yv[i] > 0 ? yv[i] : 0.0;
    tape().on_backward(y, [x, weight, bias, r, k, c](Tensor out) {
        const double *yv = out.values().data(), *dy = out.grads().data();
        double* d_linear = scratch_row(count_of(r, c));
        for (std::size_t i = 0; i < count_of(r, c); ++i) d_linear[i] = 0.0 + (yv[i] > 0 ? 1.0 : 0.0) * dy[i];
        linear_backward(d_linear, x.values().data(), x, weight, bias, r, k, c);
    });
    return y;
}

// Y = A·Bᵀ;  dA = dY·B, dB = dYᵀ·A
Tensor matmul_nt(Tensor a, Tensor b) { return product_nt("matmul_nt", a, b, Tensor{}); }

// y = x Wᵀ + b
Tensor linear(Tensor x, Tensor weight, Tensor bias) { return product_nt("linear", x, weight, bias); }

Tensor linear(Tensor x, Parameter& weight, Parameter& bias) {
    const Tensor w = weight.use();
    const Tensor b = bias.use();
    return linear(x, w, b);
}

// ---- activations ----

// y = tanh(x);  dy/dx = 1 − y²
// the plain loop a learner reads: src/kernels/reference.cpp (tanh); the fast one is src/kernels/simd.cpp
Tensor tanh(Tensor x) {
    return unary("tanh", x, kernels::tanh, [](double, double y) { return 1 - y * y; });
}

// y = σ(x) = 1 / (1 + e^−x);  dy/dx = y (1 − y)
// the plain loop a learner reads: src/kernels/reference.cpp (sigmoid)
Tensor sigmoid(Tensor x) {
    return unary("sigmoid", x, kernels::sigmoid, [](double, double y) { return y * (1 - y); });
}

// y = max(0, x);  dy/dx = 1 where x > 0, else 0 (we take 0 at the kink x = 0)
Tensor relu(Tensor x) {
    return unary("relu", x, each([](double v) { return v > 0 ? v : 0.0; }),
                 [](double v, double) { return v > 0 ? 1.0 : 0.0; });
}

// y = eˣ;  dy/dx = y
Tensor exp(Tensor x) {
    return unary("exp", x, each([](double v) { return std::exp(v); }), [](double, double y) { return y; });
}

// y = ln x;  dy/dx = 1 / x
Tensor log(Tensor x) {
    return unary("log", x, each([](double v) { return std::log(v); }), [](double v, double) { return 1 / v; });
}

// ---- softmax and losses ----

namespace {
// y_j = e^(x_j − max x) / Σ_k e^(x_k − max x), row by row: subtracting the row max keeps
// every exponent ≤ 0 (e^x overflows at x ≈ 710), and an entry of −∞ gets y = 0 exactly.
void softmax_rows(const double* xv, double* yv, int rows, int cols) {
    for (int r = 0; r < rows; ++r) {
        const double* in = xv + count_of(r, cols);
        const double max = *std::max_element(in, in + cols);
        for (int j = 0; j < cols; ++j) yv[count_of(r, cols) + j] = in[j] - max;
    }
    // every e^… at once, a register at a time (short rows, such as attention's m keys, would
    // leave most of a register empty); the plain loop a learner reads: src/kernels/reference.cpp (exp)
    kernels::exp(yv, yv, count_of(rows, cols));
    for (int r = 0; r < rows; ++r) {
        double* out = yv + count_of(r, cols);
        double total = 0;
        for (int j = 0; j < cols; ++j) total += out[j];
        for (int j = 0; j < cols; ++j) out[j] /= total;
    }
}

// dx_j = y_j (dy_j − Σ_k dy_k y_k), row by row
void softmax_rows_backward(const double* y_all, const double* dy_all, const GradientTarget& dx_all, int rows, int cols) {
    for (int r = 0; r < rows; ++r) {
        const double* yv = y_all + count_of(r, cols);
        const double* dy = dy_all + count_of(r, cols);
        double* dx = dx_all.data + count_of(r, cols);
        const double inner = dot(dy, yv, cols);
        // dx_j += y_j (dy_j − Σ_k dy_k y_k)  (0 + … when nothing reached dx before)
        if (dx_all.store == Store::add)
            for (int j = 0; j < cols; ++j) dx[j] += yv[j] * (dy[j] - inner);
        else
            for (int j = 0; j < cols; ++j) dx[j] = 0.0 + yv[j] * (dy[j] - inner);
    }
}
}  // namespace

// y_j = e^(x_j − max x) / Σ_k e^(x_k − max x);  dx_j = y_j (dy_j − Σ_k dy_k y_k)
Tensor softmax(Tensor x) {
    const int rows = x.rows(), cols = x.cols();
    Tensor y = tape().record("softmax", rows, cols, {x});
    softmax_rows(x.values().data(), y.values().data(), rows, cols);
    tape().on_backward(y, [x, rows, cols](Tensor out) {
        softmax_rows_backward(out.values().data(), out.grads().data(), gradient_target(x), rows, cols);
    });
    return y;
}

// y_j = x_j − max x − ln Σ_k e^(x_k − max x), row by row (never takes the log of 0).
// dx_j = dy_j − softmax(x)_j Σ_k dy_k, with softmax(x)_j = e^(y_j)
Tensor log_softmax(Tensor x) {
    const int rows = x.rows(), cols = x.cols();
    Tensor y = tape().record("log_softmax", rows, cols, {x});
    const double* xv = x.values().data();
    double* yv = y.values().data();
    // e^(x_j − max x) of every row at once, a register at a time (libm's exp, one number a
    // call, was 3 % of a GRU + concat step); the plain loop a learner reads: src/kernels/reference.cpp (exp)
    // y holds x_j − max x until the log of the row's sum is subtracted
    for (int r = 0; r < rows; ++r) {
        const double* in = xv + count_of(r, cols);
        const double max = *std::max_element(in, in + cols);
        for (int j = 0; j < cols; ++j) yv[count_of(r, cols) + j] = in[j] - max;
    }
    double* exps = scratch_row(count_of(rows, cols));
    kernels::exp(yv, exps, count_of(rows, cols));
    for (int r = 0; r < rows; ++r) {
        double total = 0;
        for (int j = 0; j < cols; ++j) total += exps[count_of(r, cols) + j];
        const double log_total = std::log(total);
        for (int j = 0; j < cols; ++j) yv[count_of(r, cols) + j] -= log_total;
    }
    tape().on_backward(y, [x, rows, cols](Tensor out) {
        const double *y_all = out.values().data(), *dy_all = out.grads().data();
        double* dx_all = x.grads().data();
        // softmax(x)_j = e^(y_j), every row at once
        double* probabilities = scratch_row(count_of(rows, cols));
        kernels::exp(y_all, probabilities, count_of(rows, cols));
        for (int r = 0; r < rows; ++r) {
            const double* p = probabilities + count_of(r, cols);
            const double* dy = dy_all + count_of(r, cols);
            double* dx = dx_all + count_of(r, cols);
            double total = 0;
            for (int j = 0; j < cols; ++j) total += dy[j];
            for (int j = 0; j < cols; ++j) dx[j] += dy[j] - p[j] * total;
        }
    });
    return y;
}

// loss_r = −log_probs[r, t_r] (0 where t_r is ignore_index);  ∂loss_r/∂log_probs[r, t_r] = −1
Tensor nll_loss(Tensor log_probs, std::span<const int> targets, int ignore_index) {
    const int rows = log_probs.rows(), cols = log_probs.cols();
    if (targets.size() != static_cast<std::size_t>(rows))
        throw ShapeError(fmt::format("nll_loss: {} targets for log_probs of shape {}",
                                     targets.size(), shape_of(log_probs)));
    for (int t : targets)
        if (t != ignore_index && (t < 0 || t >= cols))
            throw std::out_of_range(fmt::format(
                "nll_loss: target id {} outside the vocabulary [0, {})", t, cols));
    Tensor y = tape().record("nll_loss", rows, 1, {log_probs});
    for (int r = 0; r < rows; ++r)
        y.values()[r] = targets[r] == ignore_index ? 0.0 : -log_probs.at(r, targets[r]);
    const std::span<const int> saved = tape().save(targets);
    tape().on_backward(y, [log_probs, saved, ignore_index, cols](Tensor out) {
        for (std::size_t r = 0; r < saved.size(); ++r)
            if (saved[r] != ignore_index)
                log_probs.grads()[r * static_cast<std::size_t>(cols) + saved[r]] -= out.grads()[r];
    });
    return y;
}

// L = (1 / #counted) Σ_r −log softmax(logits)[r, t_r]: composed, so no backward of its own.
Tensor cross_entropy(Tensor logits, std::span<const int> targets, int ignore_index) {
    const auto counted = std::count_if(targets.begin(), targets.end(),
                                       [ignore_index](int t) { return t != ignore_index; });
    if (counted == 0)
        throw std::invalid_argument("cross_entropy: every target is ignore_index (nothing to learn)");
    Tensor losses = nll_loss(log_softmax(logits), targets, ignore_index);
    return scale(sum(losses), 1.0 / static_cast<double>(counted));
}

// ---- reshaping and indexing ----

// Y = [A B …];  each part's gradient is its own columns of dY
Tensor concat_cols(std::span<const Tensor> parts) {
    if (parts.empty()) throw ShapeError("concat_cols: nothing to concatenate");
    int cols = 0;
    for (const Tensor& part : parts) {
        if (part.rows() != parts[0].rows())
            shape_error("concat_cols", parts[0], part, "every part needs the same number of rows");
        cols += part.cols();
    }
    const int rows = parts[0].rows();
    Tensor y = tape().record("concat_cols", rows, cols, parts);
    double* yv = y.values().data();
    for (int offset = 0; const Tensor& part : parts) {
        const double* pv = part.values().data();
        for (int r = 0; r < rows; ++r) std::copy_n(pv + count_of(r, part.cols()), part.cols(), yv + count_of(r, cols) + offset);
        offset += part.cols();
    }
    const std::span<const Tensor> saved = tape().save(parts);
    tape().on_backward(y, [saved, rows, cols](Tensor out) {
        const double* dy = out.grads().data();
        for (int offset = 0; const Tensor& part : saved) {
            const int width = part.cols();
            if (part.requires_grad()) {
                const GradientTarget dpart = gradient_target(part);  // written, not zeroed and added to, the first time
                for (int r = 0; r < rows; ++r)
                    add_gradient(dy + count_of(r, cols) + offset, dpart.data + count_of(r, width), dpart.store, width);
            }
            offset += width;
        }
    });
    return y;
}

Tensor concat_cols(std::initializer_list<Tensor> parts) {
    return concat_cols(std::span<const Tensor>(parts.begin(), parts.size()));
}

// Y = X[:, start : start+count];  dX[:, start : start+count] += dY
Tensor slice_cols(Tensor x, int start, int width) {
    if (start < 0 || width <= 0 || start + width > x.cols())
        throw ShapeError(fmt::format("slice_cols: columns [{}, {}) outside shape {}", start,
                                     start + width, shape_of(x)));
    // a parameter sliced at every step (the concat score's W_s) is sliced once a pass
    Tensor* reused = reused_slice(x, start, width);
    if (reused && reused->defined()) return *reused;
    const int rows = x.rows(), cols = x.cols();
    Tensor y = tape().record("slice_cols", rows, width, {x});
    if (reused) *reused = y;
    const double* xv = x.values().data();
    double* yv = y.values().data();
    for (int r = 0; r < rows; ++r) std::copy_n(xv + count_of(r, cols) + start, width, yv + count_of(r, width));
    tape().on_backward(y, [x, rows, cols, start, width](Tensor out) {
        const double* dy = out.grads().data();
        double* dx = x.grads().data();  // the other columns' slices add theirs: zeroed first
        for (int r = 0; r < rows; ++r) axpy(1.0, dy + count_of(r, width), dx + count_of(r, cols) + start, width);
    });
    return y;
}

// Y[r] = table[ids[r]];  d table[ids[r]] += dY[r]  (a row picked twice gets both)
Tensor gather_rows(Tensor table, std::span<const int> ids) {
    if (ids.empty()) throw ShapeError("gather_rows: no ids given");
    for (int id : ids)
        if (id < 0 || id >= table.rows())
            throw std::out_of_range(fmt::format("gather_rows: id {} outside the {} rows [0, {})",
                                                id, table.op(), table.rows()));
    const int rows = static_cast<int>(ids.size()), cols = table.cols();
    Tensor y = tape().record("gather_rows", rows, cols, {table});
    const double* tv = table.values().data();
    double* yv = y.values().data();
    for (int r = 0; r < rows; ++r) std::copy_n(tv + count_of(ids[r], cols), cols, yv + count_of(r, cols));
    const std::span<const int> saved = tape().save(ids);
    tape().on_backward(y, [table, saved, cols](Tensor out) {
        const double* dy = out.grads().data();
        double* dtable = table.grads().data();
        for (std::size_t r = 0; r < saved.size(); ++r) axpy(1.0, dy + r * cols, dtable + count_of(saved[r], cols), cols);
    });
    return y;
}

// Row-major data read with another shape: an alias on the tape, gradients shared.
Tensor reshape(Tensor x, int rows, int cols) {
    if (static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols) != x.size())
        throw ShapeError(fmt::format("reshape: cannot read shape {} as ({}, {})", shape_of(x), rows, cols));
    return tape().alias("reshape", x, 0, rows, cols);
}

// Contiguous rows of a row-major tensor are a view, like reshape.
Tensor slice_rows(Tensor x, int start, int count) {
    if (start < 0 || count <= 0 || start + count > x.rows())
        throw ShapeError(fmt::format("slice_rows: rows [{}, {}) outside shape {}", start, start + count,
                                     shape_of(x)));
    return tape().alias("slice_rows", x, count_of(start, x.cols()), count, x.cols());
}

// y[r] = take_a[r] ? a[r] : b[r];  the row's gradient goes to the one it came from
Tensor select_rows(std::span<const int> take_a, Tensor a, Tensor b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) shape_error("select_rows", a, b, "a and b need the same shape");
    if (take_a.size() != static_cast<std::size_t>(a.rows()))
        throw ShapeError(fmt::format("select_rows: {} flags for {} rows", take_a.size(), a.rows()));
    const int rows = a.rows(), cols = a.cols();
    Tensor y = tape().record("select_rows", rows, cols, {a, b});
    for (int r = 0; r < rows; ++r)
        std::copy_n((take_a[r] ? a : b).values().data() + count_of(r, cols), cols, y.values().data() + count_of(r, cols));
    const std::span<const int> saved = tape().save(take_a);
    tape().on_backward(y, [saved, a, b, cols](Tensor out) {
        for (std::size_t r = 0; r < saved.size(); ++r)
            axpy(1.0, out.grads().data() + r * cols, (saved[r] ? a : b).grads().data() + r * cols, cols);
    });
    return y;
}

// ---- reductions ----

// y = Σ_i x_i;  ∂y/∂x_i = 1
Tensor sum(Tensor x) {
    Tensor y = tape().record("sum", 1, 1, {x});
    double total = 0;
    for (double v : x.values()) total += v;
    y.values()[0] = total;
    tape().on_backward(y, [x](Tensor out) {
        for (double& g : x.grads()) g += out.grads()[0];
    });
    return y;
}

// y = (1 / N) Σ_i x_i
Tensor mean(Tensor x) { return scale(sum(x), 1.0 / static_cast<double>(x.size())); }

// y_r = a_rᵀ b_r;  ∂y_r/∂a_r = b_r, ∂y_r/∂b_r = a_r
Tensor rowwise_dot(Tensor a, Tensor b) {
    if (a.rows() != b.rows() || a.cols() != b.cols())
        shape_error("rowwise_dot", a, b, "a and b need the same shape");
    const int rows = a.rows(), cols = a.cols();
    Tensor y = tape().record("rowwise_dot", rows, 1, {a, b});
    for (int r = 0; r < rows; ++r)
        y.values()[r] = dot(a.values().data() + count_of(r, cols), b.values().data() + count_of(r, cols), cols);
    tape().on_backward(y, [a, b, rows, cols](Tensor out) {
        for (int r = 0; r < rows; ++r) {
            const double g = out.grads()[r];
            axpy(g, b.values().data() + count_of(r, cols), a.grads().data() + count_of(r, cols), cols);
            axpy(g, a.values().data() + count_of(r, cols), b.grads().data() + count_of(r, cols), cols);
        }
    });
    return y;
}

// ---- masks ----

// y_i = fill where mask_i, else x_i;  ∂y_i/∂x_i = 0 where mask_i, else 1
Tensor masked_fill(Tensor x, std::span<const int> mask, double fill) {
    if (mask.size() != x.size())
        throw ShapeError(fmt::format("masked_fill: mask of {} entries for a tensor of shape {}",
                                     mask.size(), shape_of(x)));
    Tensor y = tape().record("masked_fill", x.rows(), x.cols(), {x});
    const auto xv = x.values(), yv = y.values();
    for (std::size_t i = 0; i < mask.size(); ++i) yv[i] = mask[i] ? fill : xv[i];
    const std::span<const int> saved = tape().save(mask);
    tape().on_backward(y, [x, saved](Tensor out) {
        const auto dx = x.grads(), dy = out.grads();
        for (std::size_t i = 0; i < saved.size(); ++i)
            if (!saved[i]) dx[i] += dy[i];
    });
    return y;
}

// ---- blocks ----

namespace {
// The block width K of a (B, m·K) tensor read against a second operand.
int block_width(const char* op, Tensor blocks, Tensor other, int width) {
    if (width <= 0 || blocks.cols() % width != 0)
        shape_error(op, blocks, other, "the blocks' width is not a multiple of the vector's");
    return blocks.cols() / width;
}
}  // namespace

// y[b, i] = blocks[b, i]ᵀ q[b];  ∂/∂blocks[b, i] = q[b], ∂/∂q[b] = blocks[b, i]
Tensor blocks_dot(Tensor blocks, Tensor query) {
    const int B = blocks.rows(), K = query.cols();
    const int m = block_width("blocks_dot", blocks, query, K);
    if (query.rows() != B && query.rows() != 1)
        shape_error("blocks_dot", blocks, query, "query needs one row per example, or one row");
    const bool shared = query.rows() == 1 && B != 1;
    Tensor y = tape().record("blocks_dot", B, m, {blocks, query});
    const double* hv = blocks.values().data();
    const double* qv = query.values().data();
    double* yv = y.values().data();
    for (int b = 0; b < B; ++b)
        for (int i = 0; i < m; ++i)
            yv[count_of(b, m) + i] = dot(hv + count_of(b, m * K) + count_of(i, K), qv + count_of(shared ? 0 : b, K), K);
    tape().on_backward(y, [blocks, query, B, m, K, shared](Tensor out) {
        const double *hv = blocks.values().data(), *qv = query.values().data(), *dy = out.grads().data();
        double *dh = blocks.grads().data(), *dq = query.grads().data();
        for (int b = 0; b < B; ++b) {
            const std::size_t q = count_of(shared ? 0 : b, K);
            for (int i = 0; i < m; ++i) {
                const double g = dy[count_of(b, m) + i];
                const std::size_t block = count_of(b, m * K) + count_of(i, K);
                axpy(g, qv + q, dh + block, K);
                axpy(g, hv + block, dq + q, K);
            }
        }
    });
    return y;
}

// y[b] = Σ_i w[b, i] blocks[b, i];  ∂/∂w[b, i] = blocks[b, i]ᵀ dy[b], ∂/∂blocks[b, i] = w[b, i] dy[b]
Tensor blocks_weighted_sum(Tensor weights, Tensor blocks) {
    const int B = blocks.rows(), m = weights.cols();
    if (weights.rows() != B) shape_error("blocks_weighted_sum", weights, blocks, "rows differ");
    const int K = block_width("blocks_weighted_sum", blocks, weights, m);
    Tensor y = tape().record("blocks_weighted_sum", B, K, {weights, blocks});
    const double *wv = weights.values().data(), *hv = blocks.values().data();
    // the loops: src/kernels/reference.cpp (weighted_sum_of_blocks and its backward)
    kernels::weighted_sum_of_blocks(wv, hv, B, m, K, y.values().data());
    tape().on_backward(y, [weights, blocks, B, m, K](Tensor out) {
        kernels::weighted_sum_of_blocks_backward(weights.values().data(), blocks.values().data(), out.grads().data(), B, m, K,
                                                 weights.grads().data(), blocks.grads().data());
    });
    return y;
}

// y[b, i] = blocks[b, i] + row[b];  ∂/∂blocks = 1, ∂/∂row[b] = Σ_i dy[b, i]
Tensor add_to_blocks(Tensor blocks, Tensor row) {
    const int B = blocks.rows(), K = row.cols();
    const int m = block_width("add_to_blocks", blocks, row, K);
    if (row.rows() != B) shape_error("add_to_blocks", blocks, row, "row needs one row per example");
    Tensor y = tape().record("add_to_blocks", B, m * K, {blocks, row});
    const double *hv = blocks.values().data(), *rv = row.values().data();
    double* yv = y.values().data();
    for (int b = 0; b < B; ++b)
        for (int i = 0; i < m; ++i) {
            const std::size_t block = count_of(b, m * K) + count_of(i, K);
            for (int k = 0; k < K; ++k) yv[block + k] = hv[block + k] + rv[count_of(b, K) + k];
        }
    tape().on_backward(y, [blocks, row, B, m, K](Tensor out) {
        const double* dy = out.grads().data();
        double* dr = row.grads().data();
        axpy(1.0, dy, blocks.grads().data(), B * m * K);
        for (int b = 0; b < B; ++b)
            for (int i = 0; i < m; ++i) axpy(1.0, dy + count_of(b, m * K) + count_of(i, K), dr + count_of(b, K), K);
    });
    return y;
}

namespace {
// t = tanh(k + q) = 1 − 2 / (1 + e^{2k} e^{2q}): the keys' e^{2k} is made once a pass and
// reused by every decoder step's score, e^{2q} once a step, so an (i, a) entry of a step costs
// a multiply and a division where tanh took an exponential. The tanh's were a third of a
// GRU + concat step at m = 400 (issue 19), and the backward, which rebuilds t for a long
// source, paid them twice. Within 1.5 ε of tanh(k + q) (tests/test_kernels.cpp). For
// |x| ≤ 350, e^{2x} is finite and normal; an example with a larger key or query takes
// tanh(k + q) itself.
constexpr double largest_exponent_argument = 350;

// e^{2x} of n numbers into out; false if some |x| > 350 (out is then unspecified).
bool exponentials_of_twice(const double* x, std::size_t n, double* out) {
    for (std::size_t i = 0; i < n; ++i) {
        if (std::abs(x[i]) > largest_exponent_argument) return false;
        out[i] = 2 * x[i];
    }
    // the plain loop a learner reads: src/kernels/reference.cpp (exp)
    kernels::exp(out, out, n);
    return true;
}

// e^{2k} of every example's keys (B·m·A), and which examples have them (the others take
// tanh(k + q) itself): on the tape, so the backward reads the forward's.
struct KeyExponentials {
    const double* values;
    const unsigned char* made;  // B flags
};

// The keys' exponentials, made on the first score of a pass that reads them. A recorded
// result's values (or a view's of one: the model's keys are a reshape) are written once, when
// it is made, so its exponentials hold for the rest of the pass; a parameter's, which the
// tests perturb in place, are made again at every score.
KeyExponentials key_exponentials(Tensor keys, int B) {
    struct Made {
        const double* keys;
        std::uint32_t id, generation;
        KeyExponentials exponentials;
    };
    thread_local std::vector<Made> made_this_pass;
    const TapeEntry& e = tape().entry(keys);
    const std::uint32_t generation = tape().generation();
    const bool recorded = tape().entry_at(e.grad_owner).owns_grad;
    if (recorded) {
        std::erase_if(made_this_pass, [generation](const Made& m) { return m.generation != generation; });
        for (const Made& m : made_this_pass)
            if (m.keys == e.value && m.id == keys.id()) return m.exponentials;
    }
    const std::size_t per_example = keys.size() / static_cast<std::size_t>(B);
    const std::span<double> values = tape().save_space<double>(keys.size());
    const std::span<unsigned char> made = tape().save_space<unsigned char>(static_cast<std::size_t>(B));
    for (int b = 0; b < B; ++b)
        made[b] = exponentials_of_twice(e.value + count_of(b, per_example), per_example,
                                        values.data() + count_of(b, per_example));
    const KeyExponentials exponentials{values.data(), made.data()};
    if (recorded) made_this_pass.push_back({e.value, keys.id(), generation, exponentials});
    return exponentials;
}

// t_i = tanh(keys_i + query) for `count` keys of one example, count·A numbers: an example whose
// numbers are too large for the exponentials.
void tanh_of_sums(const double* keys, const double* query, int count, int A, double* t) {
    for (int i = 0; i < count; ++i)
        for (int k = 0; k < A; ++k) t[count_of(i, A) + k] = keys[count_of(i, A) + k] + query[k];
    // the plain loop a learner reads: src/kernels/reference.cpp (tanh)
    kernels::tanh(t, t, count_of(count, A));
}

// Keys per chunk of t: ~512 numbers, 4 KB that stay in the L1 cache, and one kernel call
// for many keys when A is small.
int keys_per_chunk(int A) { return std::max(1, 512 / A); }

// The concat score's arithmetic, shared by additive_scores and additive_attention_weights so
// that both give the same bits.
struct AdditiveScore {
    Tensor keys, query, v;
    KeyExponentials key_exps{};

    AdditiveScore(const char* op, Tensor keys_, Tensor query_, Tensor v_) : keys(keys_), query(query_), v(v_) {
        block_width(op, keys, query, query.cols());
        if (query.rows() != examples()) shape_error(op, keys, query, "query needs one row per example");
        if (v.rows() != 1 || v.cols() != query.cols()) shape_error(op, query, v, "v must be one row of the query's width");
        key_exps = key_exponentials(keys, examples());
    }
    // examples, keys per example, attention size (the backward's closure holds no more than it must)
    int examples() const { return keys.rows(); }
    int attention_size() const { return query.cols(); }
    int keys_per_example() const { return keys.cols() / attention_size(); }
    int chunk() const { return keys_per_chunk(attention_size()); }
    // Scratch for e^{2q} and one chunk of t, after `extra` numbers of the caller's.
    double* scratch(std::size_t extra) const {
        const int A = attention_size();
        return scratch_row(extra + count_of(1, A) + count_of(std::min(keys_per_example(), chunk()), A));
    }

    // t[b, i] = tanh(keys[b, i] + query[b]) for every example's keys, a chunk at a time:
    // use(b, first, count, t) with t the chunk's count·A numbers. The forward and the backward
    // both go through here, so the t the backward rebuilds is bit for bit the forward's. t is
    // never kept: nothing of size m·A is left on the tape by a decoder step, so a sentence pair
    // keeps O((m + n)·A) numbers for the score instead of m·n·A, as memory-efficient attention
    // does. Rebuilding t costs less than keeping it (GRU + concat, B = 32: 740 against 839 ms a
    // step at m = 400, where t would take 2.5 GB; no slower at m = 12).
    template <class Use>
    void each_chunk_of_t(double* scratch_space, Use use) const {
        const int B = examples(), m = keys_per_example(), A = attention_size();
        const double *kv = keys.values().data(), *qv = query.values().data();
        double *query_exps = scratch_space, *chunk_t = scratch_space + A;
        for (int b = 0; b < B; ++b) {
            const double* query_b = qv + count_of(b, A);
            const bool from_exponentials =
                key_exps.made[b] && exponentials_of_twice(query_b, count_of(1, A), query_exps);
            for (int first = 0; first < m; first += chunk()) {
                const int count = std::min(chunk(), m - first);
                const std::size_t at = count_of(b, m * A) + count_of(first, A);
                if (from_exponentials) {
                    // t_i = 1 − 2 / (1 + e^{2 keys_i} e^{2 query})
                    kernels::tanh_from_exponentials(key_exps.values + at, query_exps, count, A, chunk_t);
                } else {
                    // t_i = tanh(keys_i + query)
                    tanh_of_sums(kv + at, query_b, count, A, chunk_t);
                }
                use(b, first, count, static_cast<const double*>(chunk_t));
            }
        }
    }

    // e[b, i] = vᵀ t[b, i] into e (B·m)
    void scores(double* e) const {
        const int m = keys_per_example(), A = attention_size();
        const double* vv = v.values().data();
        each_chunk_of_t(scratch(0), [&](int b, int first, int count, const double* t) {
            for (int i = 0; i < count; ++i) e[count_of(b, m) + first + i] = dot(t + count_of(i, A), vv, A);
        });
    }

    // d[b, i] = de[b, i] · v ⊙ (1 − t[b, i]²):  ∂/∂keys[b, i] = d[b, i], ∂/∂query[b] = Σ_i d[b, i],
    // ∂/∂v = Σ_{b,i} de[b, i] t[b, i]
    void backward(const double* de, double* scratch_space) const {
        const int m = keys_per_example(), A = attention_size();
        const double* vv = v.values().data();
        double *dk = keys.grads().data(), *dq = query.grads().data(), *dv = v.grads().data();
        each_chunk_of_t(scratch_space, [&](int b, int first, int count, const double* t) {
            // d_i = de_i · v ⊙ (1 − t_i²) into dkeys_i and dquery, de_i t_i into dv
            kernels::additive_scores_backward(t, vv, de + count_of(b, m) + first, count, A,
                                              dk + count_of(b, m * A) + count_of(first, A), dq + count_of(b, A), dv);
        });
    }
};
}  // namespace

// y[b, i] = vᵀ tanh(keys[b, i] + query[b])
Tensor additive_scores(Tensor keys, Tensor query, Tensor v) {
    AdditiveScore score("additive_scores", keys, query, v);
    Tensor y = tape().record("additive_scores", score.examples(), score.keys_per_example(), {keys, query, v});
    score.scores(y.values().data());
    tape().on_backward(y, [score](Tensor out) { score.backward(out.grads().data(), score.scratch(0)); });
    return y;
}

// α[b] = softmax(e[b]), e[b, i] = vᵀ tanh(keys[b, i] + query[b]), or −∞ where mask[b·m + i]
// e is made in α's place and never kept: its gradient, de_i = α_i (dα_i − Σ_k dα_k α_k) (0 where
// masked), is rebuilt from α in the backward, as masked_fill and softmax would give it.
Tensor additive_attention_weights(Tensor keys, Tensor query, Tensor v, std::span<const int> mask) {
    AdditiveScore score("additive_attention_weights", keys, query, v);
    const int B = score.examples(), m = score.keys_per_example();
    if (!mask.empty() && mask.size() != count_of(B, m))
        throw ShapeError(fmt::format("additive_attention_weights: mask of {} entries for {} examples of {} keys",
                                     mask.size(), B, m));
    Tensor y = tape().record("additive_attention_weights", B, m, {keys, query, v});
    double* alpha = y.values().data();
    score.scores(alpha);
    for (std::size_t i = 0; i < mask.size(); ++i)
        if (mask[i]) alpha[i] = -std::numeric_limits<double>::infinity();
    softmax_rows(alpha, alpha, B, m);
    const int* saved_mask = mask.empty() ? nullptr : tape().save(mask).data();
    tape().on_backward(y, [score, saved_mask](Tensor out) {
        const std::size_t count = count_of(score.examples(), score.keys_per_example());
        double* de = score.scratch(count);
        softmax_rows_backward(out.values().data(), out.grads().data(), {de, Store::overwrite}, score.examples(),
                              score.keys_per_example());
        for (std::size_t i = 0; saved_mask && i < count; ++i)
            if (saved_mask[i]) de[i] = 0;
        score.backward(de, de + count);
    });
    return y;
}

// ---- the Transformer's ops (SPEC §14) ----

// y = 1/√x;  dy/dx = −½ x^(−3/2) = −y³/2
Tensor rsqrt(Tensor x) {
    return unary("rsqrt", x, each([](double v) { return 1 / std::sqrt(v); }),
                 [](double, double y) { return -0.5 * y * y * y; });
}

// y_r = (1/c) Σ_j x_rj;  ∂y_r/∂x_rj = 1/c
Tensor row_mean(Tensor x) {
    const int rows = x.rows(), cols = x.cols();
    Tensor y = tape().record("row_mean", rows, 1, {x});
    const double* xv = x.values().data();
    double* yv = y.values().data();
    for (int r = 0; r < rows; ++r) {
        const double* in = xv + count_of(r, cols);
        yv[r] = sum_of(cols, [in](int j) { return in[j]; }) / cols;
    }
    tape().on_backward(y, [x, rows, cols](Tensor out) {
        double* dx = x.grads().data();
        for (int r = 0; r < rows; ++r) {
            const double share = out.grads()[r] / cols;
            for (int j = 0; j < cols; ++j) dx[count_of(r, cols) + j] += share;
        }
    });
    return y;
}

// y_rj = x_r;  ∂L/∂x_r = Σ_j dy_rj
Tensor repeat_cols(Tensor x, int cols) {
    if (x.cols() != 1 || cols <= 0)
        throw ShapeError(fmt::format("repeat_cols: needs one column and a positive width, got shape {} and width {}",
                                     shape_of(x), cols));
    const int rows = x.rows();
    Tensor y = tape().record("repeat_cols", rows, cols, {x});
    for (int r = 0; r < rows; ++r) std::fill_n(y.values().data() + count_of(r, cols), cols, x.value(r));
    tape().on_backward(y, [x, rows, cols](Tensor out) {
        const double* dy = out.grads().data();
        for (int r = 0; r < rows; ++r) x.grads()[r] += std::accumulate(dy + count_of(r, cols), dy + count_of(r + 1, cols), 0.0);
    });
    return y;
}

namespace {
// σ²_r = (1/d) Σ_j (x_rj − μ_r)², μ_r read from `mean` (row_mean(x));  ∂σ²_r/∂x_rj = 2 (x_rj − μ_r) / d
// (the path through μ adds (2/d) Σ_j (x_rj − μ_r) · ∂μ_r/∂x_rj = 0). The sum runs in the order of
// row_mean(mul(x − μ, x − μ)) (sum_of), so the bits are the composite's.
Tensor row_variance(Tensor x, Tensor mean) {
    const int rows = x.rows(), d = x.cols();
    Tensor y = tape().record("row_variance", rows, 1, {x});
    const double *xv = x.values().data(), *mu = mean.values().data();
    double* yv = y.values().data();
    for (int r = 0; r < rows; ++r) {
        const double* in = xv + count_of(r, d);
        yv[r] = sum_of(d, [in, mu_r = mu[r]](int j) { return (in[j] - mu_r) * (in[j] - mu_r); }) / d;
    }
    tape().on_backward(y, [x, mean, rows, d](Tensor out) {
        const double *xv = x.values().data(), *mu = mean.values().data();
        double* dx = x.grads().data();
        for (int r = 0; r < rows; ++r) {
            const double share = 2 * out.grads()[r] / d;
            for (int j = 0; j < d; ++j) dx[count_of(r, d) + j] += share * (xv[count_of(r, d) + j] - mu[r]);
        }
    });
    return y;
}
}  // namespace

// LN(x) = γ ⊙ (x − μ) / √(σ² + ε) + β,  μ = mean_j x_j,  σ² = mean_j (x_j − μ)²  (biased, as PyTorch)
// One op (the profile of issue 18: the composite, 13 tape entries per norm, 8 of them (rows, d)
// with their gradients, was a fifth of a Transformer step). Its composite,
//   c = x − μ,  σ² = row_mean(c ⊙ c),  x̂ = c ⊙ rsqrt(σ² + ε),  y = x̂ ⊙ γ + β,
// stays in tests/test_ops.cpp as the oracle; the forward does the same arithmetic, bit for bit.
// With r = 1/√(σ² + ε) and g = dy ⊙ γ (μ and σ² depend on x too):
//   dx = r (g − mean_j g − x̂ ⊙ mean_j (g ⊙ x̂)),   dγ = Σ_rows dy ⊙ x̂,   dβ = Σ_rows dy
// μ and σ² are their own small ops (a trace prints them; their gradients are their own).
LayerNormOutput layer_norm(Tensor x, Tensor gamma, Tensor beta, double epsilon) {
    const int rows = x.rows(), d = x.cols();
    if (gamma.rows() != 1 || gamma.cols() != d) shape_error("layer_norm", x, gamma, "γ must be one row of x's width");
    if (beta.rows() != 1 || beta.cols() != d) shape_error("layer_norm", x, beta, "β must be one row of x's width");
    LayerNormOutput result;
    result.mean = row_mean(x);
    result.variance = row_variance(x, result.mean);
    Tensor y = tape().record("layer_norm", rows, d, {x, gamma, beta});
    // y = x̂ ⊙ γ + β, x̂ = (x − μ) / √(σ² + ε): the kernel rebuilds x̂ in the backward rather than keep it
    const auto rows_of = [epsilon](Tensor x, Tensor gamma, Tensor mean, Tensor variance) {
        return kernels::LayerNormRows{x.values().data(), gamma.values().data(), mean.values().data(),
                                      variance.values().data(), epsilon, x.rows(), x.cols()};
    };
    kernels::layer_norm(rows_of(x, gamma, result.mean, result.variance), beta.values().data(), y.values().data());
    tape().on_backward(y, [x, gamma, beta, mean = result.mean, variance = result.variance, rows_of](Tensor out) {
        // dx = (1/√(σ² + ε)) (g − mean(g) − x̂ mean(g ⊙ x̂)), g = dy ⊙ γ;  dγ = Σ dy ⊙ x̂;  dβ = Σ dy
        const GradientTarget dx = gradient_target_if_needed(x);
        kernels::layer_norm_backward(rows_of(x, gamma, mean, variance), out.grads().data(), dx.data, dx.store,
                                     gamma.requires_grad() ? gamma.grads().data() : nullptr,
                                     beta.requires_grad() ? beta.grads().data() : nullptr);
    });
    result.out = y;
    return result;
}

namespace {
// split_heads and merge_heads move the same d_k-wide pieces in opposite directions:
// piece (b, t, i) sits at row b·n + t, columns i·d_k… of the merged (B·n, h·d_k) layout
// and at row (b·h + i)·n + t of the split (B·h·n, d_k) one.
struct HeadLayout {
    int batch, heads, n, d_k;
    // move(offset in the merged layout, offset in the split layout) for every piece, in the split
    // layout's order: its side is written (or read) straight through, the merged side in strides
    template <class Move>
    void for_each_piece(Move move) const {
        const int d = heads * d_k;
        for (int b = 0; b < batch; ++b)
            for (int i = 0; i < heads; ++i)
                for (int t = 0; t < n; ++t)
                    move(count_of(b * n + t, d) + count_of(i, d_k), count_of((b * heads + i) * n + t, d_k));
    }
    void split(const double* merged, double* split_out) const {
        for_each_piece([&](std::size_t m, std::size_t s) { copy_short(merged + m, split_out + s, d_k); });
    }
    void merge(const double* split_in, double* merged) const {
        for_each_piece([&](std::size_t m, std::size_t s) { copy_short(split_in + s, merged + m, d_k); });
    }
};

HeadLayout head_layout(const char* op, Tensor x, int batch, int heads, bool x_is_split) {
    const int merged_rows = x_is_split ? x.rows() / std::max(heads, 1) : x.rows();
    const int d = x_is_split ? x.cols() * heads : x.cols();
    if (batch <= 0 || heads <= 0 || x.rows() % (x_is_split ? batch * heads : batch) != 0 || d % heads != 0)
        throw ShapeError(fmt::format("{}: shape {} cannot hold {} examples of {} heads", op, shape_of(x), batch, heads));
    return {batch, heads, merged_rows / batch, d / heads};
}

Tensor move_heads(const char* op, Tensor x, int batch, int heads, bool to_split) {
    const HeadLayout layout = head_layout(op, x, batch, heads, !to_split);
    const int merged_rows = batch * layout.n, d = heads * layout.d_k;
    Tensor y = to_split ? tape().record(op, batch * heads * layout.n, layout.d_k, {x}) : tape().record(op, merged_rows, d, {x});
    if (to_split) layout.split(x.values().data(), y.values().data());
    else layout.merge(x.values().data(), y.values().data());
    tape().on_backward(y, [x, layout, to_split](Tensor out) {
        const double* dy = out.grads().data();
        const GradientTarget dx = gradient_target(x);  // the pieces cover all of it
        layout.for_each_piece([&](std::size_t merged, std::size_t split) {
            add_gradient(dy + (to_split ? split : merged), dx.data + (to_split ? merged : split), dx.store, layout.d_k);
        });
    });
    return y;
}
}  // namespace

// y[(b·h + i)·n + t] = x[b·n + t, i·d_k : (i+1)·d_k];  dx gets dy's pieces back
Tensor split_heads(Tensor x, int batch, int heads) { return move_heads("split_heads", x, batch, heads, true); }

// y[b·n + t, i·d_k : (i+1)·d_k] = x[(b·h + i)·n + t];  dx gets dy's pieces back
Tensor merge_heads(Tensor x, int batch, int heads) { return move_heads("merge_heads", x, batch, heads, false); }

// split_heads(x Wᵀ + b): the product lands in scratch memory and only its split copy on the
// tape; the backward gathers dy back into the merged layout (as 0 + dy, split_heads'
// rounding) and runs linear's backward on it. The same bits as the composite.
Tensor linear_split_heads(Tensor x, Tensor weight, Tensor bias, int batch, int heads) {
    check_linear("linear_split_heads", x, x.cols(), weight, bias);
    const int r = x.rows(), k = x.cols(), c = weight.rows();
    if (batch <= 0 || heads <= 0 || r % batch != 0 || c % heads != 0)
        throw ShapeError(fmt::format("linear_split_heads: ({}, {}) outputs cannot hold {} examples of {} heads", r, c, batch, heads));
    const HeadLayout layout{batch, heads, r / batch, c / heads};
    Tensor y = record_linear("linear_split_heads", r * heads, c / heads, x, weight, bias);
    double* merged = scratch_row(count_of(r, c));
    linear_forward(x.values().data(), weight.values().data(), bias_values(bias), merged, r, k, c);
    layout.split(merged, y.values().data());
    tape().on_backward(y, [x, weight, bias, layout, r, k, c](Tensor out) {
        const double* dy = out.grads().data();
        double* dy_merged = scratch_row(count_of(r, c));
        layout.for_each_piece([&](std::size_t m, std::size_t s) { add_gradient(dy + s, dy_merged + m, Store::overwrite, layout.d_k); });
        linear_backward(dy_merged, x.values().data(), x, weight, bias, r, k, c);
    });
    return y;
}

// merge_heads(x) Wᵀ + b: the merged heads live in scratch memory, rebuilt for the backward;
// dx is linear's dX scattered back to the heads. The same bits as the composite.
Tensor merge_heads_linear(Tensor x, int batch, int heads, Tensor weight, Tensor bias) {
    const HeadLayout layout = head_layout("merge_heads_linear", x, batch, heads, true);
    const int r = batch * layout.n, k = heads * layout.d_k, c = weight.rows();
    check_linear("merge_heads_linear", x, k, weight, bias);
    Tensor y = record_linear("merge_heads_linear", r, c, x, weight, bias);
    double* merged = scratch_row(count_of(r, k));
    layout.merge(x.values().data(), merged);
    linear_forward(merged, weight.values().data(), bias_values(bias), y.values().data(), r, k, c);
    tape().on_backward(y, [x, weight, bias, layout, r, k, c](Tensor out) {
        const double* dy = out.grads().data();
        double* merged = scratch_row(2 * count_of(r, k));  // the merged x, then d loss / d it
        double* d_merged = merged + count_of(r, k);
        layout.merge(x.values().data(), merged);
        if (x.requires_grad()) {
            gemm_nn(dy, weight.values().data(), d_merged, r, c, k, Store::overwrite);
            const GradientTarget dx = gradient_target(x);  // the pieces cover all of it
            layout.for_each_piece([&](std::size_t m, std::size_t s) { add_gradient(d_merged + m, dx.data + s, dx.store, layout.d_k); });
        }
        // dX is done: linear_backward's share for the merged heads, which are not a tensor, is skipped
        linear_backward(dy, merged, Tensor{}, weight, bias, r, k, c);
    });
    return y;
}

namespace {
// y_g = a_g b_g (b_transposed: a_g b_gᵀ) for each group g of rows, times factor.
//   y = a b:   da = dy bᵀ, db = aᵀ dy        y = a bᵀ:  da = dy b, db = dyᵀ a   (dy times factor)
// The factor rounds as scale() after the product would: factor · (a b), and 0 + factor · dy.
Tensor batched_product(const char* op, Tensor a, Tensor b, int groups, bool b_transposed, double factor = 1.0) {
    if (groups <= 0 || a.rows() % groups != 0 || b.rows() % groups != 0)
        shape_error(op, a, b, "the rows of a and b must split into the same number of groups");
    const int r = a.rows() / groups, k = a.cols();
    const int b_rows = b.rows() / groups, c = b_transposed ? b_rows : b.cols();
    if ((b_transposed ? b.cols() : b_rows) != k)
        shape_error(op, a, b, b_transposed ? "cols of a != cols of b" : "cols of a != rows of each group of b");
    Tensor y = tape().record(op, groups * r, c, {a, b});
    const std::size_t a_size = count_of(r, k), b_size = count_of(b_rows, b.cols()), y_size = count_of(r, c);
    for (int g = 0; g < groups; ++g) {
        const double *ag = a.values().data() + g * a_size, *bg = b.values().data() + g * b_size;
        double* yg = y.values().data() + g * y_size;
        if (b_transposed) gemm_nt(ag, bg, yg, r, k, c, Store::overwrite);
        else gemm_nn(ag, bg, yg, r, k, c, Store::overwrite);
        if (factor != 1.0)
            for (std::size_t i = 0; i < y_size; ++i) yg[i] = factor * yg[i];
    }
    tape().on_backward(y, [a, b, groups, r, k, c, b_transposed, factor](Tensor out) {
        const std::size_t a_size = count_of(r, k), b_size = b.size() / groups, y_size = count_of(r, c);
        const double *dy = out.grads().data(), *av = a.values().data(), *bv = b.values().data();
        if (factor != 1.0) {
            const std::size_t count = out.size();
            double* scaled = scratch_row(count);
            for (std::size_t i = 0; i < count; ++i) scaled[i] = 0.0 + factor * dy[i];
            dy = scaled;
        }
        // every group writes its own block of da and db: together the whole of each
        const GradientTarget da = gradient_target_if_needed(a);
        const GradientTarget db = gradient_target_if_needed(b);
        for (int g = 0; g < groups; ++g) {
            const double *dy_g = dy + g * y_size, *a_g = av + g * a_size, *b_g = bv + g * b_size;
            if (da.data && b_transposed) gemm_nn(dy_g, b_g, da.data + g * a_size, r, c, k, da.store);
            if (da.data && !b_transposed) gemm_nt(dy_g, b_g, da.data + g * a_size, r, c, k, da.store);
            if (db.data && b_transposed) gemm_tn(dy_g, a_g, db.data + g * b_size, r, c, k, db.store);
            if (db.data && !b_transposed) gemm_tn(a_g, dy_g, db.data + g * b_size, r, k, c, db.store);
        }
    });
    return y;
}
}  // namespace

// y_g = a_g b_g
Tensor batched_matmul(Tensor a, Tensor b, int groups) { return batched_product("batched_matmul", a, b, groups, false); }

// y_g = a_g b_gᵀ
Tensor batched_matmul_nt(Tensor a, Tensor b, int groups) {
    return batched_product("batched_matmul_nt", a, b, groups, true);
}

// y_g = factor · a_g b_gᵀ
Tensor scaled_batched_matmul_nt(Tensor a, Tensor b, int groups, double factor) {
    return batched_product("scaled_batched_matmul_nt", a, b, groups, true, factor);
}

// masked (b, i, t, s) = s ≥ key_lengths[b]  or (causal and s > t)
std::vector<int> attention_mask(int batch, int heads, int queries, int keys, std::span<const int> key_lengths,
                                bool causal) {
    if (!key_lengths.empty() && key_lengths.size() != static_cast<std::size_t>(batch))
        throw ShapeError(fmt::format("attention_mask: {} key lengths for a batch of {}", key_lengths.size(), batch));
    std::vector<int> mask(count_of(batch * heads * queries, keys));
    for (int b = 0; b < batch; ++b) {
        const int length = key_lengths.empty() ? keys : key_lengths[static_cast<std::size_t>(b)];
        for (int i = 0; i < heads; ++i)
            for (int t = 0; t < queries; ++t)
                for (int s = 0; s < keys; ++s)
                    mask[count_of((b * heads + i) * queries + t, keys) + s] = s >= length || (causal && s > t);
    }
    return mask;
}

// PE[p, 2k] = sin(p / 10000^{2k/d}),  PE[p, 2k+1] = cos(p / 10000^{2k/d})
Tensor positional_encoding(int length, int d, int batch) {
    if (length <= 0 || d <= 0 || batch <= 0)
        throw ShapeError(fmt::format("positional_encoding: length {}, width {} and batch {} must be positive", length,
                                     d, batch));
    std::vector<double> table(count_of(batch * length, d));
    for (int p = 0; p < length; ++p)
        for (int j = 0; j < d; ++j) {
            const double angle = p / std::pow(10000.0, static_cast<double>(j - j % 2) / d);  // 2k = j − j mod 2
            table[count_of(p, d) + j] = j % 2 == 0 ? std::sin(angle) : std::cos(angle);
        }
    for (int b = 1; b < batch; ++b)
        std::copy_n(table.begin(), count_of(length, d), table.begin() + static_cast<std::ptrdiff_t>(count_of(b * length, d)));
    return constant(batch * length, d, table);
}


}  // namespace stepgrad
