#!/usr/bin/env bash
# tests/readme_test_selftest.sh — readme_test.sh must not pass for the wrong reason: it passes on Markdown whose
# blocks are right (every fragment shape the wrapper has to place: a policy struct, a template and a one-line
# function, a constinit heap, loops and lambdas in the body) and fails, with its message, on each kind of breakage:
# API drift in a fragment (the message points at the Markdown line), a program that exits non-zero, a program
# that relies on an include it does not write, `ignore` without a reason, an unknown info string, no C++ at all,
# a link to a heading or a file that is not there.
set -euo pipefail

readme_test="${1:-tests/readme_test.sh}"
shift || true
flags=("$@")
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect NAME pass|fail TEXT: runs readme_test.sh on $tmp/NAME.md; the outcome must match and the output contain TEXT.
expect() {
  local name="$1" outcome="$2" text="$3" status=0
  "$readme_test" "$tmp/$name.md" -- "${flags[@]}" >"$tmp/$name.out" 2>&1 || status=$?
  if [[ "$outcome" == pass && "$status" != 0 ]] || [[ "$outcome" == fail && "$status" == 0 ]]; then
    echo "FAIL $name: expected readme_test to $outcome, its exit status was $status"
    sed 's/^/     /' "$tmp/$name.out" | head -30
    failures=$((failures + 1))
  elif ! grep -qF -- "$text" "$tmp/$name.out"; then
    echo "FAIL $name: readme_test's output lacks: $text"
    sed 's/^/     /' "$tmp/$name.out" | head -30
    failures=$((failures + 1))
  else
    echo "ok   $name: ${outcome/pass/passe}s with: $text"
  fi
}

cat >"$tmp/good.md" <<'EOF'
Links to headings: [one](#the-heap-basicheappolicies), [a repeat](#workload-a--churn-small-1), and one in a code
span, which is not a link: `[x](#nowhere)`. A link to a file beside this one, [itself](good.md), and one that is not
followed, [a site](https://example.invalid/page).

## The heap: `BasicHeap<Policies...>`

### Workload a — churn, small

### Workload a — churn, small

Text, then a shell block that is not compiled:

```sh
./bazelw test //...
```

```cpp
// A user-written lock policy: the role tag and lock()/unlock().
struct CountingLock {
  using policy_role = nostd::role::Lock;
  void lock() { ++taken; }
  void unlock() {}
  int taken = 0;
};
template <class Heap>
int use(Heap& heap) {
  auto p = heap.allocate(64);
  if (!p) return handle(p.error());
  heap.deallocate(*p);
  return 0;
}
static int plus_one(int x) { return x + 1; }
using H = nostd::BasicHeap<CountingLock, nostd::StaticArraySource<4096>>;
constinit H g_h;

for (int i = 0; i < 3; ++i) {
  if (use(g_h) != 0) return 1;
}
auto twice = [](int v) {
  return v * 2;
};
if (twice(plus_one(1)) != 4) return 2;
nostd::Vec<int, nostd::StaticHeapRef<g_h>> v;
if (!v.push_back(1) || g_h.stats().live_allocations != 1) return 3;
std::printf("%d\n", static_cast<int>(v.size()));
```

```cpp
#include "alloc/alloc.h"
int main() {
  static nostd::BasicHeap<nostd::StaticArraySource<1024>> heap;
  return heap.allocate(16) ? 0 : 1;
}
```

```cpp no_run
#include <cstdlib>
int main() { std::abort(); }
```

```cpp ignore a grammar, not C++
heap := policy*
```
EOF
expect good pass "3 blocks compiled, 1 ignored, 4 links checked, 0 failed"

cat >"$tmp/dead_link.md" <<'EOF'
## Hardening

See [the checks](#hardening) and [the old name](#checks).

```cpp
int main() {}
```
EOF
expect dead_link fail "dead_link.md:3: the link #checks names no heading"

cat >"$tmp/dead_file.md" <<'EOF'
The chart: ![chart](docs/chart.png), and [the log](dead_file.md#top).

```cpp
int main() {}
```
EOF
expect dead_file fail "dead_file.md:1: the link docs/chart.png names no file"

cat >"$tmp/drift.md" <<'EOF'
```cpp
using Heap = nostd::BasicHeap<nostd::StaticArraySource<1024>>;
constinit Heap heap;
auto p = heap.allocate(16);
if (p) heap.free(*p);
```
EOF
expect drift fail "drift.md:5:13: error"

cat >"$tmp/exits.md" <<'EOF'
```cpp
int main() { return 3; }
```
EOF
expect exits fail "exits with status 3"

cat >"$tmp/include.md" <<'EOF'
```cpp
#include "alloc/alloc.h"
int main() {
  nostd::Vec<int, nostd::HeapRef<nostd::BasicHeap<nostd::StaticArraySource<1024>>>> v;  // needs containers/vec.h
  return static_cast<int>(v.size());
}
```
EOF
expect include fail "the program does not compile"

cat >"$tmp/bare_ignore.md" <<'EOF'
```cpp ignore
not C++
```
EOF
expect bare_ignore fail "\`ignore\` needs a reason"

cat >"$tmp/unknown.md" <<'EOF'
```cpp norun
int main() {}
```
EOF
expect unknown fail "unknown info string \`norun\`"

cat >"$tmp/none.md" <<'EOF'
```sh
echo no C++ here
```
EOF
expect none fail "no C++ blocks found"

echo "$failures failure(s)"
((failures == 0))
