#include "stepgrad/support/json.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <ostream>
#include <sstream>
#include <unordered_set>

namespace stepgrad {

JsonError::JsonError(const std::string& message, int line, int column)
    : std::runtime_error(message), line_(line), column_(column) {}

// ---------------------------------------------------------------------------------
// The value
// ---------------------------------------------------------------------------------

std::string_view type_name(Json::Type type) {
    switch (type) {
        case Json::Type::null: return "null";
        case Json::Type::boolean: return "a boolean";
        case Json::Type::number: return "a number";
        case Json::Type::string: return "a string";
        case Json::Type::array: return "an array";
        case Json::Type::object: return "an object";
    }
    return "?";
}

Json::Type Json::type() const { return static_cast<Type>(value_.index()); }

namespace {

[[noreturn]] void wrong_type(std::string_view expected, Json::Type actual) {
    throw JsonError(fmt::format("expected {}, got {}", expected, type_name(actual)));
}

}  // namespace

bool Json::is_integer() const {
    const auto* n = std::get_if<Number>(&value_);
    return n != nullptr && n->integer;
}

bool Json::as_bool() const {
    if (const auto* b = std::get_if<bool>(&value_)) return *b;
    wrong_type("a boolean", type());
}

double Json::as_number() const {
    if (const auto* n = std::get_if<Number>(&value_)) return n->value;
    wrong_type("a number", type());
}

int Json::as_int() const {
    const double x = as_number();
    if (x != std::floor(x) || x < std::numeric_limits<int>::min() ||
        x > std::numeric_limits<int>::max())
        throw JsonError(fmt::format("expected an integer, got {}", x));
    return static_cast<int>(x);
}

const std::string& Json::as_string() const {
    if (const auto* s = std::get_if<std::string>(&value_)) return *s;
    wrong_type("a string", type());
}

const Json::Array& Json::as_array() const {
    if (const auto* a = std::get_if<Array>(&value_)) return *a;
    wrong_type("an array", type());
}

Json::Array& Json::as_array() {
    if (auto* a = std::get_if<Array>(&value_)) return *a;
    wrong_type("an array", type());
}

const Json::Object& Json::as_object() const {
    if (const auto* o = std::get_if<Object>(&value_)) return *o;
    wrong_type("an object", type());
}

Json::Object& Json::as_object() {
    if (auto* o = std::get_if<Object>(&value_)) return *o;
    wrong_type("an object", type());
}

const Json* Json::find(std::string_view key) const {
    for (const auto& [name, value] : as_object())
        if (name == key) return &value;
    return nullptr;
}

bool Json::contains(std::string_view key) const { return is_object() && find(key) != nullptr; }

const Json& Json::at(std::string_view key) const {
    if (const Json* found = find(key)) return *found;
    std::string present;
    for (const auto& member : as_object()) {
        if (present.size() > 200) {
            present += ", …";
            break;
        }
        present += present.empty() ? "" : ", ";
        present += member.first;
    }
    throw JsonError(fmt::format("missing key \"{}\" (the object has: {})", key,
                                present.empty() ? "no keys" : present));
}

const Json& Json::at(std::size_t index) const {
    const Array& array = as_array();
    if (index >= array.size())
        throw JsonError(fmt::format("index {} out of range: the array has {} elements", index,
                                    array.size()));
    return array[index];
}

std::size_t Json::size() const {
    if (const auto* a = std::get_if<Array>(&value_)) return a->size();
    if (const auto* o = std::get_if<Object>(&value_)) return o->size();
    return 0;
}

Json& Json::set(std::string key, Json value) {
    if (is_null()) value_ = Object{};
    Object& object = as_object();
    for (auto& member : object)
        if (member.first == key) return member.second = std::move(value);
    object.emplace_back(std::move(key), std::move(value));
    return object.back().second;
}

Json& Json::push_back(Json value) {
    if (is_null()) value_ = Array{};
    Array& array = as_array();
    array.push_back(std::move(value));
    return array.back();
}

bool operator==(const Json& a, const Json& b) { return a.value_ == b.value_; }

// ---------------------------------------------------------------------------------
// The parser: recursive descent over RFC 8259, depth-bounded.
// ---------------------------------------------------------------------------------

class JsonParser {
public:
    explicit JsonParser(std::string_view text) : text_(text) {}

