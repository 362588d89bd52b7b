// The shared flag parser: every kind of mistake gets its one-line message, values
// arrive in their variables, --help lists every default.
#include "stepgrad/support/cli.hpp"

#include <cstdint>
#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace stepgrad;

namespace {

// The flags of a typical lesson, bound to the fields of one struct.
struct Lesson {
    int hidden = 16;
    std::string cell = "gru";
    std::uint64_t seed = 1;
    double lr = 1e-2;
    std::string json;
    bool quick = false;
    PrintOptions print;
    Cli cli{"05_concat_attention", "Concat (additive) attention, step by step."};

    Lesson() {
        cli.option("--hidden", hidden, "hidden size H", 1, 4096);
        cli.choice("--cell", cell, {"rnn", "gru", "lstm"}, "recurrent cell");
        cli.option("--seed", seed, "random seed");
        cli.option("--lr", lr, "learning rate", 0.0, 10.0);
        cli.option("--json", json, "write the trace here", "PATH");
        cli.flag("--quick", quick, "tiny run for tests");
        cli.add_print_flags(print);
    }
};

// The UsageError message of parsing `args`, or "" when they parse.
std::string error_of(const std::vector<std::string>& args) {
    Lesson lesson;
    try {
        lesson.cli.parse_or_throw(args);
    } catch (const UsageError& error) {
        return error.what();
    }
    return "";
}

}  // namespace

TEST_CASE("values arrive in their variables, as --name value or --name=value") {
    Lesson lesson;
    const auto parsed = lesson.cli.parse_or_throw(
        {"--hidden", "32", "--cell=lstm", "--seed", "18446744073709551615", "--lr=-0",
         "--json", "out/trace.json", "--quick", "--color", "never", "--trace=full"});
    CHECK(parsed == Cli::Parsed::run);
    CHECK(lesson.hidden == 32);
    CHECK(lesson.cell == "lstm");
    CHECK(lesson.seed == 18446744073709551615ULL);
    CHECK(lesson.lr == 0.0);
    CHECK(lesson.json == "out/trace.json");
    CHECK(lesson.quick);
    CHECK(lesson.print.color == ColorMode::never);
    CHECK(lesson.print.trace == TraceLevel::full);
}

TEST_CASE("no arguments leave every default in place") {
    Lesson lesson;
    CHECK(lesson.cli.parse_or_throw({}) == Cli::Parsed::run);
    CHECK(lesson.hidden == 16);
    CHECK(lesson.cell == "gru");
    CHECK(lesson.lr == 1e-2);
    CHECK_FALSE(lesson.quick);
}

TEST_CASE("negative numbers are values, not flags") {
    Lesson lesson;
    lesson.cli.option("--bias", lesson.lr, "a bias");
    lesson.cli.parse_or_throw({"--bias", "-2.5"});
    CHECK(lesson.lr == -2.5);
}

TEST_CASE("unknown flag, with a suggestion when one is close") {
    CHECK(error_of({"--bogus"}) == "unknown flag '--bogus'");
    CHECK(error_of({"--hiden", "3"}) == "unknown flag '--hiden'; did you mean --hidden?");
    CHECK(error_of({"-seed", "3"}) == "unknown flag '-seed'; did you mean --seed?");
}

TEST_CASE("missing value") {
    CHECK(error_of({"--hidden"}) ==
          "--hidden: missing value, expected a whole number from 1 to 4096");
    CHECK(error_of({"--json", "--quick"}) == "--json: missing value, expected a file path");
}

TEST_CASE("an empty path is an error, never 'no file' (an unset shell variable)") {
    CHECK(error_of({"--json", ""}) == "--json: expected a file path, got ''");
    CHECK(error_of({"--json="}) == "--json: expected a file path, got ''");
}

TEST_CASE("what the user typed is escaped in errors: one line, no terminal control") {
    CHECK(error_of({"--cell", "gru\nfake: all good"}) ==
          "--cell: expected one of rnn, gru, lstm, got 'gru\\x0afake: all good'");
    CHECK(error_of({"--hidden", "\x1b[2J"}) == "--hidden: expected a whole number from 1 to 4096, got '\\x1b[2J'");
    CHECK(error_of({"--bogus\u202e"}) == "unknown flag '--bogus\\u{202e}'");
}

TEST_CASE("a bare -- or a one-letter flag suggests nothing") {
    CHECK(error_of({"--"}) == "unknown flag '--'");
    CHECK(error_of({"--x"}) == "unknown flag '--x'");
}

TEST_CASE("not a number, trailing junk, out of range") {
    CHECK(error_of({"--hidden", "abc"}) ==
          "--hidden: expected a whole number from 1 to 4096, got 'abc'");
    CHECK(error_of({"--hidden", "12abc"}) ==
          "--hidden: expected a whole number from 1 to 4096, got '12abc'");
    CHECK(error_of({"--hidden", "-3"}) ==
          "--hidden: expected a whole number from 1 to 4096, got '-3'");
    CHECK(error_of({"--hidden=1000000000"}) ==
          "--hidden: expected a whole number from 1 to 4096, got '1000000000'");
    CHECK(error_of({"--hidden", "99999999999999999999"}) ==
          "--hidden: expected a whole number from 1 to 4096, got '99999999999999999999'");
    CHECK(error_of({"--hidden", "2.5"}) ==
          "--hidden: expected a whole number from 1 to 4096, got '2.5'");
    CHECK(error_of({"--seed", "-1"}) == "--seed: expected a non-negative whole number, got '-1'");
    CHECK(error_of({"--lr", "fast"}) == "--lr: expected a number from 0 to 10, got 'fast'");
    CHECK(error_of({"--lr", "11"}) == "--lr: expected a number from 0 to 10, got '11'");
    CHECK(error_of({"--lr", "nan"}) == "--lr: expected a number from 0 to 10, got 'nan'");
    CHECK(error_of({"--lr="}) == "--lr: expected a number from 0 to 10, got ''");
}

