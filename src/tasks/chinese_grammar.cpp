#include "chinese_grammar.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "stepgrad/support/text.hpp"

namespace stepgrad {

// en-zh and zh-en: English ↔ Chinese, the language of the seeds' examples
//
// Each English rule beside the Chinese rule it becomes ([x] optional, * repeated):
//
//   S      → Head* Clause                       Head* Clause
//   Head   → Subj Vsay "that"                   Subj Vsay                  "Tom says that" ↔ "汤姆 说"
//   Clause → Subj V [Obj] [Place] [Time]        Subj [Time] [Place] V [了] [Obj]
//          → Subj do/does/did "not" V …         Subj [Time] 不/没 [Place] V [Obj]
//          → do/does/did Subj V …               Subj [Time] [Place] V [了] [Obj] 吗
//   Place  → "in" "the" N_place                 在 N_place 里
//   Subj   → Pronoun | Name | "the" [Adj] N     Pronoun | Name | [Adj] N
//   Obj    → Name | "China"                     Name | 中国
//          → "the" [Adj] N                      [Adj] N
//          → "a"/"two"/"three" [Adj] N          一/两/三 Measure [Adj] N   "two books" ↔ "两 本 书"
//          → "the" [Adj] N "that" Subj Vt       Subj Vt 的 [Adj] N         "the cat that Tom likes" ↔ "汤姆 喜欢 的 猫"
//
// So time and place come before the verb in Chinese and after it in English, modifiers
// come before the noun with 的, a counted noun takes its measure word, the past takes 了
// (没 in the negative, which takes none), the present's negation is 不, and a yes-no
// question ends with 吗 where English starts with "does":
//
//   "Tom saw Jerry in the garden yesterday"  ↔  "汤姆 昨天 在 花园 里 看见 了 杰瑞"
//   "I love China" ↔ "我 爱 中国" (seed 001)     "Tom chases Jerry" ↔ "汤姆 追逐 杰瑞" (seed 004)
//
// Alignment: a word links to the word it translates; "does"/"did" and "not" both link to
// 不/没, a question's "does"/"did" to 吗, "in" to 在. The function words one language
// lacks ("the", "that", 的, 了, 里, measure words) link to nothing.
//
// The generator also keeps to what makes sense: love and like are states, present only;
// "yesterday" goes with the past; a verb gets objects it fits (one buys animals and
// things, loves people, animals and China); questions are not embedded after "that".
// The readers check the syntax, agreement ("Tom likes", "I like") and measure words, not
// these choices, so "I loved China" still reads.

namespace chinese {

enum Kind : unsigned { person = 1, animal = 2, thing = 4, country = 8, place = 16 };

struct Word {
    std::string_view english, chinese;
    bool third_person = true;  // "he likes", "I like"
};

struct Noun {
    std::string_view singular, plural, chinese, measure;
    Kind kind;
};

enum class VerbType { transitive, intransitive, saying };

struct Verb {
    std::string_view base, third, past, chinese;
    VerbType type;
    unsigned takes = 0;    // the kinds of object a transitive verb is given
    bool stative = false;  // present only
};

struct Preposition {
    std::string_view english, chinese, localizer;
};

namespace {

constexpr std::array<Word, 6> pronouns{{{"I", "我", false},
                                        {"you", "你", false},
                                        {"he", "他"},
                                        {"she", "她"},
                                        {"we", "我们", false},
                                        {"they", "他们", false}}};
constexpr std::array<Word, 4> names{{{"Tom", "汤姆"}, {"Jerry", "杰瑞"}, {"Jack", "杰克"}, {"Mary", "玛丽"}}};
constexpr Word china{"China", "中国"};
// No noun or adjective starts with a vowel, so "a" never has to be "an".
constexpr std::array<Noun, 13> nouns{{
    {"cat", "cats", "猫", "只", animal},         {"dog", "dogs", "狗", "只", animal},
    {"bird", "birds", "鸟", "只", animal},       {"mouse", "mice", "老鼠", "只", animal},
    {"horse", "horses", "马", "匹", animal},     {"fish", "fish", "鱼", "条", animal},
    {"book", "books", "书", "本", thing},        {"ball", "balls", "球", "个", thing},
    {"flower", "flowers", "花", "朵", thing},    {"garden", "", "花园", "", place},
    {"park", "", "公园", "", place},             {"house", "", "房子", "", place},
    {"kitchen", "", "厨房", "", place},
}};
constexpr std::array<Word, 4> adjectives{{{"big", "大"}, {"small", "小"}, {"black", "黑"}, {"white", "白"}}};
constexpr std::array<Word, 3> numbers{{{"a", "一"}, {"two", "两"}, {"three", "三"}}};
constexpr std::array<Word, 2> times{{{"yesterday", "昨天"}, {"today", "今天"}}};
constexpr std::array<Verb, 14> verbs{{
    {"love", "loves", "loved", "爱", VerbType::transitive, person | animal | country, true},
    {"like", "likes", "liked", "喜欢", VerbType::transitive, person | animal | thing | country, true},
    {"chase", "chases", "chased", "追逐", VerbType::transitive, person | animal | thing},
    {"see", "sees", "saw", "看见", VerbType::transitive, person | animal | thing},
    {"help", "helps", "helped", "帮助", VerbType::transitive, person | animal},
    {"find", "finds", "found", "找到", VerbType::transitive, person | animal | thing},
    {"buy", "buys", "bought", "买", VerbType::transitive, animal | thing},
    {"sleep", "sleeps", "slept", "睡觉", VerbType::intransitive},
    {"run", "runs", "ran", "跑", VerbType::intransitive},
    {"sing", "sings", "sang", "唱歌", VerbType::intransitive},
    {"play", "plays", "played", "玩", VerbType::intransitive},
    {"say", "says", "", "说", VerbType::saying},
    {"think", "thinks", "", "认为", VerbType::saying},
    {"know", "knows", "", "知道", VerbType::saying},
}};
constexpr Preposition in{"in", "在", "里"};
// The words of no entry: articles, "that", auxiliaries, negations, 了, 的, 吗.
constexpr std::array<std::string_view, 6> english_function_words{"the", "that", "do", "does", "did", "not"};
constexpr std::array<std::string_view, 5> chinese_function_words{"了", "的", "不", "没", "吗"};

// ---- writing a sentence ----

bool plural(const NounPhrase& np) { return np.number != nullptr && np.number != &numbers[0]; }
bool third_person(const NounPhrase& np) { return np.word != nullptr ? np.word->third_person : !plural(np); }

std::string_view present(const Verb& verb, const NounPhrase& subject) {
    return third_person(subject) ? verb.third : verb.base;
}

std::string_view auxiliary(Tense tense, const NounPhrase& subject) {
    if (tense == Tense::past) return "did";
    return third_person(subject) ? "does" : "do";
}

void english_np(const NounPhrase& np, LinkedWords& out) {
    if (np.word != nullptr) {
        out.push_back({np.word->english, &np.word});
        return;
    }
    out.push_back(np.number != nullptr ? LinkedWord{np.number->english, &np.number} : LinkedWord{"the"});
    if (np.adjective != nullptr) out.push_back({np.adjective->english, &np.adjective});
    out.push_back({plural(np) ? np.noun->plural : np.noun->singular, &np.noun});
}

void chinese_np(const NounPhrase& np, LinkedWords& out) {
    if (np.word != nullptr) {
        out.push_back({np.word->chinese, &np.word});
        return;
    }
    if (np.number != nullptr) {
        out.push_back({np.number->chinese, &np.number});
        out.push_back({np.noun->measure});
    }
    if (np.adjective != nullptr) out.push_back({np.adjective->chinese, &np.adjective});
    out.push_back({np.noun->chinese, &np.noun});
}

void english_object(const Object& object, LinkedWords& out) {
    english_np(object.noun_phrase, out);
    if (!object.relative) return;
    out.push_back({"that"});
    english_np(object.relative->subject, out);
    out.push_back({present(*object.relative->verb, object.relative->subject), &object.relative->verb});
}

void chinese_object(const Object& object, LinkedWords& out) {
    if (object.relative) {
        chinese_np(object.relative->subject, out);
        out.push_back({object.relative->verb->chinese, &object.relative->verb});
        out.push_back({"的"});
    }
    chinese_np(object.noun_phrase, out);
}

void english_clause(const Clause& c, LinkedWords& out) {
    const std::string_view aux = auxiliary(c.tense, c.subject);
    if (c.question) out.push_back({aux, &c.question});
    english_np(c.subject, out);
    if (c.negative) {
        out.push_back({aux, &c.negative});
        out.push_back({"not", &c.negative});
    }
    std::string_view verb = c.tense == Tense::past ? c.verb->past : present(*c.verb, c.subject);
    if (c.question || c.negative) verb = c.verb->base;
    out.push_back({verb, &c.verb});
    if (c.object) english_object(*c.object, out);
    if (c.place) {
        out.push_back({c.place->preposition->english, &c.place->preposition});
        out.push_back({"the"});
        out.push_back({c.place->noun->singular, &c.place->noun});
    }
    if (c.time != nullptr) out.push_back({c.time->english, &c.time});
}

void chinese_clause(const Clause& c, LinkedWords& out) {
    chinese_np(c.subject, out);
    if (c.time != nullptr) out.push_back({c.time->chinese, &c.time});
    if (c.negative) out.push_back({c.tense == Tense::past ? "没" : "不", &c.negative});
    if (c.place) {
        out.push_back({c.place->preposition->chinese, &c.place->preposition});
        out.push_back({c.place->noun->chinese, &c.place->noun});
        out.push_back({c.place->preposition->localizer});
    }
    out.push_back({c.verb->chinese, &c.verb});
    if (c.tense == Tense::past && !c.negative) out.push_back({"了"});
    if (c.object) chinese_object(*c.object, out);
    if (c.question) out.push_back({"吗", &c.question});
}

void write_head(const Head& head, Language language, LinkedWords& out) {
    if (language == Language::english) {
        english_np(head.subject, out);
        out.push_back({present(*head.verb, head.subject), &head.verb});
        out.push_back({"that"});
    } else {
        chinese_np(head.subject, out);
        out.push_back({head.verb->chinese, &head.verb});
    }
}

void write_clause(const Clause& clause, Language language, LinkedWords& out) {
    if (language == Language::english)
        english_clause(clause, out);
    else
        chinese_clause(clause, out);
}

// ---- drawing a sentence ----

// Redraws of a clause before giving up (each length the task allows is found in a few
// dozen).
constexpr int max_draws = 100'000;
// Beyond this many words, "Tom says that" heads take the rest: clauses up to this length
// are quick to draw.
constexpr int longest_drawn_clause = 12;

template <class T, std::size_t N>
const T* pick(Rng& rng, const std::array<T, N>& from) {
    return &from[rng.below(N)];
}

template <class T, std::size_t N, class Keep>
const T* pick_if(Rng& rng, const std::array<T, N>& from, Keep keep) {
    std::vector<const T*> kept;
    for (const T& entry : from)
        if (keep(entry)) kept.push_back(&entry);
    return kept[rng.below(kept.size())];
}

const Noun* pick_noun(Rng& rng, unsigned kinds) {
    return pick_if(rng, nouns, [&](const Noun& noun) { return (noun.kind & kinds) != 0; });
}

const Verb* pick_verb(Rng& rng, VerbType type, unsigned takes = 0) {
    return pick_if(rng, verbs, [&](const Verb& verb) { return verb.type == type && (verb.takes & takes) == takes; });
}

NounPhrase random_person(Rng& rng) { return {rng.uniform() < 0.5 ? pick(rng, pronouns) : pick(rng, names)}; }

// `rich` in [0, 1]: how likely each optional part is — more for a longer sentence.
NounPhrase random_subject(Rng& rng, double rich) {
    if (rng.uniform() < 0.6) return random_person(rng);
    NounPhrase np;
    np.noun = pick_noun(rng, animal);
    if (rng.uniform() < rich) np.adjective = pick(rng, adjectives);
    return np;
}

Object random_object(Rng& rng, const Verb& verb, double rich) {
    Object object;
    NounPhrase& np = object.noun_phrase;
    const double u = rng.uniform();
    if ((verb.takes & person) && u < 0.25) {
        np.word = pick(rng, names);
        return object;
    }
    if ((verb.takes & country) && u < 0.4) {
        np.word = &china;
        return object;
    }
    np.noun = pick_noun(rng, verb.takes);
    if (rng.uniform() < 0.4) {
        np.number = pick(rng, numbers);
    } else if (rng.uniform() < rich) {
        const NounPhrase subject = random_subject(rng, rich / 2);
        object.relative = Relative{subject, pick_verb(rng, VerbType::transitive, np.noun->kind)};
    }
    if (rng.uniform() < rich) np.adjective = pick(rng, adjectives);
    return object;
}

Clause random_clause(Rng& rng, double rich, bool question_allowed) {
    Clause c;
    c.verb = pick_verb(rng, rng.uniform() < 0.65 ? VerbType::transitive : VerbType::intransitive);
    if (!c.verb->stative && rng.uniform() < 0.5) c.tense = Tense::past;
    const double mood = rng.uniform();
    c.negative = mood < 0.25;
    c.question = question_allowed && mood >= 0.75;
    c.subject = random_subject(rng, rich);
    if (c.verb->type == VerbType::transitive) c.object = random_object(rng, *c.verb, rich);
    if (rng.uniform() < rich * 0.6) c.place = Place{&in, pick_noun(rng, place)};
    if (rng.uniform() < rich * 0.6) c.time = c.tense == Tense::past ? pick(rng, times) : &times[1];  // "today"
    return c;
}

// ---- reading a sentence ----

std::string_view text(const Word& word, Language language) {
    return language == Language::english ? word.english : word.chinese;
}

// The forms of a verb a language writes (a saying verb has no past: an empty form).
std::array<std::string_view, 3> forms(const Verb& verb, Language language) {
    if (language == Language::chinese) return {verb.chinese};
    return {verb.base, verb.third, verb.past};
}

// What both readers share: the words, the position, the entry a word names, and the
// error that names the word the grammar does not expect.
class Reader {
public:
    virtual ~Reader() = default;

