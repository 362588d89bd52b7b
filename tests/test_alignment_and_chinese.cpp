// Gold alignments (SPEC §11) for every task, alignment accuracy (how often α falls on
// them), the en-zh and zh-en tasks of the seeds' language (SPEC §12), and Chinese typed
// without spaces (forward maximum matching).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "stepgrad/tasks.hpp"
#include "stepgrad/train.hpp"

using namespace stepgrad;

namespace {

// The task's examples with sources of min_len..max_len tokens, `held_out` of them held out.
TaskGenerator generator(const char* name, int min_len, int max_len, int held_out, std::uint64_t seed = 5) {
    TaskConfig config = default_task_config(name);
    config.min_len = min_len;
    config.max_len = max_len;
    config.seed = seed;
    return TaskGenerator(config, held_out);
}

// The example a task makes of a typed source: its target as text and the alignment.
struct Answer {
    std::string target;
    Alignment alignment;
};

Answer answer(const char* task_name, const char* text) {
    const TaskGenerator task(default_task_config(task_name), 1);
    const Example e = task_answer(task, task.src_vocab().encode(text));
    return {task.tgt_vocab().decode(e.tgt), e.alignment};
}

// Every target token has an entry, every position is a source position, and the
// target's <eos> aligns to the source's.
void check_well_formed(const Example& e) {
    REQUIRE(e.alignment.size() == e.tgt.size());
    const int m = static_cast<int>(e.src.size());
    for (const std::vector<int>& positions : e.alignment)
        for (const int i : positions) {
            REQUIRE(i >= 0);
            REQUIRE(i < m);
        }
    CHECK(e.alignment.back() == std::vector<int>{m - 1});
}

// The message of the UnknownToken encode throws.
std::string unknown_token_message(const Vocab& vocab, const char* text) {
    try {
        vocab.encode(text);
    } catch (const UnknownToken& e) {
        return e.what();
    }
    return "(no UnknownToken)";
}

bool same(const Example& a, const Example& b) {
    return a.src == b.src && a.tgt == b.tgt && a.alignment == b.alignment;
}

std::string joined(const std::vector<std::string>& tokens, std::string_view separator = " | ") {
    std::string out;
    for (const std::string& token : tokens) out += (out.empty() ? "" : std::string(separator)) + token;
    return out;
}

}  // namespace

// ---- gold alignments of the first five tasks ----

TEST_CASE("reverse aligns y_j to x_{m+1-j}, copy to x_j, and <eos> to <eos>") {
    const Answer reversed = answer("reverse", "abcd");
    CHECK(reversed.target == "dcba");
    CHECK(reversed.alignment == Alignment{{3}, {2}, {1}, {0}, {4}});
    const Answer copied = answer("copy", "abca");
    CHECK(copied.target == "abca");
    CHECK(copied.alignment == Alignment{{0}, {1}, {2}, {3}, {4}});
}

TEST_CASE("sort aligns each symbol to every position holding it") {
    const Answer sorted = answer("sort", "baca");
    CHECK(sorted.target == "aabc");
    CHECK(sorted.alignment == Alignment{{1, 3}, {1, 3}, {0}, {2}, {4}});
}

TEST_CASE("dates aligns each digit to the characters of its field, the '-' to nothing") {
    // "21/11/2026": day 0-1, month 3-4, year 6-9
    const Answer numeric = answer("dates", "21/11/2026");
    CHECK(numeric.target == "2026-11-21");
    const std::vector<int> year{6, 7, 8, 9}, month{3, 4}, day{0, 1};
    CHECK(numeric.alignment == Alignment{year, year, year, year, {}, month, month, {}, day, day, {10}});
    // "sat, 21 nov 26": a two-digit year aligns to its two characters, the month to its name
    const Answer short_year = answer("dates", "sat, 21 nov 26");
    CHECK(short_year.target == "2026-11-21");
    const std::vector<int> yy{12, 13}, nov{8, 9, 10}, d21{5, 6};
    CHECK(short_year.alignment == Alignment{yy, yy, yy, yy, {}, nov, nov, {}, d21, d21, {14}});
    // "the 1st of march 1999": one day digit for both target digits; the suffix is no field
    const Answer ordinal = answer("dates", "the 1st of march 1999");
    CHECK(ordinal.target == "1999-03-01");
    const std::vector<int> y1999{17, 18, 19, 20}, march{11, 12, 13, 14, 15};
    CHECK(ordinal.alignment == Alignment{y1999, y1999, y1999, y1999, {}, march, march, {}, {4}, {4}, {21}});
}

