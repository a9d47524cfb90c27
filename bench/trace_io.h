// bench/trace_io.h — reading, validating and writing recorded traces (format: record/trace_format.h), and
// turning one into the replay's operations (bench/trace.h's Op, on dense slots).
//
// Reading validates everything a replay relies on and stops at the first problem with a TraceError naming the
// byte offset (and, in the text form, the line): a file that is neither form, a truncated or corrupt event, an
// unknown event, a free or reallocate of an id that is not live (never allocated, or already freed), an
// allocate of an id that is still live, a missing or wrong end record, bytes after the end record. A reader never
// crashes on bad input and never reads past the buffer. Files are read by read_trace_file, at most
// kMaxTraceFileBytes of them and no further than their first bytes that already show an error, so that an input
// that never ends (a device, a pipe) stops in bounded memory.
//
// Ids become slots: each allocate reuses the most recently freed slot (a stack of freed slots) or takes a new one,
// so the slot table of a replay is as large as the most blocks ever live at once, whatever ids the recorder chose.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bench/raw_trace_convert.h"
#include "bench/replay_passes.h"
#include "bench/trace.h"
#include "record/trace_format.h"

namespace nostd::bench {

using record::EventKind;
using record::TraceEvent;

/// Why a trace was rejected, and where.
struct TraceError {
  std::size_t offset = 0;  ///< byte offset of the offending event or byte
  std::size_t line = 0;    ///< text form: line number (1-based); 0 for the binary form
  std::string message;     ///< what is wrong

  /// "byte 123 (line 4): free of id 9, which is not live (never allocated, or already freed)".
  std::string describe() const {
    std::string s = "byte " + std::to_string(offset);
    if (line > 0) s += " (line " + std::to_string(line) + ")";
    return s + ": " + message;
  }
};

/// The encodings of a trace: the two of record/trace_format.h, and the raw form the hosted recorder writes
/// (record/raw_trace.h), which is converted to the binary form when read.
enum class TraceForm { kBinary, kText, kRaw };

/// What reading a whole trace found.
struct TraceSummary {
  TraceForm form = TraceForm::kBinary;  ///< the encoding read
  std::uint64_t events = 0;             ///< events before the end record
};

/// Tracks which ids are live while a trace is read, and where each was allocated (for error messages).
class IdTracker {
 public:
  /// Checks `e` (read at `offset`) against the live ids and applies it; returns the error message, if any.
  std::optional<std::string> apply(const TraceEvent& e, std::size_t offset) {
    switch (e.kind) {
      case EventKind::kAllocate: {
        const auto [it, inserted] = live_.try_emplace(e.id, offset);
        if (!inserted) {
          return "allocate of id " + std::to_string(e.id) + ", which is still live (allocated at byte " +
                 std::to_string(it->second) + ")";
        }
        return std::nullopt;
      }
      case EventKind::kFree:
        if (live_.erase(e.id) == 0) {
          return "free of id " + std::to_string(e.id) + ", which is not live (never allocated, or already freed)";
        }
        return std::nullopt;
      case EventKind::kReallocate:
        if (!live_.contains(e.id)) {
          return "reallocate of id " + std::to_string(e.id) + ", which is not live (never allocated, or already freed)";
        }
        return std::nullopt;
      case EventKind::kEnd:
        return std::nullopt;
    }
    return "unknown event";
  }

 private:
  std::unordered_map<std::uint64_t, std::size_t> live_;  // id -> offset of its allocate event
};

namespace internal {

/// True when `bytes` start like the text form (its magic word, possibly after comments and blank lines).
inline bool looks_like_text(std::span<const std::byte> bytes) {
  std::string_view s(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  while (!s.empty()) {
    const std::size_t eol = s.find('\n');
    std::string_view line = s.substr(0, eol);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (!line.empty() && line.front() != '#' && line != "\r") return line.starts_with(record::kTextMagic);
    if (eol == std::string_view::npos) break;
    s.remove_prefix(eol + 1);
  }
  return false;
}

/// Splits `line` into at most `max` whitespace-separated words; returns the count (max + 1 when more).
inline std::size_t split_words(std::string_view line, std::string_view* words, std::size_t max) {
  std::size_t n = 0;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    if (i >= line.size()) break;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (n == max) return max + 1;
    words[n++] = line.substr(i, j - i);
    i = j;
  }
  return n;
}

/// Parses a decimal unsigned 64-bit number that is the whole of `word` into `*v`; false if it is not one. (A
/// bool and an out-parameter rather than std::optional: GCC 12 at -O2 misreports optionals read after checks.)
inline bool parse_u64(std::string_view word, std::uint64_t* v) {
  *v = 0;
  const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), *v);
  return ec == std::errc{} && end == word.data() + word.size() && !word.empty();
}

