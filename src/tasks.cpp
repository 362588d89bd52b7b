#include "stepgrad/tasks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <optional>

namespace stepgrad {

// ---------------------------------------------------------------------------------
// Text helpers
// ---------------------------------------------------------------------------------

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Splits text into UTF-8 characters. A byte that does not start a well-formed
// character becomes a token of its own, which no vocabulary knows: the caller then
// reports it as an unknown token instead of misreading the rest.
std::vector<std::string_view> utf8_chars(std::string_view text) {
    std::vector<std::string_view> chars;
    std::size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<unsigned char>(text[i]);
        std::size_t length = 1;
        if (lead >= 0xC2 && lead <= 0xDF)
            length = 2;
        else if (lead >= 0xE0 && lead <= 0xEF)
            length = 3;
        else if (lead >= 0xF0 && lead <= 0xF4)
            length = 4;
        if (i + length > text.size()) length = 1;
        for (std::size_t k = 1; k < length; ++k)
            if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) length = 1;
        chars.push_back(text.substr(i, length));
        i += length;
    }
    return chars;
}

// A token as it should appear in a message: quoted, control and stray bytes escaped,
// so an error about "\xff" or a tab is readable and is itself valid UTF-8.
std::string quoted(std::string_view token) {
    std::string out = "\"";
    for (const std::string_view ch : utf8_chars(token)) {
        const auto c = static_cast<unsigned char>(ch[0]);
        if (ch.size() > 1)
            out += ch;
        else if (c == '"' || c == '\\')
            out += fmt::format("\\{}", static_cast<char>(c));
        else if (c < 0x20 || c >= 0x7f)
            out += fmt::format("\\x{:02x}", c);
        else
            out += static_cast<char>(c);
    }
    return out + "\"";
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::vector<std::string_view> split_words(std::string_view text) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_space(text[i])) ++i;
        const std::size_t start = i;
        while (i < text.size() && !is_space(text[i])) ++i;
        if (i > start) words.push_back(text.substr(start, i - start));
    }
    return words;
}

}  // namespace

// ---------------------------------------------------------------------------------
// Vocab
// ---------------------------------------------------------------------------------

Vocab::Vocab(std::string name_, Level level_, const std::vector<std::string>& regular)
    : name(std::move(name_)), level(level_), tokens{"<pad>", "<bos>", "<eos>"} {
    tokens.insert(tokens.end(), regular.begin(), regular.end());
    for (int i = 0; i < size(); ++i)
        if (!ids.emplace(tokens[i], i).second)
            throw TaskError(fmt::format("{} vocabulary: token {} appears twice", name,
                                        quoted(tokens[i])));
}

bool Vocab::contains(std::string_view token) const { return ids.count(std::string(token)) > 0; }

int Vocab::id(std::string_view token) const {
    const auto found = ids.find(std::string(token));
    if (found != ids.end()) return found->second;
    // Show the tokens a user can type: all of a character vocabulary, the first few
    // dozen words of a word vocabulary.
    const int shown = level == Level::character ? 100 : 40;
    std::string allowed;
    for (int i = 3; i < size() && i < 3 + shown; ++i) {
        allowed += i > 3 ? " " : "";
        allowed += quoted(tokens[i]);
    }
    if (size() > 3 + shown) allowed += fmt::format(" … ({} more)", size() - 3 - shown);
    throw UnknownToken(std::string(token),
                       fmt::format("unknown token {} for the {} vocabulary; allowed: {}",
                                   quoted(token), name, allowed));
}

const std::string& Vocab::token(int id) const {
    if (id < 0 || id >= size())
        throw TaskError(fmt::format("id {} is outside the {} vocabulary (0..{})", id, name,
                                    size() - 1));
    return tokens[static_cast<std::size_t>(id)];
}

std::vector<int> Vocab::encode(std::string_view text) const {
    std::vector<int> out;
    auto add = [&](std::string_view token) {
        const int i = id(token);
        if (i < 3)
            throw UnknownToken(std::string(token),
                               fmt::format("{} is a special token and cannot appear in the "
                                           "input",
                                           quoted(token)));
        out.push_back(i);
    };
    if (level == Level::word) {
        for (const std::string_view word : split_words(text)) {
            if (!contains(word) && contains(ascii_lower(word)))
                add(ascii_lower(word));
            else
                add(word);
        }
    } else {
        const bool keep_spaces = contains(" ");
        bool pending_space = false;
        for (const std::string_view ch : utf8_chars(text)) {
            if (ch.size() == 1 && is_space(ch[0])) {
                pending_space = keep_spaces && !out.empty();
                continue;
            }
            if (pending_space) add(" ");
            pending_space = false;
            add(ch);
        }
    }
    if (out.empty())
        throw TaskError(fmt::format("empty input: the {} vocabulary needs at least one token",
                                    name));
    out.push_back(eos);
    return out;
}