TEST_CASE("translate aligns each Zeli word to the English word it translates, articles to nothing") {
    // the0 big1 dog2 sees3 the4 small5 cat6 → kani gro ka mišu piti ka vidas; SPEC §11
    // lists `ka` among the function words that align to nothing
    const Answer simple = answer("translate", "the big dog sees the small cat");
    CHECK(simple.target == "kani gro ka mišu piti ka vidas");
    CHECK(simple.alignment == Alignment{{2}, {1}, {}, {6}, {5}, {}, {3}, {7}});
    // the0 boy1 thinks2 that3 a4 girl5 knows6 that7 the8 cat9 laughs10
    const Answer nested = answer("translate", "the boy thinks that a girl knows that the cat laughs");
    CHECK(nested.target == "niko ka nina na mišu ka ridas ke sabas ke pensas");
    CHECK(nested.alignment == Alignment{{1}, {}, {5}, {}, {9}, {}, {10}, {7}, {6}, {3}, {2}, {11}});
}

TEST_CASE("every task's examples carry a well-formed alignment, and the answer to a source is its example") {
    for (const std::string_view name : task_names()) {
        CAPTURE(name);
        TaskGenerator task(default_task_config(name), 10);
        for (const Example& e : task.held_out()) {
            check_well_formed(e);
            CHECK(same(task_answer(task, e.src), e));
        }
        for (int i = 0; i < 200; ++i) check_well_formed(task.next());
    }
}

TEST_CASE("make_batch ignores the alignment") {
    TaskGenerator task(default_task_config("reverse"), 0);
    std::vector<Example> examples = task.next(4);
    const Batch with = make_batch(examples);
    for (Example& e : examples) e.alignment.clear();
    const Batch without = make_batch(examples);
    CHECK(with.src == without.src);
    CHECK(with.tgt_in == without.tgt_in);
    CHECK(with.tgt_out == without.tgt_out);
}

TEST_CASE("the first 50 examples of reverse, dates and translate (seed 1) are those recorded before alignments") {
    // FNV-1a over the src ids, -1, the tgt ids, -2 of each example, from the library as it
    // was before gold alignments were added (the recorded lesson outputs depend on them).
    const std::pair<const char*, std::uint64_t> recorded[] = {
        {"reverse", 0x846a504fdfa3d3fdULL}, {"dates", 0xd650e111f6f77b89ULL}, {"translate", 0xf1367e757cb1b0a7ULL}};
    for (const auto& entry : recorded) {
        const char* name = entry.first;
        const std::uint64_t digest = entry.second;
        CAPTURE(name);
        TaskConfig config = default_task_config(name);
        config.seed = 1;
        TaskGenerator task(config, 0);
        std::uint64_t h = 1469598103934665603ULL;
        auto mix = [&](int v) {
            h ^= static_cast<std::uint32_t>(v);
            h *= 1099511628211ULL;
        };
        for (const Example& e : task.next(50)) {
            for (const int id : e.src) mix(id);
            mix(-1);
            for (const int id : e.tgt) mix(id);
            mix(-2);
        }
        CHECK(h == digest);
    }
    TaskConfig config = default_task_config("translate");
    config.seed = 1;
    TaskGenerator translate(config, 0);
    const Example first = translate.next();
    CHECK(translate.src_vocab().decode(first.src) == "a cat sees a small king beside a big garden");
    CHECK(translate.tgt_vocab().decode(first.tgt) == "mišu na hortu gro na lato rega piti na vidas");
}

// ---- alignment accuracy ----