    // Heads while "Tom says …" follows, then a clause, then nothing.
    Sentence read() {
        Sentence sentence;
        while (head_follows()) sentence.heads.push_back(head());
        sentence.clause = clause(sentence.heads.empty());
        if (!at_end()) fail("the end of the sentence");
        return sentence;
    }

protected:
    Reader(std::span<const std::string_view> words, Language language) : words_(words), language_(language) {}
    virtual Head head() = 0;
    virtual Clause clause(bool question_allowed) = 0;

    bool at_end() const { return pos_ >= words_.size(); }
    std::string_view peek(std::size_t ahead = 0) const {
        return pos_ + ahead < words_.size() ? words_[pos_ + ahead] : std::string_view();
    }
    bool accept(std::string_view word) {
        if (at_end() || peek() != word) return false;
        ++pos_;
        return true;
    }
    void expect(std::string_view word) {
        if (!accept(word)) fail(quoted(word));
    }
    [[noreturn]] void fail(std::string_view expected) const { fail_at(pos_, expected); }
    [[noreturn]] void fail_at(std::size_t at, std::string_view expected) const {
        const std::string_view language = language_ == Language::english ? "English" : "Chinese";
        if (at >= words_.size())
            throw TaskError(fmt::format("not {} the grammar writes: expected {} after word {}", language, expected, at));
        throw TaskError(fmt::format("not {} the grammar writes: expected {} at word {}, got {}", language, expected,
                                    at + 1, quoted(words_[at])));
    }

