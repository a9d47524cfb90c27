// bench/trace_convert.cc — `./bazelw run //bench:trace_convert -- IN OUT`: converts a recorded trace between the
// binary form and the text form (record/trace_format.h), validating it on the way, and turns the raw form the
// hosted recorder writes (record/raw_trace.h) into either. The output form is the other one (raw: binary) unless
// --to=text or --to=binary says; `--check IN` only validates. Bad input: the error names the byte offset
// (and line), exit status 1, and nothing is written. IN is read only as far as it can be a trace (read_trace_file:
// at most 1 GiB, and not past its first bytes that show an error), so an endless input such as /dev/zero ends too.
// OUT is written to a temporary file next to it and renamed over it once complete (bench/output_file.h), so that
// OUT may name IN, and a write that fails leaves both as they were. `-` names standard input as IN and standard
// output as OUT (`trace_convert t.trace - | less`), as Unix tools take it.
#include <sys/stat.h>

#include <cstdio>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/cli_args.h"
#include "bench/output_file.h"
#include "bench/trace_io.h"

int main(int argc, char** argv) {
  using namespace nostd::bench;
  std::string_view to;
  bool check = false;
  const char* names[2] = {nullptr, nullptr};  // as given, for messages
  std::string paths[2];                       // as opened: relative to where `bazel run` was started
  int n = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--to=text" || arg == "--to=binary") {
      to = arg.substr(5);
    } else if (arg.starts_with("--to=")) {
      std::fprintf(stderr, "trace_convert: %s: not text or binary (see --help)\n", argv[i]);
      return 2;
    } else if (arg == "--check") {
      check = true;
    } else if (arg == "-h" || arg == "--help") {
      std::printf(
          "usage: trace_convert [--to=text|--to=binary] IN OUT   convert (default: to the other form)\n"
          "       trace_convert --check IN                       validate only\n"
          "IN - reads standard input; OUT - writes standard output.\n");
      return 0;
    } else if (refuse_value_apart("trace_convert", arg, {"--to="})) {
      return 2;
    } else if (arg.size() > 1 && arg.starts_with("-")) {
      // One line that names what was wrong, as the other tools refuse bad input (the usage is under --help). A
      // single dash too (-c, -check), which had been taken for a file name: "cannot open -c", exit 1.
      std::fprintf(stderr, "trace_convert: unknown option %s (see --help)\n", argv[i]);
      return 2;
    } else if (arg.empty()) {
      // An empty name (an unset shell variable) had been opened as a file: "cannot write : No such file or
      // directory", exit 1, once IN was converted.
      std::fprintf(stderr, "trace_convert: an empty argument: not a file name (see --help)\n");
      return 2;
    } else if (n == 2) {
      std::fprintf(stderr, "trace_convert: unexpected argument %s: at most IN and OUT (see --help)\n", argv[i]);
      return 2;
    } else if (arg == "-") {
      // Standard input or output, by position. Read through /dev/stdin (read_trace_file reads pipes as files);
      // written through /dev/stdout, which write_output writes through the descriptor (a redirected file behind it
      // is written, not replaced).
      names[n] = n == 0 ? "standard input" : "standard output";
      paths[n] = n == 0 ? "/dev/stdin" : "/dev/stdout";
      ++n;
    } else {
      names[n] = argv[i];
      paths[n++] = from_working_dir(argv[i]);
    }
  }
  if (check && !to.empty()) {
    // --check writes nothing, so a form to write in would be ignored: said, as the other tools refuse an option
    // that would have no effect.
    std::fprintf(stderr, "trace_convert: --to=%.*s: --check only validates, it writes no form (see --help)\n",
                 static_cast<int>(to.size()), to.data());
    return 2;
  }
  if (n != (check ? 1 : 2)) {
    std::fprintf(stderr, "trace_convert: expected %s (see --help)\n", check ? "one file" : "IN and OUT");
    return 2;
  }
  // OUT through a descriptor open on IN's own regular file (`trace_convert /dev/stdin /dev/fd/0 0<>t.trace`) would
  // be written over the trace from the descriptor's offset, the rest of the old trace left behind the new one (it
  // was, exit 0): refused. IN's name as OUT converts it in place.
  if (struct stat in_file; ::stat(paths[0].c_str(), &in_file) == 0 && S_ISREG(in_file.st_mode) && !check &&
                           descriptor_on(paths[1], in_file)) {
    std::fprintf(stderr,
                 "trace_convert: %s is open on %s's file, and would be written over it (name the file as OUT "
                 "to convert it in place)\n",
                 names[1], names[0]);
    return 2;
  }
  const auto in = read_trace_file(paths[0].c_str());
  if (!in) {
    std::fprintf(stderr, "trace_convert: %s\n", in.error().c_str());
    return 1;
  }
  const TraceForm from = nostd::record::is_raw_trace(in->data(), in->size()) ? TraceForm::kRaw
                         : internal::looks_like_text(*in)                    ? TraceForm::kText
                                                                             : TraceForm::kBinary;
  const TraceForm target = to == "text"                 ? TraceForm::kText
                           : to == "binary"             ? TraceForm::kBinary
                           : from == TraceForm::kBinary ? TraceForm::kText
                                                        : TraceForm::kBinary;
  const char* const from_name = from == TraceForm::kRaw ? "raw" : from == TraceForm::kText ? "text" : "binary";
  std::vector<std::byte> ids;  // a raw input, converted once: the id form that `convert` then validates
  if (from == TraceForm::kRaw) {
    RawStats stats;
    auto binary = raw_to_binary(*in, &stats);
    if (!binary) {
      std::fprintf(stderr, "trace_convert: %s: byte %zu: raw trace: %s\n", names[0], binary.error().offset,
                   binary.error().message.c_str());
      return 1;
    }
    // What only the raw form can tell: calls that could not become trace events, and reordered frees.
    // A chunk is one flush of a recording thread's buffer: a thread writes one whenever its buffer fills, so the count
    // is not the number of threads (one thread's sqlite3 trace has 7).
    std::fprintf(stderr,
                 "trace_convert: %s: raw, %llu calls in %llu chunk%s (thread buffers flushed); %llu frees/reallocs of "
                 "blocks from before recording skipped, %llu reordered frees\n",
                 names[0], static_cast<unsigned long long>(stats.events), static_cast<unsigned long long>(stats.chunks),
                 stats.chunks == 1 ? "" : "s", static_cast<unsigned long long>(stats.unmatched),
                 static_cast<unsigned long long>(stats.reordered));
    ids = std::move(*binary);
  }
  const auto out =
      convert(from == TraceForm::kRaw ? std::span<const std::byte>(ids) : std::span<const std::byte>(*in), target);
  if (!out) {
    std::fprintf(stderr, "trace_convert: %s: %s\n", names[0], out.error().describe().c_str());
    return 1;
  }
  if (check) {
    std::printf("%s: valid %s trace, %zu bytes\n", names[0], from_name, in->size());
    return 0;
  }
  // OUT may be IN under another name (the same path, a link, ./x for x), and the only copy of the trace: it is
  // replaced only once the whole output is written (bench/output_file.h).
  if (const std::expected<void, std::string> written = write_output(paths[1], *out); !written) {
    std::fprintf(stderr, "trace_convert: cannot write %s: %s\n", names[1], written.error().c_str());
    return 1;
  }
  std::fprintf(stderr, "trace_convert: %s (%s, %zu bytes) -> %s (%s, %zu bytes)\n", names[0], from_name, in->size(),
               names[1], target == TraceForm::kText ? "text" : "binary", out->size());
  return 0;
}
