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

std::string ordinal(int day) {
    const char* suffix = "th";
    if (day % 10 == 1 && day != 11) suffix = "st";
    if (day % 10 == 2 && day != 12) suffix = "nd";
    if (day % 10 == 3 && day != 13) suffix = "rd";
    return fmt::format("{}{}", day, suffix);
}

// The rendering of a date, given the names already chosen; shared by format_date and
// the length bounds, which try every name length without needing a real date.
std::string render_date(int format, int year, int month, int day, std::string_view month_name,
                        std::string_view weekday_name) {
    const std::string_view mon = month_name.substr(0, 3);
    const std::string_view wkd = weekday_name.substr(0, 3);
    switch (format) {
        case 0: return fmt::format("{} {} {} {}", weekday_name, day, mon, year);
        case 1: return fmt::format("{:02}/{:02}/{}", day, month, year);
        case 2: return fmt::format("{} {}, {}", capitalized(month_name), day, year);
        case 3: return fmt::format("{}.{:02}.{:02}", year, month, day);
        case 4: return fmt::format("{} {} {}", day, capitalized(month_name), year);
        case 5: return fmt::format("{} {} {}", capitalized(mon), day, year);
        case 6: return fmt::format("{}, {} {} {:02}", wkd, day, mon, year % 100);
        case 7:
            return fmt::format("{}, {} {}, {}", capitalized(weekday_name),
                               capitalized(month_name), day, year);
        case 8: return fmt::format("{:02}-{}-{}", day, mon, year);
        case 9: return fmt::format("{}-{:02}-{:02}", year, month, day);
        case 10: return fmt::format("the {} of {} {}", ordinal(day), month_name, year);
        case 11: return fmt::format("{} {:02}.{:02}.{}", capitalized(wkd), day, month, year);
    }
    throw TaskError(fmt::format("no date format {}", format));
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
                        render_date(f, 2026, m, day, month_names[m - 1], weekday_name).size());
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

// Tries each year the text could hold
// (every format writes the year in full, or its last two digits at the end).
std::optional<std::string> read_date(std::string_view text) {
    for (int year = first_year; year <= last_year; ++year) {
        const std::string two = fmt::format(" {:02}", year % 100);
        if (text.find(std::to_string(year)) == std::string_view::npos && !text.ends_with(two)) continue;
        for (long day = days_from_civil(year, 1, 1); day < days_from_civil(year + 1, 1, 1); ++day) {
            const Date d = civil_from_days(day);
            for (int format = 0; format < n_date_formats; ++format)
                if (stepgrad::format_date(d.year, d.month, d.day, format) == text) return stepgrad::iso_date(d.year, d.month, d.day);
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

std::string format_date(int year, int month, int day, int format) {
    const Date back = civil_from_days(days_from_civil(year, month, day));
    if (month < 1 || month > 12 || day < 1 || back.year != year || back.month != month ||
        back.day != day)
        throw TaskError(fmt::format("{} is not a date", iso_date(year, month, day)));
    if (year < first_year || year > last_year)
        throw TaskError(fmt::format("year {} is outside {}..{}", year, first_year, last_year));
    if (format < 0 || format >= n_date_formats)
        throw TaskError(fmt::format("date format {} is outside 0..{}", format,
                                    n_date_formats - 1));
    return render_date(format, year, month, day, month_names[month - 1],
                       weekday_names[weekday(year, month, day)]);
}


}  // namespace stepgrad