    // The entry of `table` the word `ahead` names, or nullptr.
    template <std::size_t N>
    const Word* find(const std::array<Word, N>& table, std::size_t ahead = 0) const {
        for (const Word& word : table)
            if (text(word, language_) == peek(ahead)) return &word;
        return nullptr;
    }
    const Word* person_at(std::size_t ahead = 0) const {
        const Word* word = find(pronouns, ahead);
        return word != nullptr ? word : find(names, ahead);
    }
    template <std::size_t N>
    const Word* take(const std::array<Word, N>& table) {
        const Word* word = find(table);
        if (word != nullptr) ++pos_;
        return word;
    }
    // A noun of one of `kinds` (English: in the form `plural` asks for).
    const Noun* noun(unsigned kinds, bool plural, std::string_view expected) {
        for (const Noun& noun : nouns) {
            const std::string_view form = language_ == Language::chinese ? noun.chinese : plural ? noun.plural : noun.singular;
            if ((noun.kind & kinds) != 0 && !form.empty() && form == peek()) {
                ++pos_;
                return &noun;
            }
        }
        fail(expected);
    }
    // The verb the word `ahead` is a form of, or nullptr.
    const Verb* verb_at(std::size_t ahead, std::string_view* form = nullptr) const {
        for (const Verb& verb : verbs)
            for (const std::string_view f : forms(verb, language_))
                if (!f.empty() && f == peek(ahead)) {
                    if (form != nullptr) *form = f;
                    return &verb;
                }
        return nullptr;
    }
    const Verb* verb(std::string_view* form = nullptr) {
        const Verb* found = verb_at(0, form);
        if (found == nullptr || found->type == VerbType::saying) fail("a verb");
        ++pos_;
        return found;
    }
    // "Tom says …", "汤姆 说 …"
    bool head_follows() const {
        const Verb* verb = verb_at(1);
        return person_at() != nullptr && verb != nullptr && verb->type == VerbType::saying;
    }

