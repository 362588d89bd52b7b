#include "date_formats.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace stepgrad {

namespace date_formats {

namespace {

constexpr std::array<std::string_view, 12> month_names{
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};
constexpr std::array<std::string_view, 7> weekday_names{
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};

std::string capitalized(std::string_view s) {
    std::string out(s);
    out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
    return out;
}

std::string_view ordinal_suffix(int day) {
    if (day % 10 == 1 && day != 11) return "st";
    if (day % 10 == 2 && day != 12) return "nd";
    if (day % 10 == 3 && day != 13) return "rd";
    return "th";
}

// The 12 formats. A placeholder is a field of the date: the year as "yyyy" or its last
// two digits "yy"; the month as "mm", "month", "Month" (capitalized), "mon" or "Mon" (3
// letters); the day as "d", "dd" (2 digits) or "dth" (ordinal: "21st"); the weekday as
// "weekday", "Weekday", "wkd" or "Wkd". Anything else is written as it is.
constexpr std::array<std::string_view, n_date_formats> patterns{
    "{weekday} {d} {mon} {yyyy}",     // saturday 21 nov 2026
    "{dd}/{mm}/{yyyy}",               // 21/11/2026
    "{Month} {d}, {yyyy}",            // November 21, 2026
    "{yyyy}.{mm}.{dd}",               // 2026.11.21
    "{d} {Month} {yyyy}",             // 21 November 2026
    "{Mon} {d} {yyyy}",               // Nov 21 2026
    "{wkd}, {d} {mon} {yy}",          // sat, 21 nov 26
    "{Weekday}, {Month} {d}, {yyyy}", // Saturday, November 21, 2026
    "{dd}-{mon}-{yyyy}",              // 21-nov-2026
    "{yyyy}-{mm}-{dd}",               // 2026-11-21
    "the {dth} of {month} {yyyy}",    // the 21st of november 2026
    "{Wkd} {dd}.{mm}.{yyyy}",         // Sat 21.11.2026
};

// The rendering of a date, given the names already chosen; shared by format_date and
// the length bounds, which try every name length without needing a real date.
DateText render_date(int format, int year, int month, int day, std::string_view month_name,
                     std::string_view weekday_name) {
    DateText out;
    auto write = [&](std::string_view text, DateField field) {
        out.text += text;
        out.fields.insert(out.fields.end(), text.size(), field);
    };
    const std::string_view mon = month_name.substr(0, 3);
    const std::string_view wkd = weekday_name.substr(0, 3);
    std::string_view pattern = patterns[static_cast<std::size_t>(format)];
    while (!pattern.empty()) {
        if (pattern[0] != '{') {
            write(pattern.substr(0, 1), DateField::none);
            pattern.remove_prefix(1);
            continue;
        }
        const std::size_t close = pattern.find('}');
        const std::string_view name = pattern.substr(1, close - 1);
        pattern.remove_prefix(close + 1);
        if (name == "yyyy") write(fmt::format("{}", year), DateField::year);
        if (name == "yy") write(fmt::format("{:02}", year % 100), DateField::year);
        if (name == "mm") write(fmt::format("{:02}", month), DateField::month);
        if (name == "month") write(month_name, DateField::month);
        if (name == "Month") write(capitalized(month_name), DateField::month);
        if (name == "mon") write(mon, DateField::month);
        if (name == "Mon") write(capitalized(mon), DateField::month);
        if (name == "d") write(fmt::format("{}", day), DateField::day);
        if (name == "dd") write(fmt::format("{:02}", day), DateField::day);
        if (name == "dth") {  // the suffix is no field: the digits carry the day
            write(fmt::format("{}", day), DateField::day);
            write(ordinal_suffix(day), DateField::none);
        }
        if (name == "weekday") write(weekday_name, DateField::none);
        if (name == "Weekday") write(capitalized(weekday_name), DateField::none);
        if (name == "wkd") write(wkd, DateField::none);
        if (name == "Wkd") write(capitalized(wkd), DateField::none);
    }
    return out;
}

}  // namespace

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-compatible
// low-level date algorithms"): shift the year to start in March so Feb 29 is last.
long days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    const long era = (y >= 0 ? y : y - 399) / 400;
    const long yoe = y - era * 400;
    const long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

Date civil_from_days(long z) {
    z += 719468;
    const long era = (z >= 0 ? z : z - 146096) / 146097;
    const long doe = z - era * 146097;
    const long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const long mp = (5 * doy + 2) / 153;
    const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    return {static_cast<int>(yoe + era * 400) + (m <= 2), m, d};
}

std::vector<std::string> source_tokens() {
    std::string chars = "0123456789 ,./-";
    auto add = [&](std::string_view word) {
        for (const char c : word)
            if (chars.find(c) == std::string::npos) chars += c;
    };
    for (const auto name : month_names) {
        add(capitalized(name));
        add(name);
    }
    for (const auto name : weekday_names) {
        add(capitalized(name));
        add(name);
    }
    add("the of st nd rd th");
    std::sort(chars.begin() + 15, chars.end());
    std::vector<std::string> tokens;
    for (const char c : chars) tokens.emplace_back(1, c);
    return tokens;
}

// Shortest and longest rendering of each format: its length depends only on the
// lengths of the names and on whether the day has one digit or two.
std::array<LengthRange, n_date_formats> date_format_lengths() {
    std::array<LengthRange, n_date_formats> ranges{};
    for (int f = 0; f < n_date_formats; ++f) {
        ranges[f] = {1 << 30, 0};
        for (int m = 1; m <= 12; ++m)
            for (const auto weekday_name : weekday_names)
                for (const int day : {1, 10}) {
                    const int length = static_cast<int>(
                        render_date(f, 2026, m, day, month_names[m - 1], weekday_name).text.size());
                    ranges[f].min_len = std::min(ranges[f].min_len, length);
                    ranges[f].max_len = std::max(ranges[f].max_len, length);
                }
    }
    return ranges;
}

const std::array<LengthRange, n_date_formats>& format_lengths() {
    static const auto ranges = date_format_lengths();
    return ranges;
}

DateText render(const Date& d, int format) {
    const Date back = civil_from_days(days_from_civil(d.year, d.month, d.day));
    if (d.month < 1 || d.month > 12 || d.day < 1 || back.year != d.year || back.month != d.month || back.day != d.day)
        throw TaskError(fmt::format("{} is not a date", iso_date(d.year, d.month, d.day)));
    if (d.year < first_year || d.year > last_year)
        throw TaskError(fmt::format("year {} is outside {}..{}", d.year, first_year, last_year));
    if (format < 0 || format >= n_date_formats)
        throw TaskError(fmt::format("date format {} is outside 0..{}", format, n_date_formats - 1));
    return render_date(format, d.year, d.month, d.day, month_names[d.month - 1],
                       weekday_names[weekday(d.year, d.month, d.day)]);
}

DateText render_iso(const Date& d) {
    DateText out{iso_date(d.year, d.month, d.day), {}};
    using enum DateField;
    out.fields = {year, year, year, year, none, month, month, none, day, day};
    return out;
}

// Tries each year the text could hold
// (every format writes the year in full, or its last two digits at the end).
std::optional<std::pair<Date, int>> read_date(std::string_view text) {
    for (int year = first_year; year <= last_year; ++year) {
        const std::string two = fmt::format(" {:02}", year % 100);
        if (text.find(std::to_string(year)) == std::string_view::npos && !text.ends_with(two)) continue;
        for (long day = days_from_civil(year, 1, 1); day < days_from_civil(year + 1, 1, 1); ++day) {
            const Date d = civil_from_days(day);
            for (int format = 0; format < n_date_formats; ++format)
                if (render(d, format).text == text) return std::pair{d, format};
        }
    }
    return std::nullopt;
}

}  // namespace date_formats

using namespace date_formats;

int date_format_count() { return n_date_formats; }

int weekday(int year, int month, int day) {
    // 1970-01-01 was a Thursday (3 when Monday is 0).
    const long days = days_from_civil(year, month, day);
    return static_cast<int>(((days % 7) + 7 + 3) % 7);
}

std::string iso_date(int year, int month, int day) {
    return fmt::format("{:04}-{:02}-{:02}", year, month, day);
}

std::string format_date(int year, int month, int day, int format) { return render({year, month, day}, format).text; }

}  // namespace stepgrad
