#!/usr/bin/env bash
# tests/readme_test.sh — the README's C++ cannot drift from the API: like Rust's doctests, every C++ code block of the
# Markdown files given is compiled with the host compiler and the project's flags, and run.
#
# Usage: readme_test.sh FILE.md... -- COMPILER_FLAG...   (the BUILD target passes README.md and NOSTD_COPTS)
#
# A block is a fence whose info string starts with cpp, c++, cc or cxx. What happens to it:
#   complete program (it defines `main`)  compiled as it stands, linked and run; it must exit 0. It gets nothing
#                                         it does not include itself, so it also proves its #includes suffice.
#   fragment (anything else)              compiled inside a small wrapper (below), linked and run, exit 0.
#   ```cpp no_run                         compiled and linked, not run (e.g. it shows misuse that aborts).
#   ```cpp ignore REASON                  not compiled; the reason is printed. Only for text that is not C++
#                                         (a synopsis, pseudo-code); keep it rare. `ignore` without a reason fails.
#
# The wrapper of a fragment: <cstddef>, <cstdint>, <cstdio>, <cstring>, <span>, every public umbrella header
# (alloc/alloc.h, containers/vec.h, containers/string.h, platform/hosted.h), two names the README uses for the
# reader's own code (`struct Packet`, the reader's payload type, and `int handle(nostd::AllocError)`, the reader's
# error handling, which returns 1), then the fragment split
# in two: lines that can only live at namespace scope (#include, using, namespace, template, struct, class, enum,
# constinit, constexpr, static, static_assert, and function definitions), each with its continuation lines up to
# the end of its declaration, go before `int main() {`; every other line goes inside it, then `return 0; }`.
# `#line` directives keep the compiler's messages pointing at README lines. Unused variables are allowed in
# fragments (a fragment shows a call, not a whole program); everything else is an error, as in the project.
set -euo pipefail