    std::span<const std::string_view> words_;
    std::size_t pos_ = 0;
    Language language_;
};

class EnglishReader final : public Reader {
public:
    explicit EnglishReader(std::span<const std::string_view> words) : Reader(words, Language::english) {}

private:
    Head head() override {  // Tom says that
        Head h{subject(), nullptr};
        h.verb = present_verb(h.subject);
        expect("that");
        return h;
    }

    NounPhrase subject() {
        if (const Word* word = take(pronouns); word != nullptr) return {word};
        if (const Word* word = take(names); word != nullptr) return {word};
        if (!accept("the")) fail("a subject (I, Tom, the …)");
        NounPhrase np;
        np.adjective = take(adjectives);
        np.noun = noun(animal | thing, false, "a noun");
        return np;
    }

    // A verb in the present, agreeing with its subject ("Tom likes", "I like").
    const Verb* present_verb(const NounPhrase& subject) {
        std::string_view form;
        const Verb* found = verb_at(0, &form);
        if (found == nullptr) fail("a verb");
        if (form != present(*found, subject)) fail(quoted(present(*found, subject)));
        ++pos_;
        return found;
    }

    // "does", "do" or "did", which must agree with the subject read after it.
    Tense check_auxiliary(std::size_t at, const NounPhrase& subject) const {
        const Tense tense = words_[at] == "did" ? Tense::past : Tense::present;
        if (words_[at] != auxiliary(tense, subject)) fail_at(at, quoted(auxiliary(tense, subject)));
        return tense;
    }
    bool auxiliary_follows() const { return peek() == "do" || peek() == "does" || peek() == "did"; }

