// tests/corpus_files.h — reads a directory of fuzz inputs kept in the repository (tests/fuzz_corpus,
// tests/trace_fuzz_corpus) from a test's runfiles, for the tests that run every input through the fuzz targets'
// own per-input functions (tests/heap_fuzz_corpus_test.cc, tests/trace_fuzz_corpus_test.cc). Hosted (POSIX
// directories and files): Linux only.
#pragma once

#include <dirent.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <expected>
#include <string>
#include <vector>

namespace nostd::testing {

/// One input of a corpus: its file name (without the directory) and its bytes.
struct CorpusFile {
  std::string name;
  std::vector<std::uint8_t> bytes;
};

/// Reads every file of `dir`, a directory of the workspace (e.g. "tests/fuzz_corpus") in the test's runfiles
/// ($TEST_SRCDIR/$TEST_WORKSPACE/dir, which Bazel sets for a test and `bazel run`), sorted by name. Fails, with the
/// reason in words, when the variables are unset, the directory cannot be opened or a file cannot be read; an
/// empty directory is an empty list (the caller checks the count it expects).
inline std::expected<std::vector<CorpusFile>, std::string> read_corpus(const char* dir) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) {
    return std::unexpected(std::string("TEST_SRCDIR or TEST_WORKSPACE unset: run it with ./bazelw test"));
  }
  const std::string path = std::string(srcdir) + "/" + workspace + "/" + dir;
  DIR* const listing = opendir(path.c_str());
  if (listing == nullptr) return std::unexpected("cannot open the directory " + path);
  std::vector<std::string> names;
  while (const dirent* entry = readdir(listing)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(listing);
  std::sort(names.begin(), names.end());

  std::vector<CorpusFile> files;
  files.reserve(names.size());
  for (const std::string& name : names) {
    const std::string file = path + "/" + name;
    std::FILE* const in = std::fopen(file.c_str(), "rb");
    if (in == nullptr) return std::unexpected("cannot open " + file);
    CorpusFile read{name, {}};
    std::uint8_t chunk[4096];
    std::size_t got = 0;
    while ((got = std::fread(chunk, 1, sizeof chunk, in)) > 0) read.bytes.insert(read.bytes.end(), chunk, chunk + got);
    const bool failed = std::ferror(in) != 0;
    std::fclose(in);
    if (failed) return std::unexpected("cannot read " + file);
    files.push_back(std::move(read));
  }
  return files;
}

}  // namespace nostd::testing
