#pragma once
// Text: UTF-8 characters, words, and user text made safe to show in a message.
#include <string>
#include <string_view>
#include <vector>

namespace stepgrad {

// Splits text into UTF-8 characters, strictly (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF). A byte that does not start a well-formed
// character becomes a token of its own, which no vocabulary knows, so the caller
// reports it instead of misreading the rest.
std::vector<std::string_view> utf8_chars(std::string_view text);
bool is_valid_utf8(std::string_view text);

// User text as a message may show it: control characters, stray bytes and invisible
// characters (zero-width and bidirectional marks, no-break space, …) written as escapes
// (\n, \x1b, \u{200b}), so a message stays one line, cannot move the cursor or reorder
// the text around it, and is itself valid UTF-8.
std::string escaped(std::string_view text);
// The same, in double quotes (with \" and \\ escaped): how a token is named in errors.
std::string quoted(std::string_view token);

bool is_space(char c);
std::string ascii_lower(std::string_view s);
std::vector<std::string_view> split_words(std::string_view text);  // on whitespace

}  // namespace stepgrad
