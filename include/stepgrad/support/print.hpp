#pragma once
// The one printing layer every lesson uses, built on fmt: banners and sections,
// wrapped prose, vectors and matrices at a fixed precision, aligned tables with token
// labels, α heatmaps and bar charts.
//
// Colour is used only when asked for (--color always) or when it cannot surprise
// anyone (--color auto, the default: stdout is a terminal and NO_COLOR is unset or
// empty, see no-color.org). Otherwise not one escape code is written, so output piped
// to a file or diffed in a test is plain text. Same inputs, same bytes.
#include <cstddef>
#include <cstdio>
#include <fmt/format.h>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stepgrad {

// The width every line a lesson prints must fit in: a terminal's 80 columns.
inline constexpr std::size_t screen_columns = 80;

enum class ColorMode { automatic, always, never };

// How much a lesson prints. The Printer only uses `full` (never cut a vector);
// lessons ask `printer.shows(level)` before printing per-step or per-gate detail.
//   none: results only · steps: each time step · gates: every gate too · full: all, uncut
enum class TraceLevel { none, steps, gates, full };

// "auto" | "always" | "never"; nullopt for anything else.
std::optional<ColorMode> parse_color_mode(std::string_view text);
// "none" | "steps" | "gates" | "full"; nullopt for anything else.
std::optional<TraceLevel> parse_trace_level(std::string_view text);
std::string_view to_string(ColorMode mode);
std::string_view to_string(TraceLevel level);

// The colour decision, kept pure so it can be tested: `always` → on, `never` → off,
// `automatic` → on only for a terminal when NO_COLOR is unset (nullptr) or empty.
bool decide_color(ColorMode mode, bool is_terminal, const char* no_color_env);

// Columns a UTF-8 string takes in a terminal: one per code point, two for East Asian
// wide characters (汉字, kana, hangul, fullwidth forms), none for combining accents
// and for ANSI escape sequences.
std::size_t display_width(std::string_view utf8);

enum class Align { left, right };
// `text` padded with spaces to `width` columns (never cut).
std::string pad(std::string_view text, std::size_t width, Align align = Align::left);

// Numbers as text. fixed(-0.5, 4) = "-0.5000"; sci(0.000123, 2) = "1.23e-04";
// percent(0.8245) = "82.5%".
std::string fixed(double value, int precision);
std::string sci(double value, int digits = 2);
std::string percent(double fraction);
// A difference between two computations of the same numbers (of size about 1): sci(), or
// "< 1e-15" when it is rounding noise — a few ulp, whose digits depend on the instruction set
// and the compiler, while what a lesson prints must not (issue 19).
std::string rounding_difference(double difference);
// A vector at a fixed precision with a space in front of positive numbers, so signs
// line up across lines: "[ 0.1234 -0.5678  0.0000 …]". With max_entries > 0 and more
// entries than that, only the first max_entries are shown, then "…".
std::string format_values(std::span<const double> values, int precision,
                          std::size_t max_entries = 0);

// The shade of a value in [0, 1] (clamped), one fifth of the range per character:
// [0, .2) " ", [.2, .4) "░", [.4, .6) "▒", [.6, .8) "▓", [.8, 1] "█"; NaN is "?".
std::string_view shade(double value);

// An aligned table. Columns are right-aligned except the first (a label), unless
// set otherwise. Widths are computed from display_width, so 汉字 and é line up.
class Table {
public:
    explicit Table(std::vector<std::string> headers);

    Table& align(std::size_t column, Align align);
    // The precision of the doubles given to add_row (default 4).
    Table& precision(int digits);

    // One cell per column: strings as they are, integers as integers, doubles fixed.
    template <class... Cells>
    Table& add_row(const Cells&... cells) {
        return add_row(std::vector<std::string>{cell_text(cells)...});
    }
    Table& add_row(std::vector<std::string> cells);

