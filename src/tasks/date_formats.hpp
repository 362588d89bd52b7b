#pragma once
// The dates task's calendar and its 12 renderings of a date (src/tasks/date_formats.cpp),
// shared by the task (dates.cpp) and the public format_date / iso_date / weekday.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stepgrad/tasks.hpp"

namespace stepgrad::date_formats {

inline constexpr int first_year = 1950;
inline constexpr int last_year = 2049;
inline constexpr int n_date_formats = 12;

struct Date {
    int year, month, day;
};

// A rendered date and the field each character writes (all characters are ASCII): a
// target digit's gold alignment is the source characters of its field.
enum class DateField { none, year, month, day };
struct DateText {
    std::string text;
    std::vector<DateField> fields;  // one per character of text
};

long days_from_civil(int y, int m, int d);
Date civil_from_days(long z);
// Every character any format can produce, in a fixed order.
std::vector<std::string> source_tokens();
// Shortest and longest rendering of each format.
const std::array<LengthRange, n_date_formats>& format_lengths();
// A date in a format (throws TaskError for an invalid date, year or format), and in ISO.
DateText render(const Date& d, int format);
DateText render_iso(const Date& d);
// The date and format a source renders, or nothing when no format and year make it.
std::optional<std::pair<Date, int>> read_date(std::string_view text);

}  // namespace stepgrad::date_formats
