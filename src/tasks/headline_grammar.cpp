#include "headline_grammar.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "stepgrad/support/text.hpp"

namespace stepgrad {

// headline: a news sentence → its headline, seed 004's summarisation example (§2.5)
//
// Each news rule beside the headline it becomes ([x] optional, "" dropped):
//
//   S      → Actor Verb [Day] Object [Place] [Talks] [Source]    Country Verb' Object'
//   Actor  → Country | Nationality "officials"                   Country
//          | Nationality Title Name
//   Verb   → called | urged | announced | met | condemned         calls | urges | …   (the present)
//   Day    → monday | … | sunday                                  ""
//   Object → (call) "for" ["the creation of"] "a" [Adj] Body     "for" [Adj] Body
//                   ["for combating" [Scope] Topic]               ["against" Topic]
//          → (urge) Actor "to join the fight against" [Scope] Topic   Country "to fight" Topic
//          → (announce) [Amount "million dollars in"] "aid for" Country   "aid for" Country
//          → (meet) Actor ["to discuss" [Scope] Topic]             Country ["on" Topic]
//          → (condemn) [Scope] Topic                              Topic
//   Place  → "in" | "during a visit to" | "at a news conference in", then a capital   ""
//   Talks  → "after talks with" Actor                             ""
//   Source → "according to state media"                           ""
//
//   "russian defense minister ivanov called sunday for the creation of a joint front for
//    combating global terrorism"  →  "russia calls for joint front against terrorism"   (seed 004)
//
// So the headline names the country, not its official; puts the verb in the present;
// drops the day, the articles, "the creation of", scopes (global, international, regional),
// amounts and everything after the main clause; and says some phrases shorter ("for
// combating" → "against", "join the fight against" → "fight", "to discuss" → "on").
//
// Alignment: a headline word aligns to the news words it rewrites — the country to the
// whole actor ("russia" ← russian defense minister ivanov: the nationality says which
// country, title and name who spoke for it), a verb to its past, "against" ← "for
// combating", "fight" ← "join the fight against", "on" ← "to discuss"; a kept word to
// itself ("for" ← the first "for": "the creation of a" is dropped, not merged). Every
// headline word has a source; what the headline drops is no headline word's source, which
// is where attention should skip.
//
// The generator keeps to what makes sense: a country does not urge, meet or help itself,
// aid goes to a country, one meets people, a named official is one of their country's two.
// The reader checks these too: the task could not have made a sentence that breaks them.

namespace headline {

struct Rewrite {
    std::string_view news;
    std::string_view headline = {};  // empty: dropped
};

struct Country {
    std::string_view name, nationality, capital;
    std::array<std::string_view, 2> officials;
};

namespace {

constexpr std::array<Country, 8> countries{{
    {"russia", "russian", "moscow", {"ivanov", "petrov"}},
    {"china", "chinese", "beijing", {"li", "wang"}},
    {"france", "french", "paris", {"martin", "bernard"}},
    {"germany", "german", "berlin", {"schmidt", "weber"}},
    {"japan", "japanese", "tokyo", {"tanaka", "suzuki"}},
    {"britain", "british", "london", {"smith", "brown"}},
    {"egypt", "egyptian", "cairo", {"hassan", "mahmoud"}},
    {"brazil", "brazilian", "brasilia", {"silva", "santos"}},
}};
constexpr std::array<std::string_view, 5> titles{"president", "premier", "defense minister", "foreign minister",
                                                  "interior minister"};
constexpr std::string_view officials_word = "officials";

// In the order of Action.
constexpr std::array<Rewrite, 5> verbs{
    {{"called", "calls"}, {"urged", "urges"}, {"announced", "announces"}, {"met", "meets"}, {"condemned", "condemns"}}};
constexpr std::array<Rewrite, 7> days{
    {{"monday"}, {"tuesday"}, {"wednesday"}, {"thursday"}, {"friday"}, {"saturday"}, {"sunday"}}};
// No adjective or body starts with a vowel, so "a" never has to be "an".
constexpr std::array<Rewrite, 4> adjectives{
    {{"joint", "joint"}, {"new", "new"}, {"common", "common"}, {"united", "united"}}};
constexpr std::array<Rewrite, 5> bodies{
    {{"front", "front"}, {"force", "force"}, {"fund", "fund"}, {"council", "council"}, {"coalition", "coalition"}}};
constexpr std::array<Rewrite, 3> scopes{{{"global"}, {"international"}, {"regional"}}};
constexpr std::array<Rewrite, 8> topics{{{"terrorism", "terrorism"},
                                         {"piracy", "piracy"},
                                         {"smuggling", "smuggling"},
                                         {"corruption", "corruption"},
                                         {"extremism", "extremism"},
                                         {"poverty", "poverty"},
                                         {"crime", "crime"},
                                         {"trafficking", "trafficking"}}};
constexpr std::array<Rewrite, 4> amounts{{{"five"}, {"ten"}, {"twenty"}, {"fifty"}}};
constexpr std::array<Rewrite, 3> places{{{"in"}, {"during a visit to"}, {"at a news conference in"}}};

// The fixed phrases. Each is written once in a sentence, so its address links its words.
constexpr Rewrite call_for{"for", "for"};
constexpr Rewrite creation{"the creation of", ""};
constexpr Rewrite article{"a", ""};
constexpr Rewrite combating{"for combating", "against"};
constexpr Rewrite urge_to{"to", "to"};
constexpr Rewrite join_fight{"join the fight against", "fight"};
constexpr Rewrite million_dollars{"million dollars in", ""};
constexpr Rewrite aid{"aid", "aid"};
constexpr Rewrite aid_for{"for", "for"};
constexpr Rewrite discuss{"to discuss", "on"};
constexpr Rewrite talks_with{"after talks with", ""};
constexpr Rewrite attribution{"according to state media", ""};
constexpr std::array<const Rewrite*, 12> fixed_phrases{
    &call_for, &creation, &article, &combating, &urge_to,    &join_fight,
    &million_dollars, &aid, &aid_for, &discuss, &talks_with, &attribution};

int word_count(std::string_view text) { return static_cast<int>(split_words(text).size()); }

// ---- writing a sentence ----

class Writer {
public:
    explicit Writer(Side side) : side_(side) {}

