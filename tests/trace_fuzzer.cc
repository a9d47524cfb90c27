// libFuzzer target over the trace readers (bench/trace_io.h): any bytes, in any of the three forms (binary, text, raw),
// and what the tools (`replay`, `trace_convert`) promise about them. A trace file is input nobody here wrote, so a
// reader must refuse bad bytes with an error, never crash or read past them, and a trace it takes must convert
// without loss:
// - read_trace, convert (to either form) and load_replay agree: all take the input or all refuse it, at the same byte
//   and with the same words (load_replay refuses at the first request of 4 GiB or more, which only it cannot hold);
// - a refusal names a byte inside the input or its end;
// - a trace taken converts to the binary and the text form, each of which reads back to the same events: binary ->
//   text -> binary is byte-exact, and converting a converted trace to its own form changes nothing;
// - load_replay gives one operation per event, each on a slot of its table, a free with the size its slot holds;
// - the early stop of read_trace_file (TraceFileScan, fed every prefix of the input in turn) never trips on a trace
//   the reader takes, and where it trips the reader refuses that prefix and the whole input.
//
//   ./bazelw run --config=fuzz //tests:trace_fuzzer -- -max_total_time=60 -dict=$PWD/tests/trace_fuzz.dict \
//       $(mktemp -d) $PWD/tests/trace_fuzz_corpus
//
// (the first directory receives new inputs; tests/trace_fuzz_corpus is the corpus kept in the repository: three
// seeds, `text`, `binary` and `raw`, valid traces each with allocate, aligned allocate, reallocate and free events,
// and the inputs an 8 min run grew from them, merged; README "The fuzz corpora". tests/trace_fuzz.dict holds the
// forms' tokens).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "bench/trace_io.h"

namespace {

using nostd::bench::TraceError;
using nostd::bench::TraceForm;
using nostd::record::EventKind;
using nostd::record::TraceEvent;

// A broken promise: libFuzzer saves the input as a crash.
void expect(bool holds, const char* what) {
  if (!holds) {
    std::fprintf(stderr, "trace_fuzzer: %s\n", what);
    std::abort();
  }
}

bool same_error(const TraceError& a, const TraceError& b) {
  return a.offset == b.offset && a.line == b.line && a.message == b.message;
}

// The events a trace holds, as read_trace passes them.
struct Events {
  std::vector<TraceEvent> list;
  bool huge = false;  // a request of 4 GiB or more, which load_replay refuses
};

// The events of `bytes`, or read_trace's error; `first_huge` is set to the offset of the first request of 4 GiB or
// more that read_trace passed on, if any, whether or not it then refused the input.
std::expected<Events, TraceError> events_of(std::span<const std::byte> bytes,
                                            std::optional<std::size_t>* first_huge = nullptr) {
  Events events;
  const auto read =
      nostd::bench::read_trace(bytes, [&](const TraceEvent& e, std::size_t offset) -> std::optional<std::string> {
        events.list.push_back(e);
        if (e.size > UINT32_MAX && !events.huge && first_huge != nullptr) *first_huge = offset;
        events.huge = events.huge || e.size > UINT32_MAX;
        return std::nullopt;
      });
  if (!read) return std::unexpected(read.error());
  expect(read->events == events.list.size(), "the summary counts the events passed");
  return events;
}

std::span<const std::byte> view(const std::vector<std::byte>& v) { return std::span<const std::byte>(v); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  std::optional<std::size_t> first_huge;
  const auto events = events_of(in, &first_huge);
  const auto binary = nostd::bench::convert(in, TraceForm::kBinary);
  const auto text = nostd::bench::convert(in, TraceForm::kText);
  const auto replay = nostd::bench::load_replay(in);

  // The early stop, fed the input a byte more at a time as a slow pipe would.
  nostd::bench::internal::TraceFileScan scan;
  for (std::size_t n = 1; n <= size; ++n) {
    if (!scan.corrupt(in.first(n))) continue;
    expect(!events, "the early stop trips only on input the reader refuses");
    expect(!events_of(in.first(n)), "the early stop trips only where the bytes read already hold an error");
    break;
  }

  if (!events) {
    const TraceError& error = events.error();
    expect(error.offset <= size, "a refusal names a byte of the input, or its end");
    expect(!error.message.empty(), "a refusal says what is wrong");
    expect(!binary && same_error(binary.error(), error), "convert to binary refuses it as read_trace does");
    expect(!text && same_error(text.error(), error), "convert to text refuses it as read_trace does");
    // load_replay stops at the first request of 4 GiB or more, which may come before the reader's error.
    expect(!replay, "load_replay refuses it");
    expect(same_error(replay.error(), error) || (first_huge && replay.error().offset == *first_huge),
           "load_replay refuses it as read_trace does, or at an earlier request of 4 GiB or more");
    return 0;
  }
  expect(binary.has_value() && text.has_value(), "a trace read_trace takes converts to both forms");

  // Both conversions read back to the same events, and convert into each other byte-exact.
  const auto from_binary = events_of(view(*binary));
  const auto from_text = events_of(view(*text));
  expect(from_binary && from_binary->list == events->list, "the binary conversion holds the same events");
  expect(from_text && from_text->list == events->list, "the text conversion holds the same events");
  const auto binary_again = nostd::bench::convert(view(*binary), TraceForm::kBinary);
  const auto text_of_binary = nostd::bench::convert(view(*binary), TraceForm::kText);
  const auto binary_of_text = nostd::bench::convert(view(*text), TraceForm::kBinary);
  const auto text_again = nostd::bench::convert(view(*text), TraceForm::kText);
  expect(binary_again && *binary_again == *binary, "binary -> binary changes nothing");
  expect(text_again && *text_again == *text, "text -> text changes nothing");
  expect(text_of_binary && *text_of_binary == *text, "binary -> text is the input's text");
  expect(binary_of_text && *binary_of_text == *binary, "binary -> text -> binary is byte-exact");

  if (events->huge) {
    expect(!replay && replay.error().offset == *first_huge, "load_replay refuses the first request of 4 GiB or more");
    return 0;
  }
  expect(replay.has_value(), "load_replay takes every trace read_trace takes with requests under 4 GiB");
  expect(replay->ops.size() == events->list.size() && replay->info.calls == replay->ops.size(),
         "load_replay gives one operation per event");
  std::vector<std::uint32_t> slot_size(replay->slots, 0);
  std::vector<bool> slot_live(replay->slots, false);
  for (const nostd::bench::Op& op : replay->ops) {
    expect(op.slot < replay->slots, "every operation's slot is in the table");
    switch (op.kind) {
      case nostd::bench::OpKind::kAllocate:
        expect(!slot_live[op.slot], "an allocate takes an empty slot");
        slot_live[op.slot] = true;
        slot_size[op.slot] = op.size;
        break;
      case nostd::bench::OpKind::kFree:
        expect(slot_live[op.slot] && op.size == slot_size[op.slot], "a free empties a slot with the size it holds");
        slot_live[op.slot] = false;
        break;
      case nostd::bench::OpKind::kReallocate:
        expect(slot_live[op.slot], "a reallocate resizes a live slot");
        slot_size[op.slot] = op.size;
        break;
    }
  }
  return 0;
}