namespace {

// Source ids of the hand-set models: tokens a and b, and f, the one they attend to.
constexpr int token_a = Vocab::first_regular, token_b = token_a + 1, token_f = token_a + 2;

// A one-unit RNN model (E = H = A = 1) with every parameter 0, to be hand set.
Seq2Seq zeroed_model(bool bidirectional) {
    ModelConfig config;
    config.cell = CellKind::rnn;
    config.src_vocab = token_f + 1;
    config.tgt_vocab = token_b + 1;
    config.embed = config.hidden = config.attn = 1;
    config.bidirectional = bidirectional;
    Seq2Seq model(config);
    for (Parameter* p : model.parameters()) std::fill(p->value.begin(), p->value.end(), 0.0);
    return model;
}

// α_j is the same at every step and peaks on the first f of the source:
//   h_i = tanh(src_embed[x_i])              (W_ih = 1, W_hh = 0)
//   e_{j,i} = v tanh(W_h h_i + W_s s_{j−1}) = tanh(h_i)   (W_h = 1, W_s = 0, v = 1)
// so f scores tanh(tanh(1)) ≈ 0.64 and every other token (and <eos>) 0.
Seq2Seq model_that_looks_at_f() {
    Seq2Seq model = zeroed_model(false);
    model.src_embed.value[token_f] = 1;
    model.encoder[0]->W_ih.value[0] = 1;
    model.parameter("attention.W").value = {1, 0};
    model.parameter("attention.v").value = {1};
    return model;
}

// Bidirectional, scoring only the backward half of the keys [→h_i; ←h_i]:
//   ←h_i = tanh(src_embed[x_i])    e_{j,i} = tanh(−←h_i)   (W = [0 −1 0], v = 1)
// f (embedding 0.1) scores −0.10, a, b and <eos> (0.5) −0.44 — and a padded position,
// where ←h stays 0, scores 0, above them all: only the mask keeps it from winning.
Seq2Seq model_whose_padding_scores_highest() {
    Seq2Seq model = zeroed_model(true);
    for (const int token : {token_a, token_b, Vocab::eos}) model.src_embed.value[static_cast<std::size_t>(token)] = 0.5;
    model.src_embed.value[token_f] = 0.1;
    model.encoder_reverse[0]->W_ih.value[0] = 1;
    model.parameter("attention.W").value = {0, -1, 0};
    model.parameter("attention.v").value = {1};
    return model;
}

// An example with this source (<eos> added) and gold alignment; its target is a's, then
// <eos>: the hand-set α does not depend on it.
Example aligned(std::vector<int> src, Alignment alignment) {
    Example e;
    e.src = std::move(src);
    e.src.push_back(Vocab::eos);
    e.tgt.assign(alignment.size() - 1, token_a);
    e.tgt.push_back(Vocab::eos);
    e.alignment = std::move(alignment);
    return e;
}

}  // namespace

TEST_CASE("alignment accuracy counts the tokens whose largest α is on a gold position, or one after it") {
    Seq2Seq model = model_that_looks_at_f();
    constexpr int a = token_a, b = token_b, f = token_f;
    // Three sources of 3, 2 and 5 tokens in one batch, so two are padded; î is where f is.
    const std::vector<Example> examples = {
        // î = 1: {1} on gold; {0} one late; {2} and the <eos> {3} neither; {0, 1} both; {} not counted
        aligned({a, f, b}, {{1}, {0}, {2}, {}, {0, 1}, {3}}),
        // î = 0: {0} on gold; {} not counted; {2} neither (nothing is late from position 0)
        aligned({f, a}, {{0}, {}, {2}}),
        // î = 4: {3} one late, {4} on gold, the <eos> {5} neither
        aligned({a, b, a, b, f}, {{3}, {4}, {5}}),
    };
    // aligned tokens 5 + 2 + 3 = 10; on gold 2 + 1 + 1 = 4; one late 2 + 0 + 1 = 3
    for (const int batch_size : {64, 2, 1}) {
        CAPTURE(batch_size);
        const AlignmentAccuracy result = alignment_accuracy(model, examples, batch_size);
        CHECK(result.examples == 3);
        CHECK(result.aligned_tokens == 10);
        CHECK(result.accuracy == doctest::Approx(0.4));
        CHECK(result.shifted_accuracy == doctest::Approx(0.3));
    }
}

