// tests/raw_trace_test.cc — the raw form the hosted recorder writes (record/raw_trace.h) and its conversion into
// a trace (bench/raw_trace_convert.h): interleaved thread chunks merged back into call order, addresses turned
// into ids (with the cases a recorder really meets: blocks from before recording, an address reused before its
// free was seen), the tools reading it as a trace, and one test per kind of bad input with its byte offset (and
// never a crash: every prefix and many corrupted copies are read too).
#include "record/raw_trace.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/raw_trace_convert.h"
#include "bench/trace.h"
#include "bench/trace_io.h"

// Every operator new and delete of this test counts the bytes malloc gives for them, so that a test can take the most
// the converter held at once (peak_new_bytes): deterministic, and a sanitizer's allocator reports its own sizes.
namespace {
std::size_t g_new_bytes = 0;   // held now
std::size_t g_peak_bytes = 0;  // the most held since peak_new_bytes started
}  // namespace

// GCC 12 at -O2 inlines the replaced operator delete into the others and then reports the free of a pointer that
// operator new[] "returned" (-Wmismatched-new-delete): here every one of them comes from malloc, as the pairs require.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  void* const p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) std::abort();  // no exceptions: out of memory ends the test
  g_new_bytes += malloc_usable_size(p);
  g_peak_bytes = std::max(g_peak_bytes, g_new_bytes);
  return p;
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  g_new_bytes -= std::min(g_new_bytes, malloc_usable_size(p));
  std::free(p);
}
void operator delete[](void* p) noexcept { ::operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { ::operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { ::operator delete(p); }
#pragma GCC diagnostic pop

namespace nostd::bench {
namespace {

/// The most bytes operator new held at once while `f` ran, beyond what it held before.
template <class F>
std::size_t peak_new_bytes(F&& f) {
  const std::size_t before = g_new_bytes;
  g_peak_bytes = before;
  f();
  return g_peak_bytes - before;
}

using record::RawChunkHeader;
using record::RawChunkState;
using record::RawEvent;

/// `events` encoded as a chunk's payload, as the recorder appends them (their `seq` fields set, increasing).
std::vector<unsigned char> encode_payload(const std::vector<RawEvent>& events) {
  std::vector<unsigned char> payload(events.size() * record::kMaxRawEventBytes);
  RawChunkState state{events.front().seq, 0};
  unsigned char* p = payload.data();
  for (const RawEvent& e : events) p = record::append_raw_event(p, e, state);
  payload.resize(static_cast<std::size_t>(p - payload.data()));
  return payload;
}

/// Builds raw traces as the recorder does: chunks of per-thread events, then the end record.
class RawWriter {
 public:
  RawWriter() { append(record::kRawMagic.data(), record::kRawMagic.size()); }
  /// One chunk holding `events` (their `seq` fields set, increasing).
  RawWriter& chunk(const std::vector<RawEvent>& events) {
    return chunk_bytes(events.front().seq, encode_payload(events));
  }
  /// One chunk of `bytes` as they are (events written by hand), its first call `first_seq`.
  RawWriter& chunk_bytes(std::uint64_t first_seq, const std::vector<unsigned char>& bytes) {
    const RawChunkHeader h{record::kRawChunkMagic, static_cast<std::uint32_t>(bytes.size()), first_seq};
    append(&h, sizeof h);
    append(bytes.data(), bytes.size());
    return *this;
  }
  /// The end record counting `calls`.
  std::vector<std::byte> end(std::uint64_t calls) {
    const RawChunkHeader h{record::kRawEndMagic, 0, calls};
    append(&h, sizeof h);
    return bytes_;
  }

 private:
  void append(const void* p, std::size_t n) {
    // resize and memcpy rather than insert: GCC 12 at -O2 reports insert's growth path as an overflow
    // (-Wstringop-overflow, a false positive), which broke `bazel build -c opt` of this test. An empty chunk's events
    // come from an empty vector, whose data() may be null, which memcpy may not be given.
    if (n == 0) return;
    const std::size_t old_size = bytes_.size();
    bytes_.resize(old_size + n);
    std::memcpy(bytes_.data() + old_size, p, n);
  }
  std::vector<std::byte> bytes_;
};

RawEvent alloc(std::uint64_t seq, std::uint64_t addr, std::uint64_t size, std::uint8_t align_log2 = 0) {
  return RawEvent{'A', align_log2, seq, addr, 0, size};
}
RawEvent release(std::uint64_t seq, std::uint64_t addr) { return RawEvent{'F', 0, seq, addr, 0, 0}; }
RawEvent resize(std::uint64_t seq, std::uint64_t addr, std::uint64_t new_addr, std::uint64_t size) {
  return RawEvent{'R', 0, seq, addr, new_addr, size};
}

struct Converted {
  std::vector<TraceEvent> events;
  RawStats stats;
};

std::expected<Converted, RawTraceError> convert_all(std::span<const std::byte> raw) {
  Converted c;
  const auto r = convert_raw_trace(raw, [&](const TraceEvent& e) { c.events.push_back(e); });
  if (!r) return std::unexpected(r.error());
  c.stats = *r;
  return c;
}

// Two threads' chunks, the second thread's calls interleaved with the first's: the merge restores call order,
// and a block freed by the other thread keeps its id.
std::vector<std::byte> two_threads() {
  return RawWriter()
      .chunk({alloc(0, 0x10000, 24), alloc(2, 0x10040, 100, 6), resize(4, 0x10000, 0x20000, 4000), release(6, 0x90000)})
      .chunk({alloc(1, 0x90000, 8), release(3, 0x10040), alloc(5, 0x10040, 7)})
      .end(7);
}

TEST(RawTrace, MergesThreadChunksIntoCallOrderAndNamesBlocksById) {
  const auto c = convert_all(two_threads());
  ASSERT_TRUE(c) << c.error().message;
  const std::vector<TraceEvent> expected = {
      {EventKind::kAllocate, 0, 1, 24}, {EventKind::kAllocate, 0, 2, 8},      {EventKind::kAllocate, 6, 3, 100},
      {EventKind::kFree, 0, 3, 0},      {EventKind::kReallocate, 0, 1, 4000}, {EventKind::kAllocate, 0, 4, 7},
      {EventKind::kFree, 0, 2, 0},
  };
  EXPECT_EQ(c->events, expected);
  EXPECT_EQ(c->stats.events, 7u);
  EXPECT_EQ(c->stats.chunks, 2u);
  EXPECT_EQ(c->stats.unmatched, 0u);
  EXPECT_EQ(c->stats.reordered, 0u);
}

TEST(RawTrace, ToolsReadTheRawFormAsATrace) {
  const std::vector<std::byte> raw = two_threads();
  std::vector<TraceEvent> got;
  const auto r = read_trace(raw, [&](const TraceEvent& e, std::size_t) -> std::optional<std::string> {
    got.push_back(e);
    return std::nullopt;
  });
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->form, TraceForm::kRaw);
  EXPECT_EQ(r->events, 7u);
  const auto replay = load_replay(raw);
  ASSERT_TRUE(replay) << replay.error().describe();
  EXPECT_EQ(replay->info.allocations, 4u);
  EXPECT_EQ(replay->info.frees, 2u);
  EXPECT_EQ(replay->reallocations, 1u);
  EXPECT_EQ(replay->aligned, 1u);
  // raw -> binary -> text -> binary: the binary forms are identical.
  const auto binary = raw_to_binary(raw);
  ASSERT_TRUE(binary);
  const auto text = convert(*binary, TraceForm::kText);
  ASSERT_TRUE(text);
  const auto again = convert(*text, TraceForm::kBinary);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *binary);
}

TEST(RawTrace, BlocksFromBeforeRecordingAreSkippedAndCounted) {
  const auto raw = RawWriter().chunk({release(0, 0x5000), resize(1, 0x6000, 0x7000, 64), release(2, 0x7000)}).end(3);
  const auto c = convert_all(raw);
  ASSERT_TRUE(c) << c.error().message;
  // The free of an unknown block is dropped; the realloc of one becomes an allocation, freed later.
  const std::vector<TraceEvent> expected = {{EventKind::kAllocate, 0, 1, 64}, {EventKind::kFree, 0, 1, 0}};
  EXPECT_EQ(c->events, expected);
  EXPECT_EQ(c->stats.unmatched, 2u);
}

TEST(RawTrace, AnAddressReusedBeforeItsFreeIsFreedFirst) {
  // A hook that reports a free after the release lets another thread's allocation of the address come first.
  const auto raw = RawWriter().chunk({alloc(0, 0x8000, 16), alloc(1, 0x8000, 32), release(2, 0x8000)}).end(3);
  const auto c = convert_all(raw);
  ASSERT_TRUE(c) << c.error().message;
  const std::vector<TraceEvent> expected = {{EventKind::kAllocate, 0, 1, 16},
                                            {EventKind::kFree, 0, 1, 0},
                                            {EventKind::kAllocate, 0, 2, 32},
                                            {EventKind::kFree, 0, 2, 0}};
  EXPECT_EQ(c->events, expected);
  EXPECT_EQ(c->stats.reordered, 1u);
  EXPECT_TRUE(raw_to_binary(raw));  // and the result is a valid trace
  std::vector<std::byte> bin = *raw_to_binary(raw);
  EXPECT_TRUE(convert(bin, TraceForm::kText));
}

TEST(RawTrace, ManyChunksCostLessMemoryThanTheFile) {
  // 100,000 chunks of one event each (the calls allocate and free one block in turn), then as many of one byte that is
  // no event: the converter had kept a header, a cursor and a decoded event per chunk, some 120 bytes where the file
  // holds 17 to 22 (a 1 GiB file of them took 7 to 8 GB); now 8 bytes, and a cursor for the chunks open at once.
  constexpr std::uint64_t kChunks = 100000;
  RawWriter valid;
  for (std::uint64_t i = 0; i < kChunks; ++i) valid.chunk({i % 2 == 0 ? alloc(i, 0x10000, 8) : release(i, 0x10000)});
  const std::vector<std::byte> one_event = valid.end(kChunks);
  std::uint64_t events = 0;
  const std::size_t valid_peak = peak_new_bytes([&] {
    const auto r = convert_raw_trace(one_event, [&events](const TraceEvent&) { ++events; });
    EXPECT_TRUE(r) << r.error().message;
  });
  EXPECT_EQ(events, kChunks);
  EXPECT_LT(valid_peak, one_event.size() / 2) << "for a file of " << one_event.size() << " bytes";

  RawWriter bogus;
  for (std::uint64_t i = 0; i < kChunks; ++i) bogus.chunk_bytes(i, {'Z'});
  const std::vector<std::byte> no_event = bogus.end(kChunks);
  const std::size_t bogus_peak = peak_new_bytes([&] {
    const auto r = convert_all(no_event);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().offset, 8 + sizeof(RawChunkHeader));
    EXPECT_EQ(r.error().message, "corrupt event in the chunk at byte 8");
  });
  EXPECT_LT(bogus_peak, no_event.size()) << "for a file of " << no_event.size() << " bytes";
}

TEST(RawTrace, ManyLiveBlocksGrowTheTable) {
  std::vector<RawEvent> events;
  for (std::uint64_t i = 0; i < 5000; ++i) events.push_back(alloc(i, 0x100000 + 16 * i, 8));
  for (std::uint64_t i = 0; i < 5000; ++i) events.push_back(release(5000 + i, 0x100000 + 16 * (4999 - i)));
  const auto c = convert_all(RawWriter().chunk(events).end(10000));
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->events.size(), 10000u);
  for (std::uint64_t i = 0; i < 5000; ++i) EXPECT_EQ(c->events[5000 + i].id, 5000 - i);
  EXPECT_EQ(c->stats.unmatched, 0u);
}

