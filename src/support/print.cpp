#include "stepgrad/support/print.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <unistd.h>

namespace stepgrad {

// --- modes ---

std::optional<ColorMode> parse_color_mode(std::string_view text) {
    if (text == "auto") return ColorMode::automatic;
    if (text == "always") return ColorMode::always;
    if (text == "never") return ColorMode::never;
    return std::nullopt;
}

std::optional<TraceLevel> parse_trace_level(std::string_view text) {
    if (text == "none") return TraceLevel::none;
    if (text == "steps") return TraceLevel::steps;
    if (text == "gates") return TraceLevel::gates;
    if (text == "full") return TraceLevel::full;
    return std::nullopt;
}

std::string_view to_string(ColorMode mode) {
    switch (mode) {
        case ColorMode::automatic: return "auto";
        case ColorMode::always: return "always";
        case ColorMode::never: return "never";
    }
    return "?";
}

std::string_view to_string(TraceLevel level) {
    switch (level) {
        case TraceLevel::none: return "none";
        case TraceLevel::steps: return "steps";
        case TraceLevel::gates: return "gates";
        case TraceLevel::full: return "full";
    }
    return "?";
}

bool decide_color(ColorMode mode, bool is_terminal, const char* no_color_env) {
    if (mode != ColorMode::automatic) return mode == ColorMode::always;
    const bool no_color = no_color_env != nullptr && no_color_env[0] != '\0';
    return is_terminal && !no_color;
}

// --- text width ---

namespace {

// East Asian Wide and Fullwidth blocks (Unicode 15) that tokens plausibly contain.
constexpr std::array<std::pair<char32_t, char32_t>, 14> wide_ranges{{
    {0x1100, 0x115F},   {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},
    {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},
    {0xFE30, 0xFE4F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F},
    {0x1F900, 0x1F9FF}, {0x20000, 0x3FFFD},
}};

// Combining accents (e + ◌́ = é), zero-width spaces and joiners, variation selectors.
constexpr std::array<std::pair<char32_t, char32_t>, 4> zero_width_ranges{{
    {0x0300, 0x036F}, {0x200B, 0x200F}, {0xFE00, 0xFE0F}, {0x20D0, 0x20FF},
}};

bool in_ranges(char32_t c, std::span<const std::pair<char32_t, char32_t>> ranges) {
    return std::any_of(ranges.begin(), ranges.end(),
                       [c](auto range) { return c >= range.first && c <= range.second; });
}

std::size_t char_width(char32_t c) {
    if (in_ranges(c, zero_width_ranges)) return 0;
    return in_ranges(c, wide_ranges) ? 2 : 1;
}

// The code point starting at s[i] and its length in bytes. A malformed byte counts
// as one character of its own, so broken input still gets a width.
std::pair<char32_t, std::size_t> decode_utf8(std::string_view s, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char lead = byte(i);
    const std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2
                             : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > s.size()) return {0xFFFD, 1};
    if (length == 1) return {lead, 1};
    char32_t c = lead & (0x7F >> length);
    for (std::size_t k = 1; k < length; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) return {0xFFFD, 1};
        c = (c << 6) | (byte(i + k) & 0x3F);
    }
    return {c, length};
}

}  // namespace

std::size_t display_width(std::string_view s) {
    std::size_t width = 0;
    for (std::size_t i = 0; i < s.size();) {
        // ANSI escape "ESC [ parameters final-byte" takes no room on screen.
        if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
            i += 2;
            while (i < s.size() && !(s[i] >= 0x40 && s[i] <= 0x7E)) ++i;
            ++i;
            continue;
        }
        const auto [c, length] = decode_utf8(s, i);
        width += char_width(c);
        i += length;
    }
    return width;
}

std::string pad(std::string_view text, std::size_t width, Align align) {
    const std::size_t w = display_width(text);
    const std::string fill(w < width ? width - w : 0, ' ');
    return align == Align::left ? std::string(text) + fill : fill + std::string(text);
}