TEST_CASE("alignment accuracy: padding never wins, even where it scores highest") {
    Seq2Seq model = model_whose_padding_scores_highest();
    constexpr int a = token_a, b = token_b, f = token_f;
    // î = 0 in the short example, padded to the long one's 7 positions; î = 5 in the long
    // one. Were padding to win (î = 3 in the short one), its <eos> {2} would count as one
    // late and its {0} as a miss.
    const std::vector<Example> examples = {aligned({f, a}, {{0}, {1}, {2}}),
                                           aligned({a, b, a, b, a, f}, {{4}, {5}, {6}})};
    for (const int batch_size : {64, 1}) {
        CAPTURE(batch_size);
        const AlignmentAccuracy result = alignment_accuracy(model, examples, batch_size);
        CHECK(result.aligned_tokens == 6);
        CHECK(result.accuracy == doctest::Approx(2.0 / 6));          // {0} and {5}
        CHECK(result.shifted_accuracy == doctest::Approx(1.0 / 6));  // {4}
    }
}

TEST_CASE("alignment accuracy skips tokens aligned to nothing and examples without an alignment") {
    Seq2Seq model = model_that_looks_at_f();
    // î = 1; counted as misses, the three tokens aligned to nothing would give 1/4.
    const Example function_words = aligned({token_a, token_f}, {{}, {1}, {}, {}});
    Example unknown = aligned({token_f, token_a}, {{1}, {1}});
    unknown.alignment.clear();  // the task does not know it
    const std::vector<Example> examples = {function_words, unknown};
    const AlignmentAccuracy result = alignment_accuracy(model, examples);
    CHECK(result.examples == 1);
    CHECK(result.aligned_tokens == 1);
    CHECK(result.accuracy == 1.0);
    CHECK(result.shifted_accuracy == 0.0);
    const std::vector<Example> nothing_aligned = {aligned({token_a, token_f}, {{}, {}})};
    const AlignmentAccuracy none = alignment_accuracy(model, nothing_aligned);
    CHECK(none.aligned_tokens == 0);
    CHECK(none.accuracy == 0.0);
}

TEST_CASE("alignment accuracy refuses a model without attention, a bad batch size and a ragged alignment") {
    TaskGenerator task = generator("reverse", 3, 5, 10);
    ModelConfig config;
    config.decoder = DecoderKind::plain;
    config.score = ScoreKind::none;
    config.src_vocab = task.src_vocab().size();
    config.tgt_vocab = task.tgt_vocab().size();
    Seq2Seq plain(config);
    plain.init(1);
    CHECK_THROWS_WITH_AS(alignment_accuracy(plain, task.held_out()),
                         doctest::Contains("a plain model has no attention"), std::invalid_argument);
    Seq2Seq model = model_that_looks_at_f();
    std::vector<Example> examples = {aligned({token_a, token_f}, {{1}, {2}})};
    CHECK_THROWS_WITH_AS(alignment_accuracy(model, examples, 0), doctest::Contains("at least 1"),
                         std::invalid_argument);
    examples[0].alignment.pop_back();
    CHECK_THROWS_WITH_AS(alignment_accuracy(model, examples),
                         doctest::Contains("an alignment has 1 entries for a target of 2 tokens"),
                         std::invalid_argument);
}

TEST_CASE("alignment accuracy of random models does not depend on the batch size") {
    // A row or stride mix-up between examples of different lengths would change the counts.
    TaskGenerator task = generator("translate", 3, 9, 24);
    for (const DecoderKind decoder : {DecoderKind::bahdanau, DecoderKind::luong}) {
        CAPTURE(decoder_kind_name(decoder));
        ModelConfig config;
        config.decoder = decoder;
        config.score = decoder == DecoderKind::luong ? ScoreKind::general : ScoreKind::concat;
        config.bidirectional = decoder == DecoderKind::luong;
        config.src_vocab = task.src_vocab().size();
        config.tgt_vocab = task.tgt_vocab().size();
        Seq2Seq model(config);
        model.init(3);
        const AlignmentAccuracy whole = alignment_accuracy(model, task.held_out());
        const AlignmentAccuracy one_by_one = alignment_accuracy(model, task.held_out(), 1);
        long expected_tokens = 0;
        for (const Example& e : task.held_out())
            for (const std::vector<int>& positions : e.alignment) expected_tokens += !positions.empty();
        CHECK(whole.examples == 24);
        CHECK(whole.aligned_tokens == expected_tokens);
        CHECK(one_by_one.aligned_tokens == expected_tokens);
        CHECK(whole.accuracy == one_by_one.accuracy);
        CHECK(whole.shifted_accuracy == one_by_one.shifted_accuracy);
    }
}

