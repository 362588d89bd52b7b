#include "stepgrad/support/cli.hpp"

#include <new>
#include "stepgrad/support/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fmt/ranges.h>

namespace stepgrad {

Cli::Cli(std::string program, std::string about)
    : program_(std::move(program)), about_(std::move(about)) {}

Cli& Cli::add(Flag flag) {
    if (!flag.name.starts_with("--") || flag.name == "--help" || find(flag.name) != nullptr)
        throw std::logic_error(fmt::format("Cli: bad or repeated flag name '{}'", flag.name));
    flags_.push_back(std::move(flag));
    return *this;
}

Cli& Cli::check(std::function<void()> check) {
    checks_.push_back(std::move(check));
    return *this;
}

bool Cli::given(std::string_view name) const {
    const auto it = std::find_if(flags_.begin(), flags_.end(),
                                 [&](const Flag& flag) { return flag.name == name; });
    return it != flags_.end() && it->seen;
}

Cli::Flag* Cli::find(std::string_view name) {
    const auto it = std::find_if(flags_.begin(), flags_.end(),
                                 [&](const Flag& flag) { return flag.name == name; });
    return it == flags_.end() ? nullptr : &*it;
}

// --- declaring flags ---

Cli& Cli::option(std::string name, double& value, std::string help, double lo, double hi) {
    std::string allowed = describe_range(lo, hi);
    std::string expects = allowed.empty() ? "a number" : "a number " + allowed;
    return add({std::move(name), "X", std::move(help), std::move(allowed), std::move(expects),
                fmt::format("{}", value), [&value, lo, hi](std::string_view text) {
                    double parsed = 0;
                    const char* end = text.data() + text.size();
                    const auto [stop, error] = std::from_chars(text.data(), end, parsed);
                    // from_chars reads "inf" and "nan" too; no lesson wants those.
                    if (error != std::errc{} || stop != end || !std::isfinite(parsed) ||
                        parsed < lo || parsed > hi)
                        return false;
                    value = parsed;
                    return true;
                }});
}

Cli& Cli::option(std::string name, std::string& value, std::string help,
                 std::string value_name) {
    // An empty path is a mistake (an unset shell variable), never "no file".
    const bool path = value_name == "PATH";
    return add({std::move(name), std::move(value_name), std::move(help), "", path ? "a file path" : "a value",
                value.empty() ? "none" : value, [&value, path](std::string_view text) {
                    if (path && text.empty()) return false;
                    value = text;
                    return true;
                }});
}

Cli& Cli::option(std::string name, ColorMode& value, std::string help) {
    return add({std::move(name), "auto|always|never", std::move(help), "",
                "one of auto, always, never", std::string(to_string(value)),
                [&value](std::string_view text) {
                    const auto mode = parse_color_mode(text);
                    if (mode) value = *mode;
                    return mode.has_value();
                }});
}

Cli& Cli::option(std::string name, TraceLevel& value, std::string help) {
    return add({std::move(name), "none|steps|gates|full", std::move(help), "",
                "one of none, steps, gates, full", std::string(to_string(value)),
                [&value](std::string_view text) {
                    const auto level = parse_trace_level(text);
                    if (level) value = *level;
                    return level.has_value();
                }});
}

Cli& Cli::choice(std::string name, std::string& value, std::vector<std::string> choices,
                 std::string help) {
    if (std::find(choices.begin(), choices.end(), value) == choices.end())
        throw std::logic_error(fmt::format("Cli: {} defaults to '{}', not one of its choices",
                                           name, value));
    std::string value_name = fmt::format("{}", fmt::join(choices, "|"));
    std::string expects = fmt::format("one of {}", fmt::join(choices, ", "));
    return add({std::move(name), std::move(value_name), std::move(help), "", std::move(expects),
                value, [&value, choices](std::string_view text) {
                    if (std::find(choices.begin(), choices.end(), text) == choices.end())
                        return false;
                    value = text;
                    return true;
                }});
}

Cli& Cli::flag(std::string name, bool& value, std::string help) {
    return add({std::move(name), "", std::move(help), "", "", value ? "on" : "off",
                [&value](std::string_view) {
                    value = true;
                    return true;
                }});
}

Cli& Cli::add_print_flags(PrintOptions& options) {
    option("--color", options.color, "colour the output; auto: on a terminal, unless NO_COLOR is set");
    return option("--trace", options.trace, "how much to print: results, steps, every gate, all uncut");
}

// --- parsing ---

namespace {
// Levenshtein distance: the fewest single-character edits turning a into b.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> previous(b.size() + 1), current(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1,
                                   previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(previous, current);
    }
    return previous[b.size()];
}
}  // namespace