    Json parse_document() {
        skip_whitespace();
        Json value = parse_value(0);
        skip_whitespace();
        if (pos_ < text_.size()) fail("expected end of input after the JSON value");
        return value;
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;

    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return text_[pos_]; }

    // What is at pos_, for "expected X, got Y".
    std::string describe_here() const {
        if (at_end()) return "end of input";
        const auto c = static_cast<unsigned char>(peek());
        if (c >= 0x20 && c < 0x7f) return fmt::format("'{}'", static_cast<char>(c));
        return fmt::format("byte 0x{:02x}", c);
    }

    // Line and column are computed only on error, so the hot path stays a byte scan.
    [[noreturn]] void fail(const std::string& what) const { fail_at(pos_, what); }
    [[noreturn]] void fail_at(std::size_t at, const std::string& what) const {
        int line = 1;
        int column = 1;
        for (std::size_t i = 0; i < at && i < text_.size(); ++i) {
            const auto c = static_cast<unsigned char>(text_[i]);
            if (c == '\n') {
                ++line;
                column = 1;
            } else if ((c & 0xC0) != 0x80) {  // continuation bytes do not start a character
                ++column;
            }
        }
        throw JsonError(fmt::format("line {}, column {}: {}", line, column, what), line, column);
    }
    [[noreturn]] void expected(std::string_view what) const {
        fail(fmt::format("expected {}, got {}", what, describe_here()));
    }

    void skip_whitespace() {
        while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r'))
            ++pos_;
    }

    Json parse_value(int depth) {
        if (at_end()) expected("a value");
        switch (peek()) {
            case '{': return parse_object(depth + 1);
            case '[': return parse_array(depth + 1);
            case '"': return Json(parse_string());
            case 't': return parse_literal("true", Json(true));
            case 'f': return parse_literal("false", Json(false));
            case 'n': return parse_literal("null", Json(nullptr));
            default:
                if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return parse_number();
                expected("a value (object, array, string, number, true, false or null)");
        }
    }

    Json parse_literal(std::string_view word, Json value) {
        if (text_.substr(pos_, word.size()) != word) expected(fmt::format("'{}'", word));
        pos_ += word.size();
        return value;
    }

    void check_depth(int depth) const {
        if (depth > json_max_depth)
            fail(fmt::format("nesting deeper than {} levels", json_max_depth));
    }

    Json parse_array(int depth) {
        check_depth(depth);
        ++pos_;  // '['
        Json::Array array;
        skip_whitespace();
        if (!at_end() && peek() == ']') {
            ++pos_;
            return Json(std::move(array));
        }
        while (true) {
            skip_whitespace();
            array.push_back(parse_value(depth));
            skip_whitespace();
            if (at_end()) expected("',' or ']' in array");
            if (peek() == ']') break;
            if (peek() != ',') expected("',' or ']' in array");
            ++pos_;
        }
        ++pos_;
        return Json(std::move(array));
    }

    Json parse_object(int depth) {
        check_depth(depth);
        ++pos_;  // '{'
        Json::Object object;
        std::unordered_set<std::string> seen;
        skip_whitespace();
        if (!at_end() && peek() == '}') {
            ++pos_;
            return Json(std::move(object));
        }
        while (true) {
            skip_whitespace();
            if (at_end() || peek() != '"') expected("a string key in object");
            const std::size_t key_pos = pos_;
            std::string key = parse_string();
            if (!seen.insert(key).second)
                fail_at(key_pos, fmt::format("duplicate key \"{}\" in object", key));
            skip_whitespace();
            if (at_end() || peek() != ':') expected("':' after object key");
            ++pos_;
            skip_whitespace();
            Json value = parse_value(depth);
            object.emplace_back(std::move(key), std::move(value));
            skip_whitespace();
            if (at_end()) expected("',' or '}' in object");
            if (peek() == '}') break;
            if (peek() != ',') expected("',' or '}' in object");
            ++pos_;
        }
        ++pos_;
        return Json(std::move(object));
    }

    // Grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    // std::from_chars then converts with correct rounding (it would also accept
    // "inf", "01" or "1.", hence the explicit scan first).
    Json parse_number() {
        const std::size_t start = pos_;
        auto digits = [&] {
            const std::size_t from = pos_;
            while (!at_end() && peek() >= '0' && peek() <= '9') ++pos_;
            return pos_ - from;
        };
        if (peek() == '-') ++pos_;
        const std::size_t int_start = pos_;
        const std::size_t int_digits = digits();
        if (int_digits == 0) expected("a digit");
        if (int_digits > 1 && text_[int_start] == '0')
            fail_at(int_start, "leading zeros are not allowed in numbers");
        bool integer = true;
        if (!at_end() && peek() == '.') {
            ++pos_;
            if (digits() == 0) expected("a digit after '.'");
            integer = false;
        }
        if (!at_end() && (peek() == 'e' || peek() == 'E')) {
            ++pos_;
            if (!at_end() && (peek() == '+' || peek() == '-')) ++pos_;
            if (digits() == 0) expected("a digit in the exponent");
            integer = false;
        }
        const char* first = text_.data() + start;
        const char* last = text_.data() + pos_;
        double x = 0;
        const auto [end, ec] = std::from_chars(first, last, x);
        if (ec == std::errc::result_out_of_range) {
            if (!underflows(std::string_view(first, last - first)))
                fail_at(start, "number too large for a double");
            x = *first == '-' ? -0.0 : 0.0;
        } else if (ec != std::errc() || end != last) {
            fail_at(start, "malformed number");
        }
        Json json(x);
        // "-0" stays a double: an integer would lose its sign.
        if (integer && std::abs(x) <= 9007199254740992.0 && !(x == 0 && std::signbit(x)))
            json = Json(static_cast<std::int64_t>(x));
        return json;
    }

    // Out of range one way or the other: the decimal exponent of the leading digit says
    // which (1e-400 underflows to 0 as in IEEE arithmetic; 1e400 is an error).
    static bool underflows(std::string_view number) {
        long long magnitude = 0;  // decimal exponent of the first significant digit
        bool seen_nonzero = false;
        bool after_point = false;
        std::size_t i = number[0] == '-' ? 1 : 0;
        for (; i < number.size() && number[i] != 'e' && number[i] != 'E'; ++i) {
            if (number[i] == '.') {
                after_point = true;
            } else if (!seen_nonzero) {
                if (number[i] != '0') {
                    seen_nonzero = true;
                    if (after_point) ++magnitude;  // was counting leading fraction zeros
                } else if (after_point) {
                    --magnitude;
                }
            } else if (!after_point) {
                ++magnitude;
            }
        }
        if (!seen_nonzero) return true;
        long long exponent = 0;
        if (i < number.size()) {
            std::size_t j = i + 1;
            const bool negative = number[j] == '-';
            if (number[j] == '+' || number[j] == '-') ++j;
            for (; j < number.size(); ++j) {
                exponent = std::min<long long>(exponent * 10 + (number[j] - '0'), 1'000'000'000);
            }
            if (negative) exponent = -exponent;
        }
        return magnitude + exponent < 0;
    }

    unsigned parse_hex4() {
        unsigned code = 0;
        for (int k = 0; k < 4; ++k) {
            if (at_end()) expected("4 hex digits after \\u");
            const char c = peek();
            unsigned digit = 0;
            if (c >= '0' && c <= '9')
                digit = c - '0';
            else if (c >= 'a' && c <= 'f')
                digit = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F')
                digit = c - 'A' + 10;
            else
                expected("4 hex digits after \\u");
            code = code * 16 + digit;
            ++pos_;
        }
        return code;
    }

    static void append_utf8(std::string& out, unsigned code) {
        if (code < 0x80) {
            out += static_cast<char>(code);
        } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else if (code < 0x10000) {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (code >> 18));
            out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        }
    }