// ---- en-zh and zh-en ----

TEST_CASE("the seeds' sentences, in both directions, with their alignments") {
    const Answer love = answer("en-zh", "I love China");  // seed 001
    CHECK(love.target == "我 爱 中国");
    CHECK(love.alignment == Alignment{{0}, {1}, {2}, {3}});
    const Answer chase = answer("en-zh", "Tom chases Jerry");  // seed 004
    CHECK(chase.target == "汤姆 追逐 杰瑞");
    CHECK(chase.alignment == Alignment{{0}, {1}, {2}, {3}});
    const Answer back_love = answer("zh-en", "我 爱 中国");
    CHECK(back_love.target == "I love China");
    CHECK(back_love.alignment == Alignment{{0}, {1}, {2}, {3}});
    CHECK(answer("zh-en", "我爱中国").target == "I love China");  // typed without spaces
    const Answer back_chase = answer("zh-en", "汤姆追逐杰瑞");
    CHECK(back_chase.target == "Tom chases Jerry");
    CHECK(back_chase.alignment == Alignment{{0}, {1}, {2}, {3}});
}

TEST_CASE("time and place come before the verb in Chinese, after it in English") {
    // Tom0 saw1 Jerry2 in3 the4 garden5 yesterday6
    const Answer forward = answer("en-zh", "Tom saw Jerry in the garden yesterday");
    CHECK(forward.target == "汤姆 昨天 在 花园 里 看见 了 杰瑞");
    CHECK(forward.alignment == Alignment{{0}, {6}, {3}, {5}, {}, {1}, {}, {2}, {7}});
    // 汤姆0 昨天1 在2 花园3 里4 看见5 了6 杰瑞7
    const Answer back = answer("zh-en", "汤姆 昨天 在 花园 里 看见 了 杰瑞");
    CHECK(back.target == "Tom saw Jerry in the garden yesterday");
    CHECK(back.alignment == Alignment{{0}, {5}, {7}, {2}, {}, {3}, {1}, {8}});
    CHECK(answer("en-zh", "we play in the park today").target == "我们 今天 在 公园 里 玩");
}

TEST_CASE("a relative clause comes before its noun with 的") {
    // Jerry0 chases1 the2 cat3 that4 Tom5 likes6
    const Answer relative = answer("en-zh", "Jerry chases the cat that Tom likes");
    CHECK(relative.target == "杰瑞 追逐 汤姆 喜欢 的 猫");
    CHECK(relative.alignment == Alignment{{0}, {1}, {5}, {6}, {}, {3}, {7}});
    // 杰瑞0 追逐1 汤姆2 喜欢3 的4 猫5: "the" and "that" align to nothing
    const Answer back = answer("zh-en", "杰瑞追逐汤姆喜欢的猫");
    CHECK(back.target == "Jerry chases the cat that Tom likes");
    CHECK(back.alignment == Alignment{{0}, {1}, {}, {5}, {}, {2}, {3}, {6}});
    CHECK(answer("en-zh", "I like the big dog that the small cat chases").target == "我 喜欢 小 猫 追逐 的 大 狗");
}