    void phrase(const Rewrite& rewrite) {
        for (const std::string_view word : split_words(side_ == Side::news ? rewrite.news : rewrite.headline))
            out_.push_back({word, &rewrite});
    }
    void optional(const Rewrite* rewrite) {
        if (rewrite != nullptr) phrase(*rewrite);
    }
    // Every word the news spends on an actor links to the one country the headline writes.
    void actor(const Actor& actor) {
        if (side_ == Side::headline) {
            out_.push_back({actor.country->name, &actor});
            return;
        }
        if (actor.form == Actor::Form::country) {
            out_.push_back({actor.country->name, &actor});
            return;
        }
        out_.push_back({actor.country->nationality, &actor});
        if (actor.form == Actor::Form::officials) out_.push_back({officials_word, &actor});
        for (const std::string_view word : split_words(actor.title)) out_.push_back({word, &actor});
        if (actor.form == Actor::Form::official) out_.push_back({actor.name, &actor});
    }
    // What the news says after the main clause; the headline has nothing of it.
    void tails(const Sentence& s) {
        if (side_ == Side::headline) return;
        if (s.place != nullptr) {
            phrase(*s.place);
            out_.push_back({s.place_of->capital, &s.place_of});
        }
        if (s.talks) {
            phrase(talks_with);
            actor(*s.talks);
        }
        if (s.attributed) phrase(attribution);
    }
    LinkedWords words() && { return std::move(out_); }

private:
    Side side_;
    LinkedWords out_;
};

void write_topic(const Sentence& s, Writer& w) {
    w.optional(s.scope);
    w.optional(s.topic);
}

void write_object(const Sentence& s, Writer& w) {
    switch (s.action) {
    case Action::call:
        w.phrase(call_for);
        if (s.creation) w.phrase(creation);
        w.phrase(article);
        w.optional(s.adjective);
        w.phrase(*s.body);
        if (s.topic != nullptr) w.phrase(combating);
        write_topic(s, w);
        return;
    case Action::urge:
        w.actor(s.other);
        w.phrase(urge_to);
        w.phrase(join_fight);
        write_topic(s, w);
        return;
    case Action::announce:
        if (s.amount != nullptr) {
            w.phrase(*s.amount);
            w.phrase(million_dollars);
        }
        w.phrase(aid);
        w.phrase(aid_for);
        w.actor(s.other);
        return;
    case Action::meet:
        w.actor(s.other);
        if (s.topic != nullptr) w.phrase(discuss);
        write_topic(s, w);
        return;
    case Action::condemn:
        write_topic(s, w);
        return;
    }
}

const Rewrite& verb_of(Action action) { return verbs[static_cast<std::size_t>(action)]; }

// ---- drawing a sentence of a given length ----

// The forms an actor may take where it stands: aid goes to a country, one meets people.
enum Forms : unsigned { country_form = 1, officials_form = 2, official_form = 4, any_form = 7 };

unsigned form_bit(Actor::Form form) {
    switch (form) {
    case Actor::Form::country: return country_form;
    case Actor::Form::officials: return officials_form;
    case Actor::Form::official: return official_form;
    }
    return 0;
}

// Words an actor takes: "russia" 1, "russian officials" 2, "russian president ivanov" 3,
// "russian defense minister ivanov" 4.
std::vector<int> actor_sizes(unsigned forms, int extra = 0) {
    std::vector<int> sizes;
    auto add = [&](int n) {
        if (std::find(sizes.begin(), sizes.end(), n + extra) == sizes.end()) sizes.push_back(n + extra);
    };
    if (forms & country_form) add(1);
    if (forms & officials_form) add(2);
    if (forms & official_form)
        for (const std::string_view title : titles) add(2 + word_count(title));
    return sizes;
}

template <class T, std::size_t N>
const T* pick(Rng& rng, const std::array<T, N>& from) {
    return &from[rng.below(N)];
}

// An actor of exactly `size` words (one of actor_sizes), of a country other than `avoid`.
Actor random_actor(Rng& rng, int size, const Country* avoid = nullptr) {
    Actor actor;
    do actor.country = pick(rng, countries);
    while (actor.country == avoid);
    if (size == 1) return actor;
    if (size == 2) {
        actor.form = Actor::Form::officials;
        return actor;
    }
    actor.form = Actor::Form::official;
    std::vector<std::string_view> fitting;
    for (const std::string_view title : titles)
        if (2 + word_count(title) == size) fitting.push_back(title);
    actor.title = fitting[rng.below(fitting.size())];
    actor.name = actor.country->officials[rng.below(actor.country->officials.size())];
    return actor;
}

// [Scope] Topic in `size` words (0: none).
void random_topic(Rng& rng, int size, Sentence& s) {
    if (size == 0) return;
    if (size == 2) s.scope = pick(rng, scopes);
    s.topic = pick(rng, topics);
}

// A part of the sentence: the word counts it may take (0: left out) and how it draws
// words for the count chosen.
struct Part {
    std::vector<int> sizes;
    void (*draw)(Rng& rng, int size, Sentence& s);
};

void nothing_to_draw(Rng&, int, Sentence&) {}

// `connector` [Scope] Topic, or nothing.
std::vector<int> optional_topic_sizes(const Rewrite& connector) {
    const int n = word_count(connector.news);
    return {0, n + 1, n + 2};
}

// What the object of each action is made of, after the actor, the verb and the day.
std::vector<Part> object_parts(Action action) {
    // urge, announce and meet name another country than the actor's, drawn before it
    auto other = [](Rng& rng, int size, Sentence& s) { s.other = random_actor(rng, size, s.actor.country); };
    switch (action) {
    case Action::call:
        return {{{word_count(call_for.news)}, nothing_to_draw},
                {{0, word_count(creation.news)}, [](Rng&, int size, Sentence& s) { s.creation = size > 0; }},
                {{word_count(article.news)}, nothing_to_draw},
                {{0, 1}, [](Rng& rng, int size, Sentence& s) { s.adjective = size ? pick(rng, adjectives) : nullptr; }},
                {{1}, [](Rng& rng, int, Sentence& s) { s.body = pick(rng, bodies); }},
                {optional_topic_sizes(combating), [](Rng& rng, int size, Sentence& s) {
                     random_topic(rng, size == 0 ? 0 : size - word_count(combating.news), s);
                 }}};
    case Action::urge:
        return {{actor_sizes(any_form), other},
                {{word_count(urge_to.news) + word_count(join_fight.news)}, nothing_to_draw},
                {{1, 2}, random_topic}};
    case Action::announce:
        return {{{0, 1 + word_count(million_dollars.news)},
                 [](Rng& rng, int size, Sentence& s) { s.amount = size ? pick(rng, amounts) : nullptr; }},
                {{word_count(aid.news) + word_count(aid_for.news)}, nothing_to_draw},
                {actor_sizes(country_form), other}};
    case Action::meet:
        return {{actor_sizes(officials_form | official_form), other},
                {optional_topic_sizes(discuss), [](Rng& rng, int size, Sentence& s) {
                     random_topic(rng, size == 0 ? 0 : size - word_count(discuss.news), s);
                 }}};
    case Action::condemn:
        return {{{1, 2}, random_topic}};
    }
    return {};
}

// A place, talks and a source, each of which may be left out.
std::vector<Part> tail_parts() {
    std::vector<int> place_sizes{0};
    for (const Rewrite& place : places) place_sizes.push_back(word_count(place.news) + 1);  // then a capital
    std::vector<int> talks_sizes = actor_sizes(officials_form | official_form, word_count(talks_with.news));
    talks_sizes.insert(talks_sizes.begin(), 0);
    return {{place_sizes,
             [](Rng& rng, int size, Sentence& s) {
                 if (size == 0) return;
                 std::vector<const Rewrite*> fitting;
                 for (const Rewrite& place : places)
                     if (word_count(place.news) + 1 == size) fitting.push_back(&place);
                 s.place = fitting[rng.below(fitting.size())];
                 s.place_of = pick(rng, countries);
             }},
            {talks_sizes,
             [](Rng& rng, int size, Sentence& s) {
                 if (size > 0) s.talks = random_actor(rng, size - word_count(talks_with.news));
             }},
            {{0, word_count(attribution.news)}, [](Rng&, int size, Sentence& s) { s.attributed = size > 0; }}};
}

// The parts of a sentence with this action, in the order they are written and drawn.
std::vector<Part> parts(Action action) {
    std::vector<Part> p{
        {actor_sizes(any_form), [](Rng& rng, int size, Sentence& s) { s.actor = random_actor(rng, size); }},
        {{word_count(verb_of(action).news)}, nothing_to_draw},
        {{0, 1}, [](Rng& rng, int size, Sentence& s) { s.day = size ? pick(rng, days) : nullptr; }},
    };
    for (std::vector<Part> more : {object_parts(action), tail_parts()}) p.insert(p.end(), more.begin(), more.end());
    return p;
}

constexpr std::array<Action, 5> actions{Action::call, Action::urge, Action::announce, Action::meet, Action::condemn};

// reachable[k][b]: parts k, k+1, … can take exactly b words between them.
std::vector<std::vector<bool>> reachable_lengths(const std::vector<Part>& parts, int length) {
    std::vector<std::vector<bool>> reachable(parts.size() + 1, std::vector<bool>(static_cast<std::size_t>(length) + 1));
    reachable[parts.size()][0] = true;
    for (std::size_t k = parts.size(); k-- > 0;)
        for (int b = 0; b <= length; ++b)
            for (const int size : parts[k].sizes)
                if (size <= b && reachable[k + 1][static_cast<std::size_t>(b - size)])
                    reachable[k][static_cast<std::size_t>(b)] = true;
    return reachable;
}

bool can_make(Action action, int length) {
    return length >= 0 && reachable_lengths(parts(action), length)[0][static_cast<std::size_t>(length)];
}

}  // namespace

LengthRange sentence_lengths() {
    LengthRange range{task_max_len, 0};
    for (const Action action : actions) {
        int shortest = 0, longest = 0;
        for (const Part& part : parts(action)) {
            shortest += *std::min_element(part.sizes.begin(), part.sizes.end());
            longest += *std::max_element(part.sizes.begin(), part.sizes.end());
        }
        range = {std::min(range.min_len, shortest), std::max(range.max_len, longest)};
    }
    return range;
}

// An action that can fill the length, then each part's size drawn among those that
// leave the later parts a way to make up the rest, then the words.
Sentence random_sentence(Rng& rng, int length) {
    std::vector<Action> possible;
    for (const Action action : actions)
        if (can_make(action, length)) possible.push_back(action);
    if (possible.empty()) {
        const LengthRange range = sentence_lengths();
        throw TaskError(fmt::format("headline makes sentences of {} to {} words, not {}", range.min_len,
                                    range.max_len, length));
    }
    Sentence sentence;
    sentence.action = possible[rng.below(possible.size())];
    const std::vector<Part> p = parts(sentence.action);
    const auto reachable = reachable_lengths(p, length);
    int rest = length;
    for (std::size_t k = 0; k < p.size(); ++k) {
        std::vector<int> fitting;
        for (const int size : p[k].sizes)
            if (size <= rest && reachable[k + 1][static_cast<std::size_t>(rest - size)]) fitting.push_back(size);
        const int size = fitting[rng.below(fitting.size())];
        p[k].draw(rng, size, sentence);
        rest -= size;
    }
    return sentence;
}

LinkedWords write(const Sentence& sentence, Side side) {
    Writer w(side);
    w.actor(sentence.actor);
    w.phrase(verb_of(sentence.action));
    w.optional(sentence.day);
    write_object(sentence, w);
    w.tails(sentence);
    return std::move(w).words();
}

// ---- reading a sentence ----

namespace {

// A recursive-descent reader of the news rules above.
class NewsReader {
public:
    explicit NewsReader(std::span<const std::string_view> words) : words_(words) {}