    Clause clause(bool question_allowed) override {
        Clause c;
        std::string_view form;
        if (auxiliary_follows()) {  // does Tom like Jerry
            if (!question_allowed) fail("a statement after \"that\"");
            const std::size_t at = pos_++;
            c.question = true;
            c.subject = subject();
            c.tense = check_auxiliary(at, c.subject);
            c.verb = verb(&form);
            if (form != c.verb->base) fail_at(pos_ - 1, quoted(c.verb->base));
        } else if (c.subject = subject(); auxiliary_follows()) {  // Tom does not like Jerry
            c.tense = check_auxiliary(pos_++, c.subject);
            c.negative = true;
            expect("not");
            c.verb = verb(&form);
            if (form != c.verb->base) fail_at(pos_ - 1, quoted(c.verb->base));
        } else {  // Tom likes Jerry, Tom saw Jerry
            c.verb = verb(&form);
            if (form == c.verb->past) c.tense = Tense::past;
            else if (form != present(*c.verb, c.subject)) fail_at(pos_ - 1, quoted(present(*c.verb, c.subject)));
        }
        if (c.verb->type == VerbType::transitive) c.object = object();
        if (accept(in.english)) {
            expect("the");
            c.place = Place{&in, noun(place, false, "a place (garden, park, …)")};
        }
        c.time = take(times);
        return c;
    }