    // \uD83D\uDE00 is one character (U+1F600) written as a UTF-16 surrogate pair.
    void parse_unicode_escape(std::string& out) {
        const std::size_t escape_pos = pos_ - 2;
        unsigned code = parse_hex4();
        if (code >= 0xDC00 && code <= 0xDFFF)
            fail_at(escape_pos, "lone low surrogate in \\u escape");
        if (code >= 0xD800 && code <= 0xDBFF) {
            if (text_.substr(pos_, 2) != "\\u")
                fail_at(escape_pos, "high surrogate \\u escape not followed by a low surrogate");
            pos_ += 2;
            const unsigned low = parse_hex4();
            if (low < 0xDC00 || low > 0xDFFF)
                fail_at(escape_pos, "high surrogate \\u escape not followed by a low surrogate");
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(out, code);
    }

    // Copies one UTF-8 encoded character, rejecting overlong forms, surrogates and
    // bytes that cannot start or continue a character.
    void copy_utf8_char(std::string& out) {
        const auto lead = static_cast<unsigned char>(peek());
        int length = 0;
        unsigned code = 0;
        if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2;
            code = lead & 0x1F;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3;
            code = lead & 0x0F;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4;
            code = lead & 0x07;
        } else {
            fail(fmt::format("invalid UTF-8 byte 0x{:02x} in string", lead));
        }
        if (pos_ + length > text_.size()) fail("truncated UTF-8 character in string");
        for (int k = 1; k < length; ++k) {
            const auto c = static_cast<unsigned char>(text_[pos_ + k]);
            if ((c & 0xC0) != 0x80) fail("invalid UTF-8 continuation byte in string");
            code = (code << 6) | (c & 0x3F);
        }
        const bool overlong = (length == 3 && code < 0x800) || (length == 4 && code < 0x10000);
        if (overlong || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF)
            fail("invalid UTF-8 sequence in string");
        out.append(text_.substr(pos_, length));
        pos_ += length;
    }

    std::string parse_string() {
        const std::size_t open = pos_;
        ++pos_;  // '"'
        std::string out;
        while (true) {
            if (at_end()) fail_at(open, "unterminated string");
            const auto c = static_cast<unsigned char>(peek());
            if (c == '"') break;
            if (c < 0x20) fail("control character in string (write it as an escape)");
            if (c >= 0x80) {
                copy_utf8_char(out);
                continue;
            }
            ++pos_;
            if (c != '\\') {
                out += static_cast<char>(c);
                continue;
            }
            if (at_end()) fail_at(open, "unterminated string");
            const char e = peek();
            ++pos_;
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': parse_unicode_escape(out); break;
                default:
                    --pos_;
                    expected("an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
            }
        }
        ++pos_;
        return out;
    }
};

Json parse_json(std::string_view text) { return JsonParser(text).parse_document(); }

Json read_json_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw JsonError(fmt::format("cannot open {}", path));
    std::ostringstream contents;
    contents << in.rdbuf();
    if (in.bad()) throw JsonError(fmt::format("cannot read {}", path));
    try {
        return parse_json(contents.str());
    } catch (const JsonError& e) {
        throw JsonError(fmt::format("{}: {}", path, e.what()), e.line(), e.column());
    }
}

// ---------------------------------------------------------------------------------
// The writer
// ---------------------------------------------------------------------------------

JsonWriter::JsonWriter(int indent) : indent_(indent) {}

JsonWriter::JsonWriter(std::ostream& out, int indent) : out_(&out), indent_(indent) {}

bool JsonWriter::in_line() const {
    for (const Frame& frame : stack_)
        if (frame.layout == Layout::line) return true;
    return false;
}

void JsonWriter::newline_indent(std::size_t depth) {
    buffer_ += '\n';
    buffer_.append(depth * static_cast<std::size_t>(indent_), ' ');
}

// Everything a value needs before it: the check that one is allowed here, the comma,
// the line break or space. A key has already written its own separator.
void JsonWriter::before_value(bool is_container) {
    if (stack_.empty()) {
        if (done_) throw JsonError("JsonWriter: a second top-level value");
        return;
    }
    Frame& frame = stack_.back();
    if (frame.object) {
        if (!frame.key_pending) throw JsonError("JsonWriter: a value in an object needs a key()");
        frame.key_pending = false;
        return;
    }
    if (frame.layout == Layout::automatic)
        frame.layout = is_container && !in_line() ? Layout::block : Layout::line;
    if (frame.count > 0) buffer_ += ',';
    if (frame.layout == Layout::block)
        newline_indent(stack_.size());
    else if (frame.count > 0)
        buffer_ += ' ';
    ++frame.count;
}

JsonWriter& JsonWriter::key(std::string_view name) {
    if (stack_.empty() || !stack_.back().object)
        throw JsonError(fmt::format("JsonWriter: key \"{}\" outside an object", name));
    Frame& frame = stack_.back();
    if (frame.key_pending)
        throw JsonError(fmt::format("JsonWriter: key \"{}\" right after another key", name));
    if (frame.count > 0) buffer_ += ',';
    if (frame.layout == Layout::block)
        newline_indent(stack_.size());
    else if (frame.count > 0)
        buffer_ += ' ';
    write_string(name);
    buffer_ += ": ";
    frame.key_pending = true;
    ++frame.count;
    last_key_ = name;
    return *this;
}

