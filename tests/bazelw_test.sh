#!/usr/bin/env bash
# tests/bazelw_test.sh — runs ./bazelw with stand-in dpkg-query, apt-get, sudo, id and bazel first on PATH, for every
# situation issue 9 lists: a machine that has never heard of the packages, some installed, a configuration's extra
# packages, apt-get failing once (lists refreshed, retried) or for good, not root with and without sudo, the dpkg
# lock, NOSTD_BAZELW_NO_INSTALL=1, and unexpected failures. Every failure must print a line starting "bazelw:".
#
# The stand-ins keep their state in files: `installed` (what dpkg knows as installed, one package a line) and
# `calls` (every stand-in call, one line each), so a case asserts on exactly what was installed and what ran.
# The real tools are still reachable under their own names except the five stand-ins (a farm of symlinks to
# /usr/bin without them), so "no sudo" really means none on PATH.
#
# Under Bazel it tests the workspace's ./bazelw (and reads .bazelrc; BAZELRC=path overrides); BAZELW=path/to/script
# tests another (e.g. the old one:
# `git show e2d2571:bazelw >/tmp/old && BAZELW=/tmp/old tests/bazelw_test.sh` must fail).
set -uo pipefail

bazelw="${BAZELW:-bazelw}"
[[ "$bazelw" == /* ]] || bazelw="$PWD/$bazelw"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
cases=0

host=(bazel-bootstrap bazel-platforms googletest libbenchmark-dev g++ python3 sqlite3 git time strace)
arm=(gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm)
riscv32=(clang-19 libc++-19-dev picolibc-riscv64-unknown-elf gcc-riscv64-unknown-elf qemu-system-misc)
# `//...` takes in //bench:replay_smoke_test, which draws a heap map: the host packages and gnuplot-nox.
tree=("${host[@]}" gnuplot-nox)

# ---- The stand-ins ---------------------------------------------------------------------------------------------
fake="$tmp/fake"
sys="$tmp/sys"
mkdir -p "$fake" "$sys"
# One process links every tool (cp -s); directories such as /usr/bin/X11 are skipped with a complaint.
cp -s /usr/bin/* "$sys/" 2>/dev/null
for name in dpkg-query apt-get sudo id bazel; do rm -f "$sys/$name"; done

# dpkg-query -W [-f=FORMAT] PKG...: like the real one, prints FORMAT for every package it has heard of
# (`installed`, or `known`: a package that was removed) and exits 1, naming nothing on stdout, for the others.
cat >"$fake/dpkg-query" <<'EOF'
#!/usr/bin/env bash
echo "dpkg-query $*" >>"$STATE/calls"
[[ -e "$STATE/no_dpkg" ]] && exit 127
format='${Package}\t${Version}\n'
pkgs=()
for a in "$@"; do
  case "$a" in
    -W | --show) ;;
    -f=* | --showformat=*) format="${a#*=}" ;;
    -*) echo "dpkg-query stand-in: unexpected option $a" >&2; exit 2 ;;
    *) pkgs+=("$a") ;;
  esac
done
rc=0
for p in "${pkgs[@]}"; do
  if grep -qxF -- "$p" "$STATE/installed"; then status=installed
  elif grep -qxF -- "$p" "$STATE/known" 2>/dev/null; then status=not-installed
  else echo "dpkg-query: no packages found matching $p" >&2; rc=1; continue
  fi
  out="${format//'${db:Status-Status}'/$status}"
  out="${out//'${Package}'/$p}"
  out="${out//'${Version}'/4.2.3+ds-9}"
  printf "${out//%/%%}"
done
exit "$rc"
EOF

# apt-get [-o X]... install|update ...: needs uid 0 (FAKE_UID, which sudo sets); `install` fails while the
# counter in `install_failures` is above 0 (it counts down), then adds its packages to `installed`.
cat >"$fake/apt-get" <<'EOF'
#!/usr/bin/env bash
echo "apt-get $*" >>"$STATE/calls"
if [[ "${FAKE_UID:-0}" != 0 ]]; then echo "E: Could not open lock file - open (13: Permission denied)" >&2; exit 100; fi
args=()
while (($#)); do
  case "$1" in
    -o) shift 2 ;;
    -y | --no-install-recommends | -q) shift ;;
    *) args+=("$1"); shift ;;
  esac
done
case "${args[0]}" in
  update) [[ -e "$STATE/update_fails" ]] && { echo "E: update failed" >&2; exit 100; }; exit 0 ;;
  install)
    n="$(cat "$STATE/install_failures" 2>/dev/null || echo 0)"
    if ((n > 0)); then
      echo $((n - 1)) >"$STATE/install_failures"
      echo "E: Unable to locate package ${args[1]}" >&2
      exit 100
    fi
    [[ -e "$STATE/install_lies" ]] && exit 0
    printf '%s\n' "${args[@]:1}" >>"$STATE/installed"
    exit 0 ;;
  *) echo "apt-get stand-in: unexpected command ${args[0]}" >&2; exit 2 ;;
esac
EOF

cat >"$fake/sudo" <<'EOF'
#!/usr/bin/env bash
echo "sudo $*" >>"$STATE/calls"
FAKE_UID=0 exec "$@"
EOF

cat >"$fake/id" <<'EOF'
#!/usr/bin/env bash
echo "id $*" >>"$STATE/calls"
[[ -e "$STATE/id_fails" ]] && exit 1
[[ "$*" == -u ]] && { echo "${FAKE_UID:-0}"; exit 0; }
echo "uid=${FAKE_UID:-0}"
EOF

cat >"$fake/bazel" <<'EOF'
#!/usr/bin/env bash
echo "bazel $*" >>"$STATE/calls"
echo "bazel ran in $PWD" >>"$STATE/calls"
[[ "$*" == --version ]] && { echo "bazel no_version"; exit 0; }
echo "stand-in bazel ran: $*"
exit "${FAKE_BAZEL_RC:-0}"
EOF
chmod +x "$fake"/*

# ---- Running one case ------------------------------------------------------------------------------------------
# setup INSTALLED_PACKAGE...: a fresh state with those packages installed.
setup() {
  export STATE="$tmp/state"
  rm -rf "$STATE"
  mkdir -p "$STATE"
  : >"$STATE/calls"
  printf '%s\n' "$@" >"$STATE/installed"
  unset FAKE_UID FAKE_BAZEL_RC NOSTD_BAZELW_NO_INSTALL
  path="$fake:$sys"
}

# without NAME...: PATH with the stand-ins except these (so the real tool is absent as well).
without() {
  local dir="$tmp/without_${*// /_}"
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$fake"/* "$dir/"
  for name in "$@"; do rm "$dir/$name"; done
  path="$dir:$sys"
}

