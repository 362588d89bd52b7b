// The printing layer: colour decisions, number formats, widths of UTF-8 text, tables,
// heatmaps and bars. Output is captured through a temporary FILE*.
#include "stepgrad/support/print.hpp"

#include <cstdio>
#include <doctest/doctest.h>
#include <functional>
#include <string>
#include <vector>

using namespace stepgrad;

namespace {

// Everything `body` prints through a Printer made with `options` (out is replaced).
std::string capture(PrintOptions options, const std::function<void(Printer&)>& body) {
    std::FILE* file = std::tmpfile();
    REQUIRE(file != nullptr);
    options.out = file;
    Printer printer(options);
    body(printer);
    std::fflush(file);
    std::rewind(file);
    std::string text;
    for (int c; (c = std::fgetc(file)) != EOF;) text += static_cast<char>(c);
    std::fclose(file);
    return text;
}

bool has_escape(const std::string& text) { return text.find('\x1b') != std::string::npos; }

void print_everything(Printer& p) {
    p.title("title");
    p.section("1. section");
    p.text("some words");
    p.line("{} {}", 1, 2.5);
    const std::vector<double> v{0.1, -0.2, 0.3};
    p.vector("v", v);
    p.matrix("M", v, 1, 3, {"r"}, {"a", "b", "c"});
    Table table({"x", "y"});
    table.add_row("a", 1.0);
    p.table(table);
    p.heatmap("α", v, 1, 3, {"r"}, {"a", "b", "c"});
    p.bars("norms", {{"t=1", 0.5}, {"t=2", 1e-3}}, {.log_scale = true});
    p.line("{}{}", p.bold("b"), p.good("g"));
}

}  // namespace

TEST_CASE("color: never writes no escape codes, always does") {
    const std::string plain = capture({.color = ColorMode::never}, print_everything);
    CHECK_FALSE(has_escape(plain));
    const std::string colored = capture({.color = ColorMode::always}, print_everything);
    CHECK(has_escape(colored));
}

TEST_CASE("color: auto is off when the output is not a terminal") {
    // A temporary file is not a terminal.
    CHECK_FALSE(has_escape(capture({.color = ColorMode::automatic}, print_everything)));
}

TEST_CASE("color: auto honours NO_COLOR on a terminal, unless it is empty") {
    CHECK(decide_color(ColorMode::automatic, true, nullptr));
    CHECK(decide_color(ColorMode::automatic, true, ""));
    CHECK_FALSE(decide_color(ColorMode::automatic, true, "1"));
    CHECK_FALSE(decide_color(ColorMode::automatic, false, nullptr));
    CHECK(decide_color(ColorMode::always, false, "1"));
    CHECK_FALSE(decide_color(ColorMode::never, true, nullptr));
}

TEST_CASE("modes parse from their flag spellings and back") {
    CHECK(parse_color_mode("auto") == ColorMode::automatic);
    CHECK(parse_color_mode("always") == ColorMode::always);
    CHECK(parse_color_mode("never") == ColorMode::never);
    CHECK_FALSE(parse_color_mode("yes").has_value());
    CHECK(parse_trace_level("none") == TraceLevel::none);
    CHECK(parse_trace_level("steps") == TraceLevel::steps);
    CHECK(parse_trace_level("gates") == TraceLevel::gates);
    CHECK(parse_trace_level("full") == TraceLevel::full);
    CHECK_FALSE(parse_trace_level("all").has_value());
    CHECK(to_string(TraceLevel::gates) == "gates");
    CHECK(to_string(ColorMode::automatic) == "auto");
}

TEST_CASE("numbers: fixed precision, aligned signs") {
    CHECK(fixed(-0.5, 4) == "-0.5000");
    CHECK(sci(0.000123, 2) == "1.23e-04");
    const std::vector<double> v{0.1234, -0.5678, 0.0};
    CHECK(format_values(v, 4) == "[ 0.1234 -0.5678  0.0000]");
    const std::vector<double> wide{12.5, -1.0};
    CHECK(format_values(wide, 1) == "[ 12.5  -1.0]");
    CHECK(format_values({}, 4) == "[]");
}