namespace {
std::string repeat(std::string_view piece, std::size_t times) {
    std::string result;
    for (std::size_t i = 0; i < times; ++i) result += piece;
    return result;
}

std::string rstrip(std::string text) {
    text.erase(text.find_last_not_of(' ') + 1);
    return text;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
    std::string result;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) result += separator;
        result += parts[i];
    }
    return result;
}
}  // namespace

// --- numbers ---

std::string fixed(double value, int precision) {
    return fmt::format("{:.{}f}", value, precision);
}

std::string sci(double value, int digits) { return fmt::format("{:.{}e}", value, digits); }
std::string percent(double fraction) { return fmt::format("{:.1f}%", 100 * fraction); }
std::string rounding_difference(double difference) { return difference < 1e-15 ? "< 1e-15" : sci(difference); }

std::string format_values(std::span<const double> values, int precision,
                          std::size_t max_entries) {
    const bool cut = max_entries > 0 && values.size() > max_entries;
    const std::size_t shown = cut ? max_entries : values.size();
    // "{: .4f}": a space where a minus would go, so signs line up.
    std::vector<std::string> cells;
    std::size_t width = 0;
    for (std::size_t i = 0; i < shown; ++i) {
        cells.push_back(fmt::format("{: .{}f}", values[i], precision));
        width = std::max(width, cells.back().size());
    }
    for (auto& cell : cells) cell = pad(cell, width, Align::right);
    return fmt::format("[{}{}]", join(cells, " "), cut ? " …" : "");
}

std::string_view shade(double value) {
    static constexpr std::array<std::string_view, 5> levels{" ", "░", "▒", "▓", "█"};
    static constexpr std::array<double, 4> upper_bounds{0.2, 0.4, 0.6, 0.8};
    if (std::isnan(value)) return "?";
    std::size_t level = 0;
    while (level < upper_bounds.size() && value >= upper_bounds[level]) ++level;
    return levels[level];
}

// --- Table ---

Table::Table(std::vector<std::string> headers)
    : headers_(std::move(headers)), aligns_(headers_.size(), Align::right) {
    if (!aligns_.empty()) aligns_[0] = Align::left;
}

Table& Table::align(std::size_t column, Align align) {
    aligns_.at(column) = align;
    return *this;
}

Table& Table::precision(int digits) {
    precision_ = digits;
    return *this;
}

Table& Table::add_row(std::vector<std::string> cells) {
    if (cells.size() > headers_.size())
        throw std::invalid_argument(fmt::format("Table::add_row: {} cells for {} columns",
                                                cells.size(), headers_.size()));
    cells.resize(headers_.size());
    rows_.push_back(std::move(cells));
    return *this;
}

std::vector<std::string> Table::lines(bool bold_header) const {
    std::vector<std::size_t> widths(headers_.size());
    for (std::size_t c = 0; c < headers_.size(); ++c) {
        widths[c] = display_width(headers_[c]);
        for (const auto& row : rows_) widths[c] = std::max(widths[c], display_width(row[c]));
    }
    const auto render = [&](const std::vector<std::string>& cells) {
        std::vector<std::string> padded;
        for (std::size_t c = 0; c < cells.size(); ++c)
            padded.push_back(pad(cells[c], widths[c], aligns_[c]));
        return rstrip("  " + join(padded, "  "));
    };
    std::size_t total = 0;
    for (std::size_t w : widths) total += w;
    total += 2 * (widths.empty() ? 0 : widths.size() - 1);

    std::string header = render(headers_);
    if (bold_header) header = "  \x1b[1m" + header.substr(2) + "\x1b[0m";
    std::vector<std::string> lines{header, "  " + repeat("─", total)};
    for (const auto& row : rows_) lines.push_back(render(row));
    return lines;
}

// --- Printer ---

Printer::Printer(PrintOptions options)
    : options_(options),
      color_(decide_color(options.color, isatty(fileno(options.out)) != 0,
                          std::getenv("NO_COLOR"))) {}