# run ARG...: runs bazelw with PATH=$path, recording stdout, stderr and the exit status.
run() {
  PATH="$path" "$bazelw" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  rc=$?
}

case_name=""
case_failed=0
begin() {
  case_name="$1"
  case_failed=0
  cases=$((cases + 1))
}
check() { # check DESCRIPTION COMMAND...: one assertion of the current case.
  local what="$1"
  shift
  if ! "$@"; then
    echo "FAIL $case_name: $what"
    case_failed=1
  fi
}
end() {
  if ((case_failed)); then
    failures=$((failures + 1))
    echo "     exit status: $rc"
    sed 's/^/     stderr: /' "$tmp/err" | head -20
    sed 's/^/     stdout: /' "$tmp/out" | head -5
    sed 's/^/     call:   /' "$STATE/calls" | head -20
  else
    echo "ok   $case_name"
  fi
}

# Assertions.
status_is() { [[ "$rc" == "$1" ]]; }
status_not_zero() { [[ "$rc" != 0 ]]; }
called() { grep -qxF -- "$1" "$STATE/calls"; }
called_like() { grep -qE -- "$1" "$STATE/calls"; }
not_called_like() { ! grep -qE -- "$1" "$STATE/calls"; }
bazel_ran_with() { called "bazel $*" && grep -qxF "stand-in bazel ran: $*" "$tmp/out"; }
bazel_not_run() { not_called_like '^bazel '; }
# installs PKG...: an `apt-get install` asked for exactly these packages, in this order.
installs() { sed -n 's/^apt-get .*install -y --no-install-recommends //p' "$STATE/calls" | grep -qxF -- "$*"; }
no_install() { not_called_like 'apt-get'; }
is_installed() { for p in "$@"; do grep -qxF -- "$p" "$STATE/installed" || return 1; done; }
# says TEXT: stderr has a line starting "bazelw:" that contains TEXT.
says() { grep -E '^bazelw: ' "$tmp/err" | grep -qF -- "$1"; }
every_apt_get_waits() { ! grep '^apt-get ' "$STATE/calls" | grep -qv -- '-o DPkg::Lock::Timeout=[1-9]'; }