    Object object() {
        Object object;
        NounPhrase& np = object.noun_phrase;
        if ((np.word = take(names)) != nullptr) return object;
        if (accept(china.english)) {
            np.word = &china;
            return object;
        }
        np.number = take(numbers);
        if (np.number == nullptr && !accept("the")) fail("an object (Tom, China, the, a, two …)");
        np.adjective = take(adjectives);
        np.noun = noun(animal | thing, plural(np), plural(np) ? "a plural noun" : "a noun");
        if (np.number == nullptr && accept("that")) {  // the cat that Tom likes
            Relative relative{subject(), nullptr};
            relative.verb = present_verb(relative.subject);
            if (relative.verb->type != VerbType::transitive) fail_at(pos_ - 1, "a verb that takes an object");
            object.relative = relative;
        }
        return object;
    }
};

class ChineseReader final : public Reader {
public:
    explicit ChineseReader(std::span<const std::string_view> words) : Reader(words, Language::chinese) {}

private:
    Head head() override {  // 汤姆 说
        Head h{subject(), nullptr};
        h.verb = verb_at(0);  // 说, 认为, 知道
        ++pos_;
        return h;
    }

    // How many words the subject starting `ahead` has: 我, 汤姆 (1), 猫 (1), 大 猫 (2); 0: none.
    std::size_t subject_length(std::size_t ahead) const {
        auto common_noun = [&](std::size_t at) {
            return std::any_of(nouns.begin(), nouns.end(), [&](const Noun& noun) {
                return (noun.kind & (animal | thing)) != 0 && noun.chinese == peek(at);
            });
        };
        if (person_at(ahead) != nullptr || common_noun(ahead)) return 1;
        return find(adjectives, ahead) != nullptr && common_noun(ahead + 1) ? 2 : 0;
    }

    NounPhrase subject() {
        if (subject_length(0) == 0) fail("a subject (我, 汤姆, 猫 …)");
        if (const Word* word = person_at(); word != nullptr) {
            ++pos_;
            return {word};
        }
        NounPhrase np;
        np.adjective = take(adjectives);
        np.noun = noun(animal | thing, false, "a noun");
        return np;
    }

    Clause clause(bool question_allowed) override {
        Clause c;
        c.subject = subject();
        c.time = take(times);
        if (accept("不") || accept("没")) {
            c.negative = true;
            if (words_[pos_ - 1] == "没") c.tense = Tense::past;
        }
        if (accept(in.chinese)) {
            c.place = Place{&in, noun(place, false, "a place (花园, 公园, …)")};
            expect(in.localizer);
        }
        c.verb = verb();
        if (accept("了")) {
            if (c.negative) fail_at(pos_ - 1, "no 了 after 不 or 没");
            c.tense = Tense::past;
        }
        if (c.verb->type == VerbType::transitive) c.object = object();
        if (accept("吗")) {
            if (c.negative || !question_allowed) fail_at(pos_ - 1, c.negative ? "no 吗 after 不 or 没" : "no 吗 after 说, 认为 or 知道");
            c.question = true;
        }
        return c;
    }