TEST_CASE("vector: cut with … at max_entries, whole with --trace full") {
    const std::vector<double> v{1, 2, 3, 4, 5};
    const auto print = [&](Printer& p) { p.vector("h_1", v); };
    CHECK(capture({.color = ColorMode::never, .max_entries = 3}, print) ==
          "  h_1 = [ 1.0000  2.0000  3.0000 …]\n");
    CHECK(capture({.color = ColorMode::never, .trace = TraceLevel::full, .max_entries = 3},
                  print) == "  h_1 = [ 1.0000  2.0000  3.0000  4.0000  5.0000]\n");
    CHECK(capture({.color = ColorMode::never, .precision = 2, .max_entries = 5}, print) ==
          "  h_1 = [ 1.00  2.00  3.00  4.00  5.00]\n");
}

TEST_CASE("vector: a long label cuts it sooner, so the line fits 80 columns") {
    const std::vector<double> v(16, -0.5);
    const std::string label = "c_1 = Σ_i α_1,i h_i";
    const std::string line = capture({.color = ColorMode::never}, [&](Printer& p) { p.vector(label, v); });
    CHECK(display_width(line.substr(0, line.size() - 1)) <= screen_columns);
    CHECK(line == "  c_1 = Σ_i α_1,i h_i = [-0.5000 -0.5000 -0.5000 -0.5000 -0.5000 -0.5000 …]\n");
}

TEST_CASE("vector: with --trace full, a long one continues under its first entry") {
    const std::vector<double> v(16, 0.25);
    const std::string text = capture({.color = ColorMode::never, .trace = TraceLevel::full},
                                     [&](Printer& p) { p.vector("h_1", v); });
    CHECK(text == "  h_1 = [ 0.2500  0.2500  0.2500  0.2500  0.2500  0.2500  0.2500  0.2500\n"
                  "          0.2500  0.2500  0.2500  0.2500  0.2500  0.2500  0.2500  0.2500]\n");
}

TEST_CASE("matrix: with --trace full, a row too wide for the screen is shown in blocks of columns") {
    const std::vector<double> m(12, 0.5);
    const std::string text = capture({.color = ColorMode::never, .trace = TraceLevel::full},
                                     [&](Printer& p) { p.matrix("b", m, 1, 12); });
    CHECK(text == "  b (1×12) =\n"
                  "    columns 1–9:\n"
                  "     [ 0.5000  0.5000  0.5000  0.5000  0.5000  0.5000  0.5000  0.5000  0.5000]\n"
                  "    columns 10–12:\n"
                  "     [ 0.5000  0.5000  0.5000]\n");
}

TEST_CASE("display width: CJK counts two, accents and escape codes none") {
    CHECK(display_width("cat") == 3);
    CHECK(display_width("汤姆") == 4);
    CHECK(display_width("café") == 4);          // é precomposed: one code point
    CHECK(display_width("cafe\u0301") == 4);    // e + combining acute
    CHECK(display_width("\x1b[1mbold\x1b[0m") == 4);
    CHECK(display_width("…") == 1);
    CHECK(pad("汤", 4) == "汤  ");
    CHECK(pad("ab", 4, Align::right) == "  ab");
    CHECK(pad("toolong", 3) == "toolong");
}

TEST_CASE("table: columns line up by display width with CJK and accented tokens") {
    Table table({"token", "α"});
    table.add_row("汤姆", 0.25).add_row("Jerry", 0.5).add_row("été", 1.0);
    const auto lines = table.lines();
    REQUIRE(lines.size() == 5);
    CHECK(lines[0] == "  token       α");
    CHECK(lines[1] == "  ─────────────");
    CHECK(lines[2] == "  汤姆   0.2500");
    CHECK(lines[3] == "  Jerry  0.5000");
    CHECK(lines[4] == "  été    1.0000");
    for (const auto& line : lines) CHECK(display_width(line) == display_width(lines[1]));
}

TEST_CASE("table: integers stay whole, alignment can be changed, extra cells are refused") {
    Table table({"n", "word"});
    table.align(1, Align::left).add_row(7, "a").add_row(std::size_t{12}, "bcd");
    const auto lines = table.lines();
    CHECK(lines[2] == "  7   a");
    CHECK(lines[3] == "  12  bcd");
    CHECK_THROWS_AS(table.add_row("1", "2", "3"), std::invalid_argument);
}