# ---- The cases -------------------------------------------------------------------------------------------------
begin "run from a directory inside the workspace: bazel runs there (relative paths of \`run\` tools are the user's)"
setup "${host[@]}"
workspace="$(cd "$(dirname "$bazelw")" && pwd)"
(cd "$workspace/tests" && run run //bench:trace_convert -- a.trace b.txt)
check "bazel ran in $workspace/tests" called "bazel ran in $workspace/tests"
end

begin "run from outside the workspace: bazel runs in the workspace"
setup "${host[@]}"
(cd "$tmp" && run build //alloc)
check "bazel ran in $workspace" called "bazel ran in $workspace"
end

begin "nothing installed (dpkg-query has heard of nothing, exits 1): installs the host packages, then runs bazel"
setup
run test //...
check "exit status 0" status_is 0
check "installs ${tree[*]}" installs "${tree[*]}"
check "packages now installed" is_installed "${tree[@]}"
check "says what it installs" says "installing ${tree[*]}"
check "runs bazel test //..." bazel_ran_with test //...
end

begin "some packages installed: installs only the others"
setup bazel-bootstrap g++ libbenchmark-dev python3 sqlite3 git time strace
run build //alloc/...
check "exit status 0" status_is 0
check "installs bazel-platforms googletest" installs bazel-platforms googletest
check "runs bazel" bazel_ran_with build //alloc/...
end

begin "a package removed earlier (dpkg knows it, not installed) counts as missing"
setup bazel-bootstrap bazel-platforms googletest g++ python3 sqlite3 git time strace gnuplot-nox
echo libbenchmark-dev >"$STATE/known"
run build //...
check "exit status 0" status_is 0
check "installs libbenchmark-dev" installs libbenchmark-dev
check "runs bazel" bazel_ran_with build //...
end

begin "everything installed: no apt-get, bazel's arguments and exit status passed through"
setup "${host[@]}"
export FAKE_BAZEL_RC=3
run test --config=asan //tests:layout_test
check "exit status is bazel's (3)" status_is 3
check "no apt-get" no_install
check "no message" test ! -s "$tmp/err"
check "runs bazel" bazel_ran_with test --config=asan //tests:layout_test
end

begin "--config=cortex_m: installs the Arm toolchain and QEMU"
setup "${tree[@]}"
run test --config=cortex_m //...
check "exit status 0" status_is 0
check "installs ${arm[*]}" installs "${arm[*]}"
check "runs bazel" bazel_ran_with test --config=cortex_m //...
end

begin "--config riscv64 (two words), nothing installed: host and riscv64 packages in one apt-get call"
setup
run test --config riscv64 //...
check "exit status 0" status_is 0
check "installs host + riscv64 packages" installs "${host[*]} g++-riscv64-linux-gnu qemu-user gnuplot-nox"
check "runs bazel" bazel_ran_with test --config riscv64 //...
end

begin "--config=cortex_m0 and --config=cortex_m33 share the Arm packages (asked for once)"
setup "${host[@]}"
run build --config=cortex_m0 --config=cortex_m33 //alloc/...
check "exit status 0" status_is 0
check "installs ${arm[*]} once" installs "${arm[*]}"
end

begin "--config=fuzz installs clang-19, its runtimes, LLD 19 (the linker .bazelrc names) and LLVM 19 (the symbolizer)"
setup "${host[@]}"
run run --config=fuzz //tests:heap_fuzzer
check "exit status 0" status_is 0
check "installs clang-19" called_like "apt-get .*install .*clang-19 libclang-rt-19-dev"
check "installs lld-19" called_like "apt-get .*install .* lld-19( |\$)"
check "installs llvm-19 (the symbolizer)" called_like "apt-get .*install .* llvm-19( |\$)"
end

begin "targets with their own tools: //bench:chart needs gnuplot-nox, //bench/footprint the Arm and RISC-V toolchains"
setup "${host[@]}"
run run //bench:chart
check "installs gnuplot-nox" installs gnuplot-nox
setup "${host[@]}"
run run //bench/footprint
check "installs ${arm[*]} ${riscv32[*]}" installs "${arm[*]} ${riscv32[*]}"
end

begin "relative target patterns are read as Bazel reads them: from the directory the command was typed in"
# A workspace of bazelw alone with a bench/ directory, so that the command can be typed at its root and in bench/.
ws="$tmp/ws"
mkdir -p "$ws/bench"
cp "$bazelw" "$ws/bazelw"
for form in "bench:instructions" "@//bench:instructions" "@nostd_alloc//bench:instructions"; do
  setup "${host[@]}"
  (cd "$ws" && PATH="$path" ./bazelw run -c opt "$form" >"$tmp/out" 2>"$tmp/err" </dev/null)
  check "run $form at the root installs valgrind" installs valgrind
done
for form in ":instructions" "instructions"; do
  setup "${host[@]}"
  (cd "$ws/bench" && PATH="$path" ../bazelw run "$form" >"$tmp/out" 2>"$tmp/err" </dev/null)
  check "run $form in bench/ installs valgrind" installs valgrind
done
for form in "..." "bench/..." "bench:all"; do
  setup "${host[@]}"
  (cd "$ws" && PATH="$path" ./bazelw test "$form" >"$tmp/out" 2>"$tmp/err" </dev/null)
  check "test $form at the root installs gnuplot-nox" installs gnuplot-nox
done
setup "${host[@]}"
(cd "$ws" && PATH="$path" ./bazelw run bench/footprint >"$tmp/out" 2>"$tmp/err" </dev/null)
check "run bench/footprint at the root installs ${arm[*]} ${riscv32[*]}" installs "${arm[*]} ${riscv32[*]}"
setup "${host[@]}"
(cd "$ws/bench" && PATH="$path" ../bazelw test ... >"$tmp/out" 2>"$tmp/err" </dev/null)
check "test ... in bench/ installs gnuplot-nox" installs gnuplot-nox
setup "${host[@]}"
(cd "$ws/bench" && PATH="$path" ../bazelw test :fit_compare_smoke_test @other//bench:instructions >"$tmp/out" \
  2>"$tmp/err" </dev/null)
check "test :fit_compare_smoke_test and another repository's pattern in bench/: no apt-get" no_install
end

begin "the whole tree or bench/ takes in replay_smoke_test's heap map: gnuplot-nox; a test of its own needs none"
for pattern in //... //bench/... //bench:all '//bench:*' //bench:replay_smoke_test; do
  setup "${host[@]}"
  run test "$pattern"
  check "test $pattern installs gnuplot-nox" installs gnuplot-nox
  check "test $pattern runs bazel" bazel_ran_with test "$pattern"
done
setup "${host[@]}"
run test //tests:basic_heap_test //alloc/...
check "test //tests:basic_heap_test //alloc/...: no apt-get" no_install
end

begin "arguments after -- are the program's (bazel run): a --config or target there installs nothing"
setup "${host[@]}"
run run //examples:containers -- --config=cortex_m //bench:chart
check "exit status 0" status_is 0
check "no apt-get" no_install
check "runs bazel with every argument" bazel_ran_with run //examples:containers -- --config=cortex_m //bench:chart
end

begin "apt-get install fails once: refreshes the package lists and retries"
setup
echo 1 >"$STATE/install_failures"
run test //...
check "exit status 0" status_is 0
check "apt-get update ran" called_like '^apt-get( -o [^ ]+)* update$'
check "installs after the retry" is_installed "${host[@]}"
check "says it retries" says "refreshing the package lists"
check "runs bazel" bazel_ran_with test //...
end

begin "apt-get install fails for good: one clear line, non-zero exit, bazel not run"
setup
echo 5 >"$STATE/install_failures"
run test //...
check "non-zero exit" status_not_zero
check "says what could not be installed and what to do" says "could not install ${host[*]}"
check "says how to install by hand" says "apt-get install ${host[*]}"
check "bazel not run" bazel_not_run
end

begin "apt-get update fails too: same clear line"
setup
echo 5 >"$STATE/install_failures"
touch "$STATE/update_fails"
run test //...
check "non-zero exit" status_not_zero
check "says what could not be installed" says "could not install"
check "bazel not run" bazel_not_run
end

begin "apt-get says it succeeded but the package is still not installed: named, non-zero exit"
setup bazel-bootstrap bazel-platforms googletest g++ python3 sqlite3 git time strace
touch "$STATE/install_lies"
run test //...
check "non-zero exit" status_not_zero
check "names the package" says "libbenchmark-dev is still not installed"
check "bazel not run" bazel_not_run
end

begin "apt-get waits for the dpkg lock (DPkg::Lock::Timeout) instead of failing when another apt holds it"
setup
echo 1 >"$STATE/install_failures"
run test //...
check "every apt-get call waits for the lock" every_apt_get_waits
check "install waits" called_like 'apt-get -o DPkg::Lock::Timeout=[1-9][0-9]+ install '
check "update waits" called_like 'apt-get -o DPkg::Lock::Timeout=[1-9][0-9]+ update'
end

begin "not root, sudo on PATH: installs through sudo"
setup
export FAKE_UID=1000
run test //...
check "exit status 0" status_is 0
check "apt-get ran through sudo" called_like '^sudo .*apt-get .*install '
check "packages installed" is_installed "${host[@]}"
check "runs bazel" bazel_ran_with test //...
end

begin "not root and no sudo: says to run as root, non-zero exit, nothing run"
setup
export FAKE_UID=1000
without sudo
run test //...
check "non-zero exit" status_not_zero
check "says to run as root and names the packages" says "run as root"
check "names the missing packages" says "${host[*]}"
check "no apt-get" no_install
check "bazel not run" bazel_not_run
end

begin "not root and no sudo, but nothing missing: runs bazel"
setup "${host[@]}"
export FAKE_UID=1000
without sudo
run info
check "exit status 0" status_is 0
check "runs bazel" bazel_ran_with info
end

begin "NOSTD_BAZELW_NO_INSTALL=1 with packages missing: names them, installs nothing, non-zero exit"
setup bazel-bootstrap g++
export NOSTD_BAZELW_NO_INSTALL=1
run test //...
check "non-zero exit" status_not_zero
check "names the missing packages" says "missing packages: bazel-platforms googletest libbenchmark-dev"
check "no apt-get" no_install
check "bazel not run" bazel_not_run
end

begin "NOSTD_BAZELW_NO_INSTALL=1 with nothing missing: runs bazel"
setup "${tree[@]}"
export NOSTD_BAZELW_NO_INSTALL=1
run test //...
check "exit status 0" status_is 0
check "runs bazel" bazel_ran_with test //...
end

begin "an unexpected failure (id fails) still prints one bazelw: line naming the command"
setup
touch "$STATE/id_fails"
run test //...
check "non-zero exit" status_not_zero
check "names the failed command" says "id -u"
check "exactly one bazelw: line" test "$(grep -c '^bazelw: ' "$tmp/err")" == 1
check "bazel not run" bazel_not_run
end

begin "bazel missing from PATH after installing: says so"
setup "${host[@]}"
without bazel
run test //...
check "non-zero exit" status_not_zero
check "says bazel is not on PATH" says "not on PATH"
end

begin "not Debian (no dpkg-query): runs the bazel on PATH and says it did not check"
setup
without dpkg-query
run build //...
check "exit status 0" status_is 0
check "says it did not check" says "not checking packages"
check "runs bazel" bazel_ran_with build //...
end

begin "./bazelw --version names the Bazel release (Debian's bazel says no_version)"
setup "${host[@]}"
run --version
check "exit status 0" status_is 0
check "prints bazel 4.2.3" grep -qF "bazel 4.2.3 (Debian package bazel-bootstrap 4.2.3+ds-9" "$tmp/out"
end

begin "every configuration in .bazelrc has its line in bazelw's config_packages (empty if it needs nothing)"
rc=0
: >"$tmp/err"
: >"$tmp/out"
setup
known=" $(sed -n '/^config_packages() {/,/^}/p' "$bazelw" | sed -n 's/^ *\([a-z0-9_ |]*\)).*/\1/p' | tr -d '|' | tr -s ' \n' '  ') "
knows() { [[ "$known" == *" $1 "* ]]; }
configs="$(grep -oE '^[a-z]+:[a-z0-9_]+' "${BAZELRC:-.bazelrc}" | cut -d: -f2 | sort -u)"
for name in $configs; do
  check "--config=$name is in .bazelrc but not in bazelw's config_packages: add a line (empty if it needs no package)" \
    knows "$name"
done
end

# Every case that failed printed a "bazelw:" line: checked by `says` in each failing case above.
echo "$cases cases, $failures failed"
((failures == 0))
