// The global operator new / delete door (platform/new_delete/new_delete.h) compiled *with* exceptions (this target
// adds -fexceptions), in its own binary: the forms are compiled in the user's translation unit, so here the throwing
// ones throw std::bad_alloc where new_delete_test's abort, and the nothrow ones turn a new-handler's std::bad_alloc
// into nullptr. Each failure leaves g_heap as it was.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

#include "alloc/alloc.h"
#include "platform/new_delete/new_delete.h"
#include "tests/heap_test_util.h"
#include "tests/new_delete_heap.h"

#if !defined(__cpp_exceptions)
#error "new_delete_exceptions_test must be compiled with -fexceptions"
#endif

namespace nostd::testing {
namespace {

/// Where test allocations escape to, so the compiler cannot remove a new whose result is unused.
void* volatile g_sink = nullptr;

/// SIZE_MAX, hidden from the compiler, which rejects such constant sizes for the allocation functions.
volatile std::size_t g_size_max = SIZE_MAX;

constexpr std::align_val_t kAlign{256};

/// What every failure here must leave: no block gained or lost, the heap valid.
void expect_unchanged(const HeapStats& before) {
  EXPECT_EQ(g_heap.stats().live_allocations, before.live_allocations);
  EXPECT_EQ(g_heap.stats().bytes_in_use, before.bytes_in_use);
  EXPECT_TRUE(valid(g_heap));
}

// Exhausted, or asked for a size no heap holds: every throwing form throws std::bad_alloc (no handler installed).
TEST(NewDeleteExceptionsTest, ThrowingFormsThrowBadAlloc) {
  const HeapStats before = g_heap.stats();
  const std::size_t too_big = before.capacity + 1;
  EXPECT_THROW(g_sink = ::operator new(too_big), std::bad_alloc);
  EXPECT_TRUE(valid(g_heap));
  EXPECT_THROW(g_sink = ::operator new[](too_big), std::bad_alloc);
  EXPECT_TRUE(valid(g_heap));
  EXPECT_THROW(g_sink = ::operator new(too_big, kAlign), std::bad_alloc);
  EXPECT_TRUE(valid(g_heap));
  EXPECT_THROW(g_sink = ::operator new[](g_size_max - 100, kAlign), std::bad_alloc);
  EXPECT_TRUE(valid(g_heap));
  EXPECT_THROW(g_sink = ::operator new (16, std::align_val_t{NewDeleteHeap::kMaxAlignment * 2}), std::bad_alloc);
  EXPECT_TRUE(valid(g_heap));
  EXPECT_EQ(g_heap.stats().failed_allocations, before.failed_allocations + 5);
  expect_unchanged(before);
}

// A container whose growth the heap cannot serve keeps its buffer (the strong guarantee of vector::reserve).
TEST(NewDeleteExceptionsTest, ContainerKeepsItsBufferWhenGrowthThrows) {
  std::vector<int> v(100, 7);
  EXPECT_TRUE(valid(g_heap));
  const int* data = v.data();
  ASSERT_TRUE(g_heap.owns(data));
  const HeapStats before = g_heap.stats();
  EXPECT_THROW(v.reserve(before.capacity / sizeof(int) + 1), std::bad_alloc);
  EXPECT_TRUE(valid(g_heap));
  EXPECT_EQ(v.data(), data);
  EXPECT_EQ(v.size(), 100u);
  EXPECT_EQ(v[99], 7);
  expect_unchanged(before);
  std::vector<int>().swap(v);  // the buffer's delete, validated here rather than unseen at the end of the scope
  EXPECT_TRUE(valid(g_heap));
  EXPECT_EQ(g_heap.stats().live_allocations, before.live_allocations - 1);
}

int g_handler_calls = 0;

/// A new-handler that counts its calls and throws, as the standard lets one do.
void throw_bad_alloc() {
  ++g_handler_calls;
  throw std::bad_alloc();
}

// An alignment that is not a power of two throws at once: the new-handler, which cannot make it valid, is not
// called, and the heap is not asked.
TEST(NewDeleteExceptionsTest, AlignmentThatIsNotAPowerOfTwoThrowsWithoutTheHandler) {
  const HeapStats before = g_heap.stats();
  g_handler_calls = 0;
  std::set_new_handler(throw_bad_alloc);
  EXPECT_THROW(g_sink = ::operator new (64, std::align_val_t{24}), std::bad_alloc);
  EXPECT_TRUE(valid(g_heap));
  EXPECT_THROW(g_sink = ::operator new[](64, std::align_val_t{4097}), std::bad_alloc);
  EXPECT_TRUE(valid(g_heap));
  EXPECT_EQ(::operator new (64, std::align_val_t{24}, std::nothrow), nullptr);
  EXPECT_TRUE(valid(g_heap));
  std::set_new_handler(nullptr);
  EXPECT_EQ(g_handler_calls, 0);
  EXPECT_EQ(g_heap.stats().failed_allocations, before.failed_allocations);
  expect_unchanged(before);
}

// The nothrow forms call the new-handler too, and a handler that throws std::bad_alloc ends in nullptr there
// ([new.delete.single]), never in an exception out of a noexcept function.
TEST(NewDeleteExceptionsTest, NothrowFormsReturnNullWhenTheHandlerThrows) {
  const HeapStats before = g_heap.stats();
  const std::size_t too_big = before.capacity + 1;
  g_handler_calls = 0;
  std::set_new_handler(throw_bad_alloc);
  EXPECT_EQ(::operator new(too_big, std::nothrow), nullptr);
  EXPECT_TRUE(valid(g_heap));
  EXPECT_EQ(::operator new[](too_big, std::nothrow), nullptr);
  EXPECT_TRUE(valid(g_heap));
  EXPECT_EQ(::operator new(too_big, kAlign, std::nothrow), nullptr);
  EXPECT_TRUE(valid(g_heap));
  EXPECT_EQ(::operator new[](g_size_max, kAlign, std::nothrow), nullptr);
  EXPECT_TRUE(valid(g_heap));
  std::set_new_handler(nullptr);
  EXPECT_EQ(g_handler_calls, 4);
  EXPECT_EQ(g_heap.stats().failed_allocations, before.failed_allocations + 4);
  expect_unchanged(before);
}

}  // namespace
}  // namespace nostd::testing
