#include "zeli_grammar.hpp"

#include <fmt/format.h>

#include <array>
#include <optional>

#include "stepgrad/support/text.hpp"
#include "stepgrad/tasks.hpp"

namespace stepgrad {

// translate: English → Zeli
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

namespace zeli {

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

}  // namespace zeli

std::string translate_sentence(std::string_view english) {
    const std::string lower = ascii_lower(english);
    std::vector<std::string_view> words = split_words(lower);
    if (words.empty()) throw TaskError("not a translate sentence: it is empty");
    const zeli::Words zeli = zeli::EnglishReader(std::move(words)).translate();
    std::string out;
    for (const std::string_view w : zeli) {
        out += out.empty() ? "" : " ";
        out += w;
    }
    return out;
}

}  // namespace stepgrad