docs=()
while (($#)) && [[ "$1" != -- ]]; do
  docs+=("$1")
  shift
done
[[ "${1:-}" == -- ]] && shift
flags=(-std=c++2b "$@" -I"$(pwd)" -pthread)
((${#docs[@]})) || { echo "usage: $0 FILE.md... -- FLAG..." >&2; exit 2; }
cxx="${CXX:-g++}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Split every Markdown file into blocks: $tmp/N.cc holds block N's lines, $tmp/index one line per block:
# N <TAB> file <TAB> line of the first code line <TAB> info string after the language word.
touch "$tmp/index"
for doc in "${docs[@]}"; do
  awk -v dir="$tmp" -v start="$(wc -l <"$tmp/index")" '
    BEGIN { n = start }
    /^ *(```|~~~)/ {
      if (!open) {
        open = 1
        info = $0
        sub(/^ *(```|~~~)[ \t]*/, "", info)
        lang = info
        sub(/[ \t].*$/, "", lang)
        rest = info
        sub(/^[^ \t]*[ \t]*/, "", rest)
        cpp = (lang == "cpp" || lang == "c++" || lang == "cc" || lang == "cxx")
        if (cpp) {
          n++
          out = dir "/" n ".cc"
          printf "" > out
          printf "%d\t%s\t%d\t%s\n", n, FILENAME, FNR + 1, rest >> (dir "/index")
        }
      } else {
        if (cpp) close(out)
        open = 0
        cpp = 0
      }
      next
    }
    open && cpp { print >> out }
  ' "$doc"
done
[[ -s "$tmp/index" ]] || { echo "FAIL: no C++ blocks found in ${docs[*]}"; exit 1; }

# fragment_to_program BLOCK FILE LINE: prints the wrapped program for a fragment.
fragment_to_program() {
  local block="$1" file="$2" line="$3"
  cat <<'EOF'
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>

#include "alloc/alloc.h"
#include "containers/string.h"
#include "containers/vec.h"
#include "platform/hosted.h"

// Stand-ins for the reader's own code in the README's fragments.
struct Packet {
  std::byte bytes[48];
};
[[maybe_unused]] static int handle(nostd::AllocError) { return 1; }
EOF
  awk -v file="$file" -v first="$line" '
    # The text of a line without comments and literals, for counting brackets and finding its end.
    function code(s) {
      gsub(/"([^"\\]|\\.)*"/, "\"\"", s)
      gsub(/\047([^\047\\]|\\.)*\047/, "0", s)
      sub(/\/\/.*$/, "", s)
      return s
    }
    function count(s, ch,   t) { t = s; return gsub(ch, "", t) }
    {
      c = code($0)
      trimmed = c
      sub(/^[ \t]+/, "", trimmed)
      sub(/[ \t]+$/, "", trimmed)
      if (!in_decl && depth == 0) {
        if (trimmed ~ /^(#|using |namespace |template|struct |class |union |enum |constinit |constexpr |consteval |static |static_assert|typedef |extern |inline |\[\[)/)
          in_decl = 1
        # A function definition: `type name(...)`, then qualifiers and `{` or the end of the line; not a statement
        # (no keyword, no `=` before the parenthesis; `Type var(args);` ends in `;` and stays in main).
        else if (trimmed !~ /^(if|for|while|switch|do|else|return|try|catch|case|default)[ (:]/ && trimmed !~ /^[^(]*=/ && trimmed ~ /^[A-Za-z_][A-Za-z0-9_:<>,*& ]*[ \t*&][A-Za-z_~][A-Za-z0-9_:]*[ \t]*\(.*\)[ \t]*(const|noexcept|override|final|[ \t])*(\{.*)?$/)
          in_decl = 1
      }
      depth += count(c, "[{(]") - count(c, "[})]")
      text = sprintf("#line %d \"%s\"\n%s", first + NR - 1, file, $0)
      if (in_decl) {
        decls = decls text "\n"
        if (depth <= 0 && (trimmed ~ /^#/ || trimmed ~ /[;}]$/)) in_decl = 0
      } else {
        body = body text "\n"
      }
    }
    END {
      printf "%s", decls
      printf "#line 1 \"readme_test wrapper\"\nint main() {\n%s", body
      printf "#line 2 \"readme_test wrapper\"\n  return 0;\n}\n"
    }
  ' "$block"
}

# compile_block N FLAG...: compiles $tmp/N.main.cc into $tmp/N.bin; the compiler's status goes to $tmp/N.rc.
compile_block() {
  local n="$1" rc=0
  shift
  "$cxx" "$@" "$tmp/$n.main.cc" -o "$tmp/$n.bin" >"$tmp/$n.log" 2>&1 || rc=$?
  echo "$rc" >"$tmp/$n.rc"
}

# Pass 1: wrap every block and compile them, as many at once as there are cores (one g++ takes ~1.5 s of CPU).
failures=0
compiled=0
ignored=0
parallel="$(nproc 2>/dev/null || echo 2)"
: >"$tmp/plan"
while IFS=$'\t' read -r n file line info; do
  where="$file:$line"
  block="$tmp/$n.cc"
  run=1
  case "$info" in
    ignore*)
      reason="${info#ignore}"
      reason="${reason#"${reason%%[![:space:]]*}"}"
      if [[ -z "$reason" ]]; then
        echo "FAIL $where: \`ignore\` needs a reason (\`\`\`cpp ignore <why this block cannot compile>)"
        failures=$((failures + 1))
      else
        echo "skip $where: ignored ($reason)"
        ignored=$((ignored + 1))
      fi
      continue ;;
    no_run*) run=0 ;;
    "") ;;
    *)
      echo "FAIL $where: unknown info string \`$info\` (known: no_run, ignore REASON)"
      failures=$((failures + 1))
      continue ;;
  esac

  extra=()
  if grep -qE '^[[:space:]]*(int|auto)[[:space:]]+main[[:space:]]*\(' "$block"; then
    kind=program
    { printf '#line %d "%s"\n' "$line" "$file"; cat "$block"; } >"$tmp/$n.main.cc"
  else
    kind=fragment
    fragment_to_program "$block" "$file" "$line" >"$tmp/$n.main.cc"
    extra=(-Wno-unused-variable -Wno-unused-but-set-variable -Wno-unused-local-typedefs -Wno-unused-function)
  fi
  compiled=$((compiled + 1))
  printf '%s\t%s\t%s\t%s\n' "$n" "$where" "$kind" "$run" >>"$tmp/plan"
  while (($(jobs -rp | wc -l) >= parallel)); do wait -n || true; done
  compile_block "$n" "${flags[@]}" "${extra[@]+"${extra[@]}"}" &
done <"$tmp/index"
wait

# Pass 2: report each block in README order, running those that compiled.
while IFS=$'\t' read -r n where kind run; do
  if [[ "$(cat "$tmp/$n.rc")" != 0 ]]; then
    echo "FAIL $where: the $kind does not compile:"
    sed 's/^/     /' "$tmp/$n.log" | head -30
    if [[ "$kind" == fragment ]]; then
      echo "     the wrapped fragment was:"
      grep -v '^#line' "$tmp/$n.main.cc" | sed 's/^/     | /'
    fi
    failures=$((failures + 1))
    continue
  fi
  if ((run)); then
    status=0
    timeout 60 "$tmp/$n.bin" >"$tmp/$n.out" 2>&1 </dev/null || status=$?
    if ((status != 0)); then
      echo "FAIL $where: the $kind compiles but exits with status $status when run; its output:"
      sed 's/^/     /' "$tmp/$n.out" | head -30
      failures=$((failures + 1))
      continue
    fi
    echo "ok   $where: $kind compiles and runs"
  else
    echo "ok   $where: $kind compiles (no_run)"
  fi
done <"$tmp/plan"

# Links must lead somewhere, so that renaming a heading or a file cannot leave a dead one. A link within the file
# (`[Contents](#the-heap-basicheappolicies)`) must name one of its headings, by the anchor GitHub makes of it: lower
# case, every character but letters, digits, spaces, `-` and `_` dropped (the headings' non-ASCII characters are
# punctuation, such as the em dash), spaces made `-`, and a repeated anchor numbered `-1`, `-2`, ... in order. A link
# to a file (`[log](docs/segregated_fit_log.md)`, an image) must name one that exists, relative to the Markdown file;
# links with a scheme (`https:`) are not followed. Text inside fences and code spans is not a link.
links=0
for doc in "${docs[@]}"; do
  while IFS=$'\t' read -r kind line target; do
    if [[ "$kind" == anchor ]]; then
      echo "FAIL $doc:$line: the link #$target names no heading of $doc"
      failures=$((failures + 1))
    elif [[ ! -e "$(dirname "$doc")/${target%%#*}" ]]; then
      echo "FAIL $doc:$line: the link $target names no file (looked for $(dirname "$doc")/${target%%#*})"
      failures=$((failures + 1))
    fi
  done < <(awk '
    /^ *(```|~~~)/ { fenced = !fenced; next }
    fenced { next }
    /^#+ / {
      a = tolower($0)
      sub(/^#+ /, "", a)
      gsub(/[^a-z0-9 _-]/, "", a)
      gsub(/ /, "-", a)
      if (a in seen) { seen[a]++; a = a "-" seen[a] } else seen[a] = 0
      anchor[a] = 1
      next
    }
    {
      text = $0
      gsub(/`[^`]*`/, "", text)
      while (match(text, /\]\([^)]*\)/)) {
        targets[++n] = substr(text, RSTART + 2, RLENGTH - 3)
        where[n] = FNR
        text = substr(text, RSTART + RLENGTH)
      }
    }
    END {
      for (i = 1; i <= n; i++) {
        t = targets[i]
        if (t ~ /^#/) {
          if (!(substr(t, 2) in anchor)) printf "anchor\t%d\t%s\n", where[i], substr(t, 2)
        } else if (t !~ /^[a-z]+:/) {
          printf "file\t%d\t%s\n", where[i], t
        }
      }
      printf "%d\n", n > "/dev/stderr"
    }
  ' "$doc" 2>"$tmp/links")
  links=$((links + $(cat "$tmp/links")))
done

echo "$compiled blocks compiled, $ignored ignored, $links links checked, $failures failed"
((failures == 0))
