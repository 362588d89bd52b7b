// Vocabularies, examples and padded batches (data.hpp): the special ids, encode and
// decode at character and word level, and make_batch's layout for teacher forcing.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

#include "stepgrad/data.hpp"
#include "stepgrad/random.hpp"

using namespace stepgrad;

namespace {

// ids 3 4 5 6 7
const Vocab letters("letters", Vocab::Level::character, {"a", "b", "c", "d", "é"});
const Vocab letters_and_space("letters", Vocab::Level::character, {"a", "b", " "});
// ids 3 4 5 6
const Vocab words("words", Vocab::Level::word, {"the", "dog", "runs", "Rex"});

}  // namespace

TEST_CASE("the specials come first: <pad> 0, <bos> 1, <eos> 2, then the regular tokens from id 3") {
    CHECK(Vocab::pad == 0);
    CHECK(Vocab::bos == 1);
    CHECK(Vocab::eos == 2);
    CHECK(Vocab::first_regular == 3);
    CHECK(letters.size() == 3 + 5);
    CHECK(letters.token(0) == "<pad>");
    CHECK(letters.token(1) == "<bos>");
    CHECK(letters.token(2) == "<eos>");
    CHECK(letters.token(Vocab::first_regular) == "a");
    CHECK(letters.id("é") == 7);
    for (int i = 0; i < letters.size(); ++i) CHECK(letters.id(letters.token(i)) == i);
    CHECK(letters.contains("c"));
    CHECK_FALSE(letters.contains("z"));
}

TEST_CASE("a vocabulary refuses a repeated token, a special among the regular ones, an id out of range") {
    CHECK_THROWS_WITH_AS(Vocab("twice", Vocab::Level::character, {"a", "b", "a"}),
                         "twice vocabulary: token \"a\" appears twice", TaskError);
    CHECK_THROWS_WITH_AS(Vocab("special", Vocab::Level::word, {"<eos>"}),
                         "special vocabulary: token \"<eos>\" appears twice", TaskError);
    CHECK_THROWS_WITH_AS(letters.token(8), "id 8 is outside the letters vocabulary (0..7)", TaskError);
    CHECK_THROWS_AS(letters.token(-1), TaskError);
}

TEST_CASE("encode at character level: one id per UTF-8 character, whitespace ignored, then <eos>") {
    CHECK(letters.encode("abc") == std::vector<int>{3, 4, 5, Vocab::eos});
    CHECK(letters.encode(" a b\t\nc ") == std::vector<int>{3, 4, 5, Vocab::eos});  // no space token
    CHECK(letters.encode("dé") == std::vector<int>{6, 7, Vocab::eos});              // é is 2 bytes, one token
}

TEST_CASE("encode with a space token: runs of whitespace become one space, the ends are trimmed") {
    const int a = 3, b = 4, space = 5;
    CHECK(letters_and_space.encode("  ab \t  ba  ") == std::vector<int>{a, b, space, b, a, Vocab::eos});
    CHECK(letters_and_space.decode(letters_and_space.encode(" a   b ")) == "a b");
}

TEST_CASE("encode at word level: words split on whitespace, an unknown word retried in lower case") {
    CHECK(words.encode("the dog  runs") == std::vector<int>{3, 4, 5, Vocab::eos});
    CHECK(words.encode("The DOG runs") == std::vector<int>{3, 4, 5, Vocab::eos});
    CHECK(words.encode("Rex runs") == std::vector<int>{6, 5, Vocab::eos});  // known as written: kept
    CHECK_THROWS_AS(words.encode("rex runs"), UnknownToken);                // no lower-case "rex"
}

TEST_CASE("encode refuses unknown tokens (naming them and what is allowed), specials and empty input") {
    try {
        letters.encode("abz");
        FAIL("z is not a letters token");
    } catch (const UnknownToken& e) {
        CHECK(e.token() == "z");
        CHECK(std::string(e.what()) ==
              "unknown token \"z\" for the letters vocabulary; allowed: \"a\" \"b\" \"c\" \"d\" \"é\"");
    }
    CHECK_THROWS_WITH_AS(words.encode("the <eos>"),
                         "\"<eos>\" is a special token and cannot appear in the input", UnknownToken);
    CHECK_THROWS_WITH_AS(letters.encode(" \t "), "empty input: the letters vocabulary needs at least one token",
                         TaskError);
    CHECK_THROWS_AS(letters.encode(""), TaskError);
    CHECK_THROWS_WITH_AS(letters.encode("a\xff"), doctest::Contains("unknown token \"\\xff\""), UnknownToken);
}

TEST_CASE("a word vocabulary's error lists the first 40 words, counts the rest and names --list-vocab") {
    std::vector<std::string> many;
    for (int i = 0; i < 45; ++i) many.push_back(fmt::format("w{}", i));
    const Vocab big("big", Vocab::Level::word, many);
    CHECK_THROWS_WITH_AS(big.encode("w0 nope"),
                         doctest::Contains("\"w38\" \"w39\" … (5 more); --list-vocab lists them all"), UnknownToken);
    try {
        (void)big.encode("nope");
        FAIL("no UnknownToken");
    } catch (const UnknownToken& e) {
        CHECK(std::string_view(e.what()).ends_with("; --list-vocab lists them all"));
    }
}