std::string Vocab::decode(std::span<const int> id_list) const {
    std::string out;
    bool first = true;
    for (const int i : id_list) {
        if (i == eos) break;
        if (i == pad || i == bos) continue;
        if (level == Level::word && !first) out += ' ';
        out += token(i);
        first = false;
    }
    return out;
}

// ---------------------------------------------------------------------------------
// The task table
// ---------------------------------------------------------------------------------

namespace {

enum class Kind { reverse, copy, sort, dates, translate };

struct TaskInfo {
    std::string_view name;
    Kind kind;
    std::string_view description;
};

constexpr std::array<TaskInfo, 5> task_table{{
    {"reverse", Kind::reverse,
     "random symbols a, b, c, … → the same symbols reversed (\"abcd\" → \"dcba\"): attention "
     "runs along the anti-diagonal"},
    {"copy", Kind::copy,
     "random symbols → the same symbols (\"abcd\" → \"abcd\"): attention runs along the "
     "diagonal"},
    {"sort", Kind::sort,
     "random symbols → the symbols sorted (\"dbca\" → \"abcd\"): each step looks for the next "
     "smallest symbol"},
    {"dates", Kind::dates,
     "a date in one of 12 human formats (\"saturday 21 nov 2026\", \"21/11/2026\", …) → "
     "\"2026-11-21\", character by character"},
    {"translate", Kind::translate,
     "English → Zeli, a made-up language that puts verbs last and adjectives after their "
     "noun (\"the big dog sees the small cat\" → \"kani gro ka mišu piti ka vidas\"), word by "
     "word"},
}};

constexpr std::array<std::string_view, 5> task_name_list{"reverse", "copy", "sort", "dates",
                                                         "translate"};

const TaskInfo& find_task(std::string_view name) {
    for (const TaskInfo& info : task_table)
        if (info.name == name) return info;
    throw TaskError(fmt::format("unknown task {}; allowed: reverse, copy, sort, dates, translate",
                                quoted(name)));
}

}  // namespace

std::span<const std::string_view> task_names() { return task_name_list; }

std::string_view describe_task(std::string_view name) { return find_task(name).description; }

// ---------------------------------------------------------------------------------
// dates
// ---------------------------------------------------------------------------------

