#pragma once
// The tensor core: dense 2-D row-major tensors of double, recorded on a tape.
//
// Dimension letters used across stepgrad (SPEC §4):
//   B batch size, m source length, n target length,
//   E embedding size, H hidden size, A attention size, V vocabulary size.
// A vector is 1×n; a batch of vectors is B×n, one row per example.
//
// How it works. Every op appends one entry to the calling thread's Tape: its name, its
// shape, pointers to its values and gradients (carved from an arena the tape reuses
// from step to step), and a small closure that knows how to push the output's gradient
// back to the inputs. `Tape::backward(loss)` walks the entries in reverse. A `Tensor`
// is only a handle (an index into the tape), so copying one is free and a closure that
// captures tensors owns nothing: no reference cycles, no heap allocation per op.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

namespace stepgrad {

class Rng;
class Tensor;

// Thrown when an op gets shapes it cannot combine; the message names the op and
// both shapes, e.g. "matmul: shapes (2, 3) and (4, 5) do not match: cols of a != rows of b".
class ShapeError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// A handle to one tensor on the current tape. Cheap to copy; valid until the tape is
// reset (using it afterwards throws instead of reading stale memory).
class Tensor {
public:
    Tensor() = default;

    int rows() const;
    int cols() const;
    std::size_t size() const;
    const char* op() const;
    bool requires_grad() const;
    bool defined() const { return id_ != undefined; }

    // Values, row-major. A span into the tape: valid until reset.
    std::span<double> values() const;
    double value(std::size_t i) const { return values()[i]; }
    double at(int row, int col) const { return values()[index(row, col)]; }
    std::vector<double> to_vector() const;
    // The gradient a backward closure adds into (+=): zeroed the first time backward
    // touches it. Ops use these; to read a gradient, use gradient().
    std::span<double> grads() const;
    double& grad(std::size_t i) const { return grads()[i]; }
    // d loss / d this tensor after backward, as it stands: zeros where no gradient
    // reached. Reading it never changes the tape.
    std::vector<double> gradient() const;
    double grad_at(int row, int col) const { return gradient()[index(row, col)]; }
    // One row as a vector: the lessons print states and scores row by row.
    std::vector<double> row(int r) const;

    std::uint32_t id() const { return id_; }

private:
    friend class Tape;
    static constexpr std::uint32_t undefined = 0xffffffffu;
    Tensor(std::uint32_t id, std::uint32_t generation) : id_(id), generation_(generation) {}
    std::size_t index(int row, int col) const;

    std::uint32_t id_ = undefined;
    std::uint32_t generation_ = 0;
};
static_assert(std::is_trivially_copyable_v<Tensor>);

// An op's backward step, stored inline in its tape entry.
// Only trivially copyable captures fit (Tensor handles, numbers, pointers into the
// tape's arena): recording an op must never allocate, and entries move with memcpy.
class Backward {
public:
    Backward() = default;

    template <class F>
        requires std::is_invocable_v<const F&, Tensor>
    Backward(F function) {  // NOLINT: implicit on purpose, ops pass lambdas
        static_assert(std::is_trivially_copyable_v<F> && std::is_trivially_destructible_v<F>,
                      "a backward closure may capture only Tensor handles, numbers and "
                      "pointers into the tape (use Tape::save for arrays)");
        static_assert(sizeof(F) <= capacity, "backward closure captures too much");
        static_assert(alignof(F) <= alignof(std::max_align_t));
        new (storage_) F(function);
        call_ = [](const void* self, Tensor out) { (*static_cast<const F*>(self))(out); };
    }

    explicit operator bool() const { return call_ != nullptr; }
    void operator()(Tensor out) const;

private:
    static constexpr std::size_t capacity = 56;
    alignas(std::max_align_t) unsigned char storage_[capacity]{};
    void (*call_)(const void*, Tensor) = nullptr;
};


// A learnable matrix (or vector) that outlives the tape: it owns its values and the
// gradient accumulated into them. `use()` puts it on the current tape as a leaf whose
// values and gradients *are* the parameter's, so backward writes straight into `grad`.
class Parameter {
public:
    // is_vector: a bias or vector, 1-D in traces and checkpoints (stored as 1×cols).
    Parameter(std::string name, int rows, int cols, bool is_vector = false);

