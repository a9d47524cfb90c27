// tests/trace_format_test.cc — the recorded-trace format (record/trace_format.h) and its hosted reader and
// writer (bench/trace_io.h): round trips between the binary and text forms, loading into replay operations,
// and one test per kind of bad input, each expecting its error and byte offset (and never a crash: every
// prefix and many corrupted copies of a valid trace are read too).
#include "record/trace_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/output_file.h"
#include "bench/trace.h"
#include "bench/trace_io.h"
#include "record/raw_trace.h"

namespace nostd::bench {
namespace {

using record::kTraceMagic;

std::vector<std::byte> bytes_of(std::string_view s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return {p, p + s.size()};
}

/// A binary trace of `events` with a correct end record.
std::vector<std::byte> binary(const std::vector<TraceEvent>& events) {
  std::vector<std::byte> out = bytes_of(kTraceMagic);
  for (const TraceEvent& e : events) append_binary(out, e);
  append_binary(out, TraceEvent{EventKind::kEnd, 0, events.size(), 0});
  return out;
}

/// Reads `bytes`, collecting events; returns the error, if any.
std::expected<std::vector<TraceEvent>, TraceError> read_all(std::span<const std::byte> bytes) {
  std::vector<TraceEvent> got;
  const auto r = read_trace(bytes, [&](const TraceEvent& e, std::size_t) -> std::optional<std::string> {
    got.push_back(e);
    return std::nullopt;
  });
  if (!r) return std::unexpected(r.error());
  return got;
}

const std::vector<TraceEvent> kSample = {
    {EventKind::kAllocate, 0, 1, 24},
    {EventKind::kAllocate, 6, 2, 100},  // aligned to 64
    {EventKind::kAllocate, 0, 300000, 0},
    {EventKind::kReallocate, 0, 1, 4000},
    {EventKind::kFree, 0, 2, 0},
    {EventKind::kAllocate, 0, 2, 7},  // an id used again after its free
    {EventKind::kAllocate, 0, UINT64_MAX, (std::uint64_t{1} << 40)},
    {EventKind::kFree, 0, UINT64_MAX, 0},
    {EventKind::kFree, 0, 1, 0},
};

TEST(TraceFormat, EncodeDecodeEveryKind) {
  for (const TraceEvent& e : kSample) {
    std::byte buf[record::kMaxEventBytes];
    const std::size_t n = record::encode(e, buf);
    const record::Decoded d = record::decode(std::span<const std::byte>(buf, n), 0);
    ASSERT_EQ(d.error, record::DecodeError::kNone);
    EXPECT_EQ(d.next, n);
    EXPECT_EQ(d.event, e);
  }
}

TEST(TraceFormat, SmallEventsAreCompact) {
  std::byte buf[record::kMaxEventBytes];
  EXPECT_EQ(record::encode(TraceEvent{EventKind::kAllocate, 0, 12345, 100}, buf), 5u);  // tag, 2+1 varint, align
  EXPECT_EQ(record::encode(TraceEvent{EventKind::kFree, 0, 12345, 0}, buf), 3u);
}

TEST(TraceFormat, BinaryTextBinaryRoundTripIsExact) {
  const std::vector<std::byte> bin = binary(kSample);
  const auto text = convert(bin, TraceForm::kText);
  ASSERT_TRUE(text) << text.error().describe();
  const std::string_view t(reinterpret_cast<const char*>(text->data()), text->size());
  EXPECT_TRUE(t.starts_with("nostd-trace 1\na 1 24\na 2 100 64\n")) << t;
  EXPECT_NE(t.find("r 1 4000\n"), std::string_view::npos);
  EXPECT_TRUE(t.ends_with("end 9\n"));
  const auto back = convert(*text, TraceForm::kBinary);
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_EQ(*back, bin);
  const auto events = read_all(*text);
  ASSERT_TRUE(events);
  EXPECT_EQ(*events, kSample);
}

TEST(TraceFormat, AlignmentsUpToTheDefaultSurviveBothRoundTrips) {
  // Exponents 1 to 4 are what a recorder writes where max_align_t is smaller than here (16 bytes on the Cortex-M
  // board, whose max_align_t is 8): binary -> text -> binary keeps them, and text -> binary -> text keeps an ALIGN.
  const std::vector<std::byte> bin = binary({{EventKind::kAllocate, 1, 1, 10},
                                             {EventKind::kAllocate, 3, 2, 10},
                                             {EventKind::kAllocate, 4, 3, 10},
                                             {EventKind::kFree, 0, 1, 0}});
  const auto text = convert(bin, TraceForm::kText);
  ASSERT_TRUE(text) << text.error().describe();
  const auto back = convert(*text, TraceForm::kBinary);
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_EQ(*back, bin);
  const std::string_view in = "nostd-trace 1\na 1 10 2\na 2 10 8\na 3 10 16\na 4 10 64\nend 4\n";
  const auto b = convert(bytes_of(in), TraceForm::kBinary);
  ASSERT_TRUE(b) << b.error().describe();
  const auto t = convert(*b, TraceForm::kText);
  ASSERT_TRUE(t) << t.error().describe();
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(t->data()), t->size()), in);
}

