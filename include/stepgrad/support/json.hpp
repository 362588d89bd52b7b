#pragma once
// A small JSON library of our own: a value type, a strict parser and a streaming writer.
//
// It exists for the traces of SPEC §7 (`stepgrad-trace/1`), the golden traces the tests
// compare against, and checkpoints' metadata. Two promises matter more than features:
//   - every double is written in its shortest round-trip form and reads back to the
//     very same bits (an independent implementation recomputes traces to ~1e-12);
//   - the parser never crashes, whatever the input: errors are JsonError with
//     "line L, column C: expected …", nesting is bounded, it is fuzzed.
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace stepgrad {

// Parse errors carry the 1-based position (column counts characters, not bytes) and
// their message starts "line L, column C: "; errors from accessors and the writer have
// line() == 0.
class JsonError : public std::runtime_error {
public:
    explicit JsonError(const std::string& message, int line = 0, int column = 0);
    int line() const { return line_; }
    int column() const { return column_; }

private:
    int line_;
    int column_;
};

// Deeper input is rejected rather than recursed into, so hostile text cannot overflow
// the stack. Traces nest 4 deep.
inline constexpr int json_max_depth = 256;

class Json {
public:
    enum class Type { null, boolean, number, string, array, object };
    using Array = std::vector<Json>;
    // Objects keep their members in insertion (file) order; keys are unique.
    using Object = std::vector<std::pair<std::string, Json>>;

    Json() = default;  // null
    Json(std::nullptr_t) {}
    Json(bool b) : value_(b) {}
    Json(double x) : value_(Number{x, false}) {}
    template <std::integral T>
        requires(!std::same_as<T, bool>)
    Json(T n) : value_(Number{static_cast<double>(n), true}) {}
    Json(std::string s) : value_(std::move(s)) {}
    Json(std::string_view s) : value_(std::string(s)) {}
    Json(const char* s) : value_(std::string(s)) {}
    Json(Array a) : value_(std::move(a)) {}
    Json(Object o) : value_(std::move(o)) {}

    Type type() const;
    bool is_null() const { return type() == Type::null; }
    bool is_bool() const { return type() == Type::boolean; }
    bool is_number() const { return type() == Type::number; }
    bool is_string() const { return type() == Type::string; }
    bool is_array() const { return type() == Type::array; }
    bool is_object() const { return type() == Type::object; }
    // True for a number written without fraction or exponent ("5", not "5.0"):
    // the writer keeps the distinction so a file reads back byte for byte.
    bool is_integer() const;

    // Each as_* throws JsonError naming the expected and the actual type.
    bool as_bool() const;
    double as_number() const;
    // An integral number within int range ("3" or "3.0"; not "3.5" or "1e10").
    int as_int() const;
    const std::string& as_string() const;
    const Array& as_array() const;
    Array& as_array();
    const Object& as_object() const;
    Object& as_object();

    // Object access. at() throws JsonError naming the missing key and the keys present.
    bool contains(std::string_view key) const;
    const Json* find(std::string_view key) const;  // nullptr when absent
    const Json& at(std::string_view key) const;
    // Array access, bounds-checked.
    const Json& at(std::size_t index) const;
    // Elements of an array or members of an object; 0 for scalars.
    std::size_t size() const;

    // Appends to an object (replacing an existing key keeps its position) / an array.
    Json& set(std::string key, Json value);
    Json& push_back(Json value);

    friend bool operator==(const Json& a, const Json& b);

private:
    struct Number {
        double value;
        bool integer;
        friend bool operator==(const Number& a, const Number& b) { return a.value == b.value; }
    };
    std::variant<std::nullptr_t, bool, Number, std::string, Array, Object> value_{nullptr};

    friend class JsonParser;
};

std::string_view type_name(Json::Type type);

// Whole text must be one JSON value, optionally surrounded by whitespace.
Json parse_json(std::string_view text);
// Reads and parses a file; errors name the path.
Json read_json_file(const std::string& path);

// A streaming writer. Containers are laid out as `block` (one member per line, indented)
// or `line` (all on one line, ", " between items); anything inside a line container is
// on that line too. An `automatic` array decides at its first element: numbers and
// strings stay on one line, objects and arrays get a line each. The golden traces'
// layout: block at the top, line for every step and every parameter:
//     w.begin_object();
//     w.key("model").begin_object(JsonWriter::Layout::line);  …  w.end_object();
//     w.key("src").value(src_ids);                  // [6, 3, 7, 6, 2]
//     w.key("encoder").begin_array();               // a line per step
// Misuse (a key outside an object, a value without a key, unbalanced ends, a second
// top-level value) throws JsonError, and so does NaN or ±Inf: JSON cannot hold them.
class JsonWriter {
public:
    enum class Layout { block, line, automatic };

    // Writes into a string: take it with str() after finish().
    explicit JsonWriter(int indent = 1);
    // Writes to a stream in chunks; finish() flushes the rest.
    explicit JsonWriter(std::ostream& out, int indent = 1);

    JsonWriter& begin_object(Layout layout = Layout::block);
    JsonWriter& end_object();
    JsonWriter& begin_array(Layout layout = Layout::automatic);
    JsonWriter& end_array();
    JsonWriter& key(std::string_view name);

    JsonWriter& value(std::nullptr_t);
    JsonWriter& value(bool b);
    JsonWriter& value(double x);
    template <std::integral T>
        requires(!std::same_as<T, bool>)
    JsonWriter& value(T n) {
        if constexpr (std::is_signed_v<T>)
            return value_integer(static_cast<std::int64_t>(n));
        else
            return value_unsigned(static_cast<std::uint64_t>(n));
    }
    JsonWriter& value(std::string_view s);
    JsonWriter& value(const char* s) { return value(std::string_view(s)); }
    JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
    // Arrays of numbers or strings, on one line.
    JsonWriter& value(std::span<const double> xs);
    JsonWriter& value(std::span<const int> xs);
    JsonWriter& value(std::span<const std::string> xs);
    JsonWriter& value(const std::vector<double>& xs) { return value(std::span<const double>(xs)); }
    JsonWriter& value(const std::vector<int>& xs) { return value(std::span<const int>(xs)); }
    JsonWriter& value(const std::vector<std::string>& xs) {
        return value(std::span<const std::string>(xs));
    }
    // A whole value; objects are blocks down to block_depth levels (counted from this
    // value) when they contain containers, arrays as `automatic` — the golden layout.
    JsonWriter& value(const Json& json, int block_depth = 2);

    // Checks that exactly one complete value was written, ends with a newline, flushes.
    void finish();
    // The text written so far (string mode).
    const std::string& str() const { return buffer_; }

private:
    struct Frame {
        bool object;
        Layout layout;
        std::size_t count = 0;
        bool key_pending = false;
    };

    JsonWriter& value_integer(std::int64_t n);
    JsonWriter& value_unsigned(std::uint64_t n);
    void before_value(bool is_container);
    void begin(bool object, Layout layout);
    void end(bool object);
    void newline_indent(std::size_t depth);
    void write_string(std::string_view s);
    void write_double(double x);
    void maybe_flush();
    bool in_line() const;

    std::ostream* out_ = nullptr;
    int indent_;
    std::string buffer_;
    std::vector<Frame> stack_;
    std::string last_key_;
    bool done_ = false;
};

// Text of a value in the golden layout, ending with a newline.
std::string to_json_string(const Json& json, int indent = 1);

// A parameter or gradient in a trace: {"shape": [r, c], "data": [row-major …]}.
// A bias or vector is 1-D: {"shape": [n], …}.
struct JsonTensor {
    std::vector<std::size_t> shape;
    std::vector<double> data;
};
// Checks the shape entries are non-negative integers whose product is data's length;
// `what` (e.g. "params.encoder.W_ih") goes into error messages.
JsonTensor read_tensor(const Json& json, std::string_view what = "tensor");
// Writes {"shape": […], "data": […]} on one line.
void write_tensor(JsonWriter& writer, std::span<const std::size_t> shape,
                  std::span<const double> data);

}  // namespace stepgrad