void expect_error(const std::vector<std::byte>& raw, std::size_t offset, std::string_view words) {
  const auto c = convert_all(raw);
  ASSERT_FALSE(c) << "accepted a bad raw trace";
  EXPECT_EQ(c.error().offset, offset) << c.error().message;
  EXPECT_NE(c.error().message.find(words), std::string::npos) << c.error().message;
  // The tools report it, with the offset, as a trace error.
  const auto r = load_replay(raw);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().offset, offset);
  EXPECT_NE(r.error().describe().find("raw trace"), std::string::npos) << r.error().describe();
}

TEST(RawTraceErrors, NotRaw) {
  auto raw = two_threads();
  raw[7] = std::byte{'2'};
  const auto c = convert_all(raw);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().offset, 0u);
  EXPECT_NE(c.error().message.find("not a raw trace"), std::string::npos);
}

TEST(RawTraceErrors, MissingEndRecord) {
  auto raw = two_threads();
  raw.resize(raw.size() - sizeof(RawChunkHeader));
  expect_error(raw, raw.size(), "without its end record");
}

TEST(RawTraceErrors, BytesAfterTheEndRecord) {
  auto raw = two_threads();
  const std::size_t end = raw.size();
  raw.push_back(std::byte{0});
  expect_error(raw, end, "1 bytes after the end record");
}