TEST_CASE("a counted noun takes its measure word, which aligns to nothing") {
    // Tom0 sees1 a2 cat3
    const Answer one = answer("en-zh", "Tom sees a cat");
    CHECK(one.target == "汤姆 看见 一 只 猫");
    CHECK(one.alignment == Alignment{{0}, {1}, {2}, {}, {3}, {4}});
    const Answer two = answer("en-zh", "Mary buys two books");
    CHECK(two.target == "玛丽 买 两 本 书");
    CHECK(two.alignment == Alignment{{0}, {1}, {2}, {}, {3}, {4}});
    CHECK(answer("zh-en", "杰克 找到 了 三 匹 白 马").target == "Jack found three white horses");
    CHECK_THROWS_WITH_AS(answer("zh-en", "玛丽 买 两 只 书"), doctest::Contains("expected \"本\" at word 4, got \"只\""),
                         TaskError);
}

TEST_CASE("the past takes 了, and the negation is 不 in the present and 没 (without 了) in the past") {
    const Answer slept = answer("en-zh", "the cat slept");  // the0 cat1 slept2
    CHECK(slept.target == "猫 睡觉 了");
    CHECK(slept.alignment == Alignment{{1}, {2}, {}, {3}});
    // Tom0 does1 not2 like3 Jerry4: 不 aligns to "does not"
    const Answer present = answer("en-zh", "Tom does not like Jerry");
    CHECK(present.target == "汤姆 不 喜欢 杰瑞");
    CHECK(present.alignment == Alignment{{0}, {1, 2}, {3}, {4}, {5}});
    // Tom0 did1 not2 see3 Jerry4 yesterday5
    const Answer past = answer("en-zh", "Tom did not see Jerry yesterday");
    CHECK(past.target == "汤姆 昨天 没 看见 杰瑞");
    CHECK(past.alignment == Alignment{{0}, {5}, {1, 2}, {3}, {4}, {6}});
    const Answer back = answer("zh-en", "我们 没 在 花园 里 唱歌");
    CHECK(back.target == "we did not sing in the garden");
    CHECK(back.alignment == Alignment{{0}, {1}, {1}, {5}, {2}, {}, {3}, {6}});
    CHECK_THROWS_WITH_AS(answer("zh-en", "汤姆 没 看见 了 杰瑞"), doctest::Contains("no 了 after 不 or 没"), TaskError);
}

TEST_CASE("a yes-no question ends with 吗 where English starts with does or did") {
    // does0 Tom1 like2 Jerry3
    const Answer present = answer("en-zh", "does Tom like Jerry");
    CHECK(present.target == "汤姆 喜欢 杰瑞 吗");
    CHECK(present.alignment == Alignment{{1}, {2}, {3}, {0}, {4}});
    CHECK(answer("en-zh", "Did Tom see Jerry").target == "汤姆 看见 了 杰瑞 吗");
    CHECK(answer("zh-en", "你爱中国吗").target == "do you love China");
    CHECK_THROWS_WITH_AS(answer("en-zh", "do Tom like Jerry"), doctest::Contains("expected \"does\" at word 1"),
                         TaskError);
}

TEST_CASE("\"Tom says that\" heads make sentences of any length") {
    const Answer head = answer("en-zh", "Tom says that I know that Jerry likes China");
    CHECK(head.target == "汤姆 说 我 知道 杰瑞 喜欢 中国");
    // Tom0 says1 that2 I3 know4 that5 Jerry6 likes7 China8
    CHECK(head.alignment == Alignment{{0}, {1}, {3}, {4}, {6}, {7}, {8}, {9}});
    // 汤姆0 说1 我2 知道3 杰瑞4 喜欢5 中国6: "that" aligns to nothing
    const Answer back = answer("zh-en", "汤姆说我知道杰瑞喜欢中国");
    CHECK(back.target == "Tom says that I know that Jerry likes China");
    CHECK(back.alignment == Alignment{{0}, {1}, {}, {2}, {3}, {}, {4}, {5}, {6}, {7}});
    CHECK_THROWS_AS(answer("en-zh", "Tom say that Jerry likes China"), TaskError);  // agreement
    CHECK_THROWS_AS(answer("en-zh", "Tom says that does Jerry like China"), TaskError);
}

