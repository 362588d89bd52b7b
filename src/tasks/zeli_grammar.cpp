#include "zeli_grammar.hpp"

#include <fmt/format.h>

#include <array>

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

namespace {

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

const LexEntry* lookup(std::string_view english) {
    for (const LexEntry& entry : lexicon)
        if (entry.english == english) return &entry;
    return nullptr;
}

// One word of the tree in each language; the slot that holds it links the two.
LinkedWord english_word(const LexEntry* const& slot) { return {slot->english, &slot}; }
LinkedWord zeli_word(const LexEntry* const& slot) { return {slot->zeli, &slot}; }

void english_np(const NounPhrase& np, LinkedWords& out) {
    out.push_back(english_word(np.det));
    for (const LexEntry* const& adj : np.adjectives) out.push_back(english_word(adj));
    out.push_back(english_word(np.noun));
}

void zeli_np(const NounPhrase& np, LinkedWords& out) {
    out.push_back(zeli_word(np.noun));
    for (auto adj = np.adjectives.rbegin(); adj != np.adjectives.rend(); ++adj) out.push_back(zeli_word(*adj));
    // SPEC §11 counts the article `ka` (and `na`) among the function words that align to
    // nothing: alignment accuracy scores the content words.
    out.push_back({np.det->zeli, nullptr});
}

void english_clause(const Clause& c, LinkedWords& out) {
    english_np(c.subject, out);
    out.push_back(english_word(c.verb));
    if (c.object) english_np(*c.object, out);
    for (const PrepPhrase& pp : c.places) {
        out.push_back(english_word(pp.prep));
        english_np(pp.place, out);
    }
}

void zeli_clause(const Clause& c, LinkedWords& out) {
    zeli_np(c.subject, out);
    for (const PrepPhrase& pp : c.places) {
        zeli_np(pp.place, out);
        out.push_back(zeli_word(pp.prep));
    }
    if (c.object) zeli_np(*c.object, out);
    out.push_back(zeli_word(c.verb));
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

// A recursive-descent reader of the grammar above, iterative over the "that" chain so
// a 1000-word sentence needs no deep recursion.
class EnglishReader {
public:
    explicit EnglishReader(std::vector<std::string_view> words) : words_(std::move(words)) {}

    Sentence read() {
        Sentence sentence;
        while (true) {
            NounPhrase subject = noun_phrase(WordClass::noun, "a subject (the, a)");
            const LexEntry* verb = word(WordClass::vt, WordClass::vi, WordClass::vs, "a verb");
            if (verb->word_class != WordClass::vs) {
                sentence.clause = Clause{std::move(subject), verb, std::nullopt, {}};
                break;
            }
            const LexEntry* that = word(WordClass::that, WordClass::that, WordClass::that, "\"that\"");
            sentence.heads.push_back({std::move(subject), verb, that});
        }
        Clause& clause = sentence.clause;
        if (clause.verb->word_class == WordClass::vt) clause.object = noun_phrase(WordClass::noun, "an object (the, a)");
        while (pos_ < words_.size()) {
            const LexEntry* prep = word(WordClass::prep, WordClass::prep, WordClass::prep, "a preposition");
            clause.places.push_back({prep, noun_phrase(WordClass::place, "a place (the, a)")});
        }
        return sentence;
    }

private:
    std::vector<std::string_view> words_;
    std::size_t pos_ = 0;

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

}  // namespace

// A sentence of exactly `length` words: a chain of "NP Vs that" heads, then a clause.
Sentence random_sentence(Rng& rng, int length) {
    Sentence sentence;
    int budget = length;
    while (budget >= 7 && rng.uniform() < 0.35) {
        const int n_adjectives = rng.between(0, std::min(max_adjectives, budget - 7));
        // The verb is drawn before its subject, the order the recorded lessons were made
        // in (GCC evaluated the two arguments of an earlier emplace_back right to left).
        const LexEntry* verb = pick(rng, WordClass::vs);
        sentence.heads.push_back({random_np(rng, WordClass::noun, n_adjectives), verb, lookup("that")});
        budget -= 4 + n_adjectives;
    }
    sentence.clause = random_clause(rng, budget);
    return sentence;
}

Sentence read_english(std::vector<std::string_view> words) {
    if (words.empty()) throw TaskError("not a translate sentence: it is empty");
    return EnglishReader(std::move(words)).read();
}

// English reads the heads first; Zeli nests: head NPs, the clause, then "ke Vs" for each
// head from the innermost out.
LinkedWords english(const Sentence& sentence) {
    LinkedWords out;
    for (const Head& head : sentence.heads) {
        english_np(head.subject, out);
        out.push_back(english_word(head.verb));
        out.push_back(english_word(head.that));
    }
    english_clause(sentence.clause, out);
    return out;
}

LinkedWords zeli(const Sentence& sentence) {
    LinkedWords out;
    for (const Head& head : sentence.heads) zeli_np(head.subject, out);
    zeli_clause(sentence.clause, out);
    for (auto head = sentence.heads.rbegin(); head != sentence.heads.rend(); ++head) {
        out.push_back(zeli_word(head->that));
        out.push_back(zeli_word(head->verb));
    }
    return out;
}

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
    const zeli::Sentence sentence = zeli::read_english(split_words(lower));
    std::string out;
    for (const std::string_view word : texts(zeli::zeli(sentence))) {
        out += out.empty() ? "" : " ";
        out += word;
    }
    return out;
}

}  // namespace stepgrad