TEST_CASE("shade: one character per fifth of [0, 1], clamped outside") {
    CHECK(shade(0.0) == " ");
    CHECK(shade(0.1999) == " ");
    CHECK(shade(0.2) == "░");
    CHECK(shade(0.3999) == "░");
    CHECK(shade(0.4) == "▒");
    CHECK(shade(0.6) == "▓");
    CHECK(shade(0.7999) == "▓");
    CHECK(shade(0.8) == "█");
    CHECK(shade(1.0) == "█");
    CHECK(shade(-3.0) == " ");
    CHECK(shade(7.0) == "█");
    CHECK(shade(std::nan("")) == "?");
}

TEST_CASE("heatmap: target tokens down, source tokens across, shaded, with a legend") {
    const std::vector<double> alpha{0.9, 0.1, 0.3, 0.7};
    const std::string text = capture({.color = ColorMode::never}, [&](Printer& p) {
        p.heatmap("α", alpha, 2, 2, {"汤姆", "追逐"}, {"Tom", "chases"});
    });
    CHECK(text == "  α\n"
                  "        Tom  chases\n"
                  "  汤姆 │████       │\n"
                  "  追逐 │░░░░ ▓▓▓▓▓▓│\n"
                  "  shade: ' ' < 0.2 ≤ ░ < 0.4 ≤ ▒ < 0.6 ≤ ▓ < 0.8 ≤ █\n");
}

TEST_CASE("heatmap with colour shows each value on a grey background") {
    const std::vector<double> alpha{1.0};
    const std::string text = capture({.color = ColorMode::always}, [&](Printer& p) {
        p.heatmap("α", alpha, 1, 1, {"y"}, {"x"});
    });
    CHECK(text.find("\x1b[48;5;255;38;5;16m1.00\x1b[0m") != std::string::npos);
}

TEST_CASE("heatmap and matrix refuse labels that do not fit the shape") {
    Printer p({.color = ColorMode::never});
    const std::vector<double> data{1, 2};
    CHECK_THROWS_AS(p.heatmap("α", data, 1, 2, {"a", "b"}, {"x", "y"}), std::invalid_argument);
    CHECK_THROWS_AS(p.matrix("M", data, 2, 2), std::invalid_argument);
}

TEST_CASE("matrix: labelled, aligned, cut to max_entries rows and columns") {
    const std::vector<double> m{1, -2, 3, 4, 5, 6, 7, 8, 9};
    const std::string text = capture({.color = ColorMode::never, .max_entries = 2}, [&](Printer& p) {
        p.matrix("W", m, 3, 3, {"r1", "r2", "r3"}, {"a", "b", "c"});
    });
    CHECK(text == "  W (3×3) =\n"
                  "              a       b …\n"
                  "    r1 [ 1.0000 -2.0000 …]\n"
                  "    r2 [ 4.0000  5.0000 …]\n"
                  "        ⋮\n");
}

TEST_CASE("bars: linear lengths are proportional, log lengths by decade") {
    const std::string linear = capture({.color = ColorMode::never}, [](Printer& p) {
        p.bars("n", {{"a", 1.0}, {"b", 0.5}, {"c", 0.0}}, {.width = 4});
    });
    CHECK(linear == "  n\n"
                    "  a │████│ 1.0000\n"
                    "  b │██  │ 0.5000\n"
                    "  c │    │ 0.0000\n");
    const std::string log = capture({.color = ColorMode::never}, [](Printer& p) {
        p.bars("n", {{"a", 1.0}, {"b", 1e-2}, {"c", 1e-4}}, {.log_scale = true, .width = 4});
    });
    CHECK(log == "  n  (log scale, 1e-04 to 1e+00)\n"
                 "  a │████│ 1.00e+00\n"
                 "  b │██  │ 1.00e-02\n"
                 "  c │▏   │ 1.00e-04\n");
}

TEST_CASE("text wraps at 80 columns and keeps paragraph breaks") {
    std::string words;
    for (int i = 0; i < 40; ++i) words += "word ";
    const std::string text = capture({.color = ColorMode::never}, [&](Printer& p) {
        p.text(words + "\n\nnext");
    });
    std::vector<std::string> lines;
    for (std::size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos;
         start = end + 1)
        lines.push_back(text.substr(start, end - start));
    REQUIRE(lines.size() == 5);
    CHECK(lines[0].size() <= screen_columns);
    CHECK(lines[0].size() > screen_columns - 5);
    CHECK(lines[3].empty());
    CHECK(lines[4] == "next");
}

TEST_CASE("the same calls print the same bytes") {
    CHECK(capture({.color = ColorMode::never}, print_everything) ==
          capture({.color = ColorMode::never}, print_everything));
}
