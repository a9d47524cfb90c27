#!/usr/bin/env bash
# tests/malloc_recorder_test.sh — records malloc_recorder_program through the drop-in malloc
# (libnostd_malloc.so) and through librecord_preload.so (glibc underneath), both of which call
# record/malloc_recorder.h, and checks each trace: a raw trace (record/raw_trace.h) that converts to a valid trace
# (trace_convert --check), every
# call of the program recorded (2 threads × 1000 pairs, reallocs, the aligned block, calloc), "%p" expanded to the
# process id, the name keeping the larger trace when a wrapper (timeout) or a later process of the run (one that
# starts after the larger trace was written) records under it too, a later run replacing it,
# and no file at all when NOSTD_ALLOC_TRACE is unset or misspelt (which is named on stderr). When it names something that is not a regular file (a FIFO, a
# device node, a symbolic link, a directory), the program runs unrecorded to its usual end, says so in one line
# naming the path, and leaves it as it was; a name whose part file cannot be created is refused with the path and
# the reason, a name too long is refused rather than cut short, and a part file that cannot be renamed at exit is
# named with the reason. The rename runs under a lock on
# the trace's directory (strace shows it), and a lock held by something else does not stop the program's exit. FORK_PROGRAM
# (malloc_recorder_fork_program.cc) forks 3 times; a library it needs has a fork child handler that mallocs enough to
# fill a buffer before the recorder's child handler runs: the parent's trace holds each of its calls once, and no more
# than its own (a child had written its full buffer, the parent's unflushed calls in it, to the parent's part file).
#
#   malloc_recorder_test.sh SHIM PROGRAM TRACE_CONVERT DROP_IN FORK_PROGRAM
set -euo pipefail
program="$(realpath "$2")"
convert="$(realpath "$3")"
fork_program="$(realpath "$5")"
preloads=("$(realpath "$1")" "$(realpath "$4")")
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

