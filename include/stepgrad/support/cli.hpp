#pragma once
// The one command-line parser of every lesson and of the benchmark. A lesson binds
// each flag to a variable in one line; the variable's initial value is the default
// that --help shows:
//
//     Cli cli("05_concat_attention", "Concat (additive) attention, step by step.");
//     int hidden = 16;           cli.option("--hidden", hidden, "hidden size H", 1, 4096);
//     std::string cell = "gru";  cli.choice("--cell", cell, {"rnn", "gru", "lstm"}, "recurrent cell");
//     bool quick = false;        cli.flag("--quick", quick, "tiny run for tests");
//     if (const auto exit_code = cli.parse(argc, argv)) return *exit_code;
//
// Values are given as `--name value` or `--name=value`. A bad command line gets one
// line on stderr naming the flag and what it allows, then a usage line, and exit
// code 2:
//     05_concat_attention: error: --hidden: expected a whole number from 1 to 4096, got '-3'
//     usage: 05_concat_attention [flags]  (see --help)
#include "stepgrad/support/print.hpp"

#include <charconv>
#include <concepts>
#include <cstdint>
#include <fmt/format.h>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace stepgrad {

// A bad command line. what() is the message, without the program name.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

template <class T>
concept WholeNumber = std::integral<T> && !std::same_as<T, bool>;

class Cli {
public:
    Cli(std::string program, std::string about);

    // A whole number, checked to lie in [lo, hi].
    template <WholeNumber T>
    Cli& option(std::string name, T& value, std::string help,
                std::type_identity_t<T> lo = std::numeric_limits<T>::min(),
                std::type_identity_t<T> hi = std::numeric_limits<T>::max());
    // A finite number, checked to lie in [lo, hi].
    Cli& option(std::string name, double& value, std::string help,
                double lo = std::numeric_limits<double>::lowest(),
                double hi = std::numeric_limits<double>::max());
    // Any text; `value_name` is what --help calls it ("PATH", "SENTENCE"). A PATH may not
    // be empty.
    Cli& option(std::string name, std::string& value, std::string help,
                std::string value_name = "TEXT");
    // --color auto|always|never and --trace none|steps|gates|full.
    Cli& option(std::string name, ColorMode& value, std::string help);
    Cli& option(std::string name, TraceLevel& value, std::string help);
    // One of a fixed list of words; the initial value must be one of them.
    Cli& choice(std::string name, std::string& value, std::vector<std::string> choices,
                std::string help);
    // An on/off flag without a value: present means true.
    Cli& flag(std::string name, bool& value, std::string help);
    // --color and --trace, bound to a Printer's options.
    Cli& add_print_flags(PrintOptions& options);

    // Parses argv[1 …]. Returns nothing when the program should run; an exit code when
    // it should stop now: 2 after printing a bad command line's error to stderr, 0 after
    // printing help() to stdout for --help. (The library never exits; the program does.)
    [[nodiscard]] std::optional<int> parse(int argc, const char* const* argv);

    enum class Parsed { run, help };
    // The testable core of parse(): throws UsageError instead of exiting, and returns
    // Parsed::help instead of printing help. `args` excludes the program name.
    Parsed parse_or_throw(const std::vector<std::string>& args);

    // A check of the flags taken together (conflicting flags, a file that cannot be
    // written, unknown tokens), run after every flag was read and before parse returns;
    // it throws UsageError naming the flags. Checks run in the order they were added,
    // and not for --help.
    Cli& check(std::function<void()> check);
    // Whether the last parse saw `name` on the command line: a typed value counts even
    // when it equals the default; a flag never declared was never given.
    bool given(std::string_view name) const;

    // Prints error_text(message) to stderr and returns 2, the exit code of a bad command
    // line.
    int report(std::string_view message) const;
    // "PROGRAM: error: MESSAGE\nusage: PROGRAM [flags]  (see --help)\n"
    std::string error_text(std::string_view message) const;
    // Every flag with its value, help, allowed range and default.
    std::string help() const;

private:
    struct Flag {
        std::string name;        // "--hidden"
        std::string value_name;  // "N", "PATH", "rnn|gru|lstm"; empty for an on/off flag
        std::string help;
        std::string allowed;     // "from 1 to 4096"; empty when anything of the type goes
        std::string expects;     // "a whole number from 1 to 4096"
        std::string default_text;
        std::function<bool(std::string_view)> set;  // false when the text is not valid
        bool seen = false;
    };
    Cli& add(Flag flag);
    Flag* find(std::string_view name);
    std::string unknown_flag(std::string_view name) const;

    template <class T>
    static std::string describe_range(T lo, T hi);

    std::string program_;
    std::string about_;
    std::vector<Flag> flags_;
    std::vector<std::function<void()>> checks_;
};

// "from 1 to 4096", "≥ 1", "≤ 10", or "" when both bounds are the type's limits.
template <class T>
std::string Cli::describe_range(T lo, T hi) {
    const bool has_lo = lo > std::numeric_limits<T>::lowest();
    const bool has_hi = hi < std::numeric_limits<T>::max();
    if (has_hi && (has_lo || std::is_unsigned_v<T>)) return fmt::format("from {} to {}", lo, hi);
    if (has_lo) return fmt::format("≥ {}", lo);
    if (has_hi) return fmt::format("≤ {}", hi);
    return "";
}

template <WholeNumber T>
Cli& Cli::option(std::string name, T& value, std::string help, std::type_identity_t<T> lo,
                 std::type_identity_t<T> hi) {
    std::string allowed = describe_range(lo, hi);
    std::string kind = std::is_unsigned_v<T> && allowed.empty() ? "a non-negative whole number"
                                                                 : "a whole number";
    std::string expects = allowed.empty() ? kind : kind + " " + allowed;
    return add({std::move(name), "N", std::move(help), std::move(allowed), std::move(expects),
                fmt::format("{}", value), [&value, lo, hi](std::string_view text) {
                    // from_chars: no leading spaces or '+', and we insist it uses every
                    // character, so "12abc" and "1e3" are refused, not read as 12 and 1.
                    T parsed{};
                    const char* end = text.data() + text.size();
                    const auto [stop, error] = std::from_chars(text.data(), end, parsed);
                    if (error != std::errc{} || stop != end || parsed < lo || parsed > hi)
                        return false;
                    value = parsed;
                    return true;
                }});
}

}  // namespace stepgrad