namespace {

constexpr int first_year = 1950;
constexpr int last_year = 2049;

constexpr std::array<std::string_view, 12> month_names{
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};
constexpr std::array<std::string_view, 7> weekday_names{
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};

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

struct Date {
    int year, month, day;
};

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

constexpr int n_date_formats = 12;

// Every character any format can produce, in a fixed order.
std::vector<std::string> dates_source_tokens() {
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

const std::array<LengthRange, n_date_formats>& cached_date_format_lengths() {
    static const auto ranges = date_format_lengths();
    return ranges;
}

}  // namespace

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

// ---------------------------------------------------------------------------------
// translate: English → Zeli
// ---------------------------------------------------------------------------------
//
// Zeli is made up for this task. It is verb-final (SOV), puts adjectives after the noun
// in mirror order and the article last, and uses postpositions, so almost every word
// moves. Grammar (each English rule beside the Zeli rule it becomes):
//
//   S  → NP Vi PP*              Zeli: NP PP* Vi        the verb goes last
//   S  → NP Vt NP PP*           Zeli: NP PP* NP Vt     places come before the object
//   S  → NP Vs "that" S         Zeli: NP S "ke" Vs     the clause, then "ke", then the verb
//   NP → Det Adj* N             Zeli: N Adj* Det       mirrored; 0 to 3 distinct adjectives
//   PP → P Det Adj* N_place     Zeli: N_place Adj* Det P
//
//   "the big dog sees the small cat"  →  "kani gro ka mišu piti ka vidas"
//   "a fox sleeps under the old tree"  →  "vulpa na arbo vetu ka suba dormas"
//
// Every English word has exactly one Zeli word, so the ideal attention is a permutation
// matrix that is far from the diagonal. Sentences have 3 words or more; longer ones get
// more adjectives, places and embedded "that" clauses.

namespace {

enum class WordClass { det, adj, noun, place, prep, vt, vi, vs, that };

struct LexEntry {
    std::string_view english;
    std::string_view zeli;
    WordClass word_class;
};

constexpr std::array<LexEntry, 52> lexicon{{
    {"the", "ka", WordClass::det},         {"a", "na", WordClass::det},
    {"big", "gro", WordClass::adj},        {"small", "piti", WordClass::adj},
    {"red", "roža", WordClass::adj},       {"black", "nuro", WordClass::adj},
    {"old", "vetu", WordClass::adj},       {"young", "novi", WordClass::adj},
    {"happy", "alé", WordClass::adj},      {"angry", "kóle", WordClass::adj},
    {"fast", "rapi", WordClass::adj},      {"lazy", "pigra", WordClass::adj},
    {"dog", "kani", WordClass::noun},      {"cat", "mišu", WordClass::noun},
    {"bird", "avi", WordClass::noun},      {"fish", "pesu", WordClass::noun},
    {"horse", "ĉevo", WordClass::noun},    {"mouse", "muri", WordClass::noun},
    {"fox", "vulpa", WordClass::noun},     {"girl", "nina", WordClass::noun},
    {"boy", "niko", WordClass::noun},      {"teacher", "doktu", WordClass::noun},
    {"king", "rega", WordClass::noun},     {"farmer", "agri", WordClass::noun},
    {"house", "domu", WordClass::place},   {"garden", "hortu", WordClass::place},
    {"river", "rivo", WordClass::place},   {"tree", "arbo", WordClass::place},
    {"table", "tabla", WordClass::place},  {"bridge", "ponto", WordClass::place},
    {"in", "ini", WordClass::prep},        {"near", "apu", WordClass::prep},
    {"under", "suba", WordClass::prep},    {"behind", "dorsa", WordClass::prep},
    {"on", "supa", WordClass::prep},       {"beside", "lato", WordClass::prep},
    {"sees", "vidas", WordClass::vt},      {"chases", "kasas", WordClass::vt},
    {"likes", "amas", WordClass::vt},      {"follows", "sekas", WordClass::vt},
    {"bites", "mordas", WordClass::vt},    {"finds", "trovas", WordClass::vt},
    {"helps", "ajudas", WordClass::vt},    {"sleeps", "dormas", WordClass::vi},
    {"runs", "kuras", WordClass::vi},      {"sings", "kantas", WordClass::vi},
    {"waits", "atendas", WordClass::vi},   {"laughs", "ridas", WordClass::vi},
    {"thinks", "pensas", WordClass::vs},   {"says", "diras", WordClass::vs},
    {"knows", "sabas", WordClass::vs},     {"that", "ke", WordClass::that},
}};

constexpr int max_adjectives = 3;

std::vector<const LexEntry*> words_of(WordClass c) {
    std::vector<const LexEntry*> out;
    for (const LexEntry& entry : lexicon)
        if (entry.word_class == c) out.push_back(&entry);
    return out;
}

const LexEntry* pick(Rng& rng, WordClass c) {
    const auto words = words_of(c);
    return words[rng.below(words.size())];
}

using Words = std::vector<std::string_view>;

struct NounPhrase {
    const LexEntry* det;
    std::vector<const LexEntry*> adjectives;  // in English order
    const LexEntry* noun;
};

void english_np(const NounPhrase& np, Words& out) {
    out.push_back(np.det->english);
    for (const LexEntry* adj : np.adjectives) out.push_back(adj->english);
    out.push_back(np.noun->english);
}

void zeli_np(const NounPhrase& np, Words& out) {
    out.push_back(np.noun->zeli);
    for (auto adj = np.adjectives.rbegin(); adj != np.adjectives.rend(); ++adj)
        out.push_back((*adj)->zeli);
    out.push_back(np.det->zeli);
}

struct PrepPhrase {
    const LexEntry* prep;
    NounPhrase place;
};

// A simple clause (Vi or Vt; the Vs clause is handled by the caller).
struct Clause {
    NounPhrase subject;
    const LexEntry* verb;
    std::optional<NounPhrase> object;
    std::vector<PrepPhrase> places;
};

void english_clause(const Clause& c, Words& out) {
    english_np(c.subject, out);
    out.push_back(c.verb->english);
    if (c.object) english_np(*c.object, out);
    for (const PrepPhrase& pp : c.places) {
        out.push_back(pp.prep->english);
        english_np(pp.place, out);
    }
}

void zeli_clause(const Clause& c, Words& out) {
    zeli_np(c.subject, out);
    for (const PrepPhrase& pp : c.places) {
        zeli_np(pp.place, out);
        out.push_back(pp.prep->zeli);
    }
    if (c.object) zeli_np(*c.object, out);
    out.push_back(c.verb->zeli);
}

NounPhrase random_np(Rng& rng, WordClass noun_class, int n_adjectives) {
    NounPhrase np{pick(rng, WordClass::det), {}, pick(rng, noun_class)};
    auto adjectives = words_of(WordClass::adj);
    // Places are big, small, red, black or old; "the angry bridge" would be a puzzle.
    // (The reader still accepts any adjective.)
    if (noun_class == WordClass::place) adjectives.resize(5);
    for (int k = 0; k < n_adjectives; ++k) {  // distinct: a partial Fisher–Yates shuffle
        const std::size_t j = k + rng.below(adjectives.size() - k);
        std::swap(adjectives[k], adjectives[j]);
        np.adjectives.push_back(adjectives[k]);
    }
    return np;
}

// A Vi or Vt clause of exactly `budget` words (≥ 3). Words beyond the bare clause go to
// adjectives (≤ 3 per noun) or to places (3 words each). While `rest` ≥ 3 a place is
// forced whenever the free adjective slots could not absorb the rest, which keeps
// "slots ≥ rest or rest ≥ 3" true, so the budget is always met exactly.
Clause random_clause(Rng& rng, int budget) {
    const bool transitive = budget >= 5 && rng.uniform() < 0.6;
    int rest = budget - (transitive ? 5 : 3);
    std::vector<int> adjective_counts(transitive ? 2 : 1, 0);
    int slots = max_adjectives * static_cast<int>(adjective_counts.size());
    while (rest > 0) {
        if (rest >= 3 && (slots < rest || rng.uniform() < 0.3)) {
            adjective_counts.push_back(0);
            slots += max_adjectives;
            rest -= 3;
            continue;
        }
        std::vector<int> open;  // noun phrases with a free adjective slot
        for (int i = 0; i < static_cast<int>(adjective_counts.size()); ++i)
            if (adjective_counts[i] < max_adjectives) open.push_back(i);
        ++adjective_counts[open[rng.below(open.size())]];
        --slots;
        --rest;
    }
    Clause clause{random_np(rng, WordClass::noun, adjective_counts[0]),
                  pick(rng, transitive ? WordClass::vt : WordClass::vi),
                  std::nullopt,
                  {}};
    std::size_t next = 1;
    if (transitive) clause.object = random_np(rng, WordClass::noun, adjective_counts[next++]);
    for (; next < adjective_counts.size(); ++next)
        clause.places.push_back(
            {pick(rng, WordClass::prep), random_np(rng, WordClass::place, adjective_counts[next])});
    return clause;
}

// A sentence of exactly `length` words: a chain of "NP Vs that" heads, then a clause.
// English reads the heads first; Zeli nests: head NPs, the clause, then "ke Vs" for
// each head from the innermost out.
void random_sentence(Rng& rng, int length, Words& english, Words& zeli) {
    std::vector<std::pair<NounPhrase, const LexEntry*>> heads;
    int budget = length;
    while (budget >= 7 && rng.uniform() < 0.35) {
        const int n_adjectives = rng.between(0, std::min(max_adjectives, budget - 7));
        heads.emplace_back(random_np(rng, WordClass::noun, n_adjectives), pick(rng, WordClass::vs));
        budget -= 4 + n_adjectives;
    }
    const Clause clause = random_clause(rng, budget);
    for (const auto& [np, verb] : heads) {
        english_np(np, english);
        english.push_back(verb->english);
        english.push_back("that");
    }
    english_clause(clause, english);
    for (const auto& head : heads) zeli_np(head.first, zeli);
    zeli_clause(clause, zeli);
    for (auto head = heads.rbegin(); head != heads.rend(); ++head) {
        zeli.push_back("ke");
        zeli.push_back(head->second->zeli);
    }
}

// A recursive-descent reader of the grammar above, iterative over the "that" chain so
// a 1000-word sentence needs no deep recursion.
class EnglishReader {
public:
    explicit EnglishReader(std::vector<std::string_view> words) : words_(std::move(words)) {}

