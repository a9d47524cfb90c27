// The global operator new / delete door (platform/new_delete/new_delete.h), in its own binary: the one line below
// routes every C++ allocation of this program, GoogleTest's included, to g_heap. Each of the 8 operator new and
// 12 operator delete forms, called directly and through new/delete expressions, must move g_heap's counters;
// exhaustion follows the new-handler protocol (a handler that frees memory makes the retry succeed; nothrow forms
// return nullptr; the throwing form aborts without exceptions).
#include "platform/new_delete/new_delete.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "alloc/alloc.h"
#include "tests/heap_test_util.h"
#include "tests/new_delete_heap.h"

namespace nostd::testing {
namespace {

/// Where test allocations escape to, so the compiler cannot pair a new with its delete and remove both.
void* volatile g_sink = nullptr;

struct alignas(64) Line {
  std::byte bytes[64];
};

/// What one allocation must do to the heap: one more block, owned by g_heap, aligned, usable, valid.
void expect_allocated(void* p, const HeapStats& before, std::size_t size, std::size_t align) {
  g_sink = p;
  const HeapStats after = g_heap.stats();
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(g_heap.owns(p));
  EXPECT_TRUE(is_aligned(p, align)) << "aligned to " << align;
  EXPECT_GE(g_heap.usable_size(p), size);
  EXPECT_EQ(after.total_allocations, before.total_allocations + 1);
  EXPECT_EQ(after.live_allocations, before.live_allocations + 1);
  fill(p, size, size);
  EXPECT_TRUE(valid(g_heap));
}

/// What one free must do: the block goes back (one more free, one fewer live block).
void expect_freed(const HeapStats& before) {
  const HeapStats after = g_heap.stats();
  EXPECT_EQ(after.total_frees, before.total_frees + 1);
  EXPECT_EQ(after.live_allocations, before.live_allocations - 1);
  EXPECT_TRUE(valid(g_heap));
}

/// Runs `allocate` then `release` on the pointer it returned, checking both reach g_heap.
template <class Allocate, class Release>
void expect_round_trip(Allocate allocate, Release release, std::size_t size, std::size_t align) {
  const HeapStats before = g_heap.stats();
  void* p = allocate();
  expect_allocated(p, before, size, align);
  const HeapStats held = g_heap.stats();
  release(p);
  expect_freed(held);
}

constexpr std::size_t kSize = 100;
constexpr std::align_val_t kAlign{256};

TEST(NewDeleteTest, PlainFormsReachTheHeap) {
  expect_round_trip([] { return ::operator new(kSize); }, [](void* p) { ::operator delete(p); }, kSize,
                    new_delete::kDefaultNewAlignment);
  expect_round_trip([] { return ::operator new[](kSize); }, [](void* p) { ::operator delete[](p); }, kSize,
                    new_delete::kDefaultNewAlignment);
  expect_round_trip([] { return ::operator new(kSize); }, [](void* p) { ::operator delete(p, kSize); }, kSize,
                    new_delete::kDefaultNewAlignment);
  expect_round_trip([] { return ::operator new[](kSize); }, [](void* p) { ::operator delete[](p, kSize); }, kSize,
                    new_delete::kDefaultNewAlignment);
}

TEST(NewDeleteTest, AlignedFormsReachTheHeap) {
  expect_round_trip([] { return ::operator new(kSize, kAlign); }, [](void* p) { ::operator delete(p, kAlign); }, kSize,
                    256);
  expect_round_trip([] { return ::operator new[](kSize, kAlign); }, [](void* p) { ::operator delete[](p, kAlign); },
                    kSize, 256);
  expect_round_trip([] { return ::operator new(kSize, kAlign); }, [](void* p) { ::operator delete(p, kSize, kAlign); },
                    kSize, 256);
  expect_round_trip([] { return ::operator new[](kSize, kAlign); },
                    [](void* p) { ::operator delete[](p, kSize, kAlign); }, kSize, 256);
  // An alignment below the default still gets the default.
  expect_round_trip([] { return ::operator new (kSize, std::align_val_t{2}); },
                    [](void* p) { ::operator delete (p, std::align_val_t{2}); }, kSize,
                    new_delete::kDefaultNewAlignment);
}

TEST(NewDeleteTest, NothrowFormsReachTheHeap) {
  expect_round_trip([] { return ::operator new(kSize, std::nothrow); },
                    [](void* p) { ::operator delete(p, std::nothrow); }, kSize, new_delete::kDefaultNewAlignment);
  expect_round_trip([] { return ::operator new[](kSize, std::nothrow); },
                    [](void* p) { ::operator delete[](p, std::nothrow); }, kSize, new_delete::kDefaultNewAlignment);
  expect_round_trip([] { return ::operator new(kSize, kAlign, std::nothrow); },
                    [](void* p) { ::operator delete(p, kAlign, std::nothrow); }, kSize, 256);
  expect_round_trip([] { return ::operator new[](kSize, kAlign, std::nothrow); },
                    [](void* p) { ::operator delete[](p, kAlign, std::nothrow); }, kSize, 256);
}

TEST(NewDeleteTest, ExpressionsReachTheHeap) {
  expect_round_trip([] { return static_cast<void*>(new std::uint64_t(7)); },
                    [](void* p) { delete static_cast<std::uint64_t*>(p); }, sizeof(std::uint64_t),
                    alignof(std::uint64_t));
  expect_round_trip([] { return static_cast<void*>(new std::uint32_t[50]); },
                    [](void* p) { delete[] static_cast<std::uint32_t*>(p); }, 50 * sizeof(std::uint32_t),
                    alignof(std::uint32_t));
  expect_round_trip([] { return static_cast<void*>(new Line); }, [](void* p) { delete static_cast<Line*>(p); },
                    sizeof(Line), alignof(Line));
  expect_round_trip([] { return static_cast<void*>(new Line[3]); }, [](void* p) { delete[] static_cast<Line*>(p); },
                    3 * sizeof(Line), alignof(Line));
  expect_round_trip([] { return static_cast<void*>(new (std::nothrow) int(1)); },
                    [](void* p) { delete static_cast<int*>(p); }, sizeof(int), alignof(int));
  expect_round_trip([] { return static_cast<void*>(new (std::nothrow) Line[2]); },
                    [](void* p) { delete[] static_cast<Line*>(p); }, 2 * sizeof(Line), alignof(Line));
}

TEST(NewDeleteTest, TheStandardLibraryAllocatesHere) {
  const HeapStats before = g_heap.stats();
  {
    std::vector<int> v(1000, 3);
    std::string s(300, 'x');
    auto shared = std::make_shared<Line>();
    EXPECT_TRUE(g_heap.owns(v.data()));
    EXPECT_TRUE(g_heap.owns(s.data()));
    EXPECT_TRUE(g_heap.owns(shared.get()));
    EXPECT_TRUE(is_aligned(shared.get(), 64));
    EXPECT_EQ(g_heap.stats().live_allocations, before.live_allocations + 3);
    EXPECT_TRUE(valid(g_heap));
  }
  EXPECT_EQ(g_heap.stats().live_allocations, before.live_allocations);
  EXPECT_GT(before.total_allocations, 0u) << "GoogleTest had allocated here before the test ran";
}

/// A new-handler that only counts (NothrowAlignedFormsRejectAnAlignmentThatIsNotAPowerOfTwo expects no call).
int g_handler_calls_for_alignment = 0;
void count_alignment_handler() {
  ++g_handler_calls_for_alignment;
  std::set_new_handler(nullptr);
}

TEST(NewDeleteTest, NothrowFormsReturnNullWhenExhausted) {
  const HeapStats before = g_heap.stats();
  const std::size_t too_big = before.capacity + 1;
  EXPECT_EQ(::operator new(too_big, std::nothrow), nullptr);
  EXPECT_EQ(::operator new[](too_big, std::nothrow), nullptr);
  EXPECT_EQ(::operator new(too_big, kAlign, std::nothrow), nullptr);
  EXPECT_EQ(::operator new[](too_big, kAlign, std::nothrow), nullptr);
  EXPECT_EQ(::operator new (16, std::align_val_t{NewDeleteHeap::kMaxAlignment * 2}, std::nothrow), nullptr)
      << "an alignment above the heap's limit fails, it is not silently lowered";
  EXPECT_EQ(g_heap.stats().failed_allocations, before.failed_allocations + 5);
  EXPECT_EQ(g_heap.stats().live_allocations, before.live_allocations);
  EXPECT_TRUE(valid(g_heap));
}

/// SIZE_MAX, hidden from the compiler, which rejects such constant sizes for the allocation functions.
volatile std::size_t g_size_max = SIZE_MAX;

// Sizes no heap can hold: SIZE_MAX, which g++ passes to operator new[] for a new-expression whose count overflows
// (so a nothrow one must come back nullptr, not as a small block), and a size that overflows when rounded up to
// its alignment (libstdc++ 12's own aligned new rounds it to 0 and returns a block). Each fails in the heap, which
// counts it, and loses nothing.
TEST(NewDeleteTest, NothrowFormsReturnNullForOverflowingSizes) {
  const HeapStats before = g_heap.stats();
  const std::size_t max = g_size_max;
  EXPECT_EQ(::operator new(max, std::nothrow), nullptr);
  EXPECT_TRUE(valid(g_heap));
  EXPECT_EQ(::operator new[](max, std::nothrow), nullptr);
  EXPECT_TRUE(valid(g_heap));
  EXPECT_EQ(::operator new(max - 100, kAlign, std::nothrow), nullptr);
  EXPECT_TRUE(valid(g_heap));
  EXPECT_EQ(::operator new[](max - 100, kAlign, std::nothrow), nullptr);
  EXPECT_TRUE(valid(g_heap));
  const std::size_t count = max / sizeof(Line) + 1;  // count * sizeof(Line) overflows
  EXPECT_EQ(new (std::nothrow) Line[count], nullptr);
  EXPECT_TRUE(valid(g_heap));
  EXPECT_EQ(g_heap.stats().failed_allocations, before.failed_allocations + 5);
  EXPECT_EQ(g_heap.stats().live_allocations, before.live_allocations);
  EXPECT_EQ(g_heap.stats().bytes_in_use, before.bytes_in_use);
}

// An alignment that is not a power of two fails, whatever its size: 0, below the default (it is not rounded up to
// it), between, and above a page; without calling the new-handler, which cannot make it valid.
TEST(NewDeleteTest, NothrowAlignedFormsRejectAnAlignmentThatIsNotAPowerOfTwo) {
  const HeapStats before = g_heap.stats();
  g_handler_calls_for_alignment = 0;
  std::set_new_handler(count_alignment_handler);
  for (const std::size_t align :
       {std::size_t{0}, std::size_t{3}, std::size_t{12}, std::size_t{24}, std::size_t{4097}}) {
    EXPECT_EQ(::operator new (64, std::align_val_t{align}, std::nothrow), nullptr) << align;
    EXPECT_EQ(::operator new[](64, std::align_val_t{align}, std::nothrow), nullptr) << align;
    EXPECT_TRUE(valid(g_heap));
  }
  std::set_new_handler(nullptr);
  EXPECT_EQ(g_handler_calls_for_alignment, 0);
  EXPECT_EQ(g_heap.stats().live_allocations, before.live_allocations);
  EXPECT_EQ(g_heap.stats().failed_allocations, before.failed_allocations) << "the heap was not asked";
}

/// A new-handler that frees a ballast block, so the retry succeeds, and then uninstalls itself.
void* g_ballast = nullptr;
int g_handler_calls = 0;
void release_ballast() {
  ++g_handler_calls;
  ::operator delete(g_ballast);
  g_ballast = nullptr;
  std::set_new_handler(nullptr);
}

/// A new-handler that gives up: counts and uninstalls itself, freeing nothing.
void give_up() {
  ++g_handler_calls;
  std::set_new_handler(nullptr);
}

TEST(NewDeleteTest, NewHandlerIsCalledAndTheRequestRetried) {
  // Take the largest free block, so that a request just above the next largest cannot be served.
  g_ballast = ::operator new(g_heap.stats().largest_free_block);
  const std::size_t request = g_heap.stats().largest_free_block + 1;
  const HeapStats before = g_heap.stats();
  g_handler_calls = 0;
  std::set_new_handler(release_ballast);
  void* p = ::operator new(request);
  g_sink = p;
  EXPECT_EQ(g_handler_calls, 1);
  EXPECT_EQ(g_ballast, nullptr);
  EXPECT_TRUE(g_heap.owns(p));
  EXPECT_EQ(g_heap.stats().failed_allocations, before.failed_allocations + 1);
  EXPECT_EQ(std::get_new_handler(), nullptr);
  ::operator delete(p);
  EXPECT_TRUE(valid(g_heap));

  // The nothrow form calls the handler too, and returns nullptr once there is none.
  g_handler_calls = 0;
  std::set_new_handler(give_up);
  EXPECT_EQ(::operator new(g_heap.stats().capacity + 1, std::nothrow), nullptr);
  EXPECT_EQ(g_handler_calls, 1);
  EXPECT_TRUE(valid(g_heap));
}

/// A Backend that records what the door asks of it and hands out one static block (no heap is involved).
struct SpyBackend {
  alignas(4096) static inline std::byte block[64];
  static inline std::size_t last_align = 0;
  static inline int deallocations = 0;
  static void* allocate(std::size_t, std::size_t align) noexcept {
    last_align = align;
    return block;
  }
  static void deallocate(void*) noexcept { ++deallocations; }
};
static_assert(new_delete::Backend<SpyBackend>);

// The header's promise to a backend: an aligned form asks for the larger of its alignment and
// __STDCPP_DEFAULT_NEW_ALIGNMENT__, never less (a backend may rely on it, e.g. for its size classes).
TEST(NewDeleteBackendTest, AnAlignedFormAsksTheBackendForAtLeastTheDefaultAlignment) {
  for (std::size_t align = 1; align <= 4096; align *= 2) {
    SpyBackend::last_align = 0;
    EXPECT_EQ(new_delete::allocate_or_null<SpyBackend>(24, new_delete::aligned(std::align_val_t{align})),
              SpyBackend::block);
    EXPECT_EQ(SpyBackend::last_align, std::max(align, new_delete::kDefaultNewAlignment)) << align;
  }
}

// operator delete(nullptr) is a no-op that never reaches the backend, whose deallocate may assume a pointer it gave.
TEST(NewDeleteBackendTest, ADeleteOfNullDoesNotReachTheBackend) {
  SpyBackend::deallocations = 0;
  new_delete::release<SpyBackend>(nullptr);
  EXPECT_EQ(SpyBackend::deallocations, 0);
  new_delete::release<SpyBackend>(SpyBackend::block);
  EXPECT_EQ(SpyBackend::deallocations, 1);
}

#if GTEST_HAS_DEATH_TEST
// The door passes every pointer to the heap, whose checks (BasicChecks<> here) stop a delete of memory it did not
// give out: a second delete, a global, an interior pointer.
TEST(NewDeleteDeathTest, MisusedDeleteStopsTheProgram) {
  static Line not_from_the_heap;
  EXPECT_EXIT(
      {
        void* p = ::operator new(kSize);
        g_sink = p;
        ::operator delete(p);
        ::operator delete(g_sink);
      },
      ::testing::KilledBySignal(SIGABRT), "");
  EXPECT_EXIT(::operator delete(&not_from_the_heap), ::testing::KilledBySignal(SIGABRT), "");
  EXPECT_EXIT(
      {
        auto* p = static_cast<std::byte*>(::operator new[](kSize));
        g_sink = p;
        ::operator delete[](p + 16);
      },
      ::testing::KilledBySignal(SIGABRT), "");
}

TEST(NewDeleteDeathTest, ThrowingFormAbortsWithoutExceptions) {
  const std::size_t too_big = g_heap.stats().capacity + 1;
  EXPECT_DEATH(g_sink = ::operator new(too_big), "");
  EXPECT_DEATH(g_sink = ::operator new[](too_big, kAlign), "");
}

// Aborts at once: a new-handler is installed that would end the process differently (exit status 3), and must not
// be called, since it cannot make the alignment valid.
void exit_three() { std::_Exit(3); }

TEST(NewDeleteDeathTest, ThrowingAlignedFormAbortsOnAnAlignmentThatIsNotAPowerOfTwo) {
  EXPECT_EXIT(
      {
        std::set_new_handler(exit_three);
        g_sink = ::operator new (64, std::align_val_t{24});
      },
      ::testing::KilledBySignal(SIGABRT), "");
  EXPECT_EXIT(
      {
        std::set_new_handler(exit_three);
        g_sink = ::operator new[](64, std::align_val_t{12});
      },
      ::testing::KilledBySignal(SIGABRT), "");
}
#endif

}  // namespace
}  // namespace nostd::testing
