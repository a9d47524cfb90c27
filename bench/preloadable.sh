# bench/preloadable.sh — sourced by the benchmark scripts that run programs under LD_PRELOAD of a malloc (preload.sh,
# fork_latency.sh; their sh_binary rules list it in `data`). The loader only warns when it cannot preload a library
# (`ld.so: object ... cannot be preloaded ... ignored`) and runs the program on glibc, so a script that went on would
# measure glibc against itself.

# expect_preloadable TOOL LIB: returns when the loader can preload LIB; otherwise says so on stderr, as TOOL, and exits
# 2 (the scripts' status for bad input).
expect_preloadable() {
  local tool="$1" lib="$2"
  if LD_PRELOAD="$(realpath "$lib")" /bin/true 2>&1 | grep -q 'cannot be preloaded'; then
    echo "$tool: $lib cannot be preloaded (see the loader's message: LD_PRELOAD=$lib /bin/true)" >&2
    exit 2
  fi
}
