#include "stepgrad/tensor.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "stepgrad/random.hpp"

namespace stepgrad {

// ---- Tensor: a handle, every access goes through the tape ----

const TapeEntry& Tape::entry(Tensor t) const {
    if (t.id_ == Tensor::undefined)
        throw std::logic_error("stepgrad: use of an empty Tensor handle");
    if (t.generation_ != generation_ || t.id_ >= entries_.size())
        throw std::logic_error(
            "stepgrad: tensor used after tape().reset(); tensors live for one step");
    return entries_[t.id_];
}

int Tensor::rows() const { return tape().entry(*this).rows; }
int Tensor::cols() const { return tape().entry(*this).cols; }
std::size_t Tensor::size() const {
    const auto& e = tape().entry(*this);
    return static_cast<std::size_t>(e.rows) * static_cast<std::size_t>(e.cols);
}
const char* Tensor::op() const { return tape().entry(*this).op; }
bool Tensor::requires_grad() const { return tape().entry(*this).requires_grad; }

std::span<double> Tensor::values() const {
    const auto& e = tape().entry(*this);
    return {e.value, static_cast<std::size_t>(e.rows) * static_cast<std::size_t>(e.cols)};
}
std::span<double> Tensor::grads() const { return tape().grads(*this); }
std::vector<double> Tensor::gradient() const {
    const std::span<const double> touched = tape().touched_grads(*this);
    if (touched.empty()) return std::vector<double>(size(), 0.0);
    return {touched.begin(), touched.end()};
}
std::vector<double> Tensor::to_vector() const {
    auto v = values();
    return {v.begin(), v.end()};
}
std::vector<double> Tensor::row(int r) const {
    auto v = values();
    const auto c = static_cast<std::size_t>(cols());
    const auto begin = v.begin() + static_cast<std::ptrdiff_t>(index(r, 0));
    return {begin, begin + static_cast<std::ptrdiff_t>(c)};
}
std::size_t Tensor::index(int row, int col) const {
    const auto& e = tape().entry(*this);
    if (row < 0 || row >= e.rows || col < 0 || col >= e.cols)
        throw std::out_of_range(fmt::format("{}: index ({}, {}) outside shape ({}, {})", e.op,
                                            row, col, e.rows, e.cols));
    return static_cast<std::size_t>(row) * static_cast<std::size_t>(e.cols) +
           static_cast<std::size_t>(col);
}

// ---- Parameter ----

Parameter::Parameter(std::string name, int rows, int cols, bool is_vector)
    : name_(std::move(name)), rows_(rows), cols_(cols), is_vector_(is_vector) {
    if (rows <= 0 || cols <= 0 || (is_vector && rows != 1))
        throw ShapeError(fmt::format("parameter {}: bad shape ({}, {})", name_, rows, cols));
    value.assign(static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols), 0.0);
    grad.assign(value.size(), 0.0);
}

Tensor Parameter::use() { return tape().leaf(*this); }
void Parameter::zero_grad() { std::fill(grad.begin(), grad.end(), 0.0); }
void Parameter::init_uniform(Rng& rng, double bound) {
    for (double& v : value) v = rng.uniform(-bound, bound);
}

// ---- Tape ----

Tensor Tape::record(const char* op, int rows, int cols, std::initializer_list<Tensor> inputs) {
    return record(op, rows, cols, std::span<const Tensor>(inputs.begin(), inputs.size()));
}

Tensor Tape::record(const char* op, int rows, int cols, std::span<const Tensor> inputs) {
    if (rows <= 0 || cols <= 0)
        throw ShapeError(fmt::format("{}: empty result shape ({}, {})", op, rows, cols));
    bool requires_grad = false;
    for (const Tensor& input : inputs) requires_grad = requires_grad || entry(input).requires_grad;
    const std::size_t count = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
    double* value = numbers_.allocate(count);
    bytes_used_ += 2 * count * sizeof(double);
    const auto id = static_cast<std::uint32_t>(entries_.size());
    entries_.push_back({op, rows, cols, value, nullptr, requires_grad, true, false, id, {}});
    return {id, generation_};
}

