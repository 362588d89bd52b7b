// SVG heatmaps (see svg.hpp).
#include "stepgrad/support/svg.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "stepgrad/support/print.hpp"  // defines: display_width
#include "stepgrad/support/text.hpp"   // defines: escaped

namespace stepgrad {

namespace {

// Sizes in pixels. A label's width is estimated from its terminal columns (a CJK
// character takes two), not measured in a font: the layout is the same everywhere.
constexpr double cell = 24;         // a cell's pitch; each cell leaves a 1 px gap
constexpr double margin = 16;
constexpr double column_px = 7.2;   // one display column of the 12 px sans-serif text
constexpr double line = 18;         // a line of text
constexpr double bar_width = 14, bar_height = 160;
constexpr double dark = 0x1a;  // the grey of a value of 1

double label_px(std::string_view label) { return static_cast<double>(display_width(label)) * column_px; }

// A token as a label: a lone space made visible, as the notebooks show it.
std::string shown(const std::string& token) { return token == " " ? "␣" : token; }

// White at 0, dark at 1, linear in between as the colour bar's gradient is; NaN red.
std::string fill(double value) {
    if (std::isnan(value)) return "#d62728";
    const long level = std::lround(255 - std::clamp(value, 0.0, 1.0) * (255 - dark));
    return fmt::format("#{0:02x}{0:02x}{0:02x}", level);
}

void check_sizes(const Heatmap& h) {
    if (h.values.size() != h.rows * h.cols || h.row_labels.size() != h.rows || h.col_labels.size() != h.cols)
        throw std::invalid_argument(fmt::format("heatmap_svg: '{}' has {} values, {} row labels and {} column "
                                                "labels for {} × {} cells",
                                                h.title, h.values.size(), h.row_labels.size(), h.col_labels.size(),
                                                h.rows, h.cols));
}

// One heatmap, its title at `y`: the title, the column labels (turned to read upwards
// when one is wider than its column), the row labels right-aligned before `left`, and
// a cell per value. Moves `y` below it.
std::string panel(const Heatmap& h, std::string_view value_name, double left, double& y) {
    std::string out = fmt::format("<g class=\"heatmap\">\n<text x=\"{}\" y=\"{:.1f}\" font-weight=\"bold\">{}</text>\n",
                                  margin, y + 12, xml_text(h.title));
    double widest = 0;
    for (const std::string& label : h.col_labels) widest = std::max(widest, label_px(shown(label)));
    const bool turned = widest > cell - 4;
    const double top = y + line + (turned ? widest + 8 : line);  // of the grid
    for (std::size_t c = 0; c < h.cols; ++c) {
        const double x = left + static_cast<double>(c) * cell + cell / 2;
        const std::string label = xml_text(shown(h.col_labels[c]));
        out += turned ? fmt::format("<text transform=\"translate({:.1f},{:.1f}) rotate(-90)\">{}</text>\n", x + 4, top - 6, label)
                      : fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", x, top - 6, label);
    }
    for (std::size_t r = 0; r < h.rows; ++r)
        out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", left - 8,
                           top + static_cast<double>(r) * cell + cell / 2 + 4, xml_text(shown(h.row_labels[r])));
    for (std::size_t r = 0; r < h.rows; ++r)
        for (std::size_t c = 0; c < h.cols; ++c) {
            const double value = h.values[r * h.cols + c];
            const std::string tooltip = fmt::format("{} = {:.6f} · row {} '{}' · column {} '{}'", value_name, value,
                                                    r + 1, h.row_labels[r], c + 1, h.col_labels[c]);
            out += fmt::format("<rect class=\"cell\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{}\" height=\"{}\" fill=\"{}\">"
                               "<title>{}</title></rect>\n",
                               left + static_cast<double>(c) * cell, top + static_cast<double>(r) * cell, cell - 1,
                               cell - 1, fill(value), xml_text(tooltip));
        }
    y = top + static_cast<double>(h.rows) * cell + line;
    return out + "</g>\n";
}

// A vertical bar, white at 0 (bottom) to dark at 1 (top), with ticks every 0.25.
std::string colour_bar(std::string_view value_name, double x, double y) {
    std::string out = fmt::format("<g class=\"colour-bar\">\n<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", x,
                                  y - 6, xml_text(value_name));
    out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{}\" height=\"{}\" fill=\"url(#scale)\" "
                       "stroke=\"#999999\"/>\n",
                       x, y, bar_width, bar_height);
    for (const double v : {0.0, 0.25, 0.5, 0.75, 1.0}) {
        const double at = y + (1 - v) * bar_height;
        out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#999999\"/>"
                           "<text x=\"{3:.1f}\" y=\"{4:.1f}\">{5}</text>\n",
                           x + bar_width, at, x + bar_width + 4, x + bar_width + 6, at + 4, v);
    }
    return out + "</g>\n";
}

}  // namespace

std::string xml_text(std::string_view text) {
    std::string out;
    for (const char c : escaped(text)) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string heatmap_svg(std::string_view title, std::string_view value_name, const std::vector<Heatmap>& heatmaps) {
    double left = margin, right = margin;  // of the grids
    for (const Heatmap& h : heatmaps) {
        check_sizes(h);
        for (const std::string& label : h.row_labels) left = std::max(left, margin + label_px(shown(label)) + 8);
    }
    std::string panels;
    const double first = margin + line + 8;  // the first panel's title
    double y = first;
    for (const Heatmap& h : heatmaps) {
        panels += panel(h, value_name, left, y);
        right = std::max(right, left + static_cast<double>(h.cols) * cell);
    }
    const double bar_x = right + 24, bar_y = first + 2 * line;
    const double width = std::max(bar_x + bar_width + 40, 2 * margin + label_px(title) * 14 / 12) + margin;
    const double height = std::max(y, bar_y + bar_height + line) + margin;
    return fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0:.0f}\" height=\"{1:.0f}\" "
                       "viewBox=\"0 0 {0:.0f} {1:.0f}\" font-family=\"sans-serif\" font-size=\"12\">\n"
                       "<title>{2}</title>\n"
                       "<defs><linearGradient id=\"scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
                       "<stop offset=\"0\" stop-color=\"#ffffff\"/><stop offset=\"1\" stop-color=\"{3}\"/>"
                       "</linearGradient></defs>\n"
                       "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
                       "<text x=\"{4}\" y=\"{5}\" font-size=\"14\" font-weight=\"bold\">{2}</text>\n"
                       "{6}{7}</svg>\n",
                       std::ceil(width), std::ceil(height), xml_text(title), fill(1.0), margin, margin + 12, panels,
                       colour_bar(value_name, bar_x, bar_y));
}

}  // namespace stepgrad