TEST_CASE("not one of the choices") {
    CHECK(error_of({"--cell", "gur"}) == "--cell: expected one of rnn, gru, lstm, got 'gur'");
    CHECK(error_of({"--color", "yes"}) ==
          "--color: expected one of auto, always, never, got 'yes'");
    CHECK(error_of({"--trace", "all"}) ==
          "--trace: expected one of none, steps, gates, full, got 'all'");
}

TEST_CASE("a flag given twice") {
    CHECK(error_of({"--seed", "1", "--seed=2"}) == "--seed: given twice");
    CHECK(error_of({"--quick", "--quick"}) == "--quick: given twice");
}

TEST_CASE("an on/off flag takes no value") {
    CHECK(error_of({"--quick=yes"}) == "--quick: takes no value, got 'yes'");
}

TEST_CASE("positional arguments are refused") {
    CHECK(error_of({"hello"}) == "unexpected argument 'hello'");
    CHECK(error_of({"--hidden", "8", "9"}) == "unexpected argument '9'");
    CHECK(error_of({"hidden"}) == "unexpected argument 'hidden'; did you mean --hidden?");
}

TEST_CASE("--help and -h win over everything else") {
    Lesson lesson;
    CHECK(lesson.cli.parse_or_throw({"--bogus", "--help"}) == Cli::Parsed::help);
    CHECK(lesson.cli.parse_or_throw({"-h"}) == Cli::Parsed::help);
}

TEST_CASE("help lists every flag with its value name, help and default") {
    Lesson lesson;
    const std::string help = lesson.cli.help();
    CAPTURE(help);
    CHECK(help.starts_with(
        "05_concat_attention — Concat (additive) attention, step by step.\n\n"
        "usage: 05_concat_attention [flags]\n\nflags:\n"));
    CHECK(help.find("  --hidden N                     hidden size H (from 1 to 4096, default: 16)\n") !=
          std::string::npos);
    CHECK(help.find("--cell rnn|gru|lstm            recurrent cell (default: gru)\n") !=
          std::string::npos);
    CHECK(help.find("--seed N                       random seed (default: 1)\n") != std::string::npos);
    CHECK(help.find("learning rate (from 0 to 10, default: 0.01)") != std::string::npos);
    CHECK(help.find("--json PATH") != std::string::npos);
    CHECK(help.find("write the trace here (default: none)") != std::string::npos);
    CHECK(help.find("tiny run for tests (default: off)") != std::string::npos);
    CHECK(help.find("--color auto|always|never") != std::string::npos);
    CHECK(help.find("(default: auto)") != std::string::npos);
    CHECK(help.find("--trace none|steps|gates|full") != std::string::npos);
    CHECK(help.find("(default: gates)") != std::string::npos);
    CHECK(help.find("-h, --help") != std::string::npos);
}

TEST_CASE("the error text is one line naming the program, then the usage line") {
    Lesson lesson;
    CHECK(lesson.cli.error_text("--cell lstm and --score dot do not mix") ==
          "05_concat_attention: error: --cell lstm and --score dot do not mix\n"
          "usage: 05_concat_attention [flags]  (see --help)\n");
}

TEST_CASE("declaring a flag badly is a programming error") {
    Lesson lesson;
    int x = 0;
    std::string word = "maybe";
    CHECK_THROWS_AS(lesson.cli.option("--hidden", x, "again"), std::logic_error);
    CHECK_THROWS_AS(lesson.cli.option("x", x, "no dashes"), std::logic_error);
    CHECK_THROWS_AS(lesson.cli.choice("--w", word, {"yes", "no"}, "bad default"), std::logic_error);
}

TEST_CASE("checks of flags taken together run after parsing, and given() tells typed from default") {
    Lesson lesson;
    int checked = 0;
    lesson.cli.check([&] {
        ++checked;
        if (lesson.cli.given("--quick") && lesson.hidden > 8)
            throw UsageError("--quick takes --hidden 8 or less");
    });
    CHECK(lesson.cli.parse_or_throw({"--hidden", "16"}) == Cli::Parsed::run);
    CHECK(checked == 1);
    CHECK(lesson.cli.given("--hidden"));  // typed, although 16 is the default
    CHECK_FALSE(lesson.cli.given("--cell"));
    CHECK_FALSE(lesson.cli.given("--no-such-flag"));
    CHECK_THROWS_WITH_AS(lesson.cli.parse_or_throw({"--quick", "--hidden", "9"}),
                         "--quick takes --hidden 8 or less", UsageError);
    CHECK(lesson.cli.parse_or_throw({"--quick", "--help"}) == Cli::Parsed::help);  // no check for --help
    CHECK(checked == 2);
    CHECK_THROWS_AS(lesson.cli.parse_or_throw({"--hidden", "x"}), UsageError);  // a bad flag first
    CHECK(checked == 2);
}