void Printer::write_line(std::string_view text) { fmt::print(options_.out, "{}\n", text); }

void Printer::blank() { write_line(""); }

void Printer::title(std::string_view text) {
    write_line(bold(text));
    write_line(repeat("═", display_width(text)));
}

void Printer::section(std::string_view text) {
    blank();
    write_line(bold(fmt::format("--- {} ---", text)));
}

void Printer::text(std::string_view paragraph) {
    constexpr std::size_t columns = screen_columns;
    std::string line;
    std::size_t width = 0;
    const auto flush = [&] {
        if (!line.empty()) write_line(line);
        line.clear();
        width = 0;
    };
    std::size_t i = 0;
    while (i < paragraph.size()) {
        if (paragraph.substr(i, 2) == "\n\n") {  // a paragraph break
            flush();
            blank();
            i = paragraph.find_first_not_of('\n', i);
            if (i == std::string_view::npos) break;
            continue;
        }
        if (paragraph[i] == ' ' || paragraph[i] == '\n') {
            ++i;
            continue;
        }
        const std::size_t end = std::min(paragraph.find_first_of(" \n", i), paragraph.size());
        const std::string_view word = paragraph.substr(i, end - i);
        const std::size_t w = display_width(word);
        if (width > 0 && width + 1 + w > columns) flush();
        if (width > 0) {
            line += ' ';
            ++width;
        }
        line += word;
        width += w;
        i = end;
    }
    flush();
}

void Printer::vector(std::string_view label, std::span<const double> values) {
    const std::string head = fmt::format("  {} = ", label);
    if (!shows(TraceLevel::full)) {
        // cut at max_entries, and sooner when a long label would push the line off the screen
        std::size_t limit = options_.max_entries > 0 ? options_.max_entries : values.size();
        std::string line = head + format_values(values, options_.precision, limit);
        while (display_width(line) > screen_columns && limit > 1)
            line = head + format_values(values, options_.precision, --limit);
        write_line(line);
        return;
    }
    // --trace full: every entry, continued on lines that start under the first one
    const std::string all = format_values(values, options_.precision);
    if (display_width(head) + display_width(all) <= screen_columns) return write_line(head + all);
    std::vector<std::string> cells;  // as format_values writes them: one width, signs lined up
    std::size_t cell_width = 0;
    for (double v : values) {
        cells.push_back(fmt::format("{: .{}f}", v, options_.precision));
        cell_width = std::max(cell_width, cells.back().size());
    }
    std::string line = head + "[";
    const std::size_t indent = display_width(line) <= screen_columns / 2 ? display_width(line) : 4;
    for (std::size_t i = 0; i < cells.size(); ++i) {
        if (i > 0 && display_width(line) + 1 + cell_width + 1 > screen_columns) {
            write_line(line);
            line = std::string(indent, ' ');
        } else if (i > 0) {
            line += ' ';
        }
        line += pad(cells[i], cell_width, Align::right);
    }
    write_line(line + "]");
}

namespace {
void check_labels(std::string_view what, std::size_t data, std::size_t rows, std::size_t cols,
                  const std::vector<std::string>& row_labels,
                  const std::vector<std::string>& col_labels) {
    if (data != rows * cols || (!row_labels.empty() && row_labels.size() != rows) ||
        (!col_labels.empty() && col_labels.size() != cols))
        throw std::invalid_argument(fmt::format(
            "{}: {} values, {} row labels and {} column labels for a {}×{} matrix", what, data,
            row_labels.size(), col_labels.size(), rows, cols));
}

std::size_t max_width(const std::vector<std::string>& texts, std::size_t at_least = 0) {
    std::size_t width = at_least;
    for (const auto& text : texts) width = std::max(width, display_width(text));
    return width;
}
}  // namespace