    Object object() {
        Object object;
        NounPhrase& np = object.noun_phrase;
        const std::size_t n = subject_length(0);
        const Verb* relative_verb = verb_at(n);
        if (n > 0 && relative_verb != nullptr && relative_verb->type == VerbType::transitive && peek(n + 1) == "的") {
            Relative relative{subject(), verb()};  // 汤姆 喜欢 的 猫
            expect("的");
            object.relative = relative;
        } else if ((np.word = take(names)) != nullptr) {
            return object;
        } else if (accept(china.chinese)) {
            np.word = &china;
            return object;
        } else if ((np.number = take(numbers)) != nullptr) {
            const std::size_t measure = pos_++;
            np.adjective = take(adjectives);
            np.noun = noun(animal | thing, false, "a noun");
            if (words_.size() <= measure || words_[measure] != np.noun->measure) fail_at(measure, quoted(np.noun->measure));
            return object;
        }
        np.adjective = take(adjectives);
        np.noun = noun(animal | thing, false, "an object (汤姆, 中国, 猫, 一 只 猫 …)");
        return object;
    }
};

}  // namespace

// Heads while the budget is long (or now and then), then clauses drawn until one fills
// the rest exactly.
Sentence random_sentence(Rng& rng, int length, Language counted) {
    Sentence sentence;
    int budget = length;
    LinkedWords words;
    while (budget > longest_drawn_clause || (budget >= 6 && rng.uniform() < 0.15)) {
        sentence.heads.push_back({random_person(rng), pick_verb(rng, VerbType::saying)});
        words.clear();
        write_head(sentence.heads.back(), counted, words);
        budget -= static_cast<int>(words.size());
    }
    const double rich = std::clamp((budget - 2) / 8.0, 0.0, 1.0);
    for (int draw = 0; draw < max_draws; ++draw) {
        sentence.clause = random_clause(rng, rich, sentence.heads.empty());
        words.clear();
        write_clause(sentence.clause, counted, words);
        if (static_cast<int>(words.size()) == budget) return sentence;
    }
    throw TaskError(fmt::format("no sentence of {} words found in {} draws", length, max_draws));
}

LinkedWords write(const Sentence& sentence, Language language) {
    LinkedWords out;
    for (const Head& head : sentence.heads) write_head(head, language, out);
    write_clause(sentence.clause, language, out);
    return out;
}

Sentence read(Language language, std::span<const std::string_view> words) {
    if (language == Language::english) return EnglishReader(words).read();
    return ChineseReader(words).read();
}

std::vector<std::string> tokens(Language language) {
    std::vector<std::string> out;
    auto add = [&](std::string_view token) {
        if (!token.empty() && std::find(out.begin(), out.end(), token) == out.end()) out.emplace_back(token);
    };
    const bool english = language == Language::english;
    for (const Word& word : pronouns) add(text(word, language));
    for (const Word& word : names) add(text(word, language));
    add(text(china, language));
    for (const Noun& noun : nouns) {
        add(english ? noun.singular : noun.chinese);
        add(english ? noun.plural : noun.measure);
    }
    for (const Word& word : adjectives) add(text(word, language));
    for (const Word& word : numbers) add(text(word, language));
    for (const Verb& verb : verbs)
        for (const std::string_view form : forms(verb, language)) add(form);
    for (const Word& word : times) add(text(word, language));
    add(english ? in.english : in.chinese);
    if (!english) add(in.localizer);
    for (const std::string_view word : english ? std::span<const std::string_view>(english_function_words) : std::span<const std::string_view>(chinese_function_words))
        add(word);
    return out;
}

// ---- en-zh and zh-en ----

namespace {

std::string_view language_name(Language language) { return language == Language::english ? "English" : "Chinese"; }

}  // namespace

TranslationTask::TranslationTask(Language source, std::string_view name, std::string_view description)
    : source_(source), name_(name), description_(description) {}

Vocab TranslationTask::src_vocab(const TaskConfig&) const {
    return Vocab(fmt::format("{} source ({})", name(), language_name(source_)), Vocab::Level::word, tokens(source_));
}

Vocab TranslationTask::tgt_vocab(const TaskConfig&) const {
    return Vocab(fmt::format("{} target ({})", name(), language_name(target())), Vocab::Level::word, tokens(target()));
}

Example TranslationTask::sample(Rng& rng, const TaskConfig& config, const Vocab& src, const Vocab& tgt) const {
    const Sentence sentence = random_sentence(rng, rng.between(config.min_len, config.max_len), source_);
    return linked_example(write(sentence, source_), write(sentence, target()), src, tgt);
}

Example TranslationTask::answer(std::span<const int> source, const Vocab& src, const Vocab& tgt) const {
    std::vector<std::string_view> words;
    for (const int id : source) words.push_back(src.token(id));
    const Sentence sentence = read(source_, words);
    return linked_example(write(sentence, source_), write(sentence, target()), src, tgt);
}

}  // namespace chinese

}  // namespace stepgrad