Tensor Tape::constant(int rows, int cols, std::span<const double> data) {
    if (data.size() != static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols))
        throw ShapeError(fmt::format("constant: {} values do not fill shape ({}, {})",
                                     data.size(), rows, cols));
    Tensor t = record("constant", rows, cols, {});
    std::copy(data.begin(), data.end(), t.values().begin());
    return t;
}

Tensor Tape::leaf(Parameter& parameter) {
    // A parameter's gradient is its own (or its home's): always ready, accumulated across
    // backward calls.
    double* grad = parameter.grad.data();
    for (const auto& [owner, home] : gradient_homes_)
        if (owner == &parameter) grad = home;
    const auto id = static_cast<std::uint32_t>(entries_.size());
    entries_.push_back({parameter.name().c_str(), parameter.rows(), parameter.cols(),
                        parameter.value.data(), grad, true, false, true, id, {}});
    return {id, generation_};
}

void Tape::set_gradient_homes(std::span<Parameter* const> parameters, std::span<double* const> homes) {
    if (parameters.size() != homes.size())
        throw std::invalid_argument(fmt::format("set_gradient_homes: {} parameters but {} homes", parameters.size(),
                                                homes.size()));
    gradient_homes_.clear();
    for (std::size_t i = 0; i < parameters.size(); ++i) gradient_homes_.emplace_back(parameters[i], homes[i]);
}

Tensor Tape::alias(const char* op, Tensor source, std::size_t offset, int rows, int cols) {
    const TapeEntry src = entry(source);
    const std::size_t available = static_cast<std::size_t>(src.rows) * static_cast<std::size_t>(src.cols);
    if (rows <= 0 || cols <= 0 || offset + static_cast<std::size_t>(rows) * cols > available)
        throw ShapeError(fmt::format("{}: cannot view ({}, {}) at entry {} of a tensor of shape ({}, {})",
                                     op, rows, cols, offset, src.rows, src.cols));
    entries_.push_back({op, rows, cols, src.value + offset, nullptr, src.requires_grad, false, false, src.grad_owner, {}});
    return {static_cast<std::uint32_t>(entries_.size() - 1), generation_};
}

double* Tape::gradient_of(const TapeEntry& e) {
    TapeEntry& owner = entries_[e.grad_owner];
    if (!owner.grad) {
        const std::size_t count = static_cast<std::size_t>(owner.rows) * static_cast<std::size_t>(owner.cols);
        for (auto& [size, free] : free_gradients_)
            if (size == count && !free.empty()) {
                owner.grad = free.back();
                free.pop_back();
                break;
            }
        if (!owner.grad) owner.grad = gradients_.allocate(count);
    }
    return owner.grad + (e.value - owner.value);
}

void Tape::release_gradient(TapeEntry& owner) {
    const std::size_t count = static_cast<std::size_t>(owner.rows) * static_cast<std::size_t>(owner.cols);
    auto same_size = std::ranges::find(free_gradients_, count, &std::pair<std::size_t, std::vector<double*>>::first);
    if (same_size == free_gradients_.end()) same_size = free_gradients_.insert(same_size, {count, {}});
    same_size->second.push_back(std::exchange(owner.grad, nullptr));
}

std::span<const double> Tape::touched_grads(Tensor t) const {
    const TapeEntry& e = entry(t);
    const TapeEntry& owner = entries_[e.grad_owner];
    if (!owner.grad_ready) return {};
    if (!owner.grad)
        throw std::logic_error(fmt::format("stepgrad: the gradient of '{}' is gone: backward(loss, "
                                           "KeepGradients::parameters_only) keeps only the parameters'", e.op));
    return {owner.grad + (e.value - owner.value), static_cast<std::size_t>(e.rows) * static_cast<std::size_t>(e.cols)};
}

std::span<double> Tape::grads(Tensor t) {
    const TapeEntry& e = entry(t);
    TapeEntry& owner = entries_[e.grad_owner];
    double* grad = gradient_of(e);
    if (!owner.grad_ready) {
        std::fill_n(owner.grad, static_cast<std::size_t>(owner.rows) * static_cast<std::size_t>(owner.cols), 0.0);
        owner.grad_ready = true;
    }
    return {grad, static_cast<std::size_t>(e.rows) * static_cast<std::size_t>(e.cols)};
}

