// tests/heap_test_util.h — helpers shared by the heap test suites: owning test heaps over any source, fill
// patterns written on allocation and checked on free, and a deterministic random generator (all from the
// framework-free tests/test_heap.h), plus names for test output and GoogleTest's validate() assertion.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "alloc/alloc.h"
#include "alloc/internal/memory_tools.h"
#include "tests/test_heap.h"

namespace nostd {
template <std::size_t Bytes>
class MmapSource;  // platform/mmap_source.h (hosted only): named below without needing its header
}  // namespace nostd

namespace nostd::testing {

namespace detail {
template <std::size_t Bytes>
std::true_type is_static_array(const StaticArraySource<Bytes>*);
std::false_type is_static_array(const void*);
template <std::size_t Bytes>
std::true_type is_mmap(const MmapSource<Bytes>*);
std::false_type is_mmap(const void*);
}  // namespace detail

/// Whether `Source` is (or derives from, as a test's counting source does) StaticArraySource<N> for some N.
template <class Source>
inline constexpr bool kIsStaticArraySource = decltype(detail::is_static_array(static_cast<Source*>(nullptr)))::value;
/// Whether `Source` is (or derives from) MmapSource<N> for some N.
template <class Source>
inline constexpr bool kIsMmapSource = decltype(detail::is_mmap(static_cast<Source*>(nullptr)))::value;

/// A short name for a shipped policy, for test names.
template <class P>
constexpr const char* policy_name() {
  if constexpr (std::is_same_v<P, FirstFit>)
    return "FirstFit";
  else if constexpr (std::is_same_v<P, NextFit>)
    return "NextFit";
  else if constexpr (std::is_same_v<P, BestFit>)
    return "BestFit";
  else if constexpr (std::is_same_v<P, SegregatedFit<>>)
    return "SegregatedFit";
  else if constexpr (std::is_same_v<P, SegregatedFit<64 * 1024, 4, 256>>)
    return "SegregatedFit64KiB4Lists";
  else if constexpr (std::is_same_v<P, CompactTags>)
    return "CompactTags";
  else if constexpr (std::is_same_v<P, FullTags>)
    return "FullTags";
  else if constexpr (std::is_same_v<P, BasicCompactTags<std::uint32_t>>)
    return "CompactTags32";
  else if constexpr (std::is_same_v<P, BasicFullTags<std::uint32_t>>)
    return "FullTags32";
  else if constexpr (std::is_same_v<P, RegionSource>)
    return "Region";
  else if constexpr (kIsStaticArraySource<P>)
    return "Static";
  else if constexpr (kIsMmapSource<P>)
    return "Mmap";
  else if constexpr (std::is_same_v<P, NoChecks>)
    return "NoChecks";
  else if constexpr (std::is_same_v<P, BasicChecks<>>)
    return "BasicChecks";
  else if constexpr (std::is_same_v<P, HardenedChecks<>>)
    return "HardenedChecks";
  else if constexpr (std::is_same_v<P, DebugChecks<>>)
    return "DebugChecks";
  else if constexpr (std::is_same_v<P, ParanoidChecks<>>)
    return "ParanoidChecks";
  else
    return "Other";
}

/// "Fit_Tags_Source_Checks" for a heap type ("_QuickCache" appended for a heap with a cache policy).
template <class Heap>
std::string heap_name() {
  const char* source = policy_name<typename Heap::Source>();
  // A test's own source is named by what it does: it takes regions, or it brings its memory itself.
  if (std::string_view(source) == "Other") source = Heap::Source::kAcceptsRegions ? "Region" : "OwnMemory";
  return std::string(policy_name<typename Heap::Fit>()) + "_" + policy_name<typename Heap::Tags>() + "_" + source +
         "_" + policy_name<typename Heap::Check>() +
         (std::is_same_v<typename Heap::Cache, NoCache> ? "" : "_QuickCache");
}

/// GoogleTest's name generator for a typed suite over heap types: heap_name (TYPED_TEST_SUITE's third argument).
class HeapNames {
 public:
  /// The test name part for heap type `Heap`.
  template <class Heap>
  static std::string GetName(int) {
    return heap_name<Heap>();
  }
};

/// Lets a test write into heap memory the heap hides from memory tools (tags, free blocks, canaries), to
/// simulate a stray write: under ASan those bytes are poisoned, and the test's own write must not be the report.
inline void expose(const void* p, std::size_t n) { internal::tool_permit(p, n); }

/// gtest assertion helper: the heap's validate() passed, else the fault's reason and address.
template <class Heap>
::testing::AssertionResult valid(const Heap& heap) {
  ValidateResult result = heap.validate();
  if (result) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "validate(): " << result.error().what << " at " << result.error().where;
}

/// Asserts validate() reports kCorrupted (at `where`, unless nullptr).
template <class Heap>
::testing::AssertionResult reports_corruption(const Heap& heap, const void* where = nullptr) {
  ValidateResult r = heap.validate();
  if (r) return ::testing::AssertionFailure() << "validate() passed a corrupted heap";
  if (r.error().error != AllocError::kCorrupted) return ::testing::AssertionFailure() << "error is not kCorrupted";
  if (where != nullptr && r.error().where != where) {
    return ::testing::AssertionFailure() << "reported at " << r.error().where << ", expected " << where << " ("
                                         << r.error().what << ")";
  }
  return ::testing::AssertionSuccess();
}

/// Asserts that `after`, a heap's stats, are `before` (a fault that left the heap as it was).
inline ::testing::AssertionResult same_stats(const HeapStats& after, const HeapStats& before) {
  if (after == before) return ::testing::AssertionSuccess();
  // Which field differs, for the message.
  const std::size_t HeapStats::*const fields[] = {
      &HeapStats::capacity,          &HeapStats::bytes_in_use,       &HeapStats::bytes_free,
      &HeapStats::overhead_bytes,    &HeapStats::largest_free_block, &HeapStats::peak_bytes_in_use,
      &HeapStats::live_allocations,  &HeapStats::free_blocks,        &HeapStats::cached_blocks,
      &HeapStats::cached_bytes,      &HeapStats::total_allocations,  &HeapStats::total_frees,
      &HeapStats::failed_allocations};
  for (std::size_t i = 0; i < std::size(fields); ++i) {
    if (after.*fields[i] != before.*fields[i]) {
      return ::testing::AssertionFailure()
             << "stats field " << i << " is " << after.*fields[i] << ", was " << before.*fields[i];
    }
  }
  return ::testing::AssertionFailure() << "stats differ";  // unreachable while `fields` lists every field
}

}  // namespace nostd::testing
