// tests/trace_fuzz.h — what the trace tools (`replay`, `trace_convert`, bench/trace_io.h) promise about any bytes, in
// any of the three forms (binary, text, raw), checked on one input: the body of the libFuzzer target
// (tests/trace_fuzzer.cc), shared with //tests:trace_fuzz_corpus_test, which runs the corpus kept in the repository
// (tests/trace_fuzz_corpus) through it in the ordinary test suites. A trace file is input nobody here wrote, so a
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
// Framework-free: the first broken promise is the return value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bench/trace_io.h"

namespace nostd::testing {
namespace internal {

inline bool same_trace_error(const bench::TraceError& a, const bench::TraceError& b) {
  return a.offset == b.offset && a.line == b.line && a.message == b.message;
}

// The events a trace holds, as read_trace passes them.
struct TraceEvents {
  std::vector<record::TraceEvent> list;
  bool huge = false;        // a request of 4 GiB or more, which load_replay refuses
  bool miscounted = false;  // read_trace's summary counts other than the events it passed
};

// The events of `bytes`, or read_trace's error; `first_huge` is set to the offset of the first request of 4 GiB or
// more that read_trace passed on, if any, whether or not it then refused the input.
inline std::expected<TraceEvents, bench::TraceError> trace_events_of(std::span<const std::byte> bytes,
                                                                     std::optional<std::size_t>* first_huge = nullptr) {
  TraceEvents events;
  const auto read =
      bench::read_trace(bytes, [&](const record::TraceEvent& e, std::size_t offset) -> std::optional<std::string> {
        events.list.push_back(e);
        if (e.size > UINT32_MAX && !events.huge && first_huge != nullptr) *first_huge = offset;
        events.huge = events.huge || e.size > UINT32_MAX;
        return std::nullopt;
      });
  if (!read) return std::unexpected(read.error());
  events.miscounted = read->events != events.list.size();
  return events;
}

inline std::span<const std::byte> trace_view(const std::vector<std::byte>& v) { return std::span<const std::byte>(v); }

}  // namespace internal

/// Checks the trace tools' promises (the file comment's list) on the `size` bytes at `data`. Returns nullptr when
/// every promise held, else the first broken one, in words. Cost: a few reads and conversions of the input, and the
/// early stop fed every prefix (quadratic in `size` where it cannot decide early).
inline const char* check_trace_input(const std::uint8_t* data, std::size_t size) {
  using bench::TraceError;
  using bench::TraceForm;
  using internal::same_trace_error;
  using internal::trace_events_of;
  using internal::trace_view;
  constexpr const char* kMiscounted = "the summary counts the events passed";

  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  std::optional<std::size_t> first_huge;
  const auto events = trace_events_of(in, &first_huge);
  if (events && events->miscounted) return kMiscounted;
  const auto binary = bench::convert(in, TraceForm::kBinary);
  const auto text = bench::convert(in, TraceForm::kText);
  const auto replay = bench::load_replay(in);

  // The early stop, fed the input a byte more at a time as a slow pipe would.
  bench::internal::TraceFileScan scan;
  for (std::size_t n = 1; n <= size; ++n) {
    if (!scan.corrupt(in.first(n))) continue;
    if (events) return "the early stop trips only on input the reader refuses";
    if (trace_events_of(in.first(n))) return "the early stop trips only where the bytes read already hold an error";
    break;
  }

  if (!events) {
    const TraceError& error = events.error();
    if (error.offset > size) return "a refusal names a byte of the input, or its end";
    if (error.message.empty()) return "a refusal says what is wrong";
    if (binary || !same_trace_error(binary.error(), error)) return "convert to binary refuses it as read_trace does";
    if (text || !same_trace_error(text.error(), error)) return "convert to text refuses it as read_trace does";
    // load_replay stops at the first request of 4 GiB or more, which may come before the reader's error.
    if (replay) return "load_replay refuses it";
    if (!same_trace_error(replay.error(), error) && !(first_huge && replay.error().offset == *first_huge)) {
      return "load_replay refuses it as read_trace does, or at an earlier request of 4 GiB or more";
    }
    return nullptr;
  }
  if (!binary || !text) return "a trace read_trace takes converts to both forms";

  // Both conversions read back to the same events, and convert into each other byte-exact.
  const auto from_binary = trace_events_of(trace_view(*binary));
  const auto from_text = trace_events_of(trace_view(*text));
  if ((from_binary && from_binary->miscounted) || (from_text && from_text->miscounted)) return kMiscounted;
  if (!from_binary || from_binary->list != events->list) return "the binary conversion holds the same events";
  if (!from_text || from_text->list != events->list) return "the text conversion holds the same events";
  const auto binary_again = bench::convert(trace_view(*binary), TraceForm::kBinary);
  const auto text_of_binary = bench::convert(trace_view(*binary), TraceForm::kText);
  const auto binary_of_text = bench::convert(trace_view(*text), TraceForm::kBinary);
  const auto text_again = bench::convert(trace_view(*text), TraceForm::kText);
  if (!binary_again || *binary_again != *binary) return "binary -> binary changes nothing";
  if (!text_again || *text_again != *text) return "text -> text changes nothing";
  if (!text_of_binary || *text_of_binary != *text) return "binary -> text is the input's text";
  if (!binary_of_text || *binary_of_text != *binary) return "binary -> text -> binary is byte-exact";

  if (events->huge) {
    if (replay || replay.error().offset != *first_huge) return "load_replay refuses the first request of 4 GiB or more";
    return nullptr;
  }
  if (!replay) return "load_replay takes every trace read_trace takes with requests under 4 GiB";
  if (replay->ops.size() != events->list.size() || replay->info.calls != replay->ops.size()) {
    return "load_replay gives one operation per event";
  }
  std::vector<std::uint32_t> slot_size(replay->slots, 0);
  std::vector<bool> slot_live(replay->slots, false);
  for (const bench::Op& op : replay->ops) {
    if (op.slot >= replay->slots) return "every operation's slot is in the table";
    switch (op.kind) {
      case bench::OpKind::kAllocate:
        if (slot_live[op.slot]) return "an allocate takes an empty slot";
        slot_live[op.slot] = true;
        slot_size[op.slot] = op.size;
        break;
      case bench::OpKind::kFree:
        if (!slot_live[op.slot] || op.size != slot_size[op.slot]) return "a free empties a slot with the size it holds";
        slot_live[op.slot] = false;
        break;
      case bench::OpKind::kReallocate:
        if (!slot_live[op.slot]) return "a reallocate resizes a live slot";
        slot_size[op.slot] = op.size;
        break;
    }
  }
  return nullptr;
}

}  // namespace nostd::testing