void JsonWriter::begin(bool object, Layout layout) {
    before_value(true);
    if (object && layout == Layout::automatic) layout = Layout::block;
    if (in_line()) layout = Layout::line;
    stack_.push_back(Frame{object, layout});
    buffer_ += object ? '{' : '[';
}

void JsonWriter::end(bool object) {
    const char* what = object ? "end_object" : "end_array";
    if (stack_.empty() || stack_.back().object != object)
        throw JsonError(fmt::format("JsonWriter: {} without a matching begin", what));
    const Frame frame = stack_.back();
    if (frame.key_pending)
        throw JsonError(fmt::format("JsonWriter: {} right after key \"{}\"", what, last_key_));
    stack_.pop_back();
    if (frame.layout == Layout::block && frame.count > 0) newline_indent(stack_.size());
    buffer_ += object ? '}' : ']';
    if (stack_.empty()) done_ = true;
    maybe_flush();
}

JsonWriter& JsonWriter::begin_object(Layout layout) {
    begin(true, layout);
    return *this;
}
JsonWriter& JsonWriter::end_object() {
    end(true);
    return *this;
}
JsonWriter& JsonWriter::begin_array(Layout layout) {
    begin(false, layout);
    return *this;
}
JsonWriter& JsonWriter::end_array() {
    end(false);
    return *this;
}

void JsonWriter::write_string(std::string_view s) {
    buffer_ += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': buffer_ += "\\\""; break;
            case '\\': buffer_ += "\\\\"; break;
            case '\n': buffer_ += "\\n"; break;
            case '\r': buffer_ += "\\r"; break;
            case '\t': buffer_ += "\\t"; break;
            case '\b': buffer_ += "\\b"; break;
            case '\f': buffer_ += "\\f"; break;
            default:
                // UTF-8 passes through: "汤姆" stays readable in the file.
                if (c < 0x20)
                    fmt::format_to(std::back_inserter(buffer_), "\\u{:04x}", c);
                else
                    buffer_ += ch;
        }
    }
    buffer_ += '"';
}

// fmt's "{}" is the shortest text that reads back to the same double (Ryu-like, as
// Python's repr). Integral values get ".0" so 0.0 stays a float for Python readers
// and the golden files (written by Python) are reproduced byte for byte.
void JsonWriter::write_double(double x) {
    if (!std::isfinite(x))
        throw JsonError(fmt::format("JsonWriter: cannot write {} (at key \"{}\"): JSON has no "
                                    "NaN or Infinity",
                                    x, last_key_));
    const std::size_t start = buffer_.size();
    fmt::format_to(std::back_inserter(buffer_), "{}", x);
    if (buffer_.find_first_of(".e", start) == std::string::npos) buffer_ += ".0";
}

JsonWriter& JsonWriter::value(std::nullptr_t) {
    before_value(false);
    buffer_ += "null";
    if (stack_.empty()) done_ = true;
    return *this;
}

JsonWriter& JsonWriter::value(bool b) {
    before_value(false);
    buffer_ += b ? "true" : "false";
    if (stack_.empty()) done_ = true;
    return *this;
}

JsonWriter& JsonWriter::value(double x) {
    if (!std::isfinite(x)) write_double(x);  // throws before anything is written
    before_value(false);
    write_double(x);
    if (stack_.empty()) done_ = true;
    return *this;
}

JsonWriter& JsonWriter::value_integer(std::int64_t n) {
    before_value(false);
    fmt::format_to(std::back_inserter(buffer_), "{}", n);
    if (stack_.empty()) done_ = true;
    return *this;
}

JsonWriter& JsonWriter::value_unsigned(std::uint64_t n) {
    before_value(false);
    fmt::format_to(std::back_inserter(buffer_), "{}", n);
    if (stack_.empty()) done_ = true;
    return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
    before_value(false);
    write_string(s);
    if (stack_.empty()) done_ = true;
    return *this;
}

