// examples/containers.cc — Vec and String on a small static heap, with every growth checked.
//
//   ./bazelw run //examples:containers
//
// A sensor log keeps readings in a Vec<int> until the 4 KiB heap says no. The failed push_back loses nothing:
// the vector is exactly as before, so the program drops old readings, gives memory back and carries on, then
// formats a report into a String, appending each piece with one growth at most.
#include <cstdio>
#include <span>
#include <string_view>

#include "alloc/alloc.h"
#include "alloc/heap_ref.h"
#include "containers/string.h"
#include "containers/vec.h"

namespace {

// The heap lives in .bss (constinit: no constructor runs before main). StaticHeapRef names it in the type, so
// containers carry no pointer to it: a Vec is three words.
using Heap = nostd::BasicHeap<nostd::FirstFit, nostd::CompactTags, nostd::StaticArraySource<4 * 1024>>;
constinit Heap g_heap;
using HeapAlloc = nostd::StaticHeapRef<g_heap>;
using Readings = nostd::Vec<int, HeapAlloc>;
using Text = nostd::String<HeapAlloc>;
static_assert(sizeof(Readings) == 3 * sizeof(void*));

void print_error(const char* what, nostd::AllocError error) {
  const std::string_view reason = nostd::to_string(error);
  std::printf("%s failed: %.*s\n", what, static_cast<int>(reason.size()), reason.data());
}

// Formats "<title>: r0 r1 ...". Any failed append returns its error; the caller decides what to do.
nostd::Result<Text> report(std::string_view title, std::span<const int> readings) {
  auto text = Text::from(title, HeapAlloc{});
  if (!text) return nostd::fail(text.error());
  if (auto appended = text->append(":"); !appended) return nostd::fail(appended.error());
  for (const int reading : readings) {
    char number[16];
    const int length = std::snprintf(number, sizeof(number), " %d", reading);
    if (auto appended = text->append({number, static_cast<std::size_t>(length)}); !appended) {
      return nostd::fail(appended.error());
    }
  }
  return text;
}

}  // namespace

int main() {
  Readings readings;
  int next = 0;
  for (;;) {
    auto pushed = readings.push_back(next * 3);
    if (!pushed) {
      print_error("push_back", pushed.error());
      break;
    }
    ++next;
  }
  // %lu with casts: newlib on the Cortex-M board has no C99 %zu.
  std::printf("heap full with %lu readings (capacity %lu); none lost, last = %d\n",
              static_cast<unsigned long>(readings.size()), static_cast<unsigned long>(readings.capacity()),
              readings.back());

  // Keep the newest 10 and give the rest of the block back.
  readings.erase(readings.begin(), readings.end() - 10);
  if (auto shrunk = readings.shrink_to_fit(); !shrunk) {
    print_error("shrink_to_fit", shrunk.error());  // still valid: the old, larger block is kept
  }

  auto text = report("newest readings", readings);
  if (!text) {
    print_error("report", text.error());
    return 1;
  }
  std::printf("%s\n", text->c_str());

  if (!g_heap.validate()) {
    std::printf("heap invalid\n");
    return 1;
  }
  const nostd::HeapStats stats = g_heap.stats();
  std::printf("heap: %lu live blocks, %lu bytes in use of %lu\n", static_cast<unsigned long>(stats.live_allocations),
              static_cast<unsigned long>(stats.bytes_in_use), static_cast<unsigned long>(stats.capacity));
  return 0;
}