    const std::string& name() const { return name_; }
    int rows() const { return rows_; }
    int cols() const { return cols_; }
    bool is_vector() const { return is_vector_; }
    std::size_t size() const { return value.size(); }

    Tensor use();
    void zero_grad();
    // uniform(−bound, bound), PyTorch's RNN initialisation with bound = 1/√H.
    void init_uniform(Rng& rng, double bound);

    std::vector<double> value;
    std::vector<double> grad;

private:
    std::string name_;
    int rows_;
    int cols_;
    bool is_vector_;
};

// A bump allocator that is rewound, not freed, between steps: after the first step
// the same blocks serve every later step, so training allocates nothing per op.
template <class T>
class Arena {
public:
    T* allocate(std::size_t count);
    void rewind() { block_ = 0, used_ = 0; }
    std::size_t capacity() const;

private:
    struct Block {
        std::unique_ptr<T[]> data;
        std::size_t size;
    };
    std::vector<Block> blocks_;
    std::size_t block_ = 0;
    std::size_t used_ = 0;
};

struct TapeEntry {
    const char* op;
    int rows;
    int cols;
    double* value;
    // A parameter's gradient (or its home's); for a tensor that owns its gradient, memory
    // from the tape's gradient pool given when backward first reaches it (null before);
    // unused by an alias, whose gradient is its owner's at the offset of its values.
    double* grad;
    bool requires_grad;
    bool owns_grad;  // false for parameters and aliases: the tape must not zero them
    // Gradients are zeroed when first touched, not all at once before backward: the
    // zeroing then happens while the memory is about to be used (in cache), and a
    // tensor no gradient reaches is never zeroed nor its backward run. grad_owner is
    // the entry whose storage holds this gradient (an alias's source, or itself).
    bool grad_ready;
    std::uint32_t grad_owner;
    Backward backward;
};

class Tape {
public:
    // A new tensor of the given shape, values uninitialised. requires_grad is true when
    // any input requires it; only then is a backward closure kept.
    Tensor record(const char* op, int rows, int cols, std::initializer_list<Tensor> inputs);
    Tensor record(const char* op, int rows, int cols, std::span<const Tensor> inputs);
    // A tensor holding data that needs no gradient (inputs, masks, targets).
    Tensor constant(int rows, int cols, std::span<const double> data);
    // A parameter as a leaf: its values are the parameter's own, and so is its gradient
    // unless set_gradient_homes gave it another home.
    Tensor leaf(Parameter& parameter);
    // From now on, the gradient of parameters[i]'s leaves on this tape accumulates in
    // homes[i] (parameters[i]'s size), not in the parameter's own: threads that share a model
    // each sum their shard's gradients apart (train_step with threads). Empty spans: own again.
    void set_gradient_homes(std::span<Parameter* const> parameters, std::span<double* const> homes);
    // A view of `source`'s storage from entry `offset` on, with another shape: row-major
    // data does not move, so reshape and row slices cost nothing and need no backward.
    Tensor alias(const char* op, Tensor source, std::size_t offset, int rows, int cols);
    void on_backward(Tensor output, Backward backward);

    // The one way an op keeps an array for its backward (token ids, a mask, the parts of
    // a concat, a fused op's intermediate values): in the tape's arena, rewound with the
    // tape, so the closure captures only a span. save(data) copies; save_space<T>(count)
    // is room the op fills in its forward.
    template <class Range>
    auto save(const Range& data);
    template <class T>
    std::span<T> save_space(std::size_t count);

    // d loss / d every tensor that requires grad. loss must be 1×1. Gradients of the
    // tape's own tensors are zeroed first, so calling backward twice gives the same
    // intermediate gradients; parameter gradients accumulate (as in PyTorch) until
    // Parameter::zero_grad.
    // With KeepGradients::parameters_only, a tensor's gradient is gone once its op's
    // backward has read it: its memory goes back to a pool that serves the gradients reached
    // later, so a step's gradients take a few tensors' room, not one per tensor, and stay
    // in cache (train_step; the lessons' printouts keep them all).
    enum class KeepGradients { all, parameters_only };
    void backward(Tensor loss, KeepGradients keep = KeepGradients::all);
    // Forget every tensor; keep the memory for the next step.
    void reset();
    // Counts the resets: a Tensor handle is valid only on the generation that made it.
    std::uint32_t generation() const { return generation_; }

