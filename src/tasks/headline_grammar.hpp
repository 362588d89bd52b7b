#pragma once
// The headline task's grammar (seed 004 §2.5): a news sentence and the headline written
// for it, both from one tree, each headline word linked to the news words it was made
// from (src/tasks/headline_grammar.cpp explains the rules).
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "linked_words.hpp"
#include "stepgrad/random.hpp"
#include "stepgrad/tasks.hpp"

namespace stepgrad::headline {

// A phrase of the news and what the headline makes of it: "called" → "calls", "for
// combating" → "against", "sunday" → "" (dropped). Defined in headline_grammar.cpp.
struct Rewrite;
struct Country;  // its name, nationality, capital and officials

enum class Side { news, headline };

// A country as the news names it: itself ("russia"), its officials ("russian officials")
// or one of them ("russian defense minister ivanov"). The headline writes the country.
struct Actor {
    enum class Form { country, officials, official };
    Form form = Form::country;
    const Country* country = nullptr;
    std::string_view title;  // an official's: "president", "defense minister"
    std::string_view name;   // an official's: "ivanov"
};

enum class Action { call, urge, announce, meet, condemn };

struct Sentence {
    Actor actor;
    Action action = Action::condemn;
    const Rewrite* day = nullptr;        // "sunday", after the verb
    bool creation = false;               // call: "for the creation of a …" rather than "for a …"
    const Rewrite* adjective = nullptr;  // call: "joint"
    const Rewrite* body = nullptr;       // call: "front"
    const Rewrite* amount = nullptr;     // announce: "ten" (million dollars in)
    Actor other;                         // urge and meet: whom; announce: for whom
    const Rewrite* scope = nullptr;      // "global", before the topic
    const Rewrite* topic = nullptr;      // "terrorism": call and meet may leave it out
    // After the main clause; the headline keeps none of it.
    const Rewrite* place = nullptr;  // "during a visit to", then a capital
    const Country* place_of = nullptr;
    std::optional<Actor> talks;  // "after talks with" someone
    bool attributed = false;     // "according to state media"
};

// The shortest and longest news sentence the grammar writes; it writes every length between.
LengthRange sentence_lengths();
// A sentence of exactly `length` news words; throws TaskError outside sentence_lengths().
Sentence random_sentence(Rng& rng, int length);
// The sentence these news words say; throws TaskError naming the first word the grammar
// does not expect.
Sentence read_news(std::span<const std::string_view> words);
LinkedWords write(const Sentence& sentence, Side side);
// Every word a side writes, in a fixed order.
std::vector<std::string> tokens(Side side);

}  // namespace stepgrad::headline