/// How many bytes of a word quoted_word shows before it cuts the word.
inline constexpr std::size_t kQuotedWordBytes = 32;

/// `word`, a word of a text trace, as an error message quotes it: in double quotes, a byte that is not printable
/// ASCII (a control byte, a NUL, a byte of a multi-byte character), a quote or a backslash escaped as \xHH, and a
/// word longer than kQuotedWordBytes cut there, with its length. A line of a corrupt file may be of any length and
/// hold any byte: quoted as it was, a 10 MB line made a 10 MB "line" of error, an escape sequence reached the
/// terminal, and a NUL ended the message where the tools print it with %s.
inline std::string quoted_word(std::string_view word) {
  std::string out = "\"";
  for (const char c : word.substr(0, kQuotedWordBytes)) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b > 0x7e || c == '"' || c == '\\') {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned>(b));
      out += hex;
    } else {
      out += c;
    }
  }
  out += '"';
  if (word.size() > kQuotedWordBytes) out += "... (a word of " + std::to_string(word.size()) + " bytes)";
  return out;
}

/// Reads the binary form; see read_trace.
template <class Sink>
std::expected<TraceSummary, TraceError> read_binary(std::span<const std::byte> bytes, Sink& sink) {
  TraceSummary summary{TraceForm::kBinary, 0};
  const std::size_t magic = record::kTraceMagic.size();
  if (bytes.size() < magic ||
      std::string_view(reinterpret_cast<const char*>(bytes.data()), magic) != record::kTraceMagic) {
    return std::unexpected(TraceError{
        0, 0,
        "not a trace: a binary trace starts with \"NSTRACE1\", a raw recording with \"NSTRRAW1\", a text trace with "
        "\"nostd-trace 1\""});
  }
  IdTracker ids;
  std::size_t pos = magic;
  while (true) {
    if (pos == bytes.size()) {
      return std::unexpected(TraceError{pos, 0,
                                        "the trace ends without an end record (truncated, or the "
                                        "recording program did not finish)"});
    }
    const record::Decoded d = record::decode(bytes, pos);
    if (d.error != record::DecodeError::kNone) {
      std::string msg = record::describe(d.error);
      if (d.error == record::DecodeError::kUnknownEvent) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned>(bytes[d.error_offset]));
        msg += std::string(" ") + hex;
      }
      if (d.error_offset != pos) msg += " (event starts at byte " + std::to_string(pos) + ")";
      return std::unexpected(TraceError{d.error_offset, 0, msg});
    }
    if (d.event.kind == EventKind::kEnd) {
      if (d.event.id != summary.events) {
        return std::unexpected(TraceError{pos, 0,
                                          "the end record counts " + std::to_string(d.event.id) +
                                              " events, the trace has " + std::to_string(summary.events)});
      }
      if (d.next != bytes.size()) {
        return std::unexpected(
            TraceError{d.next, 0, std::to_string(bytes.size() - d.next) + " bytes after the end record"});
      }
      return summary;
    }
    if (std::optional<std::string> err = ids.apply(d.event, pos)) return std::unexpected(TraceError{pos, 0, *err});
    if (std::optional<std::string> err = sink(d.event, pos)) return std::unexpected(TraceError{pos, 0, *err});
    ++summary.events;
    pos = d.next;
  }
}