TEST(RawTraceErrors, WrongChunkMagic) {
  auto raw = two_threads();
  raw[8] = std::byte{'X'};
  expect_error(raw, 8, "not a chunk header");
}

TEST(RawTraceErrors, ChunkLongerThanTheFile) {
  auto raw = two_threads();
  const std::uint32_t huge = 1u << 30;
  std::memcpy(raw.data() + 8 + 4, &huge, sizeof huge);
  expect_error(raw, 8, "truncated");
}

TEST(RawTraceErrors, AnEmptyChunkIsRefused) {
  // The recorder writes none; a file of them (1 GiB of 16-byte headers) had been converted into an empty trace with
  // 7-8 GB of state for chunks that hold nothing. The error is at the empty chunk's header.
  expect_error(RawWriter().chunk_bytes(0, {}).end(0), 8, "empty chunk: a chunk holds at least one event");
  auto raw = RawWriter().chunk({alloc(0, 0x10000, 24)}).chunk_bytes(1, {}).end(1);
  expect_error(raw, raw.size() - 2 * sizeof(RawChunkHeader), "empty chunk");
}

TEST(RawTraceErrors, ACallBeforeItsChunksFirstIsCorrupt) {
  // A chunk whose header says its first call is number 5 and whose first event's delta wraps past 2^64 to call 0:
  // the converter opens chunks in the order of their first calls, so a call before it is corrupt (it had been read as
  // call 0, and this file converted).
  unsigned char event[record::kMaxRawEventBytes];
  RawChunkState state{5, 0};
  unsigned char* const end = record::append_raw_event(event, alloc(0, 0x10000, 8), state);
  expect_error(RawWriter().chunk_bytes(5, std::vector<unsigned char>(event, end)).end(1), 8 + sizeof(RawChunkHeader),
               "call numbers go backwards within a chunk");
}