TEST_CASE("English the grammar does not write is refused, naming the word") {
    CHECK_THROWS_WITH_AS(answer("en-zh", "Tom like Jerry"), doctest::Contains("expected \"likes\" at word 2, got \"like\""),
                         TaskError);
    CHECK_THROWS_WITH_AS(answer("en-zh", "Tom chases"), doctest::Contains("expected an object"), TaskError);
    CHECK_THROWS_WITH_AS(answer("en-zh", "Tom sleeps Jerry"), doctest::Contains("the end of the sentence"), TaskError);
    CHECK_THROWS_AS(answer("zh-en", "中国 爱 我"), TaskError);
}

TEST_CASE("en-zh and zh-en examples: lengths, vocabularies and round trips") {
    for (const char* name : {"en-zh", "zh-en"}) {
        CAPTURE(name);
        CHECK(task_length_range(name).min_len == 2);
        CHECK(task_length_range(name).max_len == task_max_len);
        TaskGenerator task(default_task_config(name), 50);
        for (int i = 0; i < 300; ++i) {
            const Example e = task.next();
            check_well_formed(e);
            CHECK(same(task_answer(task, e.src), e));
            // a Chinese sentence typed without spaces segments back into its words
            const Vocab& chinese = std::string(name) == "en-zh" ? task.tgt_vocab() : task.src_vocab();
            const std::string words = chinese.decode(std::string(name) == "en-zh" ? e.tgt : e.src);
            std::string unspaced;
            for (const char c : words)
                if (c != ' ') unspaced += c;
            REQUIRE(joined(chinese.segment(unspaced), " ") == words);
        }
    }
}

TEST_CASE("zh-en reads en-zh's targets back to their sources, and the other way") {
    TaskGenerator en_zh = generator("en-zh", 2, 20, 0), zh_en = generator("zh-en", 2, 20, 0);
    REQUIRE(en_zh.tgt_vocab().tokens == zh_en.src_vocab().tokens);
    REQUIRE(en_zh.src_vocab().tokens == zh_en.tgt_vocab().tokens);
    for (int i = 0; i < 500; ++i) {
        const Example forward = en_zh.next(), backward = zh_en.next();
        REQUIRE(task_target(zh_en, forward.tgt) == forward.src);
        REQUIRE(task_target(en_zh, backward.tgt) == backward.src);
    }
}

TEST_CASE("en-zh and zh-en reach every length exactly") {
    for (const char* name : {"en-zh", "zh-en"}) {
        for (int length = 2; length <= 40; ++length) {
            CAPTURE(name);
            CAPTURE(length);
            TaskGenerator task = generator(name, length, length, 0);
            for (int i = 0; i < 20; ++i) REQUIRE(task.next().src.size() == static_cast<std::size_t>(length + 1));
        }
        TaskGenerator long_task = generator(name, 1000, 1000, 1);
        const Example e = long_task.next();
        CHECK(e.src.size() == 1001);
        CHECK(same(task_answer(long_task, e.src), e));
    }
}

TEST_CASE("en-zh and zh-en: held-out sources never appear in training, same seed same examples") {
    for (const char* name : {"en-zh", "zh-en"}) {
        CAPTURE(name);
        TaskGenerator gen = generator(name, 2, 4, 300);
        std::set<std::vector<int>> held;
        for (const Example& e : gen.held_out()) CHECK(held.insert(e.src).second);
        for (int i = 0; i < 3000; ++i) REQUIRE(held.count(gen.next().src) == 0);

        TaskGenerator a = generator(name, 3, 8, 20, 7), b = generator(name, 3, 8, 20, 7), c = generator(name, 3, 8, 20, 8);
        bool differs = false;
        for (int i = 0; i < 50; ++i) {
            const Example x = a.next(), y = b.next(), z = c.next();
            REQUIRE(same(x, y));
            differs = differs || !same(x, z);
        }
        CHECK(differs);
    }
}

// ---- typing Chinese: forward maximum matching ----

