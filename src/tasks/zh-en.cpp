// zh-en: Chinese → English, the en-zh pairs read the other way ("我 爱 中国" → "I love China").
// Chinese typed without spaces is split by Vocab::segment ("我爱中国" → 我 | 爱 | 中国).
#include "chinese_grammar.hpp"

namespace stepgrad {

const Task& zh_en_task() {
    static const chinese::TranslationTask task(
        chinese::Language::chinese, "zh-en",
        "Chinese → English, the en-zh pairs reversed (\"我 爱 中国\" or \"我爱中国\" → \"I love China\"), word by word");
    return task;
}

}  // namespace stepgrad
