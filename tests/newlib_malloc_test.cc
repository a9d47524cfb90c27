// The newlib door on the board (platform/newlib): newlib's malloc family, its reentrant _r forms, libstdc++'s
// operator new and GoogleTest itself allocate from nostd::newlib::heap(), the heap over the linker script's heap
// region; newlib's own allocator never ran (_sbrk was never called); every C corner case (calloc overflow,
// realloc(p, 0), failed realloc, bad alignments) behaves as documented; and an interrupt handler can share the
// heap with the program through malloc and free.
#include "platform/newlib/newlib_malloc.h"

#include <gtest/gtest.h>
#include <malloc.h>
#include <reent.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" void* _sbrk(std::ptrdiff_t increment);

namespace nostd::testing {
namespace {

using newlib::heap;

/// Where test blocks escape to, so the compiler cannot remove a malloc/free pair.
void* volatile g_sink = nullptr;

/// SIZE_MAX, hidden from the compiler, which rejects such constant sizes for functions declared alloc_size.
volatile std::size_t g_size_max = SIZE_MAX;

::testing::AssertionResult heap_valid() {
  if (ValidateResult r = heap().validate(); !r) {
    return ::testing::AssertionFailure() << "validate(): " << r.error().what << " at " << r.error().where;
  }
  return ::testing::AssertionSuccess();
}

/// `block`, after checking the heap: for calls made inside an expression, so that each is validated at once.
void* validated(void* block) {
  EXPECT_TRUE(heap_valid());
  return block;
}

TEST(NewlibMallocTest, EverythingAllocatesFromTheNostdHeap) {
  const HeapStats at_start = heap().stats();
  EXPECT_GT(at_start.total_allocations, 0u) << "GoogleTest allocated before this test: from our heap";
  EXPECT_GT(at_start.live_allocations, 0u);
  EXPECT_EQ(_sbrk(0), static_cast<void*>(&__heap_start)) << "newlib's allocator never asked _sbrk for memory";
  EXPECT_GE(at_start.capacity, 14u * 1024 * 1024) << "the whole linker-script region (15 MiB on mps2-an386)";
  EXPECT_TRUE(heap().owns(&__heap_start + 4096));

  std::vector<int> v(1000, 1);  // libstdc++'s operator new calls malloc
  std::string s(200, 's');
  EXPECT_TRUE(heap().owns(v.data()));
  EXPECT_TRUE(heap().owns(s.data()));
  EXPECT_EQ(heap().stats().live_allocations, at_start.live_allocations + 2);
  char* dup = strdup("newlib's strdup calls _malloc_r");
  EXPECT_TRUE(heap().owns(dup));
  free(dup);
  EXPECT_TRUE(heap_valid());
}

TEST(NewlibMallocTest, EachFunctionMovesTheHeapCounters) {
  struct _reent* r = _REENT;
  const HeapStats before = heap().stats();
  void* blocks[] = {malloc(100),          _malloc_r(r, 100),       calloc(10, 10),
                    _calloc_r(r, 10, 10), realloc(nullptr, 100),   _realloc_r(r, nullptr, 100),
                    memalign(64, 100),    _memalign_r(r, 64, 100), aligned_alloc(64, 128),
                    valloc(100)};
  constexpr std::size_t kBlocks = sizeof blocks / sizeof blocks[0];
  for (std::size_t i = 0; i < kBlocks; ++i) {
    g_sink = blocks[i];
    ASSERT_NE(blocks[i], nullptr) << i;
    EXPECT_TRUE(heap().owns(blocks[i])) << i;
    EXPECT_GE(malloc_usable_size(blocks[i]), 100u) << i;
    EXPECT_EQ(_malloc_usable_size_r(r, blocks[i]), malloc_usable_size(blocks[i]));
  }
  for (std::size_t i = 6; i < 9; ++i) EXPECT_TRUE(is_aligned(blocks[i], 64)) << i;
  EXPECT_TRUE(is_aligned(blocks[9], 4096)) << "valloc: page-aligned";
  const HeapStats held = heap().stats();
  EXPECT_EQ(held.total_allocations, before.total_allocations + kBlocks);
  EXPECT_EQ(held.live_allocations, before.live_allocations + kBlocks);
  EXPECT_TRUE(heap_valid());

  free(blocks[0]);
  EXPECT_TRUE(heap_valid());
  _free_r(r, blocks[1]);
  EXPECT_TRUE(heap_valid());
  for (std::size_t i = 2; i < kBlocks; ++i) {
    free(blocks[i]);
    EXPECT_TRUE(heap_valid()) << i;
  }
  const HeapStats after = heap().stats();
  EXPECT_EQ(after.total_frees, held.total_frees + kBlocks);
  EXPECT_EQ(after.live_allocations, before.live_allocations);
  EXPECT_TRUE(heap_valid());

  void* p = nullptr;
  ASSERT_EQ(posix_memalign(&p, 256, 40), 0);
  EXPECT_TRUE(heap().owns(p));
  EXPECT_TRUE(is_aligned(p, 256));
  free(p);
  EXPECT_TRUE(heap_valid());
}

TEST(NewlibMallocTest, CallocZeroesAndChecksOverflow) {
  // A block that held data, freed, then asked for again through calloc: it must come back zeroed.
  auto* dirty = static_cast<unsigned char*>(malloc(256));
  std::memset(dirty, 0xA5, 256);
  free(dirty);
  auto* zeroed = static_cast<unsigned char*>(calloc(64, 4));
  ASSERT_NE(zeroed, nullptr);
  for (std::size_t i = 0; i < 256; ++i) ASSERT_EQ(zeroed[i], 0u) << i;
  free(zeroed);

  const HeapStats before = heap().stats();
  for (const auto& [count, size] :
       {std::pair<std::size_t, std::size_t>{SIZE_MAX, 2}, {SIZE_MAX / 2 + 1, 2}, {65536, 65536}, {2, SIZE_MAX}}) {
    errno = 0;
    EXPECT_EQ(calloc(count, size), nullptr) << count << " x " << size;
    EXPECT_EQ(errno, ENOMEM);
  }
  errno = 0;
  EXPECT_EQ(_calloc_r(_REENT, 65536, 65536), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(heap().stats().live_allocations, before.live_allocations);
  EXPECT_TRUE(heap_valid());
}

TEST(NewlibMallocTest, ReallocKeepsContentsAndFailsSafely) {
  auto* p = static_cast<unsigned char*>(malloc(64));
  for (unsigned i = 0; i < 64; ++i) p[i] = static_cast<unsigned char>(i);
  auto* q = static_cast<unsigned char*>(realloc(p, 5000));
  ASSERT_NE(q, nullptr);
  for (unsigned i = 0; i < 64; ++i) ASSERT_EQ(q[i], i);
  EXPECT_TRUE(heap_valid());

  // Too large: NULL, ENOMEM, and the old block untouched and still owned.
  const HeapStats before = heap().stats();
  errno = 0;
  EXPECT_EQ(realloc(q, 64u * 1024 * 1024), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(realloc(q, g_size_max), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  for (unsigned i = 0; i < 64; ++i) ASSERT_EQ(q[i], i);
  EXPECT_EQ(heap().stats().live_allocations, before.live_allocations);
  EXPECT_TRUE(heap_valid());

  // realloc(p, 0) keeps a minimum block rather than freeing (documented), so the caller frees it once.
  void* shrunk = realloc(q, 0);
  ASSERT_NE(shrunk, nullptr);
  EXPECT_TRUE(heap().owns(shrunk));
  EXPECT_EQ(heap().stats().live_allocations, before.live_allocations);
  free(shrunk);
  free(nullptr);
  EXPECT_EQ(heap().stats().live_allocations, before.live_allocations - 1);
  EXPECT_TRUE(heap_valid());
}

TEST(NewlibMallocTest, BadRequestsFailWithTheirErrno) {
  const HeapStats before = heap().stats();
  errno = 0;
  EXPECT_EQ(malloc(g_size_max), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(malloc(64u * 1024 * 1024), nullptr) << "more than the 15 MiB region";
  EXPECT_EQ(errno, ENOMEM);
  for (std::size_t align : {std::size_t{3}, std::size_t{48}, std::size_t{1} << 21}) {
    errno = 0;
    EXPECT_EQ(memalign(align, 16), nullptr) << align;
    EXPECT_EQ(errno, EINVAL) << align;
  }
  static char not_from_the_heap[16];
  void* untouched = not_from_the_heap;
  void* p = untouched;
  EXPECT_EQ(posix_memalign(&p, 2, 16), EINVAL) << "below sizeof(void*)";
  EXPECT_EQ(posix_memalign(&p, 24, 16), EINVAL) << "not a power of two";
  EXPECT_EQ(posix_memalign(&p, 64, 64u * 1024 * 1024), ENOMEM);
  EXPECT_EQ(p, untouched) << "posix_memalign leaves *out alone on failure";
  EXPECT_EQ(malloc_usable_size(not_from_the_heap), 0u) << "a pointer the heap does not own has no size";
  EXPECT_EQ(malloc_usable_size(nullptr), 0u);
  EXPECT_EQ(heap().stats().live_allocations, before.live_allocations);
  EXPECT_TRUE(heap_valid());
}

TEST(NewlibMallocTest, AlignedAllocTakesEveryPowerOfTwoAndSetsErrno) {
  // C17 (DR 460): any valid alignment, 1 and 2 included, with any size; newlib's own aligned_alloc went through
  // posix_memalign, which refuses alignments below sizeof(void*), and left errno alone on failure.
  for (std::size_t align : {std::size_t{1}, std::size_t{2}, std::size_t{4}, std::size_t{8}, std::size_t{64}}) {
    errno = 0;
    void* p = aligned_alloc(align, 10);
    ASSERT_NE(p, nullptr) << align;
    EXPECT_TRUE(heap_valid()) << align;
    EXPECT_TRUE(heap().owns(p)) << align;
    EXPECT_TRUE(is_aligned(p, align)) << align;
    EXPECT_EQ(errno, 0) << align;
    free(p);
    EXPECT_TRUE(heap_valid()) << align;
  }
  const HeapStats before = heap().stats();
  for (std::size_t align : {std::size_t{0}, std::size_t{3}, std::size_t{48}, std::size_t{1} << 21}) {
    errno = 0;
    EXPECT_EQ(aligned_alloc(align, 16), nullptr) << align;
    EXPECT_EQ(errno, EINVAL) << align;
  }
  errno = 0;
  EXPECT_EQ(aligned_alloc(64, 64u * 1024 * 1024), nullptr) << "more than the 15 MiB region";
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(aligned_alloc(64, g_size_max), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(heap().stats().live_allocations, before.live_allocations);
  EXPECT_TRUE(heap_valid());
}

// Zero sizes: malloc(0) and calloc with either factor 0 give distinct minimum blocks; memalign(0, n) takes the
// default alignment. newlib's own valloc, pvalloc and reallocarray, which call the door, at their limits: pvalloc(0)
// is a page-aligned block, a page rounding or a count that overflows is ENOMEM (never a wrapped small block), and
// reallocarray's failure keeps the block; reallocarray(p, 0, n) is realloc(p, 0), which keeps a minimum block.
// posix_memalign's errors (EINVAL for an alignment above the heap's 1 MiB too) are returned, errno left alone.
TEST(NewlibMallocTest, ZeroSizesAndThePageAndArrayFamilyAtTheirLimits) {
  const HeapStats before = heap().stats();
  void* const zero[] = {validated(malloc(0)), validated(calloc(0, 8)), validated(calloc(8, 0)),
                        validated(memalign(0, 24))};
  for (std::size_t i = 0; i < std::size(zero); ++i) {
    ASSERT_NE(zero[i], nullptr) << i;
    EXPECT_TRUE(heap().owns(zero[i])) << i;
    EXPECT_TRUE(is_aligned(zero[i], newlib::Heap::kDefaultAlignment)) << i;
    for (std::size_t j = 0; j < i; ++j) EXPECT_NE(zero[i], zero[j]) << i << " and " << j;
  }
  EXPECT_TRUE(heap_valid());
  void* const page = pvalloc(0);
  ASSERT_NE(page, nullptr);
  EXPECT_TRUE(is_aligned(page, 4096));
  EXPECT_TRUE(heap().owns(page));
  EXPECT_TRUE(heap_valid());
  for (const std::size_t below : {0u, 4095u, 4096u}) {  // the page rounding overflows, or is past the heap
    errno = 0;
    EXPECT_EQ(pvalloc(g_size_max - below), nullptr) << below;
    EXPECT_EQ(errno, ENOMEM) << below;
    EXPECT_TRUE(heap_valid());
    errno = 0;
    EXPECT_EQ(valloc(g_size_max - below), nullptr) << below;
    EXPECT_EQ(errno, ENOMEM) << below;
    EXPECT_TRUE(heap_valid());
  }
  auto* array = static_cast<std::uint32_t*>(reallocarray(nullptr, 10, sizeof(std::uint32_t)));
  ASSERT_NE(array, nullptr);
  EXPECT_TRUE(heap_valid());
  array[9] = 0xC0FFEEu;
  errno = 0;
  EXPECT_EQ(reallocarray(array, g_size_max / 2 + 1, 2), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_TRUE(heap_valid());
  EXPECT_EQ(array[9], 0xC0FFEEu);
  void* const shrunk = reallocarray(array, 0, sizeof(std::uint32_t));
  ASSERT_NE(shrunk, nullptr);
  EXPECT_TRUE(heap().owns(shrunk));
  EXPECT_TRUE(heap_valid());
  static char not_from_the_heap[16];
  void* out = not_from_the_heap;
  errno = 12345;
  EXPECT_EQ(posix_memalign(&out, std::size_t{1} << 21, 16), EINVAL) << "above the heap's largest alignment";
  EXPECT_TRUE(heap_valid());
  EXPECT_EQ(posix_memalign(&out, 24, 16), EINVAL);
  EXPECT_TRUE(heap_valid());
  EXPECT_EQ(posix_memalign(&out, 64, g_size_max), ENOMEM);
  EXPECT_TRUE(heap_valid());
  EXPECT_EQ(errno, 12345);
  EXPECT_EQ(out, static_cast<void*>(not_from_the_heap));
  ASSERT_EQ(posix_memalign(&out, sizeof(void*), 10), 0) << "sizeof(void*) itself is a valid alignment";
  EXPECT_TRUE(heap().owns(out));
  EXPECT_EQ(errno, 12345);
  EXPECT_TRUE(heap_valid());
  free(out);
  EXPECT_TRUE(heap_valid());
  EXPECT_EQ(heap().stats().live_allocations, before.live_allocations + std::size(zero) + 2);
  for (void* p : zero) {
    free(p);
    EXPECT_TRUE(heap_valid());
  }
  free(page);
  EXPECT_TRUE(heap_valid());
  free(shrunk);
  EXPECT_EQ(heap().stats().live_allocations, before.live_allocations);
  EXPECT_TRUE(heap_valid());
}

TEST(NewlibMallocTest, MallinfoDescribesTheHeap) {
  void* p = malloc(1000);
  g_sink = p;
  const struct mallinfo info = mallinfo();
  const HeapStats stats = heap().stats();
  EXPECT_EQ(info.arena, stats.capacity);
  EXPECT_EQ(info.uordblks, stats.bytes_in_use);
  EXPECT_EQ(info.fordblks, stats.bytes_free);
  EXPECT_EQ(info.ordblks, stats.free_blocks);
  EXPECT_EQ(mallopt(0, 0), 0) << "no tunable parameters";
  EXPECT_EQ(malloc_trim(0), 0);
  free(p);
}

// ---- An interrupt handler sharing the heap through malloc and free ----

volatile std::uint32_t& reg(std::uintptr_t address) { return *reinterpret_cast<volatile std::uint32_t*>(address); }
constexpr std::uintptr_t kSysTickCtrl = 0xE000E010, kSysTickLoad = 0xE000E014, kSysTickVal = 0xE000E018;

constexpr std::size_t kIsrBlocks = 8;
void* isr_blocks[kIsrBlocks];
volatile std::uint32_t isr_ops = 0;
volatile std::uint32_t isr_failures = 0;
volatile bool isr_active = false;

std::uint8_t tag_of(std::uint32_t n) { return static_cast<std::uint8_t>(n * 37U + 11U); }

}  // namespace
}  // namespace nostd::testing

/// SysTick: frees the oldest of its blocks (checking its fill) and mallocs a new one, through the door.
extern "C" void SysTick_Handler() noexcept {
  using namespace nostd::testing;
  if (!isr_active) return;
  const std::uint32_t n = isr_ops;
  void*& slot = isr_blocks[n % kIsrBlocks];
  if (slot != nullptr) {
    const auto* bytes = static_cast<const std::uint8_t*>(slot);
    if (bytes[0] != bytes[47]) isr_failures = isr_failures + 1;
    free(slot);
  }
  slot = malloc(48);
  if (slot == nullptr) {
    isr_failures = isr_failures + 1;
  } else {
    std::memset(slot, tag_of(n), 48);
  }
  isr_ops = n + 1;
}

namespace nostd::testing {
namespace {

TEST(NewlibMallocTest, InterruptHandlerSharesTheHeap) {
  const HeapStats before = heap().stats();
  isr_ops = 0;
  isr_failures = 0;
  isr_active = true;
  reg(kSysTickLoad) = 3000 - 1;
  reg(kSysTickVal) = 0;
  reg(kSysTickCtrl) = 0b111;  // processor clock, interrupt, enable
  constexpr std::uint32_t kIsrOps = 200;
  constexpr std::uint32_t kMaxRounds = 100'000;
  std::uint32_t rounds = 0;
  while (isr_ops < kIsrOps && rounds < kMaxRounds) {
    void* mine[4];
    for (std::uint32_t i = 0; i < 4; ++i) {
      const std::size_t size = 16 + ((rounds + i) * 53U) % 400;
      mine[i] = malloc(size);
      ASSERT_NE(mine[i], nullptr) << "round " << rounds;
      std::memset(mine[i], static_cast<int>(i + 1), size);
    }
    for (std::uint32_t i = 0; i < 4; ++i) {
      const std::size_t size = 16 + ((rounds + i) * 53U) % 400;
      ASSERT_EQ(static_cast<unsigned char*>(mine[i])[size - 1], i + 1) << "round " << rounds;
      free(mine[i]);
    }
    ++rounds;
  }
  reg(kSysTickCtrl) = 0;
  isr_active = false;
  __asm__ volatile("dsb\n isb" ::: "memory");
  EXPECT_GE(isr_ops, kIsrOps) << "SysTick did not run often enough";
  EXPECT_EQ(isr_failures, 0u);
  EXPECT_TRUE(heap_valid());
  for (void*& block : isr_blocks) {
    free(block);
    block = nullptr;
  }
  EXPECT_EQ(heap().stats().live_allocations, before.live_allocations);
  EXPECT_TRUE(heap_valid());
}

}  // namespace
}  // namespace nostd::testing