void Printer::matrix(std::string_view label, std::span<const double> data, std::size_t rows,
                     std::size_t cols, const std::vector<std::string>& row_labels,
                     const std::vector<std::string>& col_labels) {
    check_labels("Printer::matrix", data.size(), rows, cols, row_labels, col_labels);
    const std::size_t limit = shows(TraceLevel::full) ? 0 : options_.max_entries;
    const std::size_t shown_rows = limit > 0 ? std::min(rows, limit) : rows;
    const std::size_t shown_cols = limit > 0 ? std::min(cols, limit) : cols;

    std::vector<std::string> cells;
    for (std::size_t r = 0; r < shown_rows; ++r)
        for (std::size_t c = 0; c < shown_cols; ++c)
            cells.push_back(fmt::format("{: .{}f}", data[r * cols + c], options_.precision));
    const std::size_t cell_width = max_width(col_labels, max_width(cells));
    const std::size_t label_width = max_width(row_labels);
    write_line(fmt::format("  {} ({}×{}) =", label, rows, cols));
    const std::string indent = "    " + std::string(label_width, ' ');
    // --trace full: a row too wide for the screen is shown in blocks of the columns that fit
    const std::size_t room = screen_columns > indent.size() + 4 ? screen_columns - indent.size() - 4 : 0;
    const std::size_t per_block = std::max<std::size_t>(1, (room + 1) / (cell_width + 1));
    const bool blocks = limit == 0 && shown_cols > per_block;
    for (std::size_t first = 0; first < shown_cols; first += blocks ? per_block : shown_cols) {
        const std::size_t last = blocks ? std::min(shown_cols, first + per_block) : shown_cols;
        if (blocks) write_line(fmt::format("    columns {}–{}:", first + 1, last));
        const auto block = [&](auto text) {
            std::vector<std::string> parts;
            for (std::size_t c = first; c < last; ++c) parts.push_back(pad(text(c), cell_width, Align::right));
            return join(parts, " ") + (last < cols && !blocks ? " …" : "");
        };
        if (!col_labels.empty())
            write_line(rstrip(indent + "  " + block([&](std::size_t c) { return col_labels[c]; })));
        for (std::size_t r = 0; r < shown_rows; ++r) {
            const std::string name = row_labels.empty() ? "" : row_labels[r];
            write_line("    " + pad(name, label_width) + " [" +
                       block([&](std::size_t c) { return cells[r * shown_cols + c]; }) + "]");
        }
    }
    if (shown_rows < rows) write_line(indent + "  ⋮");
}

void Printer::table(const Table& table) {
    for (const auto& line : table.lines(color_)) write_line(line);
}

namespace {
// A value as a fraction in [0, 1] for a shade or a bar; NaN counts as 0 (its number is
// printed beside it as "nan"), so no width or colour is ever computed from it.
double unit_fraction(double value) { return std::isnan(value) ? 0.0 : std::clamp(value, 0.0, 1.0); }

// A grey background from the 256-colour palette (232 = near black … 255 = near white),
// with dark text on the light half so the value stays readable.
std::string heat_sgr(double value) {
    const double v = unit_fraction(value);
    const long grey = 232 + std::lround(v * 23);
    return fmt::format("48;5;{};38;5;{}", grey, v >= 0.5 ? 16 : 255);
}
}  // namespace