    Words translate() {
        std::vector<std::pair<NounPhrase, const LexEntry*>> heads;
        while (true) {
            NounPhrase subject = noun_phrase(WordClass::noun, "a subject (the, a)");
            const LexEntry* verb = word(WordClass::vt, WordClass::vi, WordClass::vs, "a verb");
            if (verb->word_class == WordClass::vs) {
                word(WordClass::that, WordClass::that, WordClass::that, "\"that\"");
                heads.emplace_back(std::move(subject), verb);
                continue;
            }
            Clause clause{std::move(subject), verb, std::nullopt, {}};
            if (verb->word_class == WordClass::vt)
                clause.object = noun_phrase(WordClass::noun, "an object (the, a)");
            while (pos_ < words_.size()) {
                const LexEntry* prep =
                    word(WordClass::prep, WordClass::prep, WordClass::prep, "a preposition");
                clause.places.push_back({prep, noun_phrase(WordClass::place, "a place (the, a)")});
            }
            Words zeli;
            for (const auto& head : heads) zeli_np(head.first, zeli);
            zeli_clause(clause, zeli);
            for (auto head = heads.rbegin(); head != heads.rend(); ++head) {
                zeli.push_back("ke");
                zeli.push_back(head->second->zeli);
            }
            return zeli;
        }
    }

private:
    std::vector<std::string_view> words_;
    std::size_t pos_ = 0;