TEST(RawTraceErrors, ANullBlockAddressIsCorrupt) {
  // malloc never returns a null block, nor realloc a null new block for a call it recorded: an address of 0 is a
  // corrupt event, reported at its chunk, as an allocate, a free or a resize's old or new address.
  const std::vector<std::vector<RawEvent>> chunks = {{alloc(0, 0, 24)},
                                                     {alloc(0, 0x10000, 24), release(1, 0)},
                                                     {alloc(0, 0x10000, 24), resize(1, 0, 0x20000, 48)},
                                                     {alloc(0, 0x10000, 24), resize(1, 0x10000, 0, 48)}};
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    SCOPED_TRACE(i);
    expect_error(RawWriter().chunk(chunks[i]).end(chunks[i].size()), 8, "a null block address");
  }
}

TEST(RawTraceErrors, UnknownEventKind) {
  auto raw = two_threads();
  raw[8 + sizeof(RawChunkHeader)] = std::byte{'Z'};
  expect_error(raw, 8 + sizeof(RawChunkHeader), "corrupt event in the chunk at byte 8");
}

TEST(RawTraceErrors, ATenthVarintByteAboveOneIsCorrupt) {
  // An allocate of 100 bytes at 0x10000 whose size takes 10 bytes: 0xe4 and eight continuation bytes, then the 10th,
  // which may hold bit 63 only. Above 1 it would carry bits past 64 (2 read as 0: the size 100, silently); with its
  // high bit set an 11th byte follows.
  const auto allocate = [](std::initializer_list<unsigned char> tail) {
    std::vector<unsigned char> event = {'A', 0x00, 0x80, 0x80, 0x08, 0xe4};  // seq delta 0, zigzag(0x10000)
    for (int i = 0; i < 8; ++i) event.push_back(0x80);
    event.insert(event.end(), tail);
    return RawWriter().chunk_bytes(0, event).end(1);
  };
  for (unsigned char tenth : std::initializer_list<unsigned char>{0x02, 0x03, 0x7f}) {
    SCOPED_TRACE(static_cast<int>(tenth));
    expect_error(allocate({tenth}), 8 + sizeof(RawChunkHeader), "corrupt event in the chunk at byte 8");
  }
  expect_error(allocate({0x81, 0x00}), 8 + sizeof(RawChunkHeader), "corrupt event in the chunk at byte 8");
  // 1 is bit 63: a size of 2^63 + 100.
  const auto c = convert_all(allocate({0x01}));
  ASSERT_TRUE(c) << c.error().message;
  const std::vector<TraceEvent> expected = {{EventKind::kAllocate, 0, 1, (std::uint64_t{1} << 63) + 100}};
  EXPECT_EQ(c->events, expected);
}