Tape::GradientSlot Tape::gradient_slot(Tensor t) {
    const TapeEntry& e = entry(t);
    TapeEntry& owner = entries_[e.grad_owner];
    const bool whole = e.value == owner.value && e.rows * e.cols == owner.rows * owner.cols;
    if (owner.grad_ready || !owner.owns_grad || !whole) return {grads(t), false};
    owner.grad_ready = true;
    return {{gradient_of(e), static_cast<std::size_t>(e.rows) * static_cast<std::size_t>(e.cols)}, true};
}

void Tape::on_backward(Tensor output, Backward backward) {
    entry(output);  // checks the handle
    TapeEntry& e = entries_[output.id_];
    if (e.requires_grad) e.backward = backward;
}

// Reverse-mode sweep: every entry after the loss in tape order has already been used by
// it, so visiting entries from the loss down to 0 is a valid reverse topological order.
void Tape::backward(Tensor loss, KeepGradients keep) {
    const TapeEntry& top = entry(loss);
    if (top.rows != 1 || top.cols != 1)
        throw ShapeError(fmt::format("backward: the loss must be 1×1, got ({}, {})", top.rows,
                                     top.cols));
    for (TapeEntry& e : entries_)
        if (e.owns_grad) e.grad_ready = false, e.grad = nullptr;
    gradients_.rewind();
    for (auto& [size, free] : free_gradients_) free.clear();
    grads(loss)[0] += 1.0;
    for (std::size_t i = loss.id_ + 1; i-- > 0;) {
        TapeEntry& e = entries_[i];
        // no gradient reached this entry: its backward would only add zeros
        if (!entries_[e.grad_owner].grad_ready) continue;
        if (e.backward) e.backward(Tensor(static_cast<std::uint32_t>(i), generation_));
        // every op that reads this gradient comes later on the tape: all have run
        if (keep == KeepGradients::parameters_only && e.owns_grad) release_gradient(e);
    }
}

void Tape::reset() {
    entries_.clear();
    numbers_.rewind();
    gradients_.rewind();
    for (auto& [size, free] : free_gradients_) free.clear();
    saved_.rewind();
    bytes_used_ = 0;
    ++generation_;
}

std::size_t Tape::arena_bytes() const {
    return (numbers_.capacity() + gradients_.capacity()) * sizeof(double) + saved_.capacity() +
           entries_.capacity() * sizeof(TapeEntry);
}

const TapeEntry* Tape::first_non_finite(bool gradients) const {
    for (const TapeEntry& e : entries_) {
        const TapeEntry& owner = entries_[e.grad_owner];
        if (gradients && (!owner.grad_ready || !owner.grad)) continue;  // never touched (0), or gone
        const double* data = gradients ? owner.grad + (e.value - owner.value) : e.value;
        const std::size_t count = static_cast<std::size_t>(e.rows) * e.cols;
        for (std::size_t i = 0; i < count; ++i)
            if (!std::isfinite(data[i])) return &e;
    }
    return nullptr;
}

Tape& tape() {
    thread_local Tape the_tape;
    return the_tape;
}

Tensor constant(int rows, int cols, std::span<const double> data) {
    return tape().constant(rows, cols, data);
}
Tensor zeros(int rows, int cols) { return full(rows, cols, 0.0); }
Tensor full(int rows, int cols, double value) {
    Tensor t = tape().record("constant", rows, cols, {});
    std::fill(t.values().begin(), t.values().end(), value);
    return t;
}

}  // namespace stepgrad

// ---- printing ----

fmt::format_context::iterator fmt::formatter<stepgrad::Tensor>::format(
    const stepgrad::Tensor& t, fmt::format_context& ctx) const {
    constexpr std::size_t shown = 6;
    auto out = fmt::format_to(ctx.out(), "Tensor({}, {}×{}", t.op(), t.rows(), t.cols());
    auto show = [&](const char* label, std::span<const double> data) {
        out = fmt::format_to(out, ", {}=[", label);
        for (std::size_t i = 0; i < std::min(data.size(), shown); ++i)
            out = fmt::format_to(out, "{}{:.4f}", i ? " " : "", data[i]);
        out = fmt::format_to(out, "{}]", data.size() > shown ? " …" : "");
    };
    show("values", t.values());
    if (t.requires_grad()) show("grads", t.gradient());
    return fmt::format_to(out, ")");
}