TEST(TraceFormat, TextAcceptsCommentsBlankLinesAndDefaultAlignments) {
  const std::vector<std::byte> text = bytes_of(
      "# recorded by hand\n\nnostd-trace 1\na 5 10\n  # indented comment\na 6 10 8\na 7 10 16\na 8 10 32\r\n"
      "f 5\nf 6\nf 7\nf 8\nend 8\n");
  const auto events = read_all(text);
  ASSERT_TRUE(events) << events.error().describe();
  ASSERT_EQ(events->size(), 8u);
  EXPECT_EQ((*events)[1].align_log2, 3);  // kept as written...
  EXPECT_EQ((*events)[2].align_log2, 4);
  EXPECT_EQ((*events)[3].align_log2, 5);
  const auto t = load_replay(text);
  ASSERT_TRUE(t) << t.error().describe();
  EXPECT_EQ(t->ops[1].align_log2, 0);  // ...and replayed as the default: 8 and 16 are no stricter than malloc's
  EXPECT_EQ(t->ops[2].align_log2, 0);
  EXPECT_EQ(t->ops[3].align_log2, 5);
}

TEST(TraceFormat, TextToBinaryToTextKeepsEveryEventButNotItsSpelling) {
  // Comments, blank lines, runs of spaces and tabs, leading zeros, CRLF and an ALIGN of 1 read as the events they
  // spell, and come back in the one spelling the writer has.
  const std::vector<std::byte> text = bytes_of(
      "# by hand\r\n\nnostd-trace  1\r\na  007\t0100 1\r\n\t r 7 0200\n\n# gone\na 8 16 0064\nf 0007\nf 8\nend 05\r\n");
  const auto bin = convert(text, TraceForm::kBinary);
  ASSERT_TRUE(bin) << bin.error().describe();
  const auto back = convert(*bin, TraceForm::kText);
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(back->data()), back->size()),
            "nostd-trace 1\na 7 100\nr 7 200\na 8 16 64\nf 7\nf 8\nend 5\n");
}

TEST(TraceFormat, LoadReplayMapsIdsToDenseSlotsAndFindsThePeak) {
  const auto t = load_replay(binary({
      {EventKind::kAllocate, 0, 1000, 10},
      {EventKind::kAllocate, 0, 7, 20},
      {EventKind::kFree, 0, 1000, 0},
      {EventKind::kAllocate, 6, 99, 30},  // reuses slot 0; aligned to 64
      {EventKind::kReallocate, 0, 7, 100},
      {EventKind::kFree, 0, 7, 0},
      {EventKind::kFree, 0, 99, 0},
  }));
  ASSERT_TRUE(t) << t.error().describe();
  EXPECT_EQ(t->slots, 2u);
  ASSERT_EQ(t->ops.size(), 7u);
  EXPECT_EQ(t->ops[3].slot, 0u);
  EXPECT_EQ(t->ops[3].align_log2, 6);
  EXPECT_EQ(t->ops[4].kind, OpKind::kReallocate);
  EXPECT_EQ(t->ops[4].slot, 1u);
  EXPECT_EQ(t->ops[5].size, 100u);  // a free repeats the block's current size
  EXPECT_EQ(t->info.peak_live_bytes, 130u);
  EXPECT_EQ(t->info.drain_begin, 5u);  // the peak is the state after operation 4
  EXPECT_EQ(t->info.allocations, 3u);
  EXPECT_EQ(t->info.frees, 3u);
  EXPECT_EQ(t->reallocations, 1u);
  EXPECT_EQ(t->aligned, 1u);
  EXPECT_EQ(t->max_size, 100u);  // the reallocate's size
}

