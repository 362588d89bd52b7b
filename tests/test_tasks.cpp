// The tasks of SPEC §5: deterministic from a seed, targets right, held-out and training
// sources disjoint, lengths within bounds, clear errors. (Vocab and make_batch
// themselves: test_data.cpp.)
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <set>
#include <string>

#include "stepgrad/tasks.hpp"

using namespace stepgrad;

namespace {

TaskConfig config_for(std::string name, int min_len, int max_len, std::uint64_t seed = 5) {
    TaskConfig config = default_task_config(name);
    config.min_len = min_len;
    config.max_len = max_len;
    config.seed = seed;
    return config;
}

bool same(const std::vector<Example>& a, const std::vector<Example>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].src != b[i].src || a[i].tgt != b[i].tgt) return false;
    return true;
}

// Source without its <eos>, checking that the <eos> is there and only there.
std::vector<int> body(const std::vector<int>& ids) {
    REQUIRE(!ids.empty());
    REQUIRE(ids.back() == Vocab::eos);
    REQUIRE(std::count(ids.begin(), ids.end(), Vocab::eos) == 1);
    return {ids.begin(), ids.end() - 1};
}

// An independent reading of a date string, written for the test: find the year, the
// month (by number or by name) and the day, and the weekday name if any.
struct ParsedDate {
    int year = 0, month = 0, day = 0;
    std::string weekday;  // first three letters, lower case, or ""
};