void Printer::heatmap(std::string_view title, std::span<const double> data, std::size_t rows,
                      std::size_t cols, const std::vector<std::string>& row_labels,
                      const std::vector<std::string>& col_labels) {
    check_labels("Printer::heatmap", data.size(), rows, cols, row_labels, col_labels);
    const std::size_t label_width = max_width(row_labels);
    std::vector<std::size_t> widths(cols, 4);  // room for "0.87"
    for (std::size_t c = 0; c < col_labels.size(); ++c)
        widths[c] = std::max(widths[c], display_width(col_labels[c]));

    const auto cell = [&](double value, std::size_t width) {
        if (!color_) return repeat(shade(value), width);
        const std::string text = pad(fixed(value, 2), width, Align::right);
        return std::isnan(value) ? text : paint(heat_sgr(value), text);
    };

    write_line(fmt::format("  {}", title));
    if (!col_labels.empty()) {
        std::vector<std::string> header;
        for (std::size_t c = 0; c < cols; ++c) header.push_back(pad(col_labels[c], widths[c]));
        write_line(rstrip("  " + std::string(label_width, ' ') + "  " + join(header, " ")));
    }
    for (std::size_t r = 0; r < rows; ++r) {
        std::vector<std::string> cells;
        for (std::size_t c = 0; c < cols; ++c) cells.push_back(cell(data[r * cols + c], widths[c]));
        const std::string name = row_labels.empty() ? "" : row_labels[r];
        write_line("  " + pad(name, label_width) + " │" + join(cells, " ") + "│");
    }
    if (color_) {
        std::vector<std::string> ramp;
        for (double v : {0.0, 0.25, 0.5, 0.75, 1.0}) ramp.push_back(cell(v, 4));
        write_line("  scale: " + join(ramp, " "));
    } else {
        write_line("  shade: ' ' < 0.2 ≤ ░ < 0.4 ≤ ▒ < 0.6 ≤ ▓ < 0.8 ≤ █");
    }
}

namespace {
// A bar of `fraction` × width columns, to an eighth of a column.
std::string bar_text(double fraction, std::size_t width, bool positive) {
    static constexpr std::array<std::string_view, 8> eighths{"", "▏", "▎", "▍",
                                                             "▌", "▋", "▊", "▉"};
    auto units = static_cast<std::size_t>(std::lround(unit_fraction(fraction) * width * 8));
    if (positive && units == 0) units = 1;  // a positive value never looks like zero
    return pad(repeat("█", units / 8) + std::string(eighths[units % 8]), width);
}
}  // namespace

// Linear: length ∝ value / max. Log: length ∝ log10(value) across whole decades from
// the smallest positive value's to the largest's. Zero, negative or non-finite
// values get no bar (their number is still printed).
void Printer::bars(std::string_view title, const std::vector<Bar>& bars, BarOptions options) {
    double smallest = std::numeric_limits<double>::infinity(), largest = 0.0;
    for (const auto& bar : bars)
        if (bar.value > 0 && std::isfinite(bar.value)) {
            smallest = std::min(smallest, bar.value);
            largest = std::max(largest, bar.value);
        }
    double lo = 0, hi = 1;
    if (options.log_scale && largest > 0) {
        lo = std::floor(std::log10(smallest));
        hi = std::max(lo + 1, std::ceil(std::log10(largest)));
    }
    const auto fraction = [&](double v) {
        if (!(v > 0) || !std::isfinite(v)) return 0.0;
        return options.log_scale ? (std::log10(v) - lo) / (hi - lo) : v / largest;
    };

    write_line(options.log_scale && largest > 0
                   ? fmt::format("  {}  (log scale, {} to {})", title, sci(std::pow(10.0, lo), 0),
                                 sci(std::pow(10.0, hi), 0))
                   : fmt::format("  {}", title));
    std::vector<std::string> labels;
    for (const auto& bar : bars) labels.push_back(bar.label);
    const std::size_t label_width = max_width(labels);
    for (const auto& bar : bars) {
        const bool positive = bar.value > 0 && std::isfinite(bar.value);
        const std::string number = options.log_scale ? sci(bar.value, 2)
                                                     : fixed(bar.value, options_.precision);
        write_line("  " + pad(bar.label, label_width) + " │" +
                   bar_text(fraction(bar.value), options.width, positive) + "│ " + number);
    }
}

// --- emphasis: SGR escape codes, written only when colour is on ---

std::string Printer::paint(std::string_view sgr, std::string_view text) const {
    if (!color_) return std::string(text);
    return fmt::format("\x1b[{}m{}\x1b[0m", sgr, text);
}

std::string Printer::bold(std::string_view text) const { return paint("1", text); }
std::string Printer::dim(std::string_view text) const { return paint("2", text); }
std::string Printer::good(std::string_view text) const { return paint("32", text); }
std::string Printer::bad(std::string_view text) const { return paint("31", text); }

}  // namespace stepgrad
