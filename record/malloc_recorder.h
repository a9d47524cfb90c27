// record/malloc_recorder.h — records a hosted program's malloc family into a raw trace (record/raw_trace.h), for
// the drop-in malloc (platform/malloc/) or any LD_PRELOAD shim to call from its allocation functions.
//
// Usage by a malloc implementation: call `malloc_recorder_start_from_env()` once at start-up; then, in every
// function of the malloc family, when `malloc_recording()` is true (one relaxed load: the cost when recording is
// off), report what happened:
//   - after a successful allocation: malloc_recorder_allocated(p, size, align)      (align 0: malloc's default)
//   - before releasing a block:      malloc_recorder_freeing(p)
//   - after a successful realloc:    malloc_recorder_reallocated(old, p, new_size)  (old may equal p)
// and call `malloc_recorder_stop()` at exit (a destructor), which writes what is left and the end record.
//
// How it stays cheap and safe inside malloc: nothing here calls malloc. Each thread appends delta-encoded events
// (sequence number, address, size) to its own mmap'd buffer, and writes a full buffer to the file with one
// write(2) (O_APPEND keeps concurrent writes whole); the only shared write per call is the atomic sequence
// counter. The file is the raw form: putting the events back in call order and turning addresses into block ids
// is left to the tools that read it (`trace_convert`, `replay`), so that the recorded program does not pay for
// it. Reporting a free *before* the block is released and an allocation *after* it is obtained keeps the
// sequence consistent across threads: an address cannot be handed out again before its free has its number. A
// child after fork() records nothing and writes nothing (its parent's trace must not receive its events, nor the
// parent's unflushed events the fork copied into its buffers): only the process that started recording writes, also
// in a child's fork handlers that run before the recorder's. The file is written as
// PATH.PID.part and renamed to PATH at stop: PATH only ever holds a whole trace, and when several processes record
// under one name (a program that starts others, or a wrapper such as `timeout`, passes the variable on) each writes
// its own part file and PATH keeps the trace with the most calls (a smaller one finishing later is discarded, with a
// message; the comparison and the rename run under a flock on PATH's directory); write "%p" in the path to keep
// every process's trace. A trace an earlier run left there is replaced: the
// run is the processes descending from the first that recorded under the name, found at start by walking up the
// parents (/proc/PID/stat) whose environment holds the same NOSTD_ALLOC_TRACE and LD_PRELOAD, and a trace written
// before the oldest of them started is an earlier run's.
#pragma once

#include <atomic>
#include <cstddef>

namespace nostd::record {

/// The environment variable naming the trace file ("%p" in it is replaced by the process id).
inline constexpr const char* kTraceEnvVar = "NOSTD_ALLOC_TRACE";

namespace internal {
/// True while recording (set by start, cleared by stop and in a forked child).
inline std::atomic<bool> g_recording{false};
}  // namespace internal

/// Whether calls should be reported. The hooks' fast path when recording is off.
inline bool malloc_recording() { return internal::g_recording.load(std::memory_order_relaxed); }

/// Starts recording into `path` ("%p": the process id). Returns false, with a message on stderr, when the file
/// cannot be created. Call before the program's threads start; calling twice does nothing more.
bool malloc_recorder_start(const char* path);

/// Starts recording if the environment variable kTraceEnvVar names a file; false if it is unset or empty.
bool malloc_recorder_start_from_env();

/// Reports a block of `size` bytes at `p` (non-null), aligned to `align` (0 or any alignment up to malloc's
/// default: the default).
void malloc_recorder_allocated(void* p, std::size_t size, std::size_t align);

/// Reports that the block at `p` (non-null) is about to be released.
void malloc_recorder_freeing(void* p);

/// Reports that the block at `old_ptr` (non-null) now lives at `new_ptr` with `new_size` bytes.
void malloc_recorder_reallocated(void* old_ptr, void* new_ptr, std::size_t new_size);

/// Stops recording, writes every thread's remaining events and the end record, and reports on stderr what was
/// written. O(threads): nothing is converted here. Safe to call more than once, and from any thread; other threads'
/// later calls are not recorded.
void malloc_recorder_stop();

}  // namespace nostd::record