JsonWriter& JsonWriter::value(std::span<const double> xs) {
    for (const double x : xs)
        if (!std::isfinite(x)) write_double(x);  // throws before anything is written
    begin_array(Layout::line);
    for (const double x : xs) value(x);
    return end_array();
}

JsonWriter& JsonWriter::value(std::span<const int> xs) {
    begin_array(Layout::line);
    for (const int x : xs) value(x);
    return end_array();
}

JsonWriter& JsonWriter::value(std::span<const std::string> xs) {
    begin_array(Layout::line);
    for (const std::string& x : xs) value(std::string_view(x));
    return end_array();
}

namespace {

bool has_container(const Json& json) {
    if (json.is_array()) {
        for (const Json& item : json.as_array())
            if (item.is_array() || item.is_object()) return true;
    } else if (json.is_object()) {
        for (const auto& member : json.as_object())
            if (member.second.is_array() || member.second.is_object()) return true;
    }
    return false;
}

}  // namespace

// Recursion is bounded by the value's depth, which parse_json limits to json_max_depth.
JsonWriter& JsonWriter::value(const Json& json, int block_depth) {
    const bool block = block_depth > 0 && (stack_.empty() || has_container(json));
    switch (json.type()) {
        case Json::Type::null: return value(nullptr);
        case Json::Type::boolean: return value(json.as_bool());
        case Json::Type::number:
            if (json.is_integer())
                return value_integer(static_cast<std::int64_t>(json.as_number()));
            return value(json.as_number());
        case Json::Type::string: return value(std::string_view(json.as_string()));
        case Json::Type::array:
            begin_array(block ? Layout::block : Layout::line);
            for (const Json& item : json.as_array()) value(item, block_depth - 1);
            return end_array();
        case Json::Type::object:
            begin_object(block ? Layout::block : Layout::line);
            for (const auto& [name, item] : json.as_object()) {
                key(name);
                value(item, block_depth - 1);
            }
            return end_object();
    }
    return *this;
}

void JsonWriter::maybe_flush() {
    if (out_ != nullptr && buffer_.size() >= (1u << 16)) {
        out_->write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
        buffer_.clear();
    }
}

void JsonWriter::finish() {
    if (!stack_.empty())
        throw JsonError(fmt::format("JsonWriter: finish() with {} unclosed container(s)",
                                    stack_.size()));
    if (!done_) throw JsonError("JsonWriter: finish() before any value was written");
    buffer_ += '\n';
    if (out_ != nullptr) {
        out_->write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
        buffer_.clear();
        out_->flush();
        if (!*out_) throw JsonError("JsonWriter: writing to the stream failed");
    }
}

std::string to_json_string(const Json& json, int indent) {
    JsonWriter writer(indent);
    writer.value(json);
    writer.finish();
    return writer.str();
}

// ---------------------------------------------------------------------------------
// {"shape": [...], "data": [...]}
// ---------------------------------------------------------------------------------

JsonTensor read_tensor(const Json& json, std::string_view what) {
    try {
        JsonTensor tensor;
        std::size_t count = 1;
        for (const Json& dim : json.at("shape").as_array()) {
            const double d = dim.as_number();
            if (d < 0 || d != std::floor(d) || d > 1e9)
                throw JsonError(fmt::format("shape entry {} is not a size", d));
            tensor.shape.push_back(static_cast<std::size_t>(d));
            count *= tensor.shape.back();
            if (count > 1'000'000'000) throw JsonError("shape too large");
        }
        if (tensor.shape.empty()) throw JsonError("shape is empty");
        const Json::Array& data = json.at("data").as_array();
        if (data.size() != count)
            throw JsonError(fmt::format("data has {} numbers but the shape needs {}",
                                        data.size(), count));
        tensor.data.reserve(count);
        for (const Json& x : data) tensor.data.push_back(x.as_number());
        return tensor;
    } catch (const JsonError& e) {
        throw JsonError(fmt::format("{}: {}", what, e.what()));
    }
}

void write_tensor(JsonWriter& writer, std::span<const std::size_t> shape,
                  std::span<const double> data) {
    writer.begin_object(JsonWriter::Layout::line);
    writer.key("shape").begin_array(JsonWriter::Layout::line);
    for (const std::size_t d : shape) writer.value(d);
    writer.end_array();
    writer.key("data").value(data);
    writer.end_object();
}

}  // namespace stepgrad