    const LexEntry* lookup(std::string_view english) const {
        for (const LexEntry& entry : lexicon)
            if (entry.english == english) return &entry;
        return nullptr;
    }

    const LexEntry* word(WordClass a, WordClass b, WordClass c, std::string_view expected) {
        if (pos_ >= words_.size())
            throw TaskError(fmt::format("not a translate sentence: expected {} after word {}",
                                        expected, pos_));
        const LexEntry* entry = lookup(words_[pos_]);
        if (entry == nullptr || (entry->word_class != a && entry->word_class != b &&
                                 entry->word_class != c))
            throw TaskError(fmt::format("not a translate sentence: expected {} at word {}, got {}",
                                        expected, pos_ + 1, quoted(words_[pos_])));
        ++pos_;
        return entry;
    }

    NounPhrase noun_phrase(WordClass noun_class, std::string_view expected) {
        NounPhrase np{word(WordClass::det, WordClass::det, WordClass::det, expected), {}, nullptr};
        while (pos_ < words_.size()) {
            const LexEntry* entry = lookup(words_[pos_]);
            if (entry == nullptr || entry->word_class != WordClass::adj) break;
            np.adjectives.push_back(entry);
            ++pos_;
        }
        np.noun = word(noun_class, noun_class, noun_class,
                       noun_class == WordClass::place ? "a place noun" : "a noun");
        return np;
    }
};

std::vector<std::string> english_tokens() {
    std::vector<std::string> out;
    for (const LexEntry& entry : lexicon) out.emplace_back(entry.english);
    return out;
}

std::vector<std::string> zeli_tokens() {
    std::vector<std::string> out;
    for (const LexEntry& entry : lexicon) out.emplace_back(entry.zeli);
    return out;
}

}  // namespace

std::string translate_sentence(std::string_view english) {
    const std::string lower = ascii_lower(english);
    std::vector<std::string_view> words = split_words(lower);
    if (words.empty()) throw TaskError("not a translate sentence: it is empty");
    const Words zeli = EnglishReader(std::move(words)).translate();
    std::string out;
    for (const std::string_view w : zeli) {
        out += out.empty() ? "" : " ";
        out += w;
    }
    return out;
}

// ---------------------------------------------------------------------------------
// Configs and vocabularies
// ---------------------------------------------------------------------------------

namespace {

std::vector<std::string> symbol_tokens(int symbols) {
    std::vector<std::string> tokens;
    for (int i = 0; i < symbols; ++i) tokens.emplace_back(1, static_cast<char>('a' + i));
    return tokens;
}

}  // namespace

LengthRange task_length_range(std::string_view name) {
    switch (find_task(name).kind) {
        case Kind::dates: {
            LengthRange range{1 << 30, 0};
            for (const LengthRange& f : cached_date_format_lengths()) {
                range.min_len = std::min(range.min_len, f.min_len);
                range.max_len = std::max(range.max_len, f.max_len);
            }
            return range;
        }
        case Kind::translate: return {3, task_max_len};
        default: return {1, task_max_len};
    }
}

TaskConfig default_task_config(std::string_view name) {
    TaskConfig config;
    config.name = std::string(find_task(name).name);
    switch (find_task(name).kind) {
        case Kind::dates: {
            const LengthRange range = task_length_range(name);
            config.min_len = range.min_len;
            config.max_len = range.max_len;
            break;
        }
        case Kind::translate:
            config.min_len = 3;
            config.max_len = 12;
            break;
        default: break;
    }
    return config;
}

void validate(const TaskConfig& config) {
    find_task(config.name);
    if (config.min_len < 1)
        throw TaskError(fmt::format("min_len must be at least 1 (got {})", config.min_len));
    if (config.max_len > task_max_len)
        throw TaskError(fmt::format("max_len must be at most {} (got {})", task_max_len,
                                    config.max_len));
    if (config.min_len > config.max_len)
        throw TaskError(fmt::format("min_len ({}) must not exceed max_len ({})", config.min_len,
                                    config.max_len));
    if (config.symbols < 2 || config.symbols > task_max_symbols)
        throw TaskError(fmt::format("symbols must be between 2 and {} (got {})", task_max_symbols,
                                    config.symbols));
    const LengthRange range = task_length_range(config.name);
    if (config.max_len < range.min_len || config.min_len > range.max_len)
        throw TaskError(fmt::format(
            "task {} makes sources of {} to {} tokens; lengths {}..{} are impossible",
            config.name, range.min_len, range.max_len, config.min_len, config.max_len));
}

Vocab make_src_vocab(const TaskConfig& config) {
    validate(config);
    switch (find_task(config.name).kind) {
        case Kind::dates:
            return Vocab("dates source", Vocab::Level::character, dates_source_tokens());
        case Kind::translate:
            return Vocab("translate source (English)", Vocab::Level::word, english_tokens());
        default:
            return Vocab(config.name + " source", Vocab::Level::character,
                         symbol_tokens(config.symbols));
    }
}

Vocab make_tgt_vocab(const TaskConfig& config) {
    validate(config);
    switch (find_task(config.name).kind) {
        case Kind::dates: {
            std::vector<std::string> tokens;
            for (const char c : std::string_view("0123456789-")) tokens.emplace_back(1, c);
            return Vocab("dates target", Vocab::Level::character, tokens);
        }
        case Kind::translate:
            return Vocab("translate target (Zeli)", Vocab::Level::word, zeli_tokens());
        default:
            return Vocab(config.name + " target", Vocab::Level::character,
                         symbol_tokens(config.symbols));
    }
}

// ---------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------

namespace {

// Attempts before giving up: generous enough that a legal but unlucky config (dates at
// one rare length) still succeeds, small enough that an impossible one fails in well
// under a second.
constexpr int max_draws_per_example = 100'000;
constexpr int max_duplicate_draws = 20'000;

std::vector<int> ids_of(const Vocab& vocab, const Words& words) {
    std::vector<int> ids;
    ids.reserve(words.size() + 1);
    for (const std::string_view w : words) ids.push_back(vocab.id(w));
    ids.push_back(Vocab::eos);
    return ids;
}

std::vector<int> ids_of(const Vocab& vocab, std::string_view chars) {
    std::vector<int> ids;
    ids.reserve(chars.size() + 1);
    for (const char c : chars) ids.push_back(vocab.id(std::string_view(&c, 1)));
    ids.push_back(Vocab::eos);
    return ids;
}

// Σ_{L=min}^{max} symbols^L, saturating: how many distinct sources there are.
double symbol_space_size(const TaskConfig& config) {
    double total = 0;
    for (int length = config.min_len; length <= config.max_len && total < 1e18; ++length)
        total += std::pow(static_cast<double>(config.symbols), length);
    return total;
}

}  // namespace

std::size_t TaskGenerator::IdsHash::operator()(const std::vector<int>& ids) const {
    std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
    for (const int i : ids) {
        h ^= static_cast<std::uint32_t>(i);
        h *= 1099511628211ULL;
    }
    return static_cast<std::size_t>(h);
}

TaskGenerator::TaskGenerator(const TaskConfig& config, int held_out_count)
    : config_(config),
      src_vocab_(make_src_vocab(config)),
      tgt_vocab_(make_tgt_vocab(config)),
      rng_(config.seed) {
    if (held_out_count < 0)
        throw TaskError(fmt::format("the held-out count must be ≥ 0 (got {})", held_out_count));
    const Kind kind = find_task(config.name).kind;
    if (kind == Kind::reverse || kind == Kind::copy || kind == Kind::sort) {
        const double space = symbol_space_size(config);
        if (space <= held_out_count)
            throw TaskError(fmt::format(
                "task {} with {} symbols and lengths {}..{} has only {} distinct sources: too "
                "few to hold out {} and still train; allow longer sources or more symbols",
                config.name, config.symbols, config.min_len, config.max_len, space,
                held_out_count));
    }
    held_out_.reserve(static_cast<std::size_t>(held_out_count));
    int duplicates = 0;
    while (static_cast<int>(held_out_.size()) < held_out_count) {
        Example example = sample();
        if (!held_out_sources_.insert(example.src).second) {
            if (++duplicates > max_duplicate_draws)
                throw TaskError(fmt::format(
                    "task {} with lengths {}..{}: found only {} distinct sources for a held-out "
                    "set of {}; allow longer sources or hold out fewer",
                    config.name, config.min_len, config.max_len, held_out_.size(),
                    held_out_count));
            continue;
        }
        duplicates = 0;
        held_out_.push_back(std::move(example));
    }
}

bool TaskGenerator::is_held_out(std::span<const int> src) const {
    return held_out_sources_.count(std::vector<int>(src.begin(), src.end())) > 0;
}

Example TaskGenerator::next() {
    for (int attempt = 0; attempt < max_duplicate_draws; ++attempt) {
        Example example = sample();
        if (!held_out_sources_.count(example.src)) return example;
    }
    throw TaskError(fmt::format(
        "task {} with lengths {}..{}: {} draws in a row were all held-out sources, so almost "
        "nothing is left to train on; allow longer sources or hold out fewer",
        config_.name, config_.min_len, config_.max_len, max_duplicate_draws));
}

std::vector<Example> TaskGenerator::next(int count) {
    std::vector<Example> out;
    out.reserve(static_cast<std::size_t>(std::max(count, 0)));
    for (int i = 0; i < count; ++i) out.push_back(next());
    return out;
}

Example TaskGenerator::sample() {
    const Kind kind = find_task(config_.name).kind;
    switch (kind) {
        case Kind::reverse:
        case Kind::copy:
        case Kind::sort: {
            const int length = rng_.between(config_.min_len, config_.max_len);
            Example example;
            for (int i = 0; i < length; ++i)
                example.src.push_back(3 + static_cast<int>(rng_.below(config_.symbols)));
            example.tgt = example.src;
            if (kind == Kind::reverse) std::reverse(example.tgt.begin(), example.tgt.end());
            if (kind == Kind::sort) std::sort(example.tgt.begin(), example.tgt.end());
            example.src.push_back(Vocab::eos);
            example.tgt.push_back(Vocab::eos);
            return example;
        }
        case Kind::dates: {
            // Pick among the formats that can fit the lengths, then a date; redraw the
            // date when this rendering falls outside them.
            std::vector<int> formats;
            const auto& ranges = cached_date_format_lengths();
            for (int f = 0; f < n_date_formats; ++f)
                if (ranges[f].max_len >= config_.min_len && ranges[f].min_len <= config_.max_len)
                    formats.push_back(f);
            const long first_day = days_from_civil(first_year, 1, 1);
            const long n_days = days_from_civil(last_year + 1, 1, 1) - first_day;
            for (int attempt = 0; attempt < max_draws_per_example; ++attempt) {
                const int format = formats[rng_.below(formats.size())];
                const Date d = civil_from_days(first_day + static_cast<long>(rng_.below(n_days)));
                const std::string text = format_date(d.year, d.month, d.day, format);
                const int length = static_cast<int>(text.size());
                if (length < config_.min_len || length > config_.max_len) continue;
                return {ids_of(src_vocab_, text),
                        ids_of(tgt_vocab_, iso_date(d.year, d.month, d.day))};
            }
            throw TaskError(fmt::format("dates: no date of length {}..{} found in {} draws",
                                        config_.min_len, config_.max_len,
                                        max_draws_per_example));
        }
        case Kind::translate: {
            Words english;
            Words zeli;
            random_sentence(rng_, rng_.between(config_.min_len, config_.max_len), english, zeli);
            return {ids_of(src_vocab_, english), ids_of(tgt_vocab_, zeli)};
        }
    }
    throw TaskError("unreachable: unknown task kind");
}

namespace {

// The ISO date a dates-task source renders, trying each year the text could hold
// (every format writes the year in full, or its last two digits at the end).
std::optional<std::string> read_date(std::string_view text) {
    for (int year = first_year; year <= last_year; ++year) {
        const std::string two = fmt::format(" {:02}", year % 100);
        if (text.find(std::to_string(year)) == std::string_view::npos && !text.ends_with(two)) continue;
        for (long day = days_from_civil(year, 1, 1); day < days_from_civil(year + 1, 1, 1); ++day) {
            const Date d = civil_from_days(day);
            for (int format = 0; format < n_date_formats; ++format)
                if (format_date(d.year, d.month, d.day, format) == text) return iso_date(d.year, d.month, d.day);
        }
    }
    return std::nullopt;
}

}  // namespace

std::vector<int> task_target(const TaskGenerator& task, std::span<const int> src) {
    const Vocab& from = task.src_vocab();
    const Vocab& to = task.tgt_vocab();
    if (src.empty() || src.back() != Vocab::eos)
        throw TaskError("task_target: a source ends with <eos>");
    for (const int id : src.first(src.size() - 1))
        if (id < 3 || id >= from.size())
            throw TaskError(fmt::format("task_target: id {} is not a token of the {} vocabulary", id, from.name));
    switch (find_task(task.config().name).kind) {
        case Kind::reverse:
        case Kind::copy:
        case Kind::sort: {
            std::vector<int> target(src.begin(), src.end() - 1);
            if (find_task(task.config().name).kind == Kind::reverse) std::reverse(target.begin(), target.end());
            if (find_task(task.config().name).kind == Kind::sort) std::sort(target.begin(), target.end());
            target.push_back(Vocab::eos);
            return target;
        }
        case Kind::dates: {
            const std::string text = from.decode(src);
            const std::optional<std::string> iso = read_date(text);
            if (!iso)
                throw TaskError(fmt::format("{} is not a date the dates task writes (one of its {} formats, years "
                                            "{}..{}, with the right weekday)",
                                            quoted(text), n_date_formats, first_year, last_year));
            return to.encode(*iso);
        }
        case Kind::translate: return to.encode(translate_sentence(from.decode(src)));
    }
    throw TaskError("unreachable: unknown task kind");
}

// ---------------------------------------------------------------------------------
// Batching
// ---------------------------------------------------------------------------------

Batch make_batch(std::span<const Example> examples) {
    if (examples.empty()) throw TaskError("make_batch needs at least one example");
    Batch batch;
    batch.size = static_cast<int>(examples.size());
    for (const Example& example : examples) {
        if (example.src.empty() || example.tgt.empty())
            throw TaskError("make_batch: an example has an empty source or target");
        batch.src_lengths.push_back(static_cast<int>(example.src.size()));
        batch.tgt_lengths.push_back(static_cast<int>(example.tgt.size()));
        batch.src_len = std::max(batch.src_len, batch.src_lengths.back());
        batch.tgt_len = std::max(batch.tgt_len, batch.tgt_lengths.back());
    }
    const auto B = static_cast<std::size_t>(batch.size);
    const auto m = static_cast<std::size_t>(batch.src_len);
    const auto n = static_cast<std::size_t>(batch.tgt_len);
    batch.src.assign(B * m, Vocab::pad);
    batch.tgt_in.assign(B * n, Vocab::pad);
    batch.tgt_out.assign(B * n, Vocab::pad);
    for (std::size_t b = 0; b < B; ++b) {
        const Example& example = examples[b];
        std::copy(example.src.begin(), example.src.end(), batch.src.begin() + b * m);
        std::copy(example.tgt.begin(), example.tgt.end(), batch.tgt_out.begin() + b * n);
        // Teacher forcing: the decoder reads y_{j-1} at step j, starting from <bos>.
        batch.tgt_in[b * n] = Vocab::bos;
        std::copy(example.tgt.begin(), example.tgt.end() - 1, batch.tgt_in.begin() + b * n + 1);
    }
    return batch;
}

}  // namespace stepgrad
