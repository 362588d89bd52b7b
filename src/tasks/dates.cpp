// dates: "saturday 21 nov 2026", "21/11/2026", "November 21, 2026", … → "2026-11-21",
// character by character. The formats themselves are in date_formats.cpp.
#include <fmt/format.h>

#include <algorithm>

#include "date_formats.hpp"
#include "stepgrad/support/text.hpp"

namespace stepgrad {

namespace {

using namespace date_formats;

// Redraws before giving up: enough that a legal but rare length still succeeds, few
// enough that an impossible one fails in well under a second.
constexpr int max_draws_per_example = 100'000;

// A date written in a format, and in ISO. Each target digit aligns to the source
// characters of its field (all 4 or 2 year digits, the month's name or number, the day's
// digits); the '-' separators to nothing; <eos> to <eos>.
Example date_example(const Date& d, const DateText& source, const Vocab& src, const Vocab& tgt) {
    const DateText target = render_iso(d);
    Example e{src.encode_tokens(utf8_chars(source.text)), tgt.encode_tokens(utf8_chars(target.text))};
    for (const DateField field : target.fields) {
        std::vector<int> positions;
        for (int i = 0; i < static_cast<int>(source.fields.size()); ++i)
            if (field != DateField::none && source.fields[static_cast<std::size_t>(i)] == field) positions.push_back(i);
        e.alignment.push_back(std::move(positions));
    }
    e.alignment.push_back({static_cast<int>(source.text.size())});
    return e;
}

class DatesTask final : public Task {
public:
    std::string_view name() const override { return "dates"; }
    std::string_view description() const override {
        return "a date in one of 12 human formats (\"saturday 21 nov 2026\", \"21/11/2026\", …) → "
               "\"2026-11-21\", character by character";
    }

    LengthRange length_range() const override {
        LengthRange range{1 << 30, 0};
        for (const LengthRange& f : format_lengths()) {
            range.min_len = std::min(range.min_len, f.min_len);
            range.max_len = std::max(range.max_len, f.max_len);
        }
        return range;
    }
    LengthRange default_lengths() const override { return length_range(); }

    Vocab src_vocab(const TaskConfig&) const override {
        return Vocab("dates source", Vocab::Level::character, source_tokens());
    }
    Vocab tgt_vocab(const TaskConfig&) const override {
        std::vector<std::string> tokens;
        for (const char c : std::string_view("0123456789-")) tokens.emplace_back(1, c);
        return Vocab("dates target", Vocab::Level::character, tokens);
    }

    // Pick among the formats that can fit the lengths, then a date; redraw the date when
    // this rendering falls outside them.
    Example sample(Rng& rng, const TaskConfig& config, const Vocab& src, const Vocab& tgt) const override {
        std::vector<int> formats;
        const auto& ranges = format_lengths();
        for (int f = 0; f < n_date_formats; ++f)
            if (ranges[f].max_len >= config.min_len && ranges[f].min_len <= config.max_len) formats.push_back(f);
        const long first_day = days_from_civil(first_year, 1, 1);
        const long n_days = days_from_civil(last_year + 1, 1, 1) - first_day;
        for (int attempt = 0; attempt < max_draws_per_example; ++attempt) {
            const int format = formats[rng.below(formats.size())];
            const Date d = civil_from_days(first_day + static_cast<long>(rng.below(n_days)));
            const DateText text = render(d, format);
            const int length = static_cast<int>(text.text.size());
            if (length < config.min_len || length > config.max_len) continue;
            return date_example(d, text, src, tgt);
        }
        throw TaskError(fmt::format("dates: no date of length {}..{} found in {} draws", config.min_len, config.max_len,
                                    max_draws_per_example));
    }

    Example answer(std::span<const int> source, const Vocab& src, const Vocab& tgt) const override {
        const std::string text = src.decode(source);
        const auto date = read_date(text);
        if (!date)
            throw TaskError(fmt::format("{} is not a date the dates task writes (one of its {} formats, years "
                                        "{}..{}, with the right weekday)",
                                        quoted(text), n_date_formats, first_year, last_year));
        const auto& [d, format] = *date;
        return date_example(d, render(d, format), src, tgt);
    }
};

}  // namespace

const Task& dates_task() {
    static const DatesTask task;
    return task;
}

}  // namespace stepgrad
