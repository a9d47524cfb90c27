#!/usr/bin/env bash
# tests/preload/libc_only_test.sh LIB — the drop-in's shared library depends on libc only (README, "The drop-in
# malloc"): a C program such as python3 or ls loads nothing more because of it. Checks that
#   - LIB's NEEDED entries are libc and the dynamic loader, nothing else (libgcc_s, libstdc++, libm...);
#   - libstdc++'s exception machinery is not linked in: a call of a libstdc++ function that can throw (such as
#     std::string_view::substr, whose out-of-range throw pulled in __cxa_throw, the personality routine, the
#     unwinder and std::string) brings libgcc_s back as NEEDED, or with -static-libgcc a private unwinder behind an
#     exported __cxa_throw that every C++ program under LD_PRELOAD would throw through.
set -euo pipefail

lib="$1"
if ! command -v readelf >/dev/null; then
  echo "FAIL: readelf (binutils) is not installed" >&2
  exit 1
fi
dynamic="$(readelf -d "$lib")"
needed="$(sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' <<<"$dynamic")"
if [[ -z "$needed" ]]; then
  echo "FAIL: no NEEDED entry in $lib: readelf's output was not understood:" >&2
  echo "$dynamic" >&2
  exit 1
fi
extra="$(grep -v -e '^libc\.so\.[0-9]*$' -e '^ld-linux[-a-z0-9_.]*\.so\.[0-9]*$' <<<"$needed" || true)"
if [[ -n "$extra" ]]; then
  echo "FAIL: $lib needs more than libc: ${extra//$'\n'/ } (all NEEDED entries: ${needed//$'\n'/ })" >&2
  exit 1
fi
symbols="$(readelf -W --dyn-syms "$lib" | awk '{print $8}' | sed 's/@.*//')"
eh="$(grep -x -e '__cxa_throw' -e '__gxx_personality_v0' -e '_Unwind_RaiseException' <<<"$symbols" || true)"
if [[ -n "$eh" ]]; then
  echo "FAIL: libstdc++'s exception machinery is linked into $lib (dynamic symbols: ${eh//$'\n'/ }): a function that can" \
    "throw is called; \`-Wl,-Map=...\` on the link names the object that pulled it in" >&2
  exit 1
fi
# Hidden visibility: nothing of the project's own is exported (the recorder's functions were, until they were built
# with -fvisibility=hidden too), only the malloc family, operator new/delete and libstdc++'s new-handler object.
own="$(readelf -W --dyn-syms "$lib" | awk '($5 == "GLOBAL" || $5 == "WEAK") && $7 != "UND" {print $8}' |
  grep -e '_ZN5nostd' || true)"
if [[ -n "$own" ]]; then
  echo "FAIL: $lib exports the project's own symbols: ${own//$'\n'/ } (build them with -fvisibility=hidden)" >&2
  exit 1
fi
echo "PASS: NEEDED ${needed//$'\n'/ }"