    std::size_t rows() const { return rows_.size(); }
    // The rendered lines: header, a rule, then the rows; `bold_header` wraps the
    // header in bold escape codes (the Printer passes its colour decision).
    std::vector<std::string> lines(bool bold_header = false) const;

private:
    std::string cell_text(std::string_view text) const { return std::string(text); }
    std::string cell_text(const std::string& text) const { return text; }
    std::string cell_text(const char* text) const { return text; }
    std::string cell_text(double value) const { return fixed(value, precision_); }
    std::string cell_text(int value) const { return std::to_string(value); }
    std::string cell_text(long value) const { return std::to_string(value); }
    std::string cell_text(long long value) const { return std::to_string(value); }
    std::string cell_text(unsigned value) const { return std::to_string(value); }
    std::string cell_text(unsigned long value) const { return std::to_string(value); }
    std::string cell_text(unsigned long long value) const { return std::to_string(value); }

    std::vector<std::string> headers_;
    std::vector<Align> aligns_;
    std::vector<std::vector<std::string>> rows_;
    int precision_ = 4;
};

struct PrintOptions {
    ColorMode color = ColorMode::automatic;
    TraceLevel trace = TraceLevel::gates;
    int precision = 4;             // digits after the point
    std::size_t max_entries = 8;   // of a vector or matrix row, unless trace is full
    std::FILE* out = stdout;       // not owned
};

// One bar of a bar chart.
struct Bar {
    std::string label;
    double value;   // ≥ 0
};

struct BarOptions {
    bool log_scale = false;   // for values spanning orders of magnitude (gradient norms)
    std::size_t width = 40;   // columns of the longest bar
};

class Printer {
public:
    explicit Printer(PrintOptions options = {});

    bool color() const { return color_; }
    TraceLevel trace() const { return options_.trace; }
    int precision() const { return options_.precision; }
    // True when the trace level is at least `level`: `if (out.shows(TraceLevel::gates))`.
    bool shows(TraceLevel level) const { return options_.trace >= level; }

    // The lesson's banner, underlined.
    void title(std::string_view text);
    // "--- 3. one decoder step ---", after a blank line.
    void section(std::string_view text);
    // Prose wrapped at screen_columns (80); a blank line ("\n\n") starts a new paragraph.
    void text(std::string_view paragraph);
    // One line, formatted by fmt: `out.line("loss = {:.4f}", loss);`
    template <class... Args>
    void line(fmt::format_string<Args...> format, Args&&... args) {
        write_line(fmt::format(format, std::forward<Args>(args)...));
    }
    void blank();
    // Writes `text` and a newline, as is.
    void write_line(std::string_view text);

    // "  h_1 = [ 0.1234 -0.5678 …]", cut at max_entries, or sooner to fit screen_columns,
    // unless the trace is full: then every entry, continued on the lines below.
    void vector(std::string_view label, std::span<const double> values);
    // A rows × cols row-major matrix, with optional row and column labels (tokens).
    void matrix(std::string_view label, std::span<const double> data, std::size_t rows,
                std::size_t cols, const std::vector<std::string>& row_labels = {},
                const std::vector<std::string>& col_labels = {});
    void table(const Table& table);
    // Target tokens down, source tokens across, each cell shaded by its value in
    // [0, 1]: a grey background and the value with colour, shade characters without;
    // then a legend.
    void heatmap(std::string_view title, std::span<const double> data, std::size_t rows,
                 std::size_t cols, const std::vector<std::string>& row_labels,
                 const std::vector<std::string>& col_labels);
    // A horizontal bar per value, with the value printed after it.
    void bars(std::string_view title, const std::vector<Bar>& bars, BarOptions options = {});

    // Emphasis, returned unchanged when colour is off.
    std::string bold(std::string_view text) const;
    std::string dim(std::string_view text) const;
    std::string good(std::string_view text) const;   // green: a check that passed
    std::string bad(std::string_view text) const;    // red: a check that failed

private:
    std::string paint(std::string_view sgr, std::string_view text) const;

    PrintOptions options_;
    bool color_;
};

}  // namespace stepgrad