    std::size_t size() const { return entries_.size(); }
    std::size_t arena_bytes() const;
    // Bytes this step's tensors (values and a gradient each, as when all are kept) and saved
    // arrays use (not what the arena keeps for later steps): what memory a step needs.
    std::size_t bytes_used() const { return bytes_used_ + entries_.size() * sizeof(TapeEntry); }
    const TapeEntry& entry(Tensor t) const;
    const TapeEntry& entry_at(std::size_t id) const { return entries_.at(id); }
    // t's gradient, zeroed first if nothing has touched it since backward began.
    std::span<double> grads(Tensor t);
    // t's gradient for a backward that writes every entry of it: when no backward has
    // touched it yet, `fresh` is true and the span holds old numbers to overwrite (so the
    // zeroing pass and the read of those zeros are skipped: a tenth of a Transformer step);
    // otherwise it is grads(t), to add to. Only a tensor that owns its whole gradient
    // (not a view into another's) can be fresh.
    struct GradientSlot {
        std::span<double> values;
        bool fresh;
    };
    GradientSlot gradient_slot(Tensor t);
    // t's gradient if backward has touched it, else an empty span; changes nothing.
    std::span<const double> touched_grads(Tensor t) const;
    // The first entry (in tape order) whose values, or gradients, hold NaN or ±Inf:
    // names the op where training went wrong. Returns nullptr when all are finite
    // (a gradient never touched is 0).
    const TapeEntry* first_non_finite(bool gradients) const;

private:
    // the gradient of entry e: its owner's storage at e's offset, the owner's given first
    double* gradient_of(const TapeEntry& e);
    void release_gradient(TapeEntry& owner);

    std::vector<TapeEntry> entries_;
    std::vector<std::pair<const Parameter*, double*>> gradient_homes_;
    Arena<double> numbers_;
    Arena<double> gradients_;
    // released gradients by size, for the next gradient of that size
    std::vector<std::pair<std::size_t, std::vector<double*>>> free_gradients_;
    Arena<std::byte> saved_;
    std::size_t bytes_used_ = 0;
    std::uint32_t generation_ = 1;
};

// The calling thread's tape.
Tape& tape();

// Tensors that need no gradient.
Tensor constant(int rows, int cols, std::span<const double> data);
Tensor zeros(int rows, int cols);
Tensor full(int rows, int cols, double value);

inline void Backward::operator()(Tensor out) const { call_(storage_, out); }

template <class T>
std::span<T> Tape::save_space(std::size_t count) {
    static_assert(std::is_trivially_copyable_v<T> && alignof(T) <= alignof(std::max_align_t));
    // whole multiples of the largest alignment keep every saved array aligned
    constexpr std::size_t align = alignof(std::max_align_t);
    const std::size_t bytes = (std::max<std::size_t>(count * sizeof(T), 1) + align - 1) / align * align;
    bytes_used_ += bytes;
    return {reinterpret_cast<T*>(saved_.allocate(bytes)), count};
}

template <class Range>
auto Tape::save(const Range& data) {
    using T = std::remove_cv_t<std::ranges::range_value_t<Range>>;
    const std::span<T> copy = save_space<T>(std::ranges::size(data));
    std::ranges::copy(data, copy.begin());
    return std::span<const T>(copy);
}

template <class T>
T* Arena<T>::allocate(std::size_t count) {
    for (; block_ < blocks_.size(); ++block_, used_ = 0) {
        if (used_ + count <= blocks_[block_].size) {
            T* result = blocks_[block_].data.get() + used_;
            used_ += count;
            return result;
        }
    }
    const std::size_t last = blocks_.empty() ? 0 : blocks_.back().size;
    const std::size_t size = std::max({count, std::size_t{1} << 14, 2 * last});
    blocks_.push_back({std::make_unique_for_overwrite<T[]>(size), size});
    block_ = blocks_.size() - 1;
    used_ = count;
    return blocks_.back().data.get();
}

template <class T>
std::size_t Arena<T>::capacity() const {
    std::size_t total = 0;
    for (const auto& block : blocks_) total += block.size;
    return total;
}

}  // namespace stepgrad

// fmt::print("{}", t) shows shape, op and a cut-down view of values and gradients.
template <>
struct fmt::formatter<stepgrad::Tensor> : fmt::formatter<std::string_view> {
    fmt::format_context::iterator format(const stepgrad::Tensor& t, fmt::format_context& ctx) const;
};