TEST(TraceFormat, LoadReplayReusesTheMostRecentlyFreedSlotAndTheFirstPeak) {
  const auto t = load_replay(binary({
      {EventKind::kAllocate, 0, 1, 8},
      {EventKind::kAllocate, 0, 2, 8},
      {EventKind::kFree, 0, 1, 0},
      {EventKind::kFree, 0, 2, 0},
      {EventKind::kAllocate, 0, 3, 8},  // slot 1, freed last
      {EventKind::kAllocate, 0, 4, 8},  // slot 0
      {EventKind::kFree, 0, 3, 0},
      {EventKind::kFree, 0, 4, 0},
  }));
  ASSERT_TRUE(t) << t.error().describe();
  ASSERT_EQ(t->ops.size(), 8u);
  EXPECT_EQ(t->ops[4].slot, 1u);
  EXPECT_EQ(t->ops[5].slot, 0u);
  EXPECT_EQ(t->info.peak_live_bytes, 16u);
  EXPECT_EQ(t->info.drain_begin, 2u);  // first reached after operation 1; reached again after 5, which is later
}

TEST(TraceFormat, LoadReplayTakesAlignmentsUpToTheDefaultAsTheDefault) {
  // A trace recorded where alignof(max_align_t) is 8 (the Cortex-M board) holds 16-byte alignments as exponent 4;
  // here they are the default: replayed by allocate(size), not counted as aligned above the default.
  std::uint8_t default_log2 = 0;
  while ((std::size_t{1} << default_log2) < alignof(std::max_align_t)) ++default_log2;
  const auto t = load_replay(binary({
      {EventKind::kAllocate, 1, 1, 10},
      {EventKind::kAllocate, default_log2, 2, 20},
      {EventKind::kAllocate, static_cast<std::uint8_t>(default_log2 + 1), 3, 30},
  }));
  ASSERT_TRUE(t) << t.error().describe();
  ASSERT_EQ(t->ops.size(), 3u);
  EXPECT_EQ(t->ops[0].align_log2, 0);
  EXPECT_EQ(t->ops[1].align_log2, 0);
  EXPECT_EQ(t->ops[2].align_log2, default_log2 + 1);
  EXPECT_EQ(t->aligned, 1u);
}

/// Expects reading `bytes` to fail at `offset` with a message containing `words`.
void expect_error(std::span<const std::byte> bytes, std::size_t offset, std::string_view words, std::size_t line = 0) {
  const auto r = read_all(bytes);
  ASSERT_FALSE(r) << "accepted a bad trace";
  EXPECT_EQ(r.error().offset, offset) << r.error().describe();
  EXPECT_EQ(r.error().line, line) << r.error().describe();
  EXPECT_NE(r.error().message.find(words), std::string::npos) << r.error().describe();
  EXPECT_FALSE(load_replay(bytes));
}

TEST(TraceFormatErrors, NotATrace) {
  expect_error({}, 0, "not a trace");
  expect_error(bytes_of("NSTRACE2xxxx"), 0, "not a trace");
  expect_error(bytes_of("hello world\n"), 0, "not a trace");
}

TEST(TraceFormatErrors, EveryTruncationIsReportedAtTheEnd) {
  const std::vector<std::byte> bin = binary(kSample);
  for (std::size_t n = 0; n < bin.size(); ++n) {
    const auto r = read_all(std::span(bin).first(n));
    ASSERT_FALSE(r) << "a trace cut to " << n << " bytes was accepted";
    if (n >= kTraceMagic.size()) {
      EXPECT_EQ(r.error().offset, n) << r.error().describe();
      EXPECT_TRUE(r.error().message.find("truncated") != std::string::npos ||
                  r.error().message.find("without an end record") != std::string::npos)
          << r.error().describe();
    }
  }
}