check() {
  local preload="$1"
  local dir="$tmp/$2"
  mkdir -p "$dir"
  out="$(LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE="$dir/t.%p.trace" "$program" 2>"$dir/stderr")"
  [[ "$out" == "done" ]] || fail "the program's output changed under recording: $out"
  shopt -s nullglob
  traces=("$dir"/t.*.trace)
  [[ ${#traces[@]} == 1 ]] || fail "expected one trace named after the pid, got: ${traces[*]:-none}"
  trace="${traces[0]}"
  [[ "$trace" =~ t\.[0-9]+\.trace$ ]] || fail "%p was not replaced by the process id: $trace"
  grep -q "nostd-alloc: raw trace of [0-9]* calls written to $trace" "$dir/stderr" || fail "no summary on stderr"
  [[ "$(head -c 8 "$trace")" == NSTRRAW1 ]] || fail "the recorder did not write the raw form"
  "$convert" --check "$trace" || fail "the trace does not validate"
  "$convert" --to=text "$trace" "$dir/t.txt" 2>/dev/null
  "$convert" "$trace" "$dir/t.ids" 2>/dev/null
  [[ "$(head -c 8 "$dir/t.ids")" == NSTRACE1 ]] || fail "trace_convert RAW OUT did not write the binary trace form"
  # Under `bazel run` (which starts it elsewhere) relative paths are the user's: from BUILD_WORKING_DIRECTORY.
  (cd / && BUILD_WORKING_DIRECTORY="$dir" "$convert" --to=text t.ids rel.txt 2>/dev/null) &&
    cmp -s "$dir/rel.txt" "$dir/t.txt" || fail "trace_convert did not resolve relative paths from BUILD_WORKING_DIRECTORY"
  allocs=$(grep -c '^a ' "$dir/t.txt" || true)
  frees=$(grep -c '^f ' "$dir/t.txt" || true)
  reallocs=$(grep -c '^r ' "$dir/t.txt" || true)
  (( allocs >= 2 * (1000 + 10 + 2) )) || fail "expected at least 2024 allocations, got $allocs"
  (( reallocs >= 20 )) || fail "expected at least 20 reallocations, got $reallocs"
  (( frees >= 2 * (1000 + 10 + 2) )) || fail "expected at least 2024 frees, got $frees"
  grep -qE '^a [0-9]+ 100 64$' "$dir/t.txt" || fail "the 64-byte-aligned block of 100 bytes is missing"
  grep -qE '^a [0-9]+ 100$' "$dir/t.txt" || fail "the calloc(10, 10) block is missing"

  # Without %p, a program that starts others records alone: its children must not truncate its file.
  mkdir "$dir/single"
  # (Python flushes a few buffers of calls to the file before it starts `true`, whose start would truncate them.)
  LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE="$dir/single/t.trace" PYTHONMALLOC=malloc python3 -c \
    'import subprocess; l = [str(i) for i in range(300000)]; subprocess.run(["true"]); print(len(l))' >/dev/null 2>&1
  [[ "$(ls "$dir/single")" == t.trace ]] || fail "without %p: expected only t.trace, got: $(ls "$dir/single")"
  "$convert" --check "$dir/single/t.trace" >/dev/null || fail "without %p: children damaged the parent's trace"

  # A wrapper that records too and finishes after the program it started (timeout waits for its child) must not
  # rename its few calls over the program's trace: the name keeps the trace with the most calls, and the smaller one
  # is discarded with a message.
  mkdir "$dir/wrapped"
  LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE="$dir/wrapped/t.trace" timeout 60 "$program" >/dev/null 2>"$dir/wrapped/stderr"
  "$convert" --to=text "$dir/wrapped/t.trace" "$dir/wrapped/t.txt" 2>/dev/null || fail "wrapped: no valid t.trace"
  allocs=$(grep -c '^a ' "$dir/wrapped/t.txt" || true)
  (( allocs >= 2 * (1000 + 10 + 2) )) || fail "wrapped: t.trace has $allocs allocations, not the program's trace"
  [[ "$(ls "$dir/wrapped")" == "$(printf 'stderr\nt.trace\nt.txt')" ]] || fail "wrapped: left $(ls "$dir/wrapped")"
  grep -q "written to $dir/wrapped/t.trace\$" "$dir/wrapped/stderr" || fail "wrapped: the program's summary is missing"
  # The check "which trace keeps the name" and the rename run under a lock on the trace's directory (flock(2)), so
  # that two processes finishing at the same moment cannot both take the name: strace shows the lock taken, then the
  # rename.
  mkdir "$dir/locked"
  strace -f -e trace=flock,rename,renameat,renameat2 -o "$dir/locked/strace" \
    env LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE="$dir/locked/t.trace" "$program" >/dev/null 2>"$dir/locked/stderr" ||
    fail "locked: the program failed under strace"
  grep -E 'flock\(|rename' "$dir/locked/strace" | grep -v -e ' = -1 ' -e 'resumed>' -e 'unfinished' |
    sed -E 's/^[0-9]+ +//; s/\(.*\)/(...)/' | tr '\n' ' ' | grep -qE '^flock[(][.][.][.][)] += 0 rename[a-z0-9]*[(][.][.][.][)] += 0 $' ||
    fail "locked: not one flock then one rename: $(grep -E 'flock|rename' "$dir/locked/strace" | tr '\n' ' ')"
  "$convert" --check "$dir/locked/t.trace" >/dev/null || fail "locked: no valid t.trace"
  # A lock held by something other than a recorder (here the test; also `flock DIR program`, or a program that locks
  # its own directory) is waited for about 20 ms, then the rename runs unlocked: waiting for it had hung the program
  # at exit.
  mkdir "$dir/held"
  exec 8<"$dir/held"
  flock 8
  LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE="$dir/held/t.trace" timeout 20 "$program" >/dev/null 2>"$dir/held/stderr" ||
    fail "held: the program did not finish while another process held the directory's lock (status $?)"
  exec 8<&-
  "$convert" --check "$dir/held/t.trace" >/dev/null || fail "held: no valid t.trace"

  # The same when the smaller trace finishes last with its stderr open (coreutils close theirs before exit): a shell
  # that runs the program and then `true` records a few calls of its own and says what it discarded.
  mkdir "$dir/shell"
  LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE="$dir/shell/t.trace" bash -c '"$0" >/dev/null; true' "$program" \
    2>"$dir/shell/stderr"
  grep -q "calls discarded: $dir/shell/t.trace holds one of [0-9]* calls" "$dir/shell/stderr" ||
    fail "a shell finishing after its program: no message ($(cat "$dir/shell/stderr"))"
  "$convert" --to=text "$dir/shell/t.trace" "$dir/shell/t.txt" 2>/dev/null
  allocs=$(grep -c '^a ' "$dir/shell/t.txt" || true)
  (( allocs >= 2 * (1000 + 10 + 2) )) || fail "a shell finishing after its program replaced its trace ($allocs allocations)"
  # A trace left by an earlier run is replaced, however many calls it holds: recording a smaller run under the same
  # name again must not keep the stale one.
  LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE="$dir/shell/t.trace" "$program" few >/dev/null 2>"$dir/shell/again"
  grep -q "written to $dir/shell/t.trace\$" "$dir/shell/again" || fail "a new, smaller run: $(cat "$dir/shell/again")"
  "$convert" --to=text "$dir/shell/t.trace" "$dir/shell/t.txt" 2>/dev/null
  allocs=$(grep -c '^a ' "$dir/shell/t.txt" || true)
  (( allocs < 10 )) || fail "a new, smaller run did not replace the earlier run's trace ($allocs allocations)"
  # A process of the run that starts recording after the large trace was written (the shell's second child) belongs
  # to the same run, not to a later one: the run starts when the shell did, so the second child and then the shell
  # each discard their smaller trace. (The run's start had been each process's own, so the second child took the
  # large trace for an earlier run's, replaced it, and the shell replaced that: the large trace was lost. The pause,
  # `sleep` (which records too), puts the second child's start a few ticks of the coarse clock after the large trace
  # was stamped, where that mistake was made every time rather than most times.)
  mkdir "$dir/second"
  LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE="$dir/second/t.trace" \
    bash -c '"$0" >/dev/null; sleep 0.05; "$0" few >/dev/null; true' "$program" 2>"$dir/second/stderr"
  grep -q "raw trace of [0-9] calls discarded: $dir/second/t.trace holds one of [0-9]* calls" "$dir/second/stderr" ||
    fail "a child started after the large trace was written did not discard its own ($(cat "$dir/second/stderr"))"
  n=$(grep -c "calls discarded: $dir/second/t.trace holds one of [0-9]* calls" "$dir/second/stderr" || true)
  (( n >= 2 )) || fail "a child started after the large trace was written: $n discards ($(cat "$dir/second/stderr"))"
  "$convert" --to=text "$dir/second/t.trace" "$dir/second/t.txt" 2>/dev/null
  allocs=$(grep -c '^a ' "$dir/second/t.txt" || true)
  (( allocs >= 2 * (1000 + 10 + 2) )) || fail "a child started after the large trace was written replaced it ($allocs allocations)"
  [[ "$(ls "$dir/second")" == "$(printf 'stderr\nt.trace\nt.txt')" ]] || fail "second child: left $(ls "$dir/second")"
  # ... and a later run of the same command line is a new run: it replaces that trace whatever its size, although
  # its shell also has recording ancestors' variables. (The pause: the run's start is known to 10 ms, the clock
  # ticks of /proc/PID/stat, and is taken a little early, so that a trace of the run is never taken for an earlier
  # one's; a trace finished within that margin before the run started counts as the run's.)
  cp "$dir/second/t.trace" "$dir/second/old.trace"
  sleep 0.1
  LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE="$dir/second/t.trace" \
    bash -c '"$0" few >/dev/null; true' "$program" 2>"$dir/second/again"
  ! grep -q discarded "$dir/second/again" || fail "a later, smaller run of a shell discarded: $(cat "$dir/second/again")"
  ! cmp -s "$dir/second/t.trace" "$dir/second/old.trace" || fail "a later, smaller run of a shell kept the earlier trace"

  # A child's fork handler that fills the forking thread's buffer before the recorder's child handler runs (the
  # library registers it from its constructor, before the shim's constructor or the drop-in's first malloc starts the
  # recorder): nothing of the child reaches the parent's trace.
  mkdir "$dir/fork"
  out="$(LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE="$dir/fork/t.trace" "$fork_program" 2>"$dir/fork/stderr")" ||
    fail "fork: the program failed ($(cat "$dir/fork/stderr"))"
  [[ "$out" == "3 forks, 3 children filled a buffer" ]] || fail "fork: the program's output: $out"
  "$convert" --check "$dir/fork/t.trace" >/dev/null 2>"$dir/fork/check" ||
    fail "fork: the parent's trace is not valid (children wrote into it): $(cat "$dir/fork/check")"
  "$convert" --to=text "$dir/fork/t.trace" "$dir/fork/t.txt" 2>/dev/null || true
  allocs=$(grep -c '^a ' "$dir/fork/t.txt" 2>/dev/null || true)
  (( ${allocs:-0} >= 101010 && ${allocs:-0} < 101010 + 100 )) || fail "fork: $allocs allocations in the parent's trace, want 101010"
  [[ "$(ls "$dir/fork")" == "$(printf 'check\nstderr\nt.trace\nt.txt')" ]] || fail "fork: left $(ls "$dir/fork")"

  # A relative name is taken from the directory the program was in when recording started, also after the program
  # changes directory: before its first buffer is written (the trace had gone to the new directory) and after (the
  # rename at exit had looked for the part file in the new directory, failed, and left it in the old one).
  local before
  for before in 10 100000; do
    local rel="$dir/rel$before"
    mkdir -p "$rel/sub"
    out="$(cd "$rel" && LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE=t.trace "$program" chdir sub "$before" 2>"$rel.stderr")" ||
      fail "chdir after $before pairs: the program failed"
    [[ "$out" == "done" ]] || fail "chdir after $before pairs: the program's output changed: $out"
    grep -qx "nostd-alloc: raw trace of [0-9]* calls written to $(cd "$rel" && pwd -P)/t.trace" "$rel.stderr" ||
      fail "chdir after $before pairs: $(cat "$rel.stderr")"
    [[ "$(ls "$rel")" == "$(printf 'sub\nt.trace')" && -z "$(ls -A "$rel/sub")" ]] ||
      fail "chdir after $before pairs: left $(ls "$rel") and in sub $(ls -A "$rel/sub")"
    "$convert" --to=text "$rel/t.trace" "$rel.txt" 2>/dev/null || fail "chdir after $before pairs: no valid trace"
    allocs=$(grep -c '^a ' "$rel.txt" || true)
    ((allocs >= before + 1000)) || fail "chdir after $before pairs: $allocs allocations in the trace"
  done

  # What the calls return is unchanged by recording: pvalloc of a size whose rounding up to pages overflows fails with
  # ENOMEM, as glibc's (the shim's rounding had wrapped to 0 and returned a block of one page), and valloc's block is
  # page-aligned.
  local pages="pvalloc(SIZE_MAX - 0): NULL, errno ENOMEM; pvalloc(SIZE_MAX - 1): NULL, errno ENOMEM; "
  pages+="pvalloc(SIZE_MAX - 4094): NULL, errno ENOMEM; valloc(1): page-aligned"
  [[ "$("$program" pages)" == "$pages" ]] || fail "pages, under glibc: $("$program" pages)"
  out="$(LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE="$dir/pages.trace" "$program" pages 2>/dev/null)"
  [[ "$out" == "$pages" ]] || fail "pages, recorded: $out"

  # Unset: the shim records nothing and writes nothing.
  (cd "$dir" && mkdir off && cd off && out="$(LD_PRELOAD="$preload" "$program")" && [[ "$out" == "done" ]]) ||
    fail "the program failed under the shim with recording off"
  [[ -z "$(ls -A "$dir/off")" ]] || fail "files were written with NOSTD_ALLOC_TRACE unset"

  # A misspelt trace variable is named on stderr, with the one the recorder reads; the program runs unrecorded.
  mkdir "$dir/typo"
  out="$(cd "$dir/typo" && LD_PRELOAD="$preload" NOSTD_ALLOC_TRAC="$dir/typo/t.trace" "$program" 2>"$dir/typo.err")" ||
    fail "the program failed under a misspelt NOSTD_ALLOC_TRAC"
  [[ "$out" == "done" ]] || fail "a misspelt NOSTD_ALLOC_TRAC changed the output: $out"
  grep -qx "nostd-alloc: ignoring NOSTD_ALLOC_TRAC=$dir/typo/t.trace (unknown variable; the recorder reads NOSTD_ALLOC_TRACE)" \
    "$dir/typo.err" || fail "a misspelt NOSTD_ALLOC_TRAC was not reported: $(cat "$dir/typo.err")"
  [[ -z "$(ls -A "$dir/typo")" ]] || fail "files were written under a misspelt NOSTD_ALLOC_TRAC"

  # Set but empty (NOSTD_ALLOC_TRACE=$TRACE with TRACE unset): one line says so; the program runs unrecorded.
  mkdir "$dir/empty"
  out="$(cd "$dir/empty" && LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE='' "$program" 2>"$dir/empty.err")" ||
    fail "the program failed under an empty NOSTD_ALLOC_TRACE"
  [[ "$out" == "done" ]] || fail "an empty NOSTD_ALLOC_TRACE changed the output: $out"
  [[ "$(cat "$dir/empty.err")" == "nostd-alloc: NOSTD_ALLOC_TRACE is empty; not recording" ]] ||
    fail "an empty NOSTD_ALLOC_TRACE was not reported as one line: $(cat "$dir/empty.err")"
  [[ -z "$(ls -A "$dir/empty")" ]] || fail "files were written under an empty NOSTD_ALLOC_TRACE"
}

# refused PRELOAD PATH KIND [COMMAND...]: recording to PATH, which is not a regular file, is refused: COMMAND (the
# program by default) finishes within the timeout with its usual output and status, stderr is the one line naming
# PATH and saying it is KIND, and no part file is created next to it. (Before, the finished trace was renamed onto
# PATH, replacing a device node or a symbolic link with a regular file, and a FIFO hung the program at exit.)
refused() {
  local preload="$1" path="$2" kind="$3"
  shift 3
  local cmd=("$@") expected_status=0 status=0
  if [[ ${#cmd[@]} == 0 ]]; then
    cmd=("$program")
  else
    expected_status="${cmd[0]}"
    cmd=("${cmd[@]:1}")
  fi
  local err="$path.stderr"
  out="$(timeout 10 env LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE="$path" "${cmd[@]}" 2>"$err")" || status=$?
  [[ "$status" == "$expected_status" ]] ||
    fail "$kind: exit status $status, expected $expected_status (124: the timeout, the program hung)"
  [[ "${cmd[0]}" != "$program" || "$out" == "done" ]] || fail "$kind: the program's output changed: $out"
  [[ "$(cat "$err")" == "nostd-alloc: NOSTD_ALLOC_TRACE=$path is not a regular file ($kind); not recording" ]] ||
    fail "$kind: expected one line naming $path on stderr, got: $(cat "$err")"
  shopt -s nullglob
  local parts=("$path".*.part)
  [[ ${#parts[@]} == 0 ]] || fail "$kind: part files were created: ${parts[*]}"
}

check_not_regular() {
  local preload="$1"
  local dir="$tmp/$2/odd"
  mkdir -p "$dir"
  mkfifo "$dir/fifo"
  refused "$preload" "$dir/fifo" "a FIFO"
  refused "$preload" "$dir/fifo" "a FIFO" 3 bash -c 'exit 3'
  [[ -p "$dir/fifo" ]] || fail "a FIFO: it is no longer a FIFO"
  # A device node of our own (as /dev/null: major 1, minor 3), never the system's.
  if mknod "$dir/null" c 1 3 2>"$dir/mknod.stderr"; then
    refused "$preload" "$dir/null" "a character device"
    [[ -c "$dir/null" && "$(stat -c %t:%T "$dir/null")" == 1:3 ]] || fail "a device node was replaced: $(ls -l "$dir/null")"
  else
    echo "SKIP: the device node case (mknod is not permitted here: $(cat "$dir/mknod.stderr"))"
  fi
  printf keep >"$dir/target"
  ln -s target "$dir/link"
  refused "$preload" "$dir/link" "a symbolic link, which the recorder does not follow: name its target"
  [[ -L "$dir/link" && "$(readlink "$dir/link")" == target ]] || fail "a symbolic link was replaced: $(ls -l "$dir/link")"
  [[ "$(cat "$dir/target")" == keep ]] || fail "a symbolic link's target was changed"
  ln -s absent "$dir/dangling"
  refused "$preload" "$dir/dangling" "a symbolic link, which the recorder does not follow: name its target"
  [[ -L "$dir/dangling" && ! -e "$dir/absent" ]] || fail "a dangling symbolic link was replaced or followed"
  mkdir "$dir/directory"
  refused "$preload" "$dir/directory" "a directory"
  [[ -z "$(ls -A "$dir/directory")" ]] || fail "a directory: files were written into it"
  # A FIFO put at the name while the program runs: the rename at exit would replace it, so the trace is left as its
  # part file, and saying so must not block (it read the name's trace with a blocking open).
  local status=0
  timeout 10 env LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE="$dir/late" bash -c 'mkfifo "$0"; true' "$dir/late" \
    2>"$dir/late.stderr" || status=$?
  [[ "$status" == 0 ]] || fail "a FIFO made while recording: exit status $status (124: the program hung)"
  [[ -p "$dir/late" ]] || fail "a FIFO made while recording was replaced"
  grep -qE "^nostd-alloc: NOSTD_ALLOC_TRACE=$dir/late is no longer a regular file \(a FIFO\); the raw trace of [0-9]+ calls is left as $dir/late\.[0-9]+\.part\$" \
    "$dir/late.stderr" || fail "a FIFO made while recording: no message ($(cat "$dir/late.stderr"))"
  # A part file that cannot be created: the line names the path and the reason.
  out="$(LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE="$dir/missing/t.trace" "$program" 2>"$dir/missing.stderr")" ||
    fail "a name in a missing directory: the program failed"
  [[ "$out" == "done" ]] || fail "a name in a missing directory: the program's output changed: $out"
  grep -qxE "nostd-alloc: cannot create the trace file for NOSTD_ALLOC_TRACE=$dir/missing/t\.trace \($dir/missing/t\.trace\.[0-9]+\.part: No such file or directory\); not recording" \
    "$dir/missing.stderr" || fail "a name in a missing directory: the line lacks the path or the reason ($(cat "$dir/missing.stderr"))"
  # A name longer than the recorder takes (4095 bytes with %p expanded, as PATH_MAX; here 4100 bytes in a directory
  # that exists) is refused with one line, and nothing is written: the name had been cut to 4072 bytes without a word,
  # and the trace written under the cut name, a shorter file in the same directory.
  local deep="$dir/long"
  while ((${#deep} < 3850)); do deep="$deep/$(printf 'd%.0s' {1..200})"; done
  mkdir -p "$deep"
  local long
  long="$deep/$(printf 'z%.0s' $(seq 1 $((4099 - ${#deep}))))"
  out="$(LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE="$long" "$program" 2>"$dir/long.stderr")" ||
    fail "a name too long: the program failed"
  [[ "$out" == "done" ]] || fail "a name too long: the program's output changed: $out"
  [[ "$(cat "$dir/long.stderr")" == "nostd-alloc: NOSTD_ALLOC_TRACE=${long:0:100}... is too long (more than 4095 bytes with %p expanded); not recording" ]] ||
    fail "a name too long: expected one line saying so, got: $(cut -c1-200 "$dir/long.stderr")"
  [[ -z "$(ls -A "$deep")" ]] || fail "a name too long: files were written: $(ls -A "$deep" | cut -c1-40)"
  # The limit itself: a name of exactly 4096 bytes is one too many (taken, its nul had been written past the buffer,
  # and the recorder went on to fail to create the file instead of saying why).
  local exact
  exact="$deep/$(printf 'z%.0s' $(seq 1 $((4095 - ${#deep}))))"
  ((${#exact} == 4096)) || fail "the test's own name is ${#exact} bytes, not 4096"
  out="$(LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE="$exact" "$program" 2>"$dir/exact.stderr")" ||
    fail "a name of 4096 bytes: the program failed"
  [[ "$(cat "$dir/exact.stderr")" == "nostd-alloc: NOSTD_ALLOC_TRACE=${exact:0:100}... is too long (more than 4095 bytes with %p expanded); not recording" ]] ||
    fail "a name of 4096 bytes: expected one line saying it is too long, got: $(cut -c1-200 "$dir/exact.stderr")"
  [[ -z "$(ls -A "$deep")" ]] || fail "a name of 4096 bytes: files were written: $(ls -A "$deep" | cut -c1-40)"
  # A short relative name in a directory so deep that the two together pass 4095 bytes stays relative and is
  # recorded there (made absolute, the joined name had been refused as too long); so is one in a directory of 4096
  # bytes or more, whose name getcwd cannot return (ERANGE). Paths this long are reached by cd, one step at a time.
  local deep2="$dir/deep2"
  while ((${#deep2} < 3940)); do deep2="$deep2/$(printf 'e%.0s' {1..100})"; done
  deep2="$deep2/$(printf 'f%.0s' $(seq 1 $((4045 - ${#deep2} - 1))))"
  mkdir -p "$deep2"
  local short deeper
  short="$(printf 'r%.0s' {1..60}).trace"
  deeper="$(printf 'g%.0s' {1..60})"
  out="$(cd "$deep2" && LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE="$short" "$program" few 2>"$dir/deep2.stderr")" ||
    fail "a short name in a deep directory: the program failed"
  grep -qx "nostd-alloc: raw trace of [0-9]* calls written to $short" "$dir/deep2.stderr" ||
    fail "a short name in a deep directory: $(cut -c1-200 "$dir/deep2.stderr")"
  (cd "$deep2" && [[ -f "$short" ]]) || fail "a short name in a deep directory: no trace ($(cd "$deep2" && ls))"
  out="$(cd "$deep2" && mkdir "$deeper" && cd "$deeper" &&
    LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE=t.trace "$program" few 2>"$dir/deeper.stderr")" ||
    fail "a directory longer than 4095 bytes: the program failed"
  grep -qx "nostd-alloc: raw trace of [0-9]* calls written to t.trace" "$dir/deeper.stderr" ||
    fail "a directory longer than 4095 bytes: $(cut -c1-200 "$dir/deeper.stderr")"
  (cd "$deep2" && cd "$deeper" && [[ -f t.trace ]]) ||
    fail "a directory longer than 4095 bytes: no trace"
  # A part file removed while the program runs (after its first buffers were written to it): the rename at exit
  # fails, and the line names both paths and the reason. (The system's python3: a version manager's shim starts
  # processes of its own, whose smaller traces would take the name.)
  mkdir "$dir/removed"
  local python=/usr/bin/python3
  [[ -x "$python" ]] || python=python3
  LD_PRELOAD="$preload" NOSTD_ALLOC_TRACE="$dir/removed/t.trace" PYTHONMALLOC=malloc "$python" -c \
    'import glob, os, sys; l = [str(i) for i in range(300000)]; [os.remove(f) for f in glob.glob(sys.argv[1])]' \
    "$dir/removed/t.trace.*.part" 2>"$dir/removed.stderr" || fail "a part file removed while recording: the program failed"
  grep -qxE "nostd-alloc: cannot rename the raw trace of [0-9]+ calls to NOSTD_ALLOC_TRACE=$dir/removed/t\.trace \($dir/removed/t\.trace\.[0-9]+\.part: No such file or directory\)" \
    "$dir/removed.stderr" || fail "a part file removed while recording: the line lacks the paths or the reason ($(cat "$dir/removed.stderr"))"
  [[ -z "$(ls "$dir/removed")" ]] || fail "a part file removed while recording: left $(ls "$dir/removed")"
}

for k in 0 1; do
  echo "--- ${preloads[$k]}"
  check "${preloads[$k]}" "run$k"
  check_not_regular "${preloads[$k]}" "run$k"
done
echo "$failures failure(s)"
[[ "$failures" == 0 ]]
