// en-zh: English → Chinese, from the grammar in chinese_grammar.cpp ("Tom chases Jerry" →
// "汤姆 追逐 杰瑞"): time and place move before the verb, modifiers before the noun.
#include "chinese_grammar.hpp"

namespace stepgrad {

const Task& en_zh_task() {
    static const chinese::TranslationTask task(
        chinese::Language::english, "en-zh",
        "English → Chinese, the seeds' language (\"Tom saw Jerry in the garden yesterday\" → \"汤姆 昨天 在 花园 里 "
        "看见 了 杰瑞\"), word by word");
    return task;
}

}  // namespace stepgrad