/// Reads the text form; see read_trace.
template <class Sink>
std::expected<TraceSummary, TraceError> read_text(std::span<const std::byte> bytes, Sink& sink) {
  TraceSummary summary{TraceForm::kText, 0};
  const std::string_view s(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  IdTracker ids;
  bool header = false;
  bool ended = false;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < s.size()) {
    const std::size_t eol = std::min(s.find('\n', pos), s.size());
    const std::string_view line = s.substr(pos, eol - pos);
    const std::size_t offset = pos;
    ++line_no;
    pos = eol + 1;
    std::string_view w[5];
    const std::size_t n = split_words(line, w, 4);
    if (n == 0 || w[0].front() == '#') continue;
    auto fail = [&](std::string msg) { return std::unexpected(TraceError{offset, line_no, std::move(msg)}); };
    if (ended) return fail("data after the end record");
    if (!header) {
      if (n != 2 || w[0] != record::kTextMagic || w[1] != "1") {
        return fail("not a trace: the first line of a text trace is \"nostd-trace 1\"");
      }
      header = true;
      continue;
    }
    TraceEvent e;
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    const bool has_a = n >= 2 && parse_u64(w[1], &a);
    const bool has_b = n >= 3 && parse_u64(w[2], &b);
    if (w[0] == "a") {
      if (n < 3 || n > 4 || !has_a || !has_b) return fail("expected \"a ID SIZE [ALIGN]\"");
      e = TraceEvent{EventKind::kAllocate, 0, a, b};
      if (n == 4) {
        std::uint64_t align = 0;
        if (!parse_u64(w[3], &align) || align == 0 || (align & (align - 1)) != 0 ||
            align > (std::uint64_t{1} << record::kMaxAlignLog2)) {
          return fail("alignment " + quoted_word(w[3]) + " is not a power of two up to 2^30");
        }
        // The exponent as written, even at or below the default here (which load_replay treats as the default): a
        // trace recorded where max_align_t is smaller holds them, and binary -> text -> binary is byte-exact.
        while ((std::uint64_t{1} << e.align_log2) < align) ++e.align_log2;
      }
    } else if (w[0] == "f") {
      if (n != 2 || !has_a) return fail("expected \"f ID\"");
      e = TraceEvent{EventKind::kFree, 0, a, 0};
    } else if (w[0] == "r") {
      if (n != 3 || !has_a || !has_b) return fail("expected \"r ID SIZE\"");
      e = TraceEvent{EventKind::kReallocate, 0, a, b};
    } else if (w[0] == "end") {
      if (n != 2 || !has_a) return fail("expected \"end COUNT\"");
      if (a != summary.events) {
        return fail("the end record counts " + std::to_string(a) + " events, the trace has " +
                    std::to_string(summary.events));
      }
      ended = true;
      continue;
    } else {
      return fail("unknown event " + quoted_word(w[0]) + " (expected a, f, r or end)");
    }
    if (std::optional<std::string> err = ids.apply(e, offset)) return fail(*err);
    if (std::optional<std::string> err = sink(e, offset)) return fail(*err);
    ++summary.events;
  }
  if (!header) return std::unexpected(TraceError{0, 0, "not a trace: empty"});
  if (!ended) {
    return std::unexpected(TraceError{s.size(), line_no,
                                      "the trace ends without an end record (truncated, or the "
                                      "recording program did not finish)"});
  }
  return summary;
}

}  // namespace internal

/// Reads a whole trace in either form (told apart by its first bytes), validating it, and passes every event
/// with its byte offset to `sink(const TraceEvent&, std::size_t offset) -> std::optional<std::string>`; a sink
/// that returns a message stops the read with that error at that offset. The end record is checked, not passed.
/// A raw trace is converted first (bench/raw_trace_convert.h); its errors name the byte offset in the raw file.
template <class Sink>
std::expected<TraceSummary, TraceError> read_trace(std::span<const std::byte> bytes, Sink&& sink) {
  if (record::is_raw_trace(bytes.data(), bytes.size())) {
    const auto binary = raw_to_binary(bytes);
    if (!binary) return std::unexpected(TraceError{binary.error().offset, 0, "raw trace: " + binary.error().message});
    auto summary = internal::read_binary(std::span<const std::byte>(*binary), sink);
    if (summary) summary->form = TraceForm::kRaw;
    return summary;
  }
  if (internal::looks_like_text(bytes)) return internal::read_text(bytes, sink);
  return internal::read_binary(bytes, sink);
}

/// Appends the binary encoding of `e` to `out`.
inline void append_binary(std::vector<std::byte>& out, const TraceEvent& e) {
  std::byte buf[record::kMaxEventBytes];
  const std::size_t n = record::encode(e, buf);
  out.insert(out.end(), buf, buf + n);
}

