// The JSON reader and writer: doubles survive a round trip bit for bit, every golden
// trace parses (and is rewritten byte for byte), malformed text throws JsonError with a
// position and never crashes.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "stepgrad/support/json.hpp"
#include "stepgrad/random.hpp"

using namespace stepgrad;

namespace {

std::string write_one(double x) {
    JsonWriter w;
    w.value(x);
    w.finish();
    return w.str();
}

double round_trip(double x) { return parse_json(write_one(x)).as_number(); }

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::filesystem::path> golden_files() {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(STEPGRAD_TEST_DATA "/golden"))
        if (entry.path().extension() == ".json") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

// The message of the JsonError that parsing `text` throws ("" if it does not throw).
std::string parse_error(std::string_view text) {
    try {
        parse_json(text);
    } catch (const JsonError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("doubles round-trip bit for bit in shortest form") {
    const double cases[] = {0.1,     1.0 / 3,  1e-300,  -0.0,
                            0.0,     1.0,      -2.5,    1e300,
                            1.7976931348623157e308,     5e-324,
                            2.2250738585072014e-308,    123456789012345678.0,
                            1e16,    1e-5,     9007199254740993.0,
                            -1.8067793402085704e-05,    6.02214076e23};
    for (const double x : cases) {
        CAPTURE(x);
        const double back = round_trip(x);
        CHECK(std::bit_cast<std::uint64_t>(back) == std::bit_cast<std::uint64_t>(x));
    }
    CHECK(write_one(0.1) == "0.1\n");
    CHECK(write_one(1.0 / 3) == "0.3333333333333333\n");
    CHECK(write_one(1e-5) == "1e-05\n");
    CHECK(write_one(1e300) == "1e+300\n");
    CHECK(write_one(-0.0) == "-0.0\n");
    CHECK(write_one(2.0) == "2.0\n");  // a double stays a float for Python readers
}

TEST_CASE("random doubles round-trip bit for bit") {
    Rng rng(7);
    for (int i = 0; i < 20000; ++i) {
        // Random bit patterns cover every exponent; skip NaN and Inf.
        const double x = std::bit_cast<double>(rng.next_u64());
        if (!std::isfinite(x)) continue;
        const double back = round_trip(x);
        REQUIRE(std::bit_cast<std::uint64_t>(back) == std::bit_cast<std::uint64_t>(x));
    }
}

TEST_CASE("the writer refuses NaN and infinity, naming the key") {
    JsonWriter w;
    w.begin_object().key("loss");
    CHECK_THROWS_WITH_AS(w.value(std::nan("")), doctest::Contains("\"loss\""), JsonError);
    CHECK_THROWS_AS(w.value(std::numeric_limits<double>::infinity()), JsonError);
    const std::vector<double> xs{1.0, -std::numeric_limits<double>::infinity()};
    CHECK_THROWS_AS(w.value(xs), JsonError);
}

TEST_CASE("every golden trace parses and has the trace's fields") {
    const auto files = golden_files();
    REQUIRE(files.size() >= 36);
    for (const auto& path : files) {
        CAPTURE(path.string());
        const Json trace = read_json_file(path.string());
        CHECK(trace.at("format").as_string() == "stepgrad-trace/1");
        CHECK(trace.at("src_vocab").at(0).as_string() == "<pad>");
        if (trace.at("model").at("decoder").as_string() != "none")  // encoder-only has no bos
            CHECK(trace.at("bos").as_int() == 1);
        for (const auto& [name, param] : trace.at("params").as_object()) {
            const JsonTensor t = read_tensor(param, name);
            CHECK(!t.shape.empty());
            CHECK(t.shape.size() <= 2);
        }
        CHECK(std::isfinite(trace.at("loss").as_number()));
    }
}

TEST_CASE("a golden trace is rewritten byte for byte") {
    for (const auto& path : golden_files()) {
        CAPTURE(path.string());
        const std::string text = read_text(path);
        CHECK(to_json_string(parse_json(text)) == text);
    }
}

TEST_CASE("read_tensor gives shape and data and names a bad tensor") {
    const Json t = parse_json(R"({"shape": [2, 3], "data": [1, 2, 3, 4, 5, 6.5]})");
    const JsonTensor tensor = read_tensor(t);
    CHECK(tensor.shape == std::vector<std::size_t>{2, 3});
    CHECK(tensor.data == std::vector<double>{1, 2, 3, 4, 5, 6.5});
    CHECK_THROWS_WITH_AS(read_tensor(parse_json(R"({"shape": [2, 2], "data": [1]})"), "W"),
                         doctest::Contains("W: data has 1 numbers but the shape needs 4"),
                         JsonError);
    CHECK_THROWS_WITH_AS(read_tensor(parse_json(R"({"shape": [-1], "data": []})")),
                         doctest::Contains("not a size"), JsonError);
    CHECK_THROWS_WITH_AS(read_tensor(parse_json(R"({"data": []})"), "b"),
                         doctest::Contains("missing key \"shape\""), JsonError);

    JsonWriter w;
    const std::vector<std::size_t> shape{2, 1};
    const std::vector<double> data{0.5, -1.0};
    write_tensor(w, shape, data);
    w.finish();
    CHECK(w.str() == "{\"shape\": [2, 1], \"data\": [0.5, -1.0]}\n");
}

TEST_CASE("accessors name the missing key and the wrong type") {
    const Json j = parse_json(R"({"a": 1, "b": [true, null, "x"], "c": {"d": 2.5}})");
    CHECK(j.contains("a"));
    CHECK(!j.contains("z"));
    CHECK(j.at("c").at("d").as_number() == 2.5);
    CHECK(j.at("b").size() == 3);
    CHECK(j.at("b").at(0).as_bool());
    CHECK(j.at("b").at(1).is_null());
    CHECK_THROWS_WITH_AS(j.at("loss"),
                         doctest::Contains("missing key \"loss\" (the object has: a, b, c)"),
                         JsonError);
    CHECK_THROWS_WITH_AS(j.at("a").as_string(), "expected a string, got a number", JsonError);
    CHECK_THROWS_WITH_AS(j.at("b").at(3), doctest::Contains("index 3 out of range"), JsonError);
    CHECK_THROWS_AS(j.at("c").at("d").as_int(), JsonError);
    CHECK(j.at("a").as_int() == 1);
    CHECK(j.at("a").is_integer());
}

TEST_CASE("objects keep insertion order") {
    const Json j = parse_json(R"({"z": 1, "a": 2, "m": 3})");
    const auto& members = j.as_object();
    REQUIRE(members.size() == 3);
    CHECK(members[0].first == "z");
    CHECK(members[1].first == "a");
    CHECK(members[2].first == "m");
}

TEST_CASE("strings: escapes, \\u and surrogate pairs become UTF-8") {
    CHECK(parse_json(R"("a\"b\\c\/d\b\f\n\r\t")").as_string() == "a\"b\\c/d\b\f\n\r\t");
    CHECK(parse_json(R"("\u00e9\u6c64")").as_string() == "é汤");
    CHECK(parse_json(R"("\ud83d\ude00")").as_string() == "\xF0\x9F\x98\x80");  // U+1F600
    CHECK(parse_json("\"汤姆 追逐 杰瑞\"").as_string() == "汤姆 追逐 杰瑞");
    CHECK(parse_json(R"("\u0000")").as_string() == std::string(1, '\0'));
}

TEST_CASE("the writer escapes what it must and passes UTF-8 through") {
    JsonWriter w;
    w.begin_object(JsonWriter::Layout::line);
    w.key("s").value(std::string("q\"\\\n\t\x01 汤姆"));
    w.end_object();
    w.finish();
    CHECK(w.str() == "{\"s\": \"q\\\"\\\\\\n\\t\\u0001 汤姆\"}\n");
    CHECK(parse_json(w.str()).at("s").as_string() == "q\"\\\n\t\x01 汤姆");
}

TEST_CASE("writer layout: blocks, lines and automatic arrays") {
    JsonWriter w;
    w.begin_object();
    w.key("format").value("stepgrad-trace/1");
    w.key("model").begin_object(JsonWriter::Layout::line);
    w.key("cell").value("gru").key("hidden_dim").value(4);
    w.end_object();
    w.key("src").value(std::vector<int>{6, 3, 2});
    w.key("encoder").begin_array();
    w.begin_object(JsonWriter::Layout::line).key("t").value(1);
    w.key("h").value(std::vector<double>{0.5, -0.25});
    w.key("gates").begin_object().key("r").value(std::vector<double>{0.1}).end_object();
    w.end_object();
    w.end_array();
    w.key("empty").begin_array().end_array();
    w.key("loss").value(2.0);
    w.end_object();
    w.finish();
    CHECK(w.str() ==
          "{\n"
          " \"format\": \"stepgrad-trace/1\",\n"
          " \"model\": {\"cell\": \"gru\", \"hidden_dim\": 4},\n"
          " \"src\": [6, 3, 2],\n"
          " \"encoder\": [\n"
          "  {\"t\": 1, \"h\": [0.5, -0.25], \"gates\": {\"r\": [0.1]}}\n"
          " ],\n"
          " \"empty\": [],\n"
          " \"loss\": 2.0\n"
          "}\n");
}

TEST_CASE("the writer streams to an ostream") {
    std::ostringstream out;
    JsonWriter w(out, 2);
    w.begin_array(JsonWriter::Layout::block);
    for (int i = 0; i < 3; ++i) w.value(i);
    w.end_array();
    w.finish();
    CHECK(out.str() == "[\n  0,\n  1,\n  2\n]\n");
}

TEST_CASE("writer misuse throws") {
    {
        JsonWriter w;
        w.begin_object();
        CHECK_THROWS_AS(w.value(1), JsonError);  // no key
    }
    {
        JsonWriter w;
        CHECK_THROWS_AS(w.key("k"), JsonError);  // not in an object
    }
    {
        JsonWriter w;
        w.begin_array();
        CHECK_THROWS_AS(w.end_object(), JsonError);
        CHECK_THROWS_AS(w.finish(), JsonError);  // unclosed
    }
    {
        JsonWriter w;
        w.value(1);
        CHECK_THROWS_AS(w.value(2), JsonError);  // a second top-level value
    }
    {
        JsonWriter w;
        CHECK_THROWS_AS(w.finish(), JsonError);  // nothing written
    }
}

TEST_CASE("numbers: the JSON grammar, nothing more") {
    CHECK(parse_json("-0").as_number() == 0.0);
    CHECK(std::signbit(parse_json("-0.0").as_number()));
    CHECK(parse_json("1E2").as_number() == 100.0);
    CHECK(parse_json("1e-400").as_number() == 0.0);  // underflows to zero, as IEEE does
    CHECK(parse_json("0.0000000000001e-400").as_number() == 0.0);
    CHECK(parse_json(" [1, 2.5e+1] ").at(1).as_number() == 25.0);
    for (const char* bad : {"01", "1.", ".5", "+1", "1e", "1e+", "-", "--1", "NaN", "Infinity",
                            "-Infinity", "0x10", "1e400", "-1e400", "100000000000000e300"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse_json(bad), JsonError);
    }
}

TEST_CASE("malformed input throws JsonError with line, column and what was expected") {
    CHECK(parse_error("{\"a\": 1,\n \"b\" 2}") ==
          "line 2, column 6: expected ':' after object key, got '2'");
    CHECK(parse_error("[1, 2") ==
          "line 1, column 6: expected ',' or ']' in array, got end of input");
    CHECK(parse_error("{\"a\": 1} x") ==
          "line 1, column 10: expected end of input after the JSON value");
    CHECK(parse_error("\"é\\q\"").starts_with("line 1, column 4: expected an escape"));
    CHECK(parse_error("") == "line 1, column 1: expected a value, got end of input");
    CHECK(parse_error("{\"a\": 1, \"a\": 2}") ==
          "line 1, column 10: duplicate key \"a\" in object");
    const char* bad[] = {
        "{",        "[",          "{\"a\"",    "{\"a\":",     "{\"a\":1,}",  "[1,]",
        "\"abc",    "\"\\",       "\"\\u12\"", "\"\\uZZZZ\"", "\"\\ud800\"", "\"\\udc00\"",
        "\"\\ud800\\u0041\"",     "\"a\nb\"",  "tru",         "nul",         "falsey",
        "{1: 2}",   "[1 2]",      "}",         "]",           "\"\xff\"",    "\"\xc3\"",
        "\"\xc0\xaf\"",           "\"\xed\xa0\x80\"",         "\"\xf4\x90\x80\x80\"",
        "[\"a\"]]", "{} {}",
    };
    for (const char* text : bad) {
        CAPTURE(text);
        CHECK_THROWS_AS(parse_json(text), JsonError);
    }
}

TEST_CASE("deep nesting is refused, never a stack overflow") {
    const std::string deep_arrays(10'000, '[');
    CHECK_THROWS_WITH_AS(parse_json(deep_arrays), doctest::Contains("nesting deeper than 256"),
                         JsonError);
    std::string deep_objects;
    for (int i = 0; i < 10'000; ++i) deep_objects += "{\"a\":";
    CHECK_THROWS_AS(parse_json(deep_objects), JsonError);
    // 256 levels are allowed.
    const std::string ok = std::string(json_max_depth, '[') + std::string(json_max_depth, ']');
    CHECK(parse_json(ok).is_array());
    const std::string too_deep =
        std::string(json_max_depth + 1, '[') + std::string(json_max_depth + 1, ']');
    CHECK_THROWS_AS(parse_json(too_deep), JsonError);
}

TEST_CASE("every prefix of a golden trace is rejected cleanly") {
    const std::string text = read_text(golden_files().front()).substr(0, 3000);
    for (std::size_t n = 0; n < text.size(); ++n) {
        try {
            parse_json(std::string_view(text).substr(0, n));
        } catch (const JsonError&) {
            continue;
        }
        FAIL("a truncated trace parsed at length " << n);
    }
}

TEST_CASE("read_json_file names the path") {
    CHECK_THROWS_WITH_AS(read_json_file("/nonexistent/trace.json"),
                         "cannot open /nonexistent/trace.json", JsonError);
    const auto path = std::filesystem::temp_directory_path() / "stepgrad_test_json_bad.json";
    std::ofstream(path) << "{\"a\": [1,\n 2,, 3]}";
    try {
        read_json_file(path.string());
        FAIL("a bad file parsed");
    } catch (const JsonError& e) {
        CHECK(std::string(e.what()) ==
              path.string() + ": line 2, column 4: expected a value (object, array, string, "
                              "number, true, false or null), got ','");
        CHECK(e.line() == 2);
        CHECK(e.column() == 4);
    }
    std::filesystem::remove(path);
}

TEST_CASE("values built in code write and read back equal") {
    Json j;
    j.set("name", "reverse");
    j.set("examples", 200);
    j.set("accuracy", 0.975);
    Json list;
    list.push_back(1);
    list.push_back("two");
    list.push_back(nullptr);
    list.push_back(false);
    j.set("list", list);
    j.set("name", "copy");  // replaces, keeps position
    CHECK(j.as_object().front().first == "name");
    CHECK(parse_json(to_json_string(j)) == j);
    CHECK(to_json_string(j) ==
          "{\n \"name\": \"copy\",\n \"examples\": 200,\n \"accuracy\": 0.975,\n"
          " \"list\": [1, \"two\", null, false]\n}\n");
}