TEST(TraceFormatErrors, UnknownEventNamesItsTagAndOffset) {
  std::vector<std::byte> bin = binary({{EventKind::kAllocate, 0, 1, 8}});
  bin.insert(bin.begin() + 12, std::byte{0x7f});  // after the header and the 4-byte allocate event
  expect_error(bin, 12, "unknown event tag 0x7f");
}

TEST(TraceFormatErrors, OverlongVarint) {
  std::vector<std::byte> bin = bytes_of(kTraceMagic);
  bin.push_back(std::byte{'F'});
  for (int i = 0; i < 11; ++i) bin.push_back(std::byte{0x80});
  expect_error(bin, 18, "corrupt number");  // the 10th varint byte may hold one bit only
}

TEST(TraceFormatErrors, ATenthVarintByteAboveOneIsCorrupt) {
  // An id of 10 bytes: nine continuation bytes, then the 10th, which may hold bit 63 only. Above 1 it would carry
  // bits past 64 (kept to its low bit, 2 read as 0 and 3 as 1); with its high bit set an 11th byte follows.
  const auto free_of = [](std::initializer_list<std::uint8_t> tail) {
    std::vector<std::byte> bin = bytes_of(kTraceMagic);
    bin.push_back(std::byte{'F'});
    for (int i = 0; i < 9; ++i) bin.push_back(std::byte{0x80});
    for (std::uint8_t b : tail) bin.push_back(std::byte{b});
    append_binary(bin, TraceEvent{EventKind::kEnd, 0, 1, 0});
    return bin;
  };
  for (std::uint8_t tenth : std::initializer_list<std::uint8_t>{0x02, 0x03, 0x7f}) {
    SCOPED_TRACE(static_cast<int>(tenth));
    expect_error(free_of({tenth}), 18, "corrupt number");
  }
  expect_error(free_of({0x81, 0x00}), 18, "corrupt number");
  // 1 is bit 63: a number, here an id never allocated.
  expect_error(free_of({0x01}), 8, "free of id 9223372036854775808, which is not live");
}

TEST(TraceFormat, WritersUseEachVarintsShortestForm) {
  // Every bit length from 0 to 64, at both ends: a free event is its tag and the id's varint, which takes one byte per
  // 7 bits of the value (at least one), and decodes back.
  for (int bits = 0; bits <= 64; ++bits) {
    const std::uint64_t top = bits == 64 ? UINT64_MAX : (std::uint64_t{1} << bits) - 1;
    for (const std::uint64_t id : {bits == 0 ? std::uint64_t{0} : std::uint64_t{1} << (bits - 1), top}) {
      std::byte buf[record::kMaxEventBytes];
      const std::size_t n = record::encode(TraceEvent{EventKind::kFree, 0, id, 0}, buf);
      EXPECT_EQ(n, 1 + std::max(1, (bits + 6) / 7)) << id;
      const record::Decoded d = record::decode(std::span<const std::byte>(buf, n), 0);
      EXPECT_EQ(d.error, record::DecodeError::kNone) << id;
      EXPECT_EQ(d.event.id, id);
    }
  }
}

TEST(TraceFormatErrors, AVarintNotInItsShortestFormIsCorrupt) {
  // A last byte of 0 after others adds a group that holds nothing: 0 as 80 00, 1 as 81 00, 100 as e4 80 00, and the
  // 10th byte 0 after nine continuation bytes. A number has one encoding (binary -> text -> binary is byte-exact);
  // another is corruption. The error is at the 0 byte.
  const auto free_of = [](std::initializer_list<std::uint8_t> id) {
    std::vector<std::byte> bin = bytes_of(kTraceMagic);
    append_binary(bin, TraceEvent{EventKind::kAllocate, 0, 1, 8});
    bin.push_back(std::byte{'F'});
    for (std::uint8_t b : id) bin.push_back(std::byte{b});
    append_binary(bin, TraceEvent{EventKind::kEnd, 0, 2, 0});
    return bin;
  };
  expect_error(
      free_of({0x81, 0x00}), 14,
      "corrupt number: varint not in its shortest form (a last byte of 0 after others) (event starts at byte 12)");
  expect_error(free_of({0x80, 0x00}), 14, "not in its shortest form");
  expect_error(free_of({0xe4, 0x80, 0x00}), 15, "not in its shortest form");
  expect_error(free_of({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}), 22, "not in its shortest form");
  // In an allocate's size, and in the end record's count.
  std::vector<std::byte> size = bytes_of(kTraceMagic);
  for (std::uint8_t b : {std::uint8_t{'A'}, std::uint8_t{1}, std::uint8_t{0x88}, std::uint8_t{0}, std::uint8_t{0}}) {
    size.push_back(std::byte{b});
  }
  expect_error(size, 11, "not in its shortest form");
  std::vector<std::byte> end = bytes_of(kTraceMagic);
  for (std::uint8_t b : {std::uint8_t{'E'}, std::uint8_t{0x80}, std::uint8_t{0}}) end.push_back(std::byte{b});
  expect_error(end, 10, "not in its shortest form");
  // The shortest forms of the same numbers read.
  EXPECT_TRUE(read_all(free_of({0x01})));
}