TEST_CASE("Chinese without spaces is segmented by the longest token at each position") {
    const Vocab chinese = make_src_vocab(default_task_config("zh-en"));
    CHECK(joined(chinese.segment("我爱中国")) == "我 | 爱 | 中国");
    // 我们 before 我; 花园 (garden) before 花 (flower)
    CHECK(joined(chinese.segment("我们爱中国")) == "我们 | 爱 | 中国");
    CHECK(joined(chinese.segment("汤姆在花园里看见了花")) == "汤姆 | 在 | 花园 | 里 | 看见 | 了 | 花");
    // spaces, ideographic spaces and runs without them mix
    CHECK(joined(chinese.segment(" 汤姆 追逐杰瑞\u3000吗 ")) == "汤姆 | 追逐 | 杰瑞 | 吗");
    CHECK(chinese.encode("我爱中国") == chinese.encode("我 爱 中国"));
    // each chunk between spaces is segmented, in any script the vocabulary has
    const Vocab mixed("mixed", Vocab::Level::word, {"I", "爱", "China", "中国"});
    CHECK(joined(mixed.segment("I 爱 China")) == "I | 爱 | China");
    CHECK(joined(mixed.segment("I爱China 爱中国")) == "I | 爱 | China | 爱 | 中国");
}

TEST_CASE("typing Chinese: unknown characters, punctuation and empty input") {
    const Vocab chinese = make_src_vocab(default_task_config("zh-en"));
    try {
        chinese.encode("我爱美国");
        FAIL("美 is not a token");
    } catch (const UnknownToken& e) {
        CHECK(e.token() == "美");
        CHECK(std::string(e.what()).starts_with("unknown token \"美\" for the zh-en source (Chinese) vocabulary; allowed: "));
    }
    // The vocabularies have no punctuation, full-width or not: the message says to leave it out.
    const std::string question_mark = unknown_token_message(chinese, "你爱中国吗？");
    CHECK(question_mark.starts_with("unknown token \"？\""));
    CHECK(question_mark.ends_with("; the vocabulary has no punctuation: leave it out"));
    const Vocab english = make_src_vocab(default_task_config("en-zh"));
    const std::string attached = unknown_token_message(english, "does Tom like Jerry?");
    CHECK(attached.starts_with("unknown token \"Jerry?\""));
    CHECK(attached.ends_with("leave it out"));
    CHECK(!unknown_token_message(english, "the wolf runs").ends_with("leave it out"));
    CHECK(!unknown_token_message(make_src_vocab(default_task_config("dates")), "21 Nov 2026!").ends_with("leave it out"));
    CHECK_THROWS_WITH_AS(chinese.encode("   "), doctest::Contains("empty input"), TaskError);
    CHECK_THROWS_WITH_AS(chinese.encode("\u3000"), doctest::Contains("empty input"), TaskError);
    // English keeps its capitals for names, and a sentence's first word may have one
    CHECK(english.decode(english.encode("I love China")) == "I love China");
    CHECK(english.decode(english.encode("The cat sleeps")) == "the cat sleeps");
}

TEST_CASE("typing Chinese: traditional characters, the other language's words and bytes that are not UTF-8") {
    const Vocab chinese = make_src_vocab(default_task_config("zh-en"));
    const Vocab english = make_src_vocab(default_task_config("en-zh"));
    // the vocabulary is simplified Chinese: 愛 is not 爱
    CHECK(unknown_token_message(chinese, "我愛中國").starts_with("unknown token \"愛\" for the zh-en source (Chinese)"));
    CHECK(unknown_token_message(chinese, "我爱China").starts_with("unknown token \"China\""));
    CHECK(unknown_token_message(english, "我爱China").starts_with("unknown token \"我\" for the en-zh source (English)"));
    CHECK(unknown_token_message(chinese, "我爱China").find("--list-vocab lists them all") != std::string::npos);
    // stray bytes are named as escapes, and the message says what they are
    const std::string stray = unknown_token_message(chinese, "\xff\xfe");
    CHECK(stray.starts_with("unknown token \"\\xff\\xfe\""));
    CHECK(stray.ends_with("; it is not valid UTF-8 (each \\x.. is a stray byte): type the text in UTF-8"));
    CHECK(unknown_token_message(english, "I \xff").starts_with("unknown token \"\\xff\""));
    CHECK(unknown_token_message(chinese, "我\xe7\x88").ends_with("type the text in UTF-8"));  // 爱 cut short
    CHECK(!unknown_token_message(chinese, "我愛").ends_with("type the text in UTF-8"));
}