    Sentence read() {
        Sentence s;
        s.actor = actor(any_form, nullptr, "who acts (russia, russian officials, russian president ivanov, …)");
        s.action = verb();
        s.day = maybe(days);
        read_object(s);
        if ((s.place = maybe(places)) != nullptr) s.place_of = capital();
        if (accept(talks_with)) s.talks = actor(officials_form | official_form, nullptr, "whom the talks were with");
        s.attributed = accept(attribution);
        if (pos_ < words_.size()) fail("the end of the sentence");
        return s;
    }

private:
    std::span<const std::string_view> words_;
    std::size_t pos_ = 0;

    std::string_view peek(std::size_t ahead = 0) const {
        return pos_ + ahead < words_.size() ? words_[pos_ + ahead] : std::string_view();
    }
    [[noreturn]] void fail(std::string_view expected) const { fail_at(pos_, expected); }
    [[noreturn]] void fail_at(std::size_t at, std::string_view expected) const {
        if (at >= words_.size())
            throw TaskError(
                fmt::format("not news the headline grammar writes: expected {} after word {}", expected, at));
        throw TaskError(fmt::format("not news the headline grammar writes: expected {} at word {}, got {}", expected,
                                    at + 1, quoted(words_[at])));
    }

    // Takes the words of `text` when they come next.
    bool accept_words(std::string_view text) {
        const std::vector<std::string_view> expected = split_words(text);
        for (std::size_t k = 0; k < expected.size(); ++k)
            if (peek(k) != expected[k]) return false;
        pos_ += expected.size();
        return true;
    }
    bool accept(const Rewrite& rewrite) { return accept_words(rewrite.news); }
    void expect(const Rewrite& rewrite) {
        if (!accept(rewrite)) fail(quoted(rewrite.news));
    }
    template <std::size_t N>
    const Rewrite* maybe(const std::array<Rewrite, N>& table) {
        for (const Rewrite& rewrite : table)
            if (accept(rewrite)) return &rewrite;
        return nullptr;
    }
    template <std::size_t N>
    const Rewrite* one_of(const std::array<Rewrite, N>& table, std::string_view expected) {
        const Rewrite* found = maybe(table);
        if (found == nullptr) fail(expected);
        return found;
    }