/// Appends the text line of `e` (with its newline) to `out`.
inline void append_text(std::string& out, const TraceEvent& e) {
  char buf[96];
  const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  switch (e.kind) {
    case EventKind::kAllocate:
      if (e.align_log2 == 0) {
        std::snprintf(buf, sizeof buf, "a %llu %llu\n", u(e.id), u(e.size));
      } else {
        std::snprintf(buf, sizeof buf, "a %llu %llu %llu\n", u(e.id), u(e.size), u(std::uint64_t{1} << e.align_log2));
      }
      break;
    case EventKind::kFree:
      std::snprintf(buf, sizeof buf, "f %llu\n", u(e.id));
      break;
    case EventKind::kReallocate:
      std::snprintf(buf, sizeof buf, "r %llu %llu\n", u(e.id), u(e.size));
      break;
    case EventKind::kEnd:
      std::snprintf(buf, sizeof buf, "end %llu\n", u(e.id));
      break;
  }
  out += buf;
}

/// Converts a valid trace in either form to `to`: the binary bytes, or the text.
inline std::expected<std::vector<std::byte>, TraceError> convert(std::span<const std::byte> in, TraceForm to) {
  std::vector<std::byte> bin;
  std::string text;
  if (to == TraceForm::kBinary) {
    bin.assign(reinterpret_cast<const std::byte*>(record::kTraceMagic.data()),
               reinterpret_cast<const std::byte*>(record::kTraceMagic.data()) + record::kTraceMagic.size());
  } else {
    text = "nostd-trace 1\n";
  }
  const auto r = read_trace(in, [&](const TraceEvent& e, std::size_t) -> std::optional<std::string> {
    if (to == TraceForm::kBinary) {
      append_binary(bin, e);
    } else {
      append_text(text, e);
    }
    return std::nullopt;
  });
  if (!r) return std::unexpected(r.error());
  const TraceEvent end{EventKind::kEnd, 0, r->events, 0};
  if (to == TraceForm::kBinary) {
    append_binary(bin, end);
    return bin;
  }
  append_text(text, end);
  const auto* p = reinterpret_cast<const std::byte*>(text.data());
  return std::vector<std::byte>(p, p + text.size());
}

/// A recorded trace as the replay loops take it.
struct ReplayTrace {
  Trace ops;                ///< the operations, on dense slots
  std::uint32_t slots = 0;  ///< slot table size: the most blocks live at once
  TraceInfo info;           ///< counts; drain_begin = the operation index at which live bytes peak (the snapshot)
  std::uint64_t reallocations = 0;  ///< reallocate operations
  std::uint64_t aligned = 0;        ///< allocations with an alignment above the default
  std::uint64_t max_size = 0;       ///< largest request
};

/// Reads and validates a trace (either form) into replay operations; an alignment no stricter than
/// alignof(std::max_align_t) becomes the default. Fails as read_trace does, and on a request of 4 GiB or more (the
/// replay keeps sizes in 32 bits).
inline std::expected<ReplayTrace, TraceError> load_replay(std::span<const std::byte> bytes) {
  ReplayTrace t;
  std::unordered_map<std::uint64_t, std::uint32_t> slot_of;
  std::vector<std::uint32_t> size_of;  // by slot
  std::vector<std::uint32_t> free_slots;
  std::uint64_t live_bytes = 0;
  std::uint32_t live_blocks = 0;
  const auto r = read_trace(bytes, [&](const TraceEvent& e, std::size_t) -> std::optional<std::string> {
    if (e.size > UINT32_MAX) return "request of " + std::to_string(e.size) + " bytes: the replay handles < 4 GiB";
    const auto size = static_cast<std::uint32_t>(e.size);
    switch (e.kind) {
      case EventKind::kAllocate: {
        std::uint32_t slot;
        if (free_slots.empty()) {
          slot = t.slots++;
          size_of.push_back(0);
        } else {
          slot = free_slots.back();
          free_slots.pop_back();
        }
        slot_of[e.id] = slot;
        size_of[slot] = size;
        // An exponent no stricter than this machine's default (a trace recorded where max_align_t is smaller, or
        // written by hand) is the default here: allocate_aligned takes only alignments above it.
        const std::uint8_t align_log2 =
            (std::uint64_t{1} << e.align_log2) > alignof(std::max_align_t) ? e.align_log2 : 0;
        t.ops.push_back(Op{OpKind::kAllocate, align_log2, slot, size});
        ++t.info.allocations;
        if (align_log2 != 0) ++t.aligned;
        live_bytes += size;
        ++live_blocks;
        break;
      }
      case EventKind::kFree: {
        const auto it = slot_of.find(e.id);
        const std::uint32_t slot = it->second;  // the IdTracker has checked that the id is live
        slot_of.erase(it);
        t.ops.push_back(Op{OpKind::kFree, 0, slot, size_of[slot]});
        ++t.info.frees;
        live_bytes -= size_of[slot];
        --live_blocks;
        free_slots.push_back(slot);
        break;
      }
      case EventKind::kReallocate: {
        const std::uint32_t slot = slot_of.find(e.id)->second;
        t.ops.push_back(Op{OpKind::kReallocate, 0, slot, size});
        ++t.reallocations;
        live_bytes = live_bytes - size_of[slot] + size;
        size_of[slot] = size;
        break;
      }
      case EventKind::kEnd:
        break;
    }
    t.max_size = std::max<std::uint64_t>(t.max_size, size);
    if (live_bytes > t.info.peak_live_bytes) {
      t.info.peak_live_bytes = live_bytes;
      t.info.drain_begin = t.ops.size();  // the state right after this operation is the peak
    }
    t.info.peak_live_blocks = std::max(t.info.peak_live_blocks, live_blocks);
    return std::nullopt;
  });
  if (!r) return std::unexpected(r.error());
  t.info.calls = t.ops.size();
  return t;
}