ParsedDate parse_date_for_test(const std::string& text) {
    static const std::array<std::string, 12> months{"jan", "feb", "mar", "apr", "may", "jun",
                                                    "jul", "aug", "sep", "oct", "nov", "dec"};
    static const std::array<std::string, 7> days{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    std::vector<std::string> words;   // letters only, lower case
    std::vector<std::string> numbers; // digit runs, as written
    std::string current;
    bool digits = false;
    auto flush = [&] {
        if (!current.empty()) (digits ? numbers : words).push_back(current);
        current.clear();
    };
    for (const char c : text) {
        const bool is_digit = std::isdigit(static_cast<unsigned char>(c));
        const bool is_alpha = std::isalpha(static_cast<unsigned char>(c));
        if (!is_digit && !is_alpha) {
            flush();
            continue;
        }
        if (!current.empty() && is_digit != digits) flush();
        digits = is_digit;
        current += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    flush();
    ParsedDate d;
    for (const std::string& w : words) {
        for (int i = 0; i < 12; ++i)
            if (w.size() >= 3 && w.substr(0, 3) == months[i]) d.month = i + 1;
        for (const std::string& name : days)
            if (w.size() >= 3 && w.substr(0, 3) == name) d.weekday = name;
    }
    std::vector<int> values;
    for (const std::string& n : numbers) values.push_back(std::stoi(n));
    auto year_of = [](const std::string& n, int v) {
        return n.size() == 4 ? v : (v >= 50 ? 1900 + v : 2000 + v);
    };
    if (d.month != 0) {  // "21 nov 2026", "Nov 21 2026", "sat, 21 nov 26": day then year
        REQUIRE(values.size() == 2);
        d.day = values[0];
        d.year = year_of(numbers[1], values[1]);
    } else if (numbers.size() == 3 && numbers[0].size() == 4) {  // 2026.11.21, 2026-11-21
        d.year = values[0], d.month = values[1], d.day = values[2];
    } else {  // 21/11/2026, Sat 21.11.2026
        REQUIRE(numbers.size() == 3);
        d.day = values[0], d.month = values[1], d.year = year_of(numbers[2], values[2]);
    }
    return d;
}

// Zeller's congruence, independent of tasks.cpp; 0 = Monday.
int zeller_weekday(int y, int m, int d) {
    if (m < 3) m += 12, y -= 1;
    const int K = y % 100, J = y / 100;
    const int h = (d + 13 * (m + 1) / 5 + K + K / 4 + J / 4 + 5 * J) % 7;
    return (h + 5) % 7;  // h: 0 = Saturday
}

}  // namespace

TEST_CASE("task names and descriptions") {
    const auto names = task_names();
    REQUIRE(names.size() == 8);
    for (const auto name : names) {
        CAPTURE(name);
        CHECK(!describe_task(name).empty());
        CHECK_NOTHROW(validate(default_task_config(name)));
    }
    CHECK_THROWS_AS(describe_task("nope"), TaskError);
}

TEST_CASE("every task is deterministic for a seed and differs across seeds") {
    for (const auto name : task_names()) {
        CAPTURE(name);
        TaskConfig config = default_task_config(name);
        TaskGenerator a(config, 50), b(config, 50);
        CHECK(same(a.held_out(), b.held_out()));
        CHECK(same(a.next(100), b.next(100)));
        config.seed = 99;
        TaskGenerator c(config, 50);
        CHECK(!same(a.held_out(), c.held_out()));
    }
}

TEST_CASE("specials sit at ids 0, 1, 2 in both vocabularies") {
    for (const auto name : task_names()) {
        CAPTURE(name);
        const TaskConfig config = default_task_config(name);
        for (const Vocab& v : {make_src_vocab(config), make_tgt_vocab(config)}) {
            CHECK(v.token(Vocab::pad) == "<pad>");
            CHECK(v.token(Vocab::bos) == "<bos>");
            CHECK(v.token(Vocab::eos) == "<eos>");
            CHECK(v.id("<eos>") == 2);
            for (int i = 0; i < v.size(); ++i) CHECK(v.id(v.token(i)) == i);
        }
    }
}

TEST_CASE("held-out and training sources never overlap, held-out has no duplicates") {
    for (const auto name : task_names()) {
        CAPTURE(name);
        // Short sources, so training draws really do hit held-out ones and get redrawn.
        TaskConfig config = default_task_config(name);
        if (name == "reverse" || name == "copy" || name == "sort") config.max_len = 4;
        if (name == "translate") config.max_len = 5;
        TaskGenerator gen(config, 300);
        std::set<std::vector<int>> held;
        for (const Example& e : gen.held_out()) CHECK(held.insert(e.src).second);
        CHECK(held.size() == 300);
        for (int i = 0; i < 3000; ++i) {
            const Example e = gen.next();
            REQUIRE(held.count(e.src) == 0);
            REQUIRE(!gen.is_held_out(e.src));
        }
    }
}

TEST_CASE("lengths stay within bounds for every task") {
    for (const auto name : task_names()) {
        const LengthRange range = task_length_range(name);
        for (const std::pair<int, int>& lengths : {std::pair{range.min_len, range.min_len + 2},
                                                   std::pair{range.min_len + 4, range.min_len + 9},
                                                   std::pair{range.max_len - 1, range.max_len}}) {
            const int lo = lengths.first, hi = lengths.second;
            if (hi > 60) continue;  // translate and the symbol tasks go to 1000
            CAPTURE(name);
            CAPTURE(lo);
            CAPTURE(hi);
            TaskGenerator gen(config_for(std::string(name), lo, hi), 0);
            std::set<int> seen;
            for (int i = 0; i < 300; ++i) {
                const auto src = body(gen.next().src);
                const int length = static_cast<int>(src.size());
                REQUIRE(length >= lo);
                REQUIRE(length <= hi);
                seen.insert(length);
            }
            if (name != "dates") CHECK(seen.size() == static_cast<std::size_t>(hi - lo + 1));
        }
    }
    // Long sources work too (issue 8: a 1,000-token sentence).
    for (const char* name : {"reverse", "translate"}) {
        TaskGenerator gen(config_for(name, 1000, 1000), 1);
        CHECK(body(gen.next().src).size() == 1000);
    }
}

TEST_CASE("reverse, copy and sort targets") {
    for (const char* name : {"reverse", "copy", "sort"}) {
        CAPTURE(name);
        TaskConfig config = config_for(name, 1, 12);
        config.symbols = 7;
        TaskGenerator gen(config, 20);
        CHECK(gen.src_vocab().size() == 3 + 7);
        for (int i = 0; i < 500; ++i) {
            const Example e = gen.next();
            auto src = body(e.src);
            const auto tgt = body(e.tgt);
            for (const int id : src) REQUIRE((id >= 3 && id < 10));
            if (std::string(name) == "reverse") std::reverse(src.begin(), src.end());
            if (std::string(name) == "sort") std::sort(src.begin(), src.end());
            REQUIRE(tgt == src);
        }
    }
    TaskGenerator gen(default_task_config("reverse"), 0);
    const auto src = gen.src_vocab().encode("abcd");
    CHECK(gen.tgt_vocab().decode(src) == "abcd");
    CHECK(gen.src_vocab().encode("a b  c d") == src);  // no space token: spaces ignored
}

TEST_CASE("dates: the 12 formats of 2026-11-21, a Saturday") {
    CHECK(weekday(2026, 11, 21) == 5);
    CHECK(weekday(1970, 1, 1) == 3);
    CHECK(weekday(2000, 2, 29) == 1);
    const std::vector<std::string> expected{
        "saturday 21 nov 2026", "21/11/2026",     "November 21, 2026",
        "2026.11.21",           "21 November 2026", "Nov 21 2026",
        "sat, 21 nov 26",       "Saturday, November 21, 2026",
        "21-nov-2026",          "2026-11-21",     "the 21st of november 2026",
        "Sat 21.11.2026"};
    REQUIRE(date_format_count() == static_cast<int>(expected.size()));
    for (int f = 0; f < date_format_count(); ++f)
        CHECK(format_date(2026, 11, 21, f) == expected[f]);
    CHECK(iso_date(2026, 11, 21) == "2026-11-21");
    CHECK(format_date(1999, 3, 2, 10) == "the 2nd of march 1999");
    CHECK(format_date(2011, 1, 3, 6) == "mon, 3 jan 11");
    CHECK(format_date(2049, 12, 13, 10) == "the 13th of december 2049");
    CHECK(format_date(1950, 1, 5, 8) == "05-jan-1950");
    CHECK_THROWS_AS(format_date(2023, 2, 29, 0), TaskError);
    CHECK_THROWS_AS(format_date(2026, 13, 1, 0), TaskError);
    CHECK_THROWS_AS(format_date(2026, 1, 1, 12), TaskError);
}

TEST_CASE("dates: every example parses back to its target, weekday included") {
    TaskGenerator gen(default_task_config("dates"), 100);
    std::set<int> lengths;
    for (int i = 0; i < 3000; ++i) {
        const Example e = gen.next();
        const std::string text = gen.src_vocab().decode(e.src);
        const std::string target = gen.tgt_vocab().decode(e.tgt);
        CAPTURE(text);
        const ParsedDate d = parse_date_for_test(text);
        REQUIRE(target == iso_date(d.year, d.month, d.day));
        REQUIRE((d.year >= 1950 && d.year <= 2049));
        if (!d.weekday.empty()) {
            static const char* names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
            REQUIRE(d.weekday == names[zeller_weekday(d.year, d.month, d.day)]);
        }
        REQUIRE(gen.src_vocab().encode(text) == e.src);  // the tokenizer reads its own output
        lengths.insert(static_cast<int>(text.size()));
    }
    CHECK(lengths.size() > 10);
}

TEST_CASE("dates: a user's text is tokenised by characters") {
    const Vocab v = make_src_vocab(default_task_config("dates"));
    CHECK(v.decode(v.encode("  Saturday,   November 21, 2026 ")) == "Saturday, November 21, 2026");
    CHECK_THROWS_WITH_AS(v.encode("21 Nov 2026!"), doctest::Contains("\"!\""), UnknownToken);
    CHECK_THROWS_WITH_AS(v.encode("21 déc 2026"), doctest::Contains("unknown token \"é\""), UnknownToken);
    CHECK_THROWS_AS(v.encode("   "), TaskError);
    CHECK_THROWS_AS(v.encode(""), TaskError);
    try {
        v.encode("q");
        FAIL("q is not a dates character");
    } catch (const UnknownToken& e) {
        CHECK(e.token() == "q");
        CHECK(std::string(e.what()).find("allowed: \"0\" \"1\"") != std::string::npos);
    }
}

TEST_CASE("translate: the grammar's reordering on hand-checked sentences") {
    CHECK(translate_sentence("the big dog sees the small cat") == "kani gro ka mišu piti ka vidas");
    CHECK(translate_sentence("a fox sleeps under the old tree") == "vulpa na arbo vetu ka suba dormas");
    CHECK(translate_sentence("the big red dog runs") == "kani roža gro ka kuras");
    CHECK(translate_sentence("the girl chases a mouse in the garden near the river") ==
          "nina ka hortu ka ini rivo ka apu muri na kasas");
    CHECK(translate_sentence("the old king says that the angry fox sleeps under the big red tree") ==
          "rega vetu ka vulpa kóle ka arbo roža gro ka suba dormas ke diras");
    CHECK(translate_sentence("The boy thinks that a girl knows that the cat laughs") ==
          "niko ka nina na mišu ka ridas ke sabas ke pensas");
    CHECK_THROWS_WITH_AS(translate_sentence("the dog sees"),
                         doctest::Contains("expected an object"), TaskError);
    CHECK_THROWS_WITH_AS(translate_sentence("dog the runs"), doctest::Contains("got \"dog\""),
                         TaskError);
    CHECK_THROWS_AS(translate_sentence("the dog runs in the cat"), TaskError);  // not a place
}

TEST_CASE("translate: every example is the grammar's translation, with reordering") {
    TaskGenerator gen(config_for("translate", 3, 30), 50);
    int reordered = 0;
    int with_clause = 0;
    for (int i = 0; i < 2000; ++i) {
        const Example e = gen.next();
        const std::string english = gen.src_vocab().decode(e.src);
        const std::string zeli = gen.tgt_vocab().decode(e.tgt);
        CAPTURE(english);
        REQUIRE(translate_sentence(english) == zeli);
        REQUIRE(gen.src_vocab().encode(english) == e.src);
        // Both vocabularies list the lexicon in the same order, so an English word and its
        // Zeli word share an id: the target is a permutation of the source.
        REQUIRE(std::is_permutation(e.src.begin(), e.src.end(), e.tgt.begin(), e.tgt.end()));
        reordered += e.src != e.tgt;
        with_clause += english.find(" that ") != std::string::npos;
    }
    CHECK(reordered > 1500);
    CHECK(with_clause > 200);
}

TEST_CASE("translate: UTF-8 tokens and word-level tokenising") {
    const TaskConfig config = default_task_config("translate");
    const Vocab zeli = make_tgt_vocab(config);
    CHECK(zeli.contains("mišu"));
    CHECK(zeli.contains("ĉevo"));
    CHECK(zeli.decode(zeli.encode("kani  gro\tka")) == "kani gro ka");
    const Vocab english = make_src_vocab(config);
    CHECK(english.encode("The Big dog runs") == english.encode("the big dog runs"));
    CHECK_THROWS_WITH_AS(english.encode("the wolf runs"),
                         doctest::Contains("unknown token \"wolf\" for the translate source"),
                         UnknownToken);
    CHECK_THROWS_WITH_AS(english.encode("the wolf runs"), doctest::Contains("more)"), UnknownToken);
    CHECK_THROWS_AS(english.encode("the dog <eos>"), UnknownToken);
    CHECK_THROWS_AS(english.encode(" \n "), TaskError);
}

TEST_CASE("invalid configs give errors that say what is allowed") {
    TaskConfig c = default_task_config("reverse");
    c.name = "revrse";
    CHECK_THROWS_WITH_AS(validate(c),
                         doctest::Contains("allowed: reverse, copy, sort, dates, translate"),
                         TaskError);
    c = default_task_config("reverse");
    c.min_len = 0;
    CHECK_THROWS_WITH_AS(validate(c), doctest::Contains("min_len must be at least 1"), TaskError);
    c = default_task_config("reverse");
    c.min_len = 9, c.max_len = 5;
    CHECK_THROWS_WITH_AS(validate(c), doctest::Contains("must not exceed max_len"), TaskError);
    c = default_task_config("reverse");
    c.max_len = 1'000'000;
    CHECK_THROWS_WITH_AS(validate(c), doctest::Contains("at most 1000"), TaskError);
    c = default_task_config("reverse");
    c.symbols = 1;
    CHECK_THROWS_WITH_AS(validate(c), doctest::Contains("symbols must be between 2 and 26"),
                         TaskError);
    c.symbols = 27;
    CHECK_THROWS_AS(validate(c), TaskError);
    CHECK_THROWS_WITH_AS(validate(config_for("translate", 1, 2)),
                         doctest::Contains("impossible"), TaskError);
    CHECK_THROWS_AS(validate(config_for("dates", 1, 5)), TaskError);
    CHECK_THROWS_AS(TaskGenerator(c, 10), TaskError);
}

TEST_CASE("a task too small for its held-out set fails clearly instead of looping") {
    TaskConfig c = config_for("reverse", 1, 2);
    c.symbols = 2;  // 2 + 4 = 6 distinct sources
    CHECK_THROWS_WITH_AS(TaskGenerator(c, 200), doctest::Contains("only 6 distinct sources"),
                         TaskError);
    TaskGenerator all_but_none(c, 5);  // 5 of 6 held out: training can only draw the sixth
    CHECK(!all_but_none.is_held_out(all_but_none.next().src));
    // Three-word sentences: 2 articles × 12 nouns × 5 verbs = 120 of them.
    CHECK_THROWS_WITH_AS(TaskGenerator(config_for("translate", 3, 3), 5000),
                         doctest::Contains("distinct sources"), TaskError);
}

TEST_CASE("task_target gives a user's source the task's answer, or says it has none") {
    auto target_of = [](const char* task_name, const char* text) {
        const TaskGenerator task(default_task_config(task_name), 1);
        return task.tgt_vocab().decode(task_target(task, task.src_vocab().encode(text)));
    };
    CHECK(target_of("reverse", "abcd") == "dcba");
    CHECK(target_of("sort", "dbca") == "abcd");
    CHECK(target_of("copy", "abca") == "abca");
    CHECK(target_of("dates", "March 3, 1999") == "1999-03-03");
    CHECK(target_of("dates", "saturday 21 nov 2026") == "2026-11-21");
    CHECK(target_of("dates", "sat, 21 nov 26") == "2026-11-21");
    CHECK(target_of("translate", "the big dog sees the small cat") == "kani gro ka mišu piti ka vidas");
    CHECK_THROWS_WITH_AS(target_of("dates", "monday 21 nov 2026"), doctest::Contains("is not a date the dates task writes"),
                         TaskError);
    CHECK_THROWS_AS(target_of("translate", "dog the sees"), TaskError);
    // every example the generator makes gets its own target back
    for (const char* name : {"reverse", "sort", "dates", "translate"}) {
        TaskGenerator task(default_task_config(name), 20);
        for (const Example& e : task.held_out()) CHECK(task_target(task, e.src) == e.tgt);
    }
}

// ---- headline: seed 004's summarisation ----

namespace {

// The headline task's example of a typed news sentence.
Example headline_of(const char* news) {
    const TaskGenerator task(default_task_config("headline"), 1);
    return task_answer(task, task.src_vocab().encode(news));
}

std::string headline_text(const char* news) {
    const TaskGenerator task(default_task_config("headline"), 1);
    return task.tgt_vocab().decode(headline_of(news).tgt);
}

}  // namespace

TEST_CASE("headline: seed 004's sentence gives seed 004's headline, each word aligned to what it rewrites") {
    const char* seed_news =
        "russian defense minister ivanov called sunday for the creation of a joint front for combating global terrorism";
    CHECK(headline_text(seed_news) == "russia calls for joint front against terrorism");
    // russian0 defense1 minister2 ivanov3 called4 sunday5 for6 the7 creation8 of9 a10 joint11
    // front12 for13 combating14 global15 terrorism16 <eos>17
    CHECK(headline_of(seed_news).alignment == Alignment{{0, 1, 2, 3}, {4}, {6}, {11}, {12}, {13, 14}, {16}, {17}});
}

TEST_CASE("headline: every rule on hand-checked sentences") {
    CHECK(headline_text("china condemned terrorism") == "china condemns terrorism");  // the shortest
    CHECK(headline_text("French officials urged sunday german president schmidt to join the fight against "
                        "international piracy") == "france urges germany to fight piracy");
    CHECK(headline_text("japan announced ten million dollars in aid for egypt during a visit to cairo") ==
          "japan announces aid for egypt");
    CHECK(headline_text("japan announced aid for egypt") == "japan announces aid for egypt");
    CHECK(headline_text("british foreign minister smith met chinese officials to discuss regional smuggling after "
                        "talks with german officials according to state media") == "britain meets china on smuggling");
    CHECK(headline_text("russia called for the creation of a fund in moscow") == "russia calls for fund");
    CHECK(headline_text("egypt called monday for a new coalition for combating crime") ==
          "egypt calls for new coalition against crime");
    // french0 officials1 urged2 german3 president4 schmidt5 to6 join7 the8 fight9 against10 piracy11
    CHECK(headline_of("french officials urged german president schmidt to join the fight against piracy").alignment ==
          Alignment{{0, 1}, {2}, {3, 4, 5}, {6}, {7, 8, 9, 10}, {11}, {12}});
    // egyptian0 premier1 hassan2 met3 brazilian4 officials5 to6 discuss7 crime8 at9 … paris14 <eos>15
    CHECK(headline_of("egyptian premier hassan met brazilian officials to discuss crime at a news conference in paris")
              .alignment == Alignment{{0, 1, 2}, {3}, {4, 5}, {6, 7}, {8}, {15}});
}

TEST_CASE("headline: news the grammar does not write has no headline") {
    auto error_of = [](const char* news) {
        try {
            headline_of(news);
        } catch (const TaskError& e) {
            return std::string(e.what());
        }
        return std::string("(no TaskError)");
    };
    CHECK(error_of("russia urged russian officials to join the fight against piracy")
              .find("a country other than russia") != std::string::npos);
    CHECK(error_of("russian president li condemned crime").find("an official of russia (ivanov or petrov)") !=
          std::string::npos);
    CHECK(error_of("russia condemned").find("expected a topic") != std::string::npos);
    CHECK(error_of("russia met china").find("whom they met") != std::string::npos);
    CHECK(error_of("russia announced aid for chinese officials").find("a country (china") != std::string::npos);
    CHECK(error_of("russia condemned terrorism sunday").find("the end of the sentence") != std::string::npos);
    CHECK(error_of("sunday russia condemned terrorism").find("who acts") != std::string::npos);
}

TEST_CASE("headline: every example reads back, is never longer than its news, and every headline word has a source") {
    TaskGenerator task(config_for("headline", 3, 34), 20);
    const Vocab& news = task.src_vocab();
    const Vocab& headline = task.tgt_vocab();
    std::set<std::string> verbs;
    for (int i = 0; i < 2000; ++i) {
        const Example e = task.next();
        const std::string text = news.decode(e.src);
        CAPTURE(text);
        REQUIRE(news.encode(text) == e.src);
        const Example again = task_answer(task, e.src);
        REQUIRE(again.tgt == e.tgt);
        REQUIRE(again.alignment == e.alignment);
        REQUIRE(e.tgt.size() <= e.src.size());  // "china condemned crime" is as long as its headline
        for (const std::vector<int>& positions : e.alignment) REQUIRE(!positions.empty());
        verbs.insert(headline.token(e.tgt[1]));  // "russia calls …": the verb comes second
    }
    CHECK(verbs == std::set<std::string>{"calls", "urges", "announces", "meets", "condemns"});
}

TEST_CASE("headline: held-out sources never appear in training, even among the few shortest") {
    // 64 sentences of 3 words (8 countries × 8 topics): training keeps drawing held-out ones
    TaskGenerator task(config_for("headline", 3, 4), 100);
    for (int i = 0; i < 2000; ++i) REQUIRE(!task.is_held_out(task.next().src));
    TaskGenerator three_words(config_for("headline", 3, 3), 0);
    std::set<std::vector<int>> sources;
    for (int i = 0; i < 2000; ++i) sources.insert(three_words.next().src);
    CHECK(sources.size() == 64);
}
