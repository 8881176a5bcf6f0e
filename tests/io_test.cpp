// Protects core/io: atomic writes leave either the old or the new file and no temporary, errors
// are InputError naming the path, and JSON round-trips.
#include "core/io.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"

namespace attnlab {
namespace {
namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("attnlab_io_test_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::size_t count_entries(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    (void)e;
    ++n;
  }
  return n;
}

TEST(Io, WriteFileAtomicCreatesParentsAndLeavesNoTempFile) {
  const fs::path dir = fresh_dir("write");
  const fs::path path = dir / "a" / "b" / "out.txt";
  const std::string content("line 1\n\0binary\xff", 15);
  write_file_atomic(path, content);
  EXPECT_EQ(read_file(path), content);
  write_file_atomic(path, "replaced");  // overwrites in place
  EXPECT_EQ(read_file(path), "replaced");
  // Only a/, a/b/ and out.txt: no ".tmp.<pid>" left behind.
  EXPECT_EQ(count_entries(dir), 3u);
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }
}

TEST(Io, WriteFileAtomicUnderARegularFileThrowsInputErrorNamingPath) {
  // Tests run as root, so permissions cannot make a directory unwritable; a path below a regular
  // file can never be created.
  const fs::path dir = fresh_dir("unwritable");
  std::ofstream(dir / "file.txt") << "I am a file\n";
  const fs::path path = dir / "file.txt" / "sub" / "out.json";
  try {
    write_file_atomic(path, "x");
    FAIL() << "no error writing below a regular file";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "file.txt" / "sub").string()), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(write_json_atomic(path, nlohmann::json{{"a", 1}}), InputError);
  EXPECT_THROW(ensure_writable_dir(dir / "file.txt"), InputError);
  EXPECT_EQ(count_entries(dir), 1u);  // the file itself, nothing else
  EXPECT_EQ(read_file(dir / "file.txt"), "I am a file\n");
}

TEST(Io, WriteFileAtomicOntoADirectoryFailsAndKeepsNoTemp) {
  const fs::path dir = fresh_dir("onto_dir");
  fs::create_directories(dir / "target" / "child");
  EXPECT_THROW(write_file_atomic(dir / "target", "x"), InputError);
  EXPECT_TRUE(fs::is_directory(dir / "target" / "child"));
  EXPECT_EQ(count_entries(dir), 2u);  // target/ and target/child/ only
}

TEST(Io, JsonRoundTripsExactly) {
  const fs::path dir = fresh_dir("json");
  const nlohmann::json j = {{"pi", 3.141592653589793}, {"tiny", 4.9406564584124654e-324},
                            {"third", 1.0 / 3.0},      {"n", -12345678901234LL},
                            {"s", "caf\u00e9"},        {"v", {1, 2, 3}}};
  write_json_atomic(dir / "x.json", j);
  const nlohmann::json back = read_json_file(dir / "x.json");
  EXPECT_EQ(back, j);
  EXPECT_EQ(back["third"].get<double>(), 1.0 / 3.0);
  EXPECT_EQ(back["tiny"].get<double>(), 4.9406564584124654e-324);
}

TEST(Io, ReadErrorsAreInputErrorsNamingTheFile) {
  const fs::path dir = fresh_dir("read");
  try {
    read_file(dir / "missing.json");
    FAIL() << "missing file not reported";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.json"), std::string::npos) << e.what();
  }
  write_file_atomic(dir / "bad.json", "{\"a\": 1,\n \"b\": }\n");
  try {
    read_json_file(dir / "bad.json");
    FAIL() << "invalid JSON not reported";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace attnlab
