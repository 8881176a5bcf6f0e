#include "core/strict_json.h"

#include <cstdio>
#include <set>
#include <vector>

#include "core/error.h"

namespace attnlab {
namespace {

struct Frame {
  bool object = false;
  std::set<std::string> keys;
  std::string key;  // the key whose value is being read (objects)
};

// A key as a one-line message can show it: control characters as JSON escapes ("\u000a").
std::string printable(const std::string& key) {
  std::string out;
  for (const char c : key) {
    if (static_cast<unsigned char>(c) >= 0x20) {
      out += c;
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    }
  }
  return out;
}

std::string path_of(const std::vector<Frame>& stack) {
  std::string path;
  for (const auto& f : stack) {
    if (!f.object || f.key.empty()) continue;
    if (!path.empty()) path += '.';
    path += printable(f.key);
  }
  return path;
}

}  // namespace

nlohmann::json parse_json_strict(std::string_view text, const std::string& where) {
  using Event = nlohmann::json::parse_event_t;
  std::vector<Frame> stack;
  std::string duplicate;
  auto callback = [&](int /*depth*/, Event event, nlohmann::json& parsed) {
    switch (event) {
      case Event::object_start:
        stack.push_back({true, {}, {}});
        break;
      case Event::array_start:
        stack.push_back({false, {}, {}});
        break;
      case Event::object_end:
      case Event::array_end:
        if (!stack.empty()) stack.pop_back();
        break;
      case Event::key: {
        Frame& f = stack.back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second) {
          duplicate = path_of(stack);
          throw InputError(where + ": key '" + duplicate +
                           "' appears twice in one object; give each key once");
        }
        break;
      }
      case Event::value:
        break;
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), callback);
  } catch (const nlohmann::json::out_of_range& e) {  // 406: a number beyond a double
    const std::string key = path_of(stack);
    throw InputError(where + ": " + (key.empty() ? std::string("a value") : "key '" + key + "'") +
                     " holds a number too large for a double (allowed: finite numbers)");
  } catch (const nlohmann::json::parse_error& e) {
    const std::string key = path_of(stack);
    throw InputError(where + ": invalid JSON at byte " + std::to_string(e.byte) +
                     (key.empty() ? std::string() : " (in key '" + key + "')"));
  }
}

}  // namespace attnlab
