#include "stepgrad/support/text.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstdint>

namespace stepgrad {

namespace {

unsigned byte_at(std::string_view text, std::size_t i) { return static_cast<unsigned char>(text[i]); }

// The length of the well-formed character at text[i], or 0. The second byte's range
// depends on the lead (RFC 3629 table 3-7): E0 A0..BF excludes overlongs, ED 80..9F
// excludes the surrogates D800..DFFF, F0 90..BF overlongs, F4 80..8F > U+10FFFF.
std::size_t char_length(std::string_view text, std::size_t i) {
    const unsigned lead = byte_at(text, i);
    if (lead < 0x80) return 1;
    std::size_t length = 0;
    unsigned low = 0x80, high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) length = 2;
    else if (lead >= 0xE0 && lead <= 0xEF) length = 3;
    else if (lead >= 0xF0 && lead <= 0xF4) length = 4;
    else return 0;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
    if (i + length > text.size()) return 0;
    if (byte_at(text, i + 1) < low || byte_at(text, i + 1) > high) return 0;
    for (std::size_t k = 2; k < length; ++k)
        if ((byte_at(text, i + k) & 0xC0) != 0x80) return 0;
    return length;
}

std::uint32_t code_point(std::string_view ch) {
    if (ch.size() == 1) return byte_at(ch, 0);
    std::uint32_t cp = byte_at(ch, 0) & (0xFFu >> (ch.size() + 1));
    for (std::size_t k = 1; k < ch.size(); ++k) cp = (cp << 6) | (byte_at(ch, k) & 0x3F);
    return cp;
}

// Characters that print as nothing, or rearrange what follows: C1 controls, no-break and
// soft hyphen, zero-width ones, line/paragraph separators, bidirectional controls,
// invisible operators, the byte-order mark.
bool invisible(std::uint32_t cp) {
    return (cp >= 0x80 && cp <= 0xA0) || cp == 0xAD || (cp >= 0x200B && cp <= 0x200F) ||
           (cp >= 0x2028 && cp <= 0x202F) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xFEFF;
}

}  // namespace

std::vector<std::string_view> utf8_chars(std::string_view text) {
    std::vector<std::string_view> chars;
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t length = std::max<std::size_t>(char_length(text, i), 1);
        chars.push_back(text.substr(i, length));
        i += length;
    }
    return chars;
}

bool is_valid_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t length = char_length(text, i);
        if (length == 0) return false;
        i += length;
    }
    return true;
}

std::string escaped(std::string_view text) {
    std::string out;
    for (const std::string_view ch : utf8_chars(text)) {
        const unsigned c = byte_at(ch, 0);
        const bool stray = ch.size() == 1 && c >= 0x80;
        if (stray || c < 0x20 || c == 0x7F) {
            out += fmt::format("\\x{:02x}", c);
        } else if (ch.size() > 1 && invisible(code_point(ch))) {
            out += fmt::format("\\u{{{:04x}}}", code_point(ch));
        } else {
            out += ch;
        }
    }
    return out;
}

std::string quoted(std::string_view token) {
    std::string out = "\"";
    for (const std::string_view ch : utf8_chars(token)) {
        if (ch == "\"" || ch == "\\") out += '\\';
        out += escaped(ch);
    }
    return out + "\"";
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::vector<std::string_view> split_words(std::string_view text) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_space(text[i])) ++i;
        const std::size_t start = i;
        while (i < text.size() && !is_space(text[i])) ++i;
        if (i > start) words.push_back(text.substr(start, i - start));
    }
    return words;
}

}  // namespace stepgrad