    Action verb() {
        for (const Action action : actions)
            if (accept(verb_of(action))) return action;
        fail("a verb (called, urged, announced, met, condemned)");
    }

    const Country* capital() {
        for (const Country& country : countries)
            if (accept_words(country.capital)) return &country;
        fail("a capital (moscow, beijing, …)");
    }

    Actor actor(unsigned forms, const Country* avoid, std::string_view expected) {
        const std::size_t start = pos_;
        Actor a;
        for (const Country& country : countries) {
            if (accept_words(country.name)) {
                a.country = &country;
            } else if (accept_words(country.nationality)) {
                a.country = &country;
                a.form = accept_words(officials_word) ? Actor::Form::officials : official(country, a);
            }
            if (a.country != nullptr) break;
        }
        if (a.country == nullptr || (form_bit(a.form) & forms) == 0) fail_at(start, expected);
        if (a.country == avoid) fail_at(start, fmt::format("a country other than {}", avoid->name));
        return a;
    }

    // "president ivanov" after "russian": a title, then one of the country's officials.
    Actor::Form official(const Country& country, Actor& a) {
        for (const std::string_view title : titles)
            if (accept_words(title)) {
                a.title = title;
                break;
            }
        if (a.title.empty()) fail("\"officials\" or a title (president, defense minister, …)");
        const auto& names = country.officials;
        if (std::find(names.begin(), names.end(), peek()) == names.end())
            fail(fmt::format("an official of {} ({} or {})", country.name, names[0], names[1]));
        a.name = words_[pos_++];
        return Actor::Form::official;
    }