TEST(TraceFormatErrors, AlignmentOutOfRange) {
  std::vector<std::byte> bin = bytes_of(kTraceMagic);
  for (std::uint8_t b : {std::uint8_t{'A'}, std::uint8_t{1}, std::uint8_t{8}, std::uint8_t{31}}) {
    bin.push_back(std::byte{b});
  }
  expect_error(bin, 11, "alignment");
}

TEST(TraceFormatErrors, FreeOfAnIdNeverAllocated) {
  // header 8 + allocate(1, 8) 4 bytes: the free starts at byte 12.
  expect_error(binary({{EventKind::kAllocate, 0, 1, 8}, {EventKind::kFree, 0, 2, 0}}), 12,
               "free of id 2, which is not live");
}

TEST(TraceFormatErrors, DoubleFree) {
  expect_error(binary({{EventKind::kAllocate, 0, 1, 8}, {EventKind::kFree, 0, 1, 0}, {EventKind::kFree, 0, 1, 0}}), 14,
               "free of id 1, which is not live");
}

TEST(TraceFormatErrors, ReallocateOfAnIdNeverAllocated) {
  expect_error(binary({{EventKind::kReallocate, 0, 3, 8}}), 8, "reallocate of id 3");
}

TEST(TraceFormatErrors, AllocateOfALiveId) {
  expect_error(binary({{EventKind::kAllocate, 0, 1, 8}, {EventKind::kAllocate, 0, 1, 8}}), 12,
               "allocate of id 1, which is still live (allocated at byte 8)");
}

TEST(TraceFormatErrors, EndRecordCountMismatch) {
  std::vector<std::byte> bin = bytes_of(kTraceMagic);
  append_binary(bin, TraceEvent{EventKind::kAllocate, 0, 1, 8});
  append_binary(bin, TraceEvent{EventKind::kEnd, 0, 5, 0});
  expect_error(bin, 12, "counts 5 events, the trace has 1");
}

TEST(TraceFormatErrors, BytesAfterTheEndRecord) {
  std::vector<std::byte> bin = binary({{EventKind::kAllocate, 0, 1, 8}});
  const std::size_t end = bin.size();
  bin.push_back(std::byte{'F'});
  expect_error(bin, end, "after the end record");
}

TEST(TraceFormatErrors, ReplayRejectsRequestsOver4GiB) {
  const auto t = load_replay(binary({{EventKind::kAllocate, 0, 1, std::uint64_t{1} << 33}}));
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().offset, 8u);
  EXPECT_NE(t.error().message.find("4 GiB"), std::string::npos);
  // Exactly 4 GiB does not fit 32 bits either (it would become 0); one byte less does.
  EXPECT_FALSE(load_replay(binary({{EventKind::kAllocate, 0, 1, std::uint64_t{1} << 32}})));
  const auto largest = load_replay(binary({{EventKind::kAllocate, 0, 1, (std::uint64_t{1} << 32) - 1}}));
  ASSERT_TRUE(largest) << largest.error().describe();
  EXPECT_EQ(largest->ops[0].size, 0xffffffffu);
}