/// The most bytes read_trace_file reads: 1 GiB. The tools hold a whole trace in memory (and replay its operations
/// too), so an endless input (a device, a pipe) must stop somewhere; a trace holds about 5 bytes a call, so this is
/// some 200 M calls, 50 times the 3.9 M-call Python trace (18-20 MB).
inline constexpr std::size_t kMaxTraceFileBytes = std::size_t{1} << 30;

namespace internal {

/// Watches the bytes of a trace file as they are read, so that a reader stops at the first piece that already
/// holds an error instead of reading on (a corrupt device or pipe may never end). Checks only what a prefix can
/// show and the reader reports the same way from the prefix: the first bytes (a form's magic, or the first line of
/// the text form), the binary form's events one by one (record::decode, as read_trace) and the raw form's chunk
/// headers (the converter's RawChunkWalk), up to the end record (its event count in the binary form; in the raw
/// form, that it claims no event bytes). A valid trace never trips it; what it finds is in the bytes read, where the
/// reader's validation then reports it (or an earlier error) with its offset. The text form's events, the raw form's,
/// and bytes after an end record (whose count the error gives) are checked once the whole file is read: there, only the
/// size limit stops a read.
class TraceFileScan {
 public:
  /// True when `bytes`, the file's first bytes (each call with more of them), hold an error. Amortised O(new bytes).
  bool corrupt(std::span<const std::byte> bytes) {
    if (form_ == Form::kUnknown && !identify(bytes)) return false;
    switch (form_) {
      case Form::kNone:
        return true;
      case Form::kBinary:
        return binary_corrupt(bytes);
      case Form::kRaw:
        return raw_corrupt(bytes);
      case Form::kUnknown:
      case Form::kText:
        return false;
    }
    return false;
  }

 private:
  enum class Form { kUnknown, kNone, kBinary, kRaw, kText };