    void topic(Sentence& s) {
        s.scope = maybe(scopes);
        s.topic = one_of(topics, "a topic (terrorism, piracy, …)");
    }

    void read_object(Sentence& s) {
        switch (s.action) {
        case Action::call:
            expect(call_for);
            s.creation = accept(creation);
            expect(article);
            s.adjective = maybe(adjectives);
            s.body = one_of(bodies, "a body (front, force, fund, …)");
            if (accept(combating)) topic(s);
            return;
        case Action::urge:
            s.other = actor(any_form, s.actor.country, "whom they urged (china, chinese officials, …)");
            expect(urge_to);
            expect(join_fight);
            topic(s);
            return;
        case Action::announce:
            if ((s.amount = maybe(amounts)) != nullptr) expect(million_dollars);
            expect(aid);
            expect(aid_for);
            s.other = actor(country_form, s.actor.country, "a country (china, france, …)");
            return;
        case Action::meet:
            s.other = actor(officials_form | official_form, s.actor.country,
                            "whom they met (chinese officials, chinese president li, …)");
            if (accept(discuss)) topic(s);
            return;
        case Action::condemn:
            topic(s);
            return;
        }
    }
};

}  // namespace

Sentence read_news(std::span<const std::string_view> words) {
    if (words.empty()) throw TaskError("not news the headline grammar writes: it is empty");
    return NewsReader(words).read();
}

std::vector<std::string> tokens(Side side) {
    std::vector<std::string> out;
    auto add = [&](std::string_view text) {
        for (const std::string_view word : split_words(text))
            if (std::find(out.begin(), out.end(), word) == out.end()) out.emplace_back(word);
    };
    auto add_rewrite = [&](const Rewrite& rewrite) { add(side == Side::news ? rewrite.news : rewrite.headline); };
    for (const Country& country : countries) {
        add(country.name);
        if (side == Side::headline) continue;
        add(country.nationality);
        add(country.capital);
        for (const std::string_view name : country.officials) add(name);
    }
    if (side == Side::news) {
        add(officials_word);
        for (const std::string_view title : titles) add(title);
    }
    using Table = std::span<const Rewrite>;
    for (const Table table : {Table(verbs), Table(days), Table(adjectives), Table(bodies), Table(scopes), Table(topics),
                              Table(amounts), Table(places)})
        for (const Rewrite& rewrite : table) add_rewrite(rewrite);
    for (const Rewrite* phrase : fixed_phrases) add_rewrite(*phrase);
    return out;
}

}  // namespace headline

}  // namespace stepgrad