TEST(RawTraceErrors, AVarintNotInItsShortestFormIsCorrupt) {
  // An allocate of 100 bytes at 0x10000, once in the shortest form, then with a last byte of 0 after others in each of
  // its varints in turn: the sequence delta (0 as 80 00), the address's (80 80 88 00) and the size (e4 80 00). The
  // recorder writes the shortest form only; another is a corrupt event.
  const std::vector<unsigned char> shortest = {'A', 0x00, 0x80, 0x80, 0x08, 0x64};
  const auto c = convert_all(RawWriter().chunk_bytes(0, shortest).end(1));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->events, (std::vector<TraceEvent>{{EventKind::kAllocate, 0, 1, 100}}));
  for (const std::vector<unsigned char>& event :
       {std::vector<unsigned char>{'A', 0x80, 0x00, 0x80, 0x80, 0x08, 0x64},
        std::vector<unsigned char>{'A', 0x00, 0x80, 0x80, 0x88, 0x00, 0x64},
        std::vector<unsigned char>{'A', 0x00, 0x80, 0x80, 0x08, 0xe4, 0x80, 0x00}}) {
    expect_error(RawWriter().chunk_bytes(0, event).end(1), 8 + sizeof(RawChunkHeader),
                 "corrupt event in the chunk at byte 8");
  }
}

TEST(RawTrace, TheWriterUsesEachVarintsShortestForm) {
  // Sizes of every bit length from 0 to 64, at both ends: an allocate at the chunk's first call and address
  // 0x10000 takes its kind, 1 byte of sequence delta, 3 of address and one byte per 7 bits of the size (at least one),
  // and reads back.
  for (int bits = 0; bits <= 64; ++bits) {
    const std::uint64_t top = bits == 64 ? UINT64_MAX : (std::uint64_t{1} << bits) - 1;
    for (const std::uint64_t size : {bits == 0 ? std::uint64_t{0} : std::uint64_t{1} << (bits - 1), top}) {
      unsigned char buf[record::kMaxRawEventBytes];
      RawChunkState state{0, 0};
      const unsigned char* const end = record::append_raw_event(buf, alloc(0, 0x10000, size), state);
      EXPECT_EQ(end - buf, 1 + 1 + 3 + std::max(1, (bits + 6) / 7)) << size;
      record::RawChunkCursor cursor(buf, end, 0);
      RawEvent e;
      ASSERT_TRUE(cursor.next(e)) << size;
      EXPECT_EQ(e.size, size);
    }
  }
}

