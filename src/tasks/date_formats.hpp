#pragma once
// The dates task's calendar and its 12 renderings of a date (src/tasks/date_formats.cpp),
// shared by the task (dates.cpp) and the public format_date / iso_date / weekday.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stepgrad/tasks.hpp"

namespace stepgrad::date_formats {

inline constexpr int first_year = 1950;
inline constexpr int last_year = 2049;
inline constexpr int n_date_formats = 12;

struct Date {
    int year, month, day;
};

long days_from_civil(int y, int m, int d);
Date civil_from_days(long z);
// Every character any format can produce, in a fixed order.
std::vector<std::string> source_tokens();
// Shortest and longest rendering of each format.
const std::array<LengthRange, n_date_formats>& format_lengths();
// The ISO date a source renders, or nothing when no format and year make it.
std::optional<std::string> read_date(std::string_view text);

}  // namespace stepgrad::date_formats
