// Fuzzes attnlab::parse_json_strict (core/strict_json.h) against plain nlohmann::json and an
// independent SAX re-implementation of its two extra rules:
//  - it throws InputError and nothing else; each message starts with the file name, is one line
//    and is exactly the documented one for a duplicate key or a number beyond a double (dotted
//    key path included), or names nlohmann's byte offset for a syntax error;
//  - what it accepts, nlohmann accepts with the same value, and the value survives dump + parse;
//  - what nlohmann accepts and it rejects has a duplicate key.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/strict_json.h"
#include "fuzz/fuzz_check.h"

namespace {

using attnlab::fuzz::expect;
using attnlab::fuzz::finding;
using nlohmann::json;

constexpr const char* kWhere = "fuzz/input.json";

// What the strict rules say about a text, computed without core/strict_json.cpp.
struct Reference {
  enum class Result { Ok, Duplicate, Range, Syntax } result = Result::Ok;
  std::string path;    // dotted keys of the enclosing objects (Duplicate, Range)
  std::size_t byte{};  // Syntax: nlohmann's byte offset
};

class ReferenceSax : public nlohmann::json_sax<json> {
 public:
  explicit ReferenceSax(Reference& out) : out_(out) {}
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    frames_.push_back({true, {}, {}});
    return true;
  }
  bool end_object() override {
    frames_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    frames_.push_back({false, {}, {}});
    return true;
  }
  bool end_array() override {
    frames_.pop_back();
    return true;
  }
  bool key(string_t& k) override {
    frames_.back().key = k;
    if (frames_.back().keys.insert(k).second) return true;
    out_.result = Reference::Result::Duplicate;
    out_.path = path();
    return false;
  }
  bool parse_error(std::size_t byte, const std::string&,
                   const nlohmann::detail::exception& e) override {
    if (e.id == 406) {  // number beyond a double
      out_.result = Reference::Result::Range;
      out_.path = path();
    } else {
      out_.result = Reference::Result::Syntax;
      out_.byte = byte;
    }
    return false;
  }

 private:
  struct Frame {
    bool object;
    std::set<std::string> keys;
    std::string key;
  };
  std::string path() const {
    std::string p;
    for (const auto& f : frames_)
      if (f.object && !f.key.empty()) p += (p.empty() ? "" : ".") + f.key;
    return p;
  }
  Reference& out_;
  std::vector<Frame> frames_;
};

// Control characters as \u escapes, so that a key path fits on one line ("a<LF>b" -> "a\u000ab").
std::string printable(const std::string& s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20)
      out += c;
    else
      out += {'\\', 'u', '0', '0', kHex[u >> 4], kHex[u & 15]};
  }
  return out;
}

void check_rejection(std::string_view text, const std::string& message) {
  attnlab::fuzz::expect_one_line(message, "parse_json_strict");
  Reference ref;
  ReferenceSax sax(ref);
  json::sax_parse(text.begin(), text.end(), &sax);
  const std::string where = std::string(kWhere) + ": ";
  switch (ref.result) {
    case Reference::Result::Ok:
      finding("parse_json_strict rejected valid JSON without a duplicate key: " + message);
    case Reference::Result::Duplicate:
      expect(message == where + "key '" + printable(ref.path) +
                            "' appears twice in one object; give each key once",
             "duplicate key '" + ref.path + "' reported as: " + message);
      return;
    case Reference::Result::Range:
      expect(message == where +
                            (ref.path.empty() ? std::string("a value")
                                              : "key '" + printable(ref.path) + "'") +
                            " holds a number too large for a double (allowed: finite numbers)",
             "number too large at '" + ref.path + "' reported as: " + message);
      return;
    case Reference::Result::Syntax:
      expect(message.rfind(where + "invalid JSON at byte " + std::to_string(ref.byte), 0) == 0,
             "syntax error at byte " + std::to_string(ref.byte) + " reported as: " + message);
      return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  json value;
  try {
    value = attnlab::parse_json_strict(text, kWhere);
  } catch (const attnlab::InputError& e) {
    attnlab::fuzz::note_rejection(e.what());
    check_rejection(text, e.what());
    return 0;
  } catch (...) {
    finding("parse_json_strict threw " + attnlab::fuzz::current_exception_text());
  }
  json plain;
  try {
    plain = json::parse(text);
  } catch (...) {
    finding("parse_json_strict accepted what nlohmann rejects: " +
            attnlab::fuzz::current_exception_text());
  }
  expect(plain == value, "parse_json_strict read another value than nlohmann");
  try {
    expect(attnlab::parse_json_strict(value.dump(), kWhere) == value,
           "value changed through dump + parse_json_strict");
  } catch (...) {
    finding("dump + parse_json_strict threw " + attnlab::fuzz::current_exception_text());
  }
  return 0;
}