// Addresses anywhere in the 64 bits (a tagged pointer sets its top byte) read back exactly: address deltas of 2^62 and
// more, both ways, are where a zigzag that shifts the sign by less than 63 bits loses the delta.
TEST(RawTrace, AddressDeltasOfAnySizeReadBack) {
  const std::uint64_t addresses[] = {0x10,
                                     (std::uint64_t{1} << 62) + 0x10,
                                     (std::uint64_t{1} << 63) + 0x10,
                                     0x10,
                                     UINT64_MAX - 0xf,
                                     (std::uint64_t{1} << 62) - 0x10,
                                     0x20};
  std::vector<RawEvent> events;
  for (std::uint64_t i = 0; i < std::size(addresses); ++i) events.push_back(alloc(i, addresses[i], 24));
  events.push_back(resize(std::size(addresses), 0x10, (std::uint64_t{3} << 62) + 0x40, 100));
  const std::vector<unsigned char> payload = encode_payload(events);
  record::RawChunkCursor cursor(payload.data(), payload.data() + payload.size(), 0);
  for (const RawEvent& want : events) {
    RawEvent e;
    ASSERT_TRUE(cursor.next(e));
    EXPECT_EQ(e.addr, want.addr);
    EXPECT_EQ(e.new_addr, want.new_addr);
    EXPECT_EQ(e.seq, want.seq);
    EXPECT_EQ(e.size, want.size);
  }
  RawEvent e;
  EXPECT_FALSE(cursor.next(e));
  EXPECT_FALSE(cursor.malformed());
}

// An event cut after its kind byte, or an aligned allocate cut before its alignment byte, is malformed at its first
// byte. The bytes sit in a buffer of their own size, so that a sanitizer sees a read past the chunk's end (the
// alignment byte was once read before its bound was checked: the same result on the host, a read out of bounds).
TEST(RawTraceErrors, AnEventCutInsideItsHeadIsMalformed) {
  for (const unsigned char kind : {'a', 'A', 'F', 'R'}) {
    const auto bytes = std::make_unique<unsigned char[]>(1);
    bytes[0] = kind;
    record::RawChunkCursor cursor(bytes.get(), bytes.get() + 1, 0);
    RawEvent e;
    EXPECT_FALSE(cursor.next(e)) << kind;
    EXPECT_TRUE(cursor.malformed()) << kind;
    EXPECT_EQ(cursor.position(), bytes.get()) << kind;
  }
}

// A cursor fills every field of the event it decodes, so that one RawEvent can be reused (the converter does): a plain
// allocate after an aligned one has alignment 0, a free after a reallocate has no new address and no size.
TEST(RawTrace, AReusedEventKeepsNothingOfThePreviousOne) {
  const std::vector<RawEvent> events = {alloc(0, 0x10000, 24, 6), alloc(1, 0x20000, 32),
                                        resize(2, 0x20000, 0x30000, 64), release(3, 0x30000), release(4, 0x10000)};
  const std::vector<unsigned char> payload = encode_payload(events);
  record::RawChunkCursor cursor(payload.data(), payload.data() + payload.size(), 0);
  RawEvent e;
  for (const RawEvent& want : events) {
    ASSERT_TRUE(cursor.next(e));
    EXPECT_EQ(e.kind, want.kind);
    EXPECT_EQ(e.align_log2, want.align_log2) << "seq " << want.seq;
    EXPECT_EQ(e.seq, want.seq);
    EXPECT_EQ(e.addr, want.addr);
    EXPECT_EQ(e.new_addr, want.new_addr) << "seq " << want.seq;
    EXPECT_EQ(e.size, want.size) << "seq " << want.seq;
  }
  // Through the converter: the plain allocate after the aligned one is recorded with the default alignment.
  const auto c = convert_all(RawWriter().chunk(events).end(events.size()));
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->events.size(), 5u);  // 2 allocates, 1 reallocate, 2 frees
  EXPECT_EQ(c->events[0].align_log2, 6);
  EXPECT_EQ(c->events[1].align_log2, 0);
}