// "unknown flag '--hiden'; did you mean --hidden?" when a flag is within two edits.
std::string Cli::unknown_flag(std::string_view name) const {
    std::string message = fmt::format("unknown flag '{}'", escaped(name));
    const Flag* closest = nullptr;
    // a suggestion closer than the word itself is long: "--" or "--x" suggest nothing
    std::size_t best = std::min<std::size_t>(3, name.size() > 2 ? name.size() - 2 : 0);
    for (const Flag& flag : flags_)
        if (const std::size_t d = edit_distance(name, flag.name); d < best) {
            best = d;
            closest = &flag;
        }
    if (closest) message += fmt::format("; did you mean {}?", closest->name);
    return message;
}

Cli::Parsed Cli::parse_or_throw(const std::vector<std::string>& args) {
    // --help wins wherever it is, even after a mistake.
    for (const auto& arg : args)
        if (arg == "--help" || arg == "-h") return Parsed::help;
    for (Flag& flag : flags_) flag.seen = false;

    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        if (!arg.starts_with("-") || arg == "-") {
            std::string message = fmt::format("unexpected argument '{}'", escaped(arg));
            if (find(fmt::format("--{}", arg))) message += fmt::format("; did you mean --{}?", arg);
            throw UsageError(message);
        }
        const std::size_t equals = arg.find('=');
        const std::string_view name = arg.substr(0, equals);
        Flag* flag = find(name);
        if (flag == nullptr) throw UsageError(unknown_flag(name));
        if (flag->seen) throw UsageError(fmt::format("{}: given twice", name));
        flag->seen = true;

        if (flag->value_name.empty()) {  // an on/off flag
            if (equals != std::string_view::npos)
                throw UsageError(fmt::format("{}: takes no value, got '{}'", name,
                                             escaped(arg.substr(equals + 1))));
            flag->set("");
            continue;
        }
        std::string_view text;
        if (equals != std::string_view::npos)
            text = arg.substr(equals + 1);
        else if (i + 1 < args.size() && !args[i + 1].starts_with("--"))
            text = args[++i];
        else
            throw UsageError(fmt::format("{}: missing value, expected {}", name, flag->expects));
        if (!flag->set(text))
            throw UsageError(fmt::format("{}: expected {}, got '{}'", name, flag->expects, escaped(text)));
    }
    for (const auto& check : checks_) check();
    return Parsed::run;
}

std::optional<int> Cli::parse(int argc, const char* const* argv) {
    const std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
    try {
        if (parse_or_throw(args) == Parsed::run) return std::nullopt;
        fmt::print("{}", help());
        return 0;
    } catch (const std::bad_alloc&) {
        return report("out of memory while checking the flags: the sizes they ask for do not fit in this machine's "
                      "memory; try smaller ones");
    } catch (const std::exception& error) {  // a UsageError, or from a check: one line and exit 2, never a trace
        return report(error.what());
    }
}

// --- messages ---

std::string Cli::error_text(std::string_view message) const {
    return fmt::format("{0}: error: {1}\nusage: {0} [flags]  (see --help)\n", program_, message);
}

int Cli::report(std::string_view message) const {
    std::fflush(stdout);  // what was printed before stays before the error
    fmt::print(stderr, "{}", error_text(message));
    return 2;
}

std::string Cli::help() const {
    std::vector<std::pair<std::string, std::string>> rows;
    for (const Flag& flag : flags_) {
        const std::string left =
            flag.value_name.empty() ? flag.name : flag.name + " " + flag.value_name;
        const std::string range = flag.allowed.empty() ? "" : flag.allowed + ", ";
        rows.emplace_back(left, fmt::format("{} ({}default: {})", flag.help, range,
                                            flag.default_text));
    }
    rows.emplace_back("-h, --help", "show this help and exit");

    std::size_t width = 0;
    for (const auto& row : rows) width = std::max(width, display_width(row.first));
    std::string text = fmt::format("{} — {}\n\nusage: {} [flags]\n\nflags:\n", program_,
                                   about_, program_);
    for (const auto& [left, right] : rows)
        text += fmt::format("  {}  {}\n", pad(left, width), right);
    return text;
}

}  // namespace stepgrad