TEST_CASE("an error that lists every token does not point to --list-vocab") {
    try {
        (void)letters.encode("z");
        FAIL("no UnknownToken");
    } catch (const UnknownToken& e) {
        CHECK(std::string_view(e.what()).find("--list-vocab") == std::string_view::npos);
    }
}

TEST_CASE("encode_tokens takes the tokens exactly as given, then <eos>") {
    const std::vector<std::string_view> tokens{"runs", "the", "Rex"};
    CHECK(words.encode_tokens(tokens) == std::vector<int>{5, 3, 6, Vocab::eos});
    const std::vector<std::string_view> capitalised{"The"};  // no lower-case retry here
    CHECK_THROWS_WITH_AS(words.encode_tokens(capitalised), doctest::Contains("unknown token \"The\""), UnknownToken);
}

TEST_CASE("decode stops at <eos> and skips <pad> and <bos>") {
    const std::vector<int> ids{Vocab::bos, 3, 4, Vocab::pad, 5, Vocab::eos, 6, 7};
    CHECK(letters.decode(ids) == "abc");
    CHECK(words.decode(std::vector<int>{Vocab::bos, 3, 4, Vocab::pad, 5, Vocab::eos, 6}) == "the dog runs");
    CHECK(letters.decode(std::vector<int>{Vocab::eos, 3}).empty());
    CHECK_THROWS_AS(letters.decode(std::vector<int>{99}), TaskError);
}

TEST_CASE("encode then decode gives the text back, tidied") {
    CHECK(letters.decode(letters.encode("a b é")) == "abé");
    CHECK(words.decode(words.encode("  The dog\truns ")) == "the dog runs");
}

TEST_CASE("make_batch pads and shifts for teacher forcing") {
    const std::vector<Example> examples{
        {{3, 4, 5, 2}, {5, 4, 3, 2}},
        {{6, 2}, {6, 2}},
    };
    const Batch b = make_batch(examples);
    CHECK(b.size == 2);
    CHECK(b.src_len == 4);
    CHECK(b.tgt_len == 4);
    CHECK(b.src == std::vector<int>{3, 4, 5, 2, 6, 2, 0, 0});
    CHECK(b.tgt_in == std::vector<int>{1, 5, 4, 3, 1, 6, 0, 0});
    CHECK(b.tgt_out == std::vector<int>{5, 4, 3, 2, 6, 2, 0, 0});
    CHECK(b.src_lengths == std::vector<int>{4, 2});
    CHECK(b.tgt_lengths == std::vector<int>{4, 2});
}

TEST_CASE("make_batch refuses no examples, and an empty source or target") {
    CHECK_THROWS_WITH_AS(make_batch(std::vector<Example>{}), "make_batch needs at least one example", TaskError);
    CHECK_THROWS_WITH_AS(make_batch(std::vector<Example>{{{3, 2}, {}}}),
                         "make_batch: an example has an empty source or target", TaskError);
    CHECK_THROWS_AS(make_batch(std::vector<Example>{{{3, 2}, {3, 2}}, {{}, {2}}}), TaskError);
}

TEST_CASE("make_batch on random ragged examples: rows hold the examples, then padding") {
    Rng rng(7);
    std::vector<Example> examples(16);
    for (Example& e : examples) {
        for (int i = rng.between(0, 9); i > 0; --i) e.src.push_back(rng.between(Vocab::first_regular, 20));
        for (int j = rng.between(0, 9); j > 0; --j) e.tgt.push_back(rng.between(Vocab::first_regular, 20));
        e.src.push_back(Vocab::eos);
        e.tgt.push_back(Vocab::eos);
    }
    const Batch b = make_batch(examples);
    for (int r = 0; r < b.size; ++r) {
        const Example& e = examples[static_cast<std::size_t>(r)];
        CAPTURE(r);
        const int m = static_cast<int>(e.src.size()), n = static_cast<int>(e.tgt.size());
        REQUIRE(b.src_lengths[static_cast<std::size_t>(r)] == m);
        REQUIRE(b.tgt_lengths[static_cast<std::size_t>(r)] == n);
        for (int i = 0; i < b.src_len; ++i)
            REQUIRE(b.src[static_cast<std::size_t>(r * b.src_len + i)] == (i < m ? e.src[static_cast<std::size_t>(i)] : Vocab::pad));
        for (int j = 0; j < b.tgt_len; ++j) {
            REQUIRE(b.tgt_out[static_cast<std::size_t>(r * b.tgt_len + j)] == (j < n ? e.tgt[static_cast<std::size_t>(j)] : Vocab::pad));
            const int in = j == 0 ? Vocab::bos : (j < n ? e.tgt[static_cast<std::size_t>(j - 1)] : Vocab::pad);
            REQUIRE(b.tgt_in[static_cast<std::size_t>(r * b.tgt_len + j)] == in);
        }
    }
}
