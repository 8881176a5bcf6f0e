#pragma once
// JSON as users write it, read strictly: a key given twice in one object, or a number that does
// not fit a double (1e999), is an error naming the file and the key, where nlohmann::json would
// silently keep the last value or report an internal error.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace attnlab {

// Parses `text`; InputError "<where>: ..." naming the key (dotted path) and byte offset of the
// first duplicate key, overflowing number or syntax error.
nlohmann::json parse_json_strict(std::string_view text, const std::string& where);

}  // namespace attnlab