TEST(TraceFormatErrors, TextErrorsNameLineAndOffset) {
  // "nostd-trace 1\n" is 14 bytes, "a 1 8\n" 6: line 3 starts at byte 20.
  expect_error(bytes_of("nostd-trace 1\na 1 8\nx 1\nend 1\n"), 20, "unknown event \"x\"", 3);
  expect_error(bytes_of("nostd-trace 1\na 1 8\nf 2\nend 2\n"), 20, "free of id 2", 3);
  expect_error(bytes_of("nostd-trace 1\na 1 eight\nend 1\n"), 14, "expected \"a ID SIZE [ALIGN]\"", 2);
  expect_error(bytes_of("nostd-trace 1\na 1 8 48\nend 1\n"), 14, "not a power of two", 2);
  expect_error(bytes_of("nostd-trace 1\na 1 8 8 9\nend 1\n"), 14, "expected \"a ID SIZE [ALIGN]\"", 2);  // a fifth word
  expect_error(bytes_of("nostd-trace 1\na 1 8\nend 1\nf 1\n"), 26, "data after the end record", 4);
  expect_error(bytes_of("nostd-trace 1\na 1 8\n"), 20, "without an end record", 2);
  expect_error(bytes_of("nostd-trace 1\na 1 99999999999999999999\nend 1\n"), 14, "expected", 2);
  expect_error(bytes_of("nostd-trace 2\nend 0\n"), 0, "not a trace", 1);
}

TEST(TraceFormatErrors, TextAlignmentsOfZeroAndAbove2To30AreRefused) {
  // ALIGN is a power of two from 1 to 2^30: 0 is none (it had passed the power-of-two test, 0 & -1 being 0), and
  // 2^31 is past the largest exponent an allocate event may carry.
  expect_error(bytes_of("nostd-trace 1\na 1 8 0\nf 1\nend 2\n"), 14, "alignment \"0\" is not a power of two up to 2^30",
               2);
  expect_error(bytes_of("nostd-trace 1\na 1 8 2147483648\nf 1\nend 2\n"), 14,
               "alignment \"2147483648\" is not a power of two up to 2^30", 2);
  const auto top = read_all(bytes_of("nostd-trace 1\na 1 8 1073741824\nf 1\nend 2\n"));
  ASSERT_TRUE(top) << top.error().describe();
  EXPECT_EQ((*top)[0].align_log2, record::kMaxAlignLog2);
}

TEST(TraceFormatErrors, HugeEndCountsAreRefused) {
  // The most a count can hold, against an empty trace, in both forms; one past it is no number in the text form.
  std::vector<std::byte> bin = bytes_of(kTraceMagic);
  append_binary(bin, TraceEvent{EventKind::kEnd, 0, UINT64_MAX, 0});
  expect_error(bin, 8, "the end record counts 18446744073709551615 events, the trace has 0");
  expect_error(bytes_of("nostd-trace 1\nend 18446744073709551615\n"), 14,
               "the end record counts 18446744073709551615 events, the trace has 0", 2);
  expect_error(bytes_of("nostd-trace 1\nend 18446744073709551616\n"), 14, "expected \"end COUNT\"", 2);
}

TEST(TraceFormatErrors, ARawTraceOfAnotherVersionIsNotATrace) {
  expect_error(bytes_of("NSTRRAW2"), 0, "not a trace");
  expect_error(bytes_of("NSTRRAW0\x4e\x53\x52\x43"), 0, "not a trace");
}

TEST(TraceFormatErrors, EveryTruncationOfATextTraceIsRefused) {
  // Every line cut short, at every byte (a word cut off, an event without its size, "en" for "end", an end record
  // without its count): refused, at or before the cut, never accepted. Only the final newline may go.
  const auto text = convert(binary(kSample), TraceForm::kText);
  ASSERT_TRUE(text) << text.error().describe();
  ASSERT_EQ(text->back(), std::byte{'\n'});
  EXPECT_TRUE(read_all(std::span(*text).first(text->size() - 1)));
  for (std::size_t n = 0; n + 1 < text->size(); ++n) {
    const auto r = read_all(std::span(*text).first(n));
    ASSERT_FALSE(r) << "a text trace cut to " << n << " bytes was accepted";
    EXPECT_LE(r.error().offset, n) << r.error().describe();
    EXPECT_FALSE(load_replay(std::span(*text).first(n)));
  }
}