  // Sets form_ once the bytes tell it (kNone: no form can start like them); false while they cannot tell yet.
  bool identify(std::span<const std::byte> bytes) {
    const std::string_view s(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    const std::string_view head = s.substr(0, record::kTraceMagic.size());
    const bool maybe_binary = record::kTraceMagic.starts_with(head);
    if (maybe_binary || record::kRawMagic.starts_with(head)) {
      if (head.size() < record::kTraceMagic.size()) return false;
      form_ = maybe_binary ? Form::kBinary : Form::kRaw;
      pos_ = head.size();
      return true;
    }
    // The text form, as looks_like_text sees it: lines that are blank (spaces, tabs, a lone '\r') or comments, then
    // one that starts with the magic word after its spaces and tabs. A byte at a time, each byte once, so that an
    // endless comment or blank line costs no more than its length.
    for (; text_pos_ < s.size() && form_ == Form::kUnknown; ++text_pos_) {
      const char c = s[text_pos_];
      switch (text_) {
        case TextState::kLineStart:
          if (c == '#') {
            text_ = TextState::kComment;
          } else if (c == '\r') {
            text_ = TextState::kCarriageReturn;
          } else if (c != ' ' && c != '\t' && c != '\n') {
            text_ = TextState::kMagic;
            match_magic(c);
          }
          break;
        case TextState::kComment:
          if (c == '\n') text_ = TextState::kLineStart;
          break;
        case TextState::kCarriageReturn:  // a line that is "\r" alone is blank; anything more is not the magic
          if (c != '\n') form_ = Form::kNone;
          text_ = TextState::kLineStart;
          break;
        case TextState::kMagic:
          match_magic(c);
          break;
      }
    }
    return form_ != Form::kUnknown;
  }

  // The next character of the magic word's line: a kText or kNone verdict once it matches all of it or differs.
  void match_magic(char c) {
    if (c != record::kTextMagic[magic_matched_]) {
      form_ = Form::kNone;
    } else if (++magic_matched_ == record::kTextMagic.size()) {
      form_ = Form::kText;
    }
  }

  // After the end record: false, so that the file is read on and the reader can count the bytes after it.
  bool binary_corrupt(std::span<const std::byte> bytes) {
    while (!ended_ && pos_ < bytes.size()) {
      const record::Decoded d = record::decode(bytes, pos_);
      if (d.error == record::DecodeError::kTruncated) return false;  // the event goes on past what was read
      if (d.error != record::DecodeError::kNone) return true;
      ended_ = d.event.kind == EventKind::kEnd;
      if (ended_ && d.event.id != events_) return true;  // the end record miscounts: reported as the reader's
      if (!ended_) ++events_;
      pos_ = d.next;
    }
    return false;
  }

  // The converter's own walk over the chunk headers, given the bytes read so far.
  bool raw_corrupt(std::span<const std::byte> bytes) {
    return raw_walk_.walk(bytes, RawChunkWalk::Extent::kPrefix, [](std::size_t, const record::RawChunkHeader&) {})
        .has_value();
  }

  // Where the text form's first bytes stand: at a line's leading spaces, in a blank or comment line, after a '\r'
  // (blank if the line ends there), or in the magic word (magic_matched_ of its characters seen).
  enum class TextState { kLineStart, kComment, kCarriageReturn, kMagic };

  Form form_ = Form::kUnknown;
  std::size_t pos_ = 0;       // binary: where the next event starts
  bool ended_ = false;        // binary: the end record has been read
  std::uint64_t events_ = 0;  // binary: events before pos_ (the end record must count them)
  RawChunkWalk raw_walk_;     // raw: where the next chunk header starts
  TextState text_ = TextState::kLineStart;
  std::size_t text_pos_ = 0;       // while the form is unknown: the next byte the text form's check reads
  std::size_t magic_matched_ = 0;  // TextState::kMagic: characters of kTextMagic matched
};

}  // namespace internal

/// Reads a trace file into memory, at most `max_bytes` of it (kMaxTraceFileBytes unless a test says less), and
/// stops early at bytes that already hold an error (internal::TraceFileScan: /dev/zero stops after its first read,
/// which is no trace), returning what it read: the caller's validation then reports that error. Reads with read(2),
/// which returns what a pipe holds, so a writer that stalls after corrupt bytes does not hold the reader up. On
/// failure returns the reason in one line, the system's words included ("cannot open x.trace: No such file or
/// directory", "error reading dir: Is a directory"), or the limit ("big.trace: more than 1073741824 bytes (1 GiB),
/// the most the trace tools read ...").
inline std::expected<std::vector<std::byte>, std::string> read_trace_file(const char* path,
                                                                          std::size_t max_bytes = kMaxTraceFileBytes) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::unexpected(std::string("cannot open ") + path + ": " + std::strerror(errno));
  std::vector<std::byte> data;
  internal::TraceFileScan scan;
  std::byte buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return std::unexpected(std::string("error reading ") + path + ": " + std::strerror(error));
    }
    if (n == 0) break;
    const auto got = static_cast<std::size_t>(n);
    if (got > max_bytes - data.size()) {
      ::close(fd);
      return std::unexpected(std::string(path) + ": more than " + std::to_string(max_bytes) + " bytes" +
                             (max_bytes == kMaxTraceFileBytes ? " (1 GiB)" : "") +
                             ", the most the trace tools read (they hold a trace in memory); not read further");
    }
    data.insert(data.end(), buf, buf + got);
    if (scan.corrupt(data)) break;
  }
  ::close(fd);
  return data;
}

}  // namespace nostd::bench
