// tests/preload/atfork_early.cc — fork handlers that call malloc, registered by a constructor of a shared library the
// program needs (//tests/preload:atfork_test). The dynamic loader starts such a library before a preloaded one, so
// these handlers register before the drop-in's: pthread_atfork then runs this prepare handler after the drop-in's
// (which holds every arena by then) and this parent and child handler before the drop-in's. Each allocates a small
// block, grows it with realloc, and allocates and frees a block above the drop-in's huge threshold (a mapping of its
// own, in the huge blocks' registry), as glibc's malloc allows in all three.
#include "tests/preload/atfork_early.h"

#include <pthread.h>

#include <cstdlib>
#include <cstring>

namespace {

void* volatile g_sink;  // volatile: the compiler may not drop an allocation
int g_prepare = 0;
int g_parent = 0;
int g_child = 0;

// A small block grown past its arena size class, and a 64 MiB block (huge at every level); true when all succeeded.
bool churn() {
  void* small = std::malloc(100);
  if (small == nullptr) return false;
  std::memset(small, 1, 100);
  void* grown = std::realloc(small, 5000);
  if (grown == nullptr) {
    std::free(small);
    return false;
  }
  g_sink = grown;
  std::free(grown);
  void* huge = std::malloc(std::size_t{64} << 20);
  g_sink = huge;
  std::free(huge);
  return huge != nullptr;
}

void prepare() { g_prepare += churn() ? 1 : 0; }
void parent() { g_parent += churn() ? 1 : 0; }
void child() { g_child += churn() ? 1 : 0; }

[[gnu::constructor]] void register_handlers() { ::pthread_atfork(prepare, parent, child); }

}  // namespace

extern "C" int atfork_early_prepares() { return g_prepare; }
extern "C" int atfork_early_parents() { return g_parent; }
extern "C" int atfork_early_children() { return g_child; }