// The 8 bytes of the magic alone are a raw trace, one that stopped before its end record: the error says so, at the
// end of the bytes, rather than calling them no raw trace.
TEST(RawTraceErrors, TheMagicAloneIsARawTraceWithoutItsEndRecord) {
  const std::vector<std::byte> raw = RawWriter().end(0);
  const std::vector<std::byte> magic(raw.begin(), raw.begin() + 8);
  EXPECT_TRUE(record::is_raw_trace(magic.data(), magic.size()));
  EXPECT_FALSE(record::is_raw_trace(magic.data(), magic.size() - 1));
  expect_error(magic, 8, "without its end record");
}

TEST(RawTraceErrors, ALostBufferShowsAsAMissingCall) {
  // The second thread's chunk (calls 1, 3, 5) is missing.
  const auto raw =
      RawWriter().chunk({alloc(0, 0x10000, 24), alloc(2, 0x10040, 100), resize(4, 0x10000, 0x20000, 4000)}).end(7);
  expect_error(raw, 8, "call number 1 is missing");
}

TEST(RawTraceErrors, ABufferWrittenTwiceShowsAsARepeatedCall) {
  // Calls 0-2 in one chunk, then the same chunk again (a forked child that wrote its copy of the parent's buffer).
  const auto raw = RawWriter()
                       .chunk({alloc(0, 0x10000, 24), alloc(1, 0x10040, 100), resize(2, 0x10000, 0x20000, 4000)})
                       .chunk({alloc(0, 0x10000, 24), alloc(1, 0x10040, 100), resize(2, 0x10000, 0x20000, 4000)})
                       .end(6);
  // The magic, two chunks of one size, the end record: the second chunk starts half-way between the magic and the end.
  const std::size_t magic = record::kRawMagic.size();
  expect_error(raw, magic + (raw.size() - magic - sizeof(RawChunkHeader)) / 2, "call number 0 appears twice");
}

TEST(RawTraceErrors, EndRecordCountMismatch) {
  auto raw = RawWriter().chunk({alloc(0, 0x10000, 24)}).end(2);
  expect_error(raw, raw.size() - sizeof(RawChunkHeader), "the end record counts 2 calls, the chunks hold 1");
}

TEST(RawTraceErrors, EveryPrefixIsRejectedWithoutACrash) {
  const auto raw = two_threads();
  for (std::size_t n = 0; n < raw.size(); ++n) {
    const auto c = convert_all(std::span(raw).first(n));
    ASSERT_FALSE(c) << "a raw trace cut to " << n << " bytes was accepted";
    EXPECT_LE(c.error().offset, n);
  }
}

TEST(RawTraceErrors, CorruptedCopiesNeverCrash) {
  // Every single-byte change (each byte set to each of its 255 other values) is rejected with an offset inside the
  // file, or converts into a valid trace.
  const auto raw = two_threads();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    for (unsigned k = 1; k < 256; ++k) {
      std::vector<std::byte> bad = raw;
      bad[i] = static_cast<std::byte>(static_cast<unsigned>(raw[i]) ^ k);
      const auto binary = raw_to_binary(bad);
      if (binary) {
        EXPECT_TRUE(convert(*binary, TraceForm::kText)) << "byte " << i << ": converted into an invalid trace";
      } else {
        EXPECT_LE(binary.error().offset, bad.size());
      }
    }
  }
}

}  // namespace
}  // namespace nostd::bench