/// True when `text` holds a byte that is not printable ASCII (a terminal would act on a control byte; %s stops at a
/// NUL).
bool holds_unprintable(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) return true;
  }
  return false;
}

TEST(TraceFormatErrors, TextErrorsQuoteAWordEscapedAndCut) {
  // A NUL, an escape sequence, a byte of a UTF-8 character, a quote and a backslash are shown as \xHH.
  const std::string odd = std::string("nostd-trace 1\nx") + '\0' + "\x1b[31m\xc3\xa9\"\\\nend 0\n";
  expect_error(bytes_of(odd), 14, R"(unknown event "x\x00\x1b[31m\xc3\xa9\x22\x5c" (expected a, f, r or end))", 2);
  EXPECT_FALSE(holds_unprintable(read_all(bytes_of(odd)).error().describe()));
  expect_error(bytes_of("nostd-trace 1\na 1 8 4\x07\nend 1\n"), 14, R"(alignment "4\x07" is not a power of two)", 2);

  // A corrupt line of 100,000 bytes is named by its first 32 and its length: the message stays one short line (it
  // had quoted the whole word).
  const std::string long_word(100'000, 'q');
  const std::string text = "nostd-trace 1\n" + long_word + "\nend 0\n";
  expect_error(bytes_of(text), 14, "unknown event \"" + long_word.substr(0, 32) + "\"... (a word of 100000 bytes)", 2);
  EXPECT_LT(read_all(bytes_of(text)).error().describe().size(), 200u);
  // Cut from the 33rd byte on: a word of 32 is shown whole, one of 33 is cut and its length given.
  expect_error(bytes_of("nostd-trace 1\n" + std::string(32, 'q') + "\nend 0\n"), 14,
               "unknown event \"" + std::string(32, 'q') + "\" (expected", 2);
  expect_error(bytes_of("nostd-trace 1\n" + std::string(33, 'q') + "\nend 0\n"), 14,
               "unknown event \"" + std::string(32, 'q') + "\"... (a word of 33 bytes)", 2);
  const std::string align_text = "nostd-trace 1\na 1 8 " + std::string(5000, '7') + "\nend 1\n";
  expect_error(bytes_of(align_text), 14, "(a word of 5000 bytes) is not a power of two", 2);
  EXPECT_LT(read_all(bytes_of(align_text)).error().describe().size(), 200u);
}

TEST(TraceFormatErrors, CorruptedCopiesNeverCrash) {
  // Every single-byte change of a valid trace (each byte set to each of its 255 other values) is either still a valid
  // trace or rejected with an offset inside it.
  const std::vector<std::byte> bin = binary(kSample);
  for (std::size_t i = 0; i < bin.size(); ++i) {
    for (unsigned k = 1; k < 256; ++k) {
      std::vector<std::byte> bad = bin;
      bad[i] = static_cast<std::byte>(static_cast<unsigned>(bin[i]) ^ k);
      const auto r = read_all(bad);
      if (!r) {
        EXPECT_LE(r.error().offset, bad.size());
      }
    }
  }
}

/// A path for a scratch file: under the test's temporary directory.
std::string scratch(const char* name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

/// `pairs` allocate-free pairs: 7 bytes a pair in the binary form, so 10000 take several reads of a file.
std::vector<TraceEvent> pairs_of(std::uint64_t pairs) {
  std::vector<TraceEvent> events;
  for (std::uint64_t i = 0; i < pairs; ++i) {
    events.push_back({EventKind::kAllocate, 0, i, 8});
    events.push_back({EventKind::kFree, 0, i, 0});
  }
  return events;
}

/// A valid binary trace of `pairs` allocate-free pairs.
std::vector<std::byte> long_binary(std::uint64_t pairs) { return binary(pairs_of(pairs)); }

/// read_trace_file's result for `bytes` written to a scratch file.
std::expected<std::vector<std::byte>, std::string> through_file(std::span<const std::byte> bytes,
                                                                std::size_t max_bytes = kMaxTraceFileBytes) {
  const std::string path = scratch("through_file.trace");
  EXPECT_TRUE(write_output(path, bytes));
  return read_trace_file(path.c_str(), max_bytes);
}

TEST(TraceFile, ValidTracesAreReadWholeOverManyReads) {
  const std::vector<std::byte> bin = long_binary(20000);
  ASSERT_GT(bin.size(), 2u * 65536);
  const auto text = convert(bin, TraceForm::kText);
  ASSERT_TRUE(text);
  std::vector<std::byte> commented = bytes_of(std::string(100000, '#') + "\n  \t\r\n\n");
  commented.insert(commented.end(), text->begin(), text->end());
  for (const std::vector<std::byte>* trace : {&bin, &std::as_const(*text), &std::as_const(commented)}) {
    const auto read = through_file(*trace);
    ASSERT_TRUE(read) << read.error();
    EXPECT_EQ(*read, *trace);
    EXPECT_TRUE(read_all(*read));
  }
}

TEST(TraceFile, StopsAtTheFirstBytesThatHoldAnErrorAndReportsItAsTheWholeFileWould) {
  std::vector<std::byte> bad_event = bytes_of(kTraceMagic);  // 140000 bytes of events, then an unknown tag
  for (const TraceEvent& e : pairs_of(20000)) append_binary(bad_event, e);
  bad_event.push_back(std::byte{0x7f});
  std::vector<std::byte> raw_header = bytes_of(record::kRawMagic);
  raw_header.resize(100000, std::byte{'x'});                  // no chunk header
  std::vector<std::byte> miscounted = bytes_of(kTraceMagic);  // an end record that counts one event too many
  for (const TraceEvent& e : pairs_of(10)) append_binary(miscounted, e);
  append_binary(miscounted, TraceEvent{EventKind::kEnd, 0, 21, 0});
  std::vector<std::byte> raw_end_with_bytes = bytes_of(record::kRawMagic);  // an end record claiming event bytes
  const record::RawChunkHeader end{record::kRawEndMagic, 4, 0};
  const auto* end_bytes = reinterpret_cast<const std::byte*>(&end);
  raw_end_with_bytes.insert(raw_end_with_bytes.end(), end_bytes, end_bytes + sizeof end);
  const std::vector<std::byte> cases[] = {
      std::vector<std::byte>(1 << 20, std::byte{0}),                            // /dev/zero
      bytes_of("# a comment\n\r\nnostd-trac 1\n" + std::string(1 << 20, 'a')),  // no text trace's first line
      bytes_of("\r\r\n" + std::string(1 << 20, 'a')),
      bad_event,
      raw_header,
      miscounted,
      raw_end_with_bytes,
  };
  for (std::vector<std::byte> bytes : cases) {
    const auto whole = read_all(bytes);
    ASSERT_FALSE(whole);
    bytes.resize(bytes.size() + (1 << 20), std::byte{0});  // what an endless input would go on with
    const auto read = through_file(bytes);
    ASSERT_TRUE(read) << read.error();
    EXPECT_LT(read->size(), bytes.size() - (1 << 19)) << "read on past the error: " << whole.error().describe();
    const auto prefix = read_all(*read);
    ASSERT_FALSE(prefix);
    EXPECT_EQ(prefix.error().describe(), whole.error().describe());
  }
}

TEST(TraceFile, BytesAfterTheEndRecordAreReadToBeCounted) {
  std::vector<std::byte> bin = long_binary(10);
  bin.resize(bin.size() + 200000, std::byte{0});
  const auto read = through_file(bin);
  ASSERT_TRUE(read) << read.error();
  EXPECT_EQ(read->size(), bin.size());
  const auto r = read_all(*read);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("200000 bytes after the end record"), std::string::npos) << r.error().describe();
}

TEST(TraceFile, RefusesAFileLargerThanTheLimit) {
  const std::vector<std::byte> bin = long_binary(20000);
  const auto over = through_file(bin, bin.size() - 1);
  ASSERT_FALSE(over);
  EXPECT_NE(over.error().find(": more than " + std::to_string(bin.size() - 1) +
                              " bytes, the most the trace tools read (they hold a trace in memory)"),
            std::string::npos)
      << over.error();
  EXPECT_TRUE(through_file(bin, bin.size()));
  const auto missing = read_trace_file(scratch("no_such.trace").c_str());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("cannot open "), std::string::npos);
  EXPECT_NE(missing.error().find(": No such file or directory"), std::string::npos);
}

}  // namespace
}  // namespace nostd::bench
