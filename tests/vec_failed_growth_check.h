// tests/vec_failed_growth_check.h — issue 10, case 3, framework-free: a failed growth of a Vec constructs nothing and
// leaves the arguments untouched. The reproducer: a trivially relocatable owning handle (Owner) on a heap with
// `reallocate`, emplace_back / emplace of a caller's `new int` until the 256-byte heap is full; the failing call used
// to build an Owner from the pointer before growing and destroy it on failure, deleting the caller's int. validate()
// runs after every call.
//
// Called by the GoogleTest suite (tests/vec_test.cc, VecFailedGrowthTest) and by the bare-metal check program
// (tests/container_checks.cc, every heap composition), which cannot link GoogleTest.
#pragma once

#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>

#include "alloc/alloc.h"
#include "containers/relocate.h"
#include "containers/vec.h"

namespace nostd::test {

/// An owning handle, trivially relocatable (no pointer into itself): the reproducer. Counts the ints it
/// deletes, so a check sees an element built and destroyed behind its back.
struct Owner {
  /// Ints deleted by Owners since the last reset.
  static inline int deletes = 0;
  /// The owned int, or nullptr.
  int* p;
  /// Takes ownership of `q`.
  explicit Owner(int* q) noexcept : p(q) {}
  /// Takes `o`'s int.
  Owner(Owner&& o) noexcept : p(std::exchange(o.p, nullptr)) {}
  Owner& operator=(Owner&&) = delete;
  /// Deletes the owned int, counting it.
  ~Owner() {
    if (p != nullptr) ++deletes;
    delete p;
  }
};

}  // namespace nostd::test

template <>
struct nostd::IsTriviallyRelocatable<nostd::test::Owner> : std::true_type {};

namespace nostd::test {

/// What the reproducer saw: `failure` is null when every call held, else what broke at call `call`.
struct FailedGrowthReport {
  const char* failure = nullptr;
  int call = 0;
  int failures = 0;  ///< emplaces that failed for want of memory (the reproducer needs two)
  /// True when every call held.
  bool ok() const noexcept { return failure == nullptr; }
};

/// Runs the reproducer on a `Heap` (a RegionSource composition) over a 256-byte buffer: emplace_back and emplace of
/// owning handles, alternately, until two have failed. Nothing may be deleted on a failed call, the caller's int must
/// keep its value, the heap must validate after every call and be empty at the end.
template <class Heap>
FailedGrowthReport check_failed_emplace_keeps_argument() {
  static_assert(HasReallocate<HeapRef<Heap>>, "the reproducer needs an allocator with reallocate");
  alignas(64) static std::byte buffer[256];
  FailedGrowthReport report;
  Heap heap{std::span<std::byte>(buffer)};
  Owner::deletes = 0;
  {
    Vec<Owner, HeapRef<Heap>> v{HeapRef<Heap>(heap)};
    for (int i = 0; i < 64 && report.failures < 2 && report.ok(); ++i) {
      report.call = i;
      int* q = new int(42 + i);
      Result<Owner*> r = (i % 2 == 0) ? v.emplace_back(q) : v.emplace(v.begin(), q);
      if (!heap.validate()) report.failure = "validate() failed after an emplace";
      if (r) {
        if ((*r)->p != q) report.failure = "the new element does not own the argument";
        continue;
      }
      ++report.failures;
      if (r.error() != AllocError::kOutOfMemory) report.failure = "a failed emplace reported another error";
      if (Owner::deletes != 0)
        report.failure = "the failed emplace built an Owner from the argument, then destroyed it";
      if (*q != 42 + i) report.failure = "the caller's int changed";  // under ASan: a use after free
      delete q;
    }
    if (report.ok() && report.failures < 2) report.failure = "the 256-byte heap never filled up";
    if (report.ok() && Owner::deletes != 0) report.failure = "an Owner in the vector lost its int";
  }
  if (report.ok() && !heap.validate()) report.failure = "validate() failed after the vector was destroyed";
  if (report.ok() && heap.stats().live_allocations != 0) report.failure = "the vector leaked a block";
  return report;
}

}  // namespace nostd::test
