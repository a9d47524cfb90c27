// platform/mps2_an386/startup.cc — board startup for QEMU's mps2-an386 (Cortex-M4): the vector table and fault
// handlers that report over semihosting and exit with a failure code.
//
// Reset_Handler does what newlib's rdimon crt0 (`_start`) would, except asking the debugger where the stack and
// heap are: QEMU's SYS_HEAPINFO answer for this board depends on the initial stack pointer and has pointed the
// stack into unmapped memory. Here the stack and heap are where mps2_an386.ld puts them: the stack pointer comes
// from the vector table, and _sbrk below serves malloc from [__heap_start, __heap_end). Reset_Handler zeroes .bss,
// opens the semihosting standard streams, fetches the command line (SYS_GET_CMDLINE) into argv, runs
// constructors, calls main() and passes its result to exit(), which ends QEMU with that status
// (SYS_EXIT_EXTENDED).
//
// Every exception without a handler (faults, unexpected interrupts) prints its name, the stacked PC and the fault
// status registers, then ends QEMU with kFaultExitCode, so that a hard fault fails the test instead of locking
// the core up.
//
// A test or application installs its own handler by defining the function (e.g. `extern "C" void
// PendSV_Handler()`); the definitions here are weak.
//
// An uncaught exception (std::bad_alloc from operator new when the malloc heap is exhausted) prints libstdc++'s
// "terminate called after throwing an instance of ..." line before abort(): the toolchain's libstdc++ is built with
// plain abort() as its terminate handler, which ended the program with status 1 and no word of why. The handler is
// the board's own (terminate_handler.h): libstdc++'s verbose one needs malloc to demangle the type's name and printed
// 'St9bad_alloc' when the heap was full.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "platform/hex_field.h"
#include "platform/mps2_an386/terminate_handler.h"

extern "C" {
extern char __stack;                   // top of the main stack (mps2_an386.ld)
extern char __stack_limit;             // bottom of the main stack (mps2_an386.ld)
extern char __heap_start, __heap_end;  // newlib's malloc arena (mps2_an386.ld)
void* _sbrk(std::ptrdiff_t increment);
extern char __bss_start__, __bss_end__;  // .bss bounds (mps2_an386.ld)
void initialise_monitor_handles();       // newlib rdimon: semihosting stdin/stdout/stderr
void __libc_init_array();                // newlib: preinit/init arrays (constructors)
void __libc_fini_array();                // newlib: fini arrays (destructors)
int main(int argc, char** argv);
int setenv(const char* name, const char* value, int overwrite);  // newlib (POSIX; hidden in strict C++ mode)

[[noreturn]] void Reset_Handler() noexcept;
void NMI_Handler() noexcept __attribute__((weak, alias("Default_Handler")));
void HardFault_Handler() noexcept __attribute__((weak, alias("Default_Handler")));
void MemManage_Handler() noexcept __attribute__((weak, alias("Default_Handler")));
void BusFault_Handler() noexcept __attribute__((weak, alias("Default_Handler")));
void UsageFault_Handler() noexcept __attribute__((weak, alias("Default_Handler")));
void SVC_Handler() noexcept __attribute__((weak, alias("Default_Handler")));
void DebugMon_Handler() noexcept __attribute__((weak, alias("Default_Handler")));
void PendSV_Handler() noexcept __attribute__((weak, alias("Default_Handler")));
void SysTick_Handler() noexcept __attribute__((weak, alias("Default_Handler")));
void Default_Handler() noexcept;
void nostd_report_fault(const std::uint32_t* frame, std::uint32_t exc_return);
}

namespace {

/// Exit status of a test that faulted (like a shell's 128 + SIGSEGV).
constexpr std::uint32_t kFaultExitCode = 139;

/// The lowest bytes of the main stack, kept inaccessible by the MPU (enable_stack_guard).
constexpr std::uint32_t kStackGuardBytes = 1024;

// Semihosting operations (Arm's "Semihosting for AArch32 and AArch64").
constexpr std::uint32_t kSysWrite0 = 0x04;
constexpr std::uint32_t kSysGetCmdline = 0x15;
constexpr std::uint32_t kSysExit = 0x18;
constexpr std::uint32_t kSysExitExtended = 0x20;
constexpr std::uint32_t kAdpStoppedApplicationExit = 0x20026;
constexpr std::uint32_t kAdpStoppedRunTimeErrorUnknown = 0x20023;

std::uint32_t semihost(std::uint32_t op, const void* arg) {
  register std::uint32_t r0 __asm__("r0") = op;
  register const void* r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void write(const char* text) { semihost(kSysWrite0, text); }

void write_hex(const char* name, std::uint32_t value) {
  char field[nostd::board::kHexFieldBytes];
  write(nostd::board::hex_field(field, name, value));
}

[[noreturn]] void exit_with(std::uint32_t code) {
  const std::uint32_t block[2] = {kAdpStoppedApplicationExit, code};
  semihost(kSysExitExtended, block);
  // A debugger without the extended exit: plain SYS_EXIT with an error reason (QEMU exits with status 1).
  semihost(kSysExit, reinterpret_cast<const void*>(kAdpStoppedRunTimeErrorUnknown));
  for (;;) {
  }
}

/// The Configurable Fault Status Register's bits, by name (Armv7-M ARM, B3.2.15).
struct CfsrBit {
  std::uint32_t position;
  const char* name;
};
constexpr CfsrBit kCfsrBits[] = {
    {0, "IACCVIOL"},  {1, "DACCVIOL"}, {3, "MUNSTKERR"},  {4, "MSTKERR"},      {5, "MLSPERR"},
    {7, "MMARVALID"}, {8, "IBUSERR"},  {9, "PRECISERR"},  {10, "IMPRECISERR"}, {11, "UNSTKERR"},
    {12, "STKERR"},   {13, "LSPERR"},  {15, "BFARVALID"}, {16, "UNDEFINSTR"},  {17, "INVSTATE"},
    {18, "INVPC"},    {19, "NOCP"},    {24, "UNALIGNED"}, {25, "DIVBYZERO"},
};

const char* exception_name(std::uint32_t number) {
  switch (number) {
    case 2:
      return "NMI";
    case 3:
      return "HardFault";
    case 4:
      return "MemManage";
    case 5:
      return "BusFault";
    case 6:
      return "UsageFault";
    case 11:
      return "SVCall";
    case 12:
      return "DebugMonitor";
    case 14:
      return "PendSV";
    case 15:
      return "SysTick";
    default:
      return number >= 16 ? "interrupt" : "reserved exception";
  }
}

volatile std::uint32_t& reg(std::uintptr_t address) { return *reinterpret_cast<volatile std::uint32_t*>(address); }

}  // namespace

/// Reports the exception in progress over semihosting and ends QEMU with kFaultExitCode. `frame` is the stacked
/// exception frame (r0-r3, r12, lr, pc, xpsr), unless stacking it failed. Runs on its own stack (fault_stack).
extern "C" void nostd_report_fault(const std::uint32_t* frame, std::uint32_t exc_return) {
  std::uint32_t ipsr;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  const std::uint32_t number = ipsr & 0x1ffU;
  const std::uint32_t cfsr = reg(0xE000ED28);
  // CFSR.STKERR (bus fault) or CFSR.MSTKERR (MPU) on exception entry: the stack pointer left the stack.
  const bool stacking_failed = (cfsr & ((1U << 12) | (1U << 4))) != 0;
  const std::uintptr_t mmfar = reg(0xE000ED34);
  const std::uintptr_t guard = reinterpret_cast<std::uintptr_t>(&__stack_limit);
  // CFSR.MMARVALID with the address in the guard region: a store below the stack.
  const bool hit_guard = (cfsr & (1U << 7)) != 0 && mmfar - guard < kStackGuardBytes;
  write("\n*** ");
  write(exception_name(number));
  write_hex(" (exception ", number);
  write(")\n*** ");
  if (stacking_failed || hit_guard) {
    write("stack overflow: ");
    write_hex("sp=", reinterpret_cast<std::uintptr_t>(frame));
    write_hex("stack limit=", guard);
    write("(the main stack is 1 MiB, mps2_an386.ld)");
  } else {
    write_hex("pc=", frame[6]);
    write_hex("lr=", frame[5]);
    write_hex("xpsr=", frame[7]);
  }
  write_hex("exc_return=", exc_return);
  write("\n*** ");
  write_hex("CFSR=", cfsr);
  write_hex("HFSR=", reg(0xE000ED2C));
  write_hex("MMFAR=", reg(0xE000ED34));
  write_hex("BFAR=", reg(0xE000ED38));
  write("\n*** CFSR:");
  for (const CfsrBit& bit : kCfsrBits) {
    if ((cfsr & (1U << bit.position)) != 0) {
      write(" ");
      write(bit.name);
    }
  }
  write("\n*** test binary ended by an unhandled exception\n");
  exit_with(kFaultExitCode);
}

/// The stack the fault report runs on (1 KiB): the main stack may be the reason for the fault.
extern "C" alignas(8) std::uint32_t nostd_fault_stack[256];
alignas(8) std::uint32_t nostd_fault_stack[256];

/// Every exception without its own handler: find the stacked frame (main or process stack), move to the fault
/// stack and report.
extern "C" __attribute__((naked)) void Default_Handler() noexcept {
  __asm__ volatile(
      "tst lr, #4\n"
      "ite eq\n"
      "mrseq r0, msp\n"
      "mrsne r0, psp\n"
      "mov r1, lr\n"
      "ldr r2, =nostd_fault_stack + 1024\n"
      "mov sp, r2\n"
      "b nostd_report_fault\n");
}

namespace {

/// Room for the command line: the binary's path, the test's arguments and the --nostd-env variables.
constexpr std::size_t kCmdlineBytes = 4096;
constexpr int kMaxArgs = 64;
char cmdline[kCmdlineBytes];
char* argv_storage[kMaxArgs + 1];

/// Splits the command line QEMU built from its `arg=` options (joined by spaces) into argv, in place. Quotes group
/// words as in newlib's crt0.
int split_command_line(char* line, char** argv) {
  int argc = 0;
  char* p = line;
  while (*p != '\0' && argc < kMaxArgs) {
    while (*p == ' ') ++p;
    if (*p == '\0') break;
    char end = ' ';
    if (*p == '"' || *p == '\'') end = *p++;
    argv[argc++] = p;
    while (*p != '\0' && *p != end) ++p;
    if (*p != '\0') *p++ = '\0';
  }
  argv[argc] = nullptr;
  return argc;
}

/// Semihosting has no environment. The runner passes the variables a test needs (GoogleTest's sharding, the test
/// filter) as leading arguments `--nostd-env=NAME=VALUE`; they become the environment and leave argv.
constexpr char kEnvPrefix[] = "--nostd-env=";

int take_environment(int argc, char** argv) {
  constexpr std::size_t kPrefixLength = sizeof kEnvPrefix - 1;
  int kept = argc > 0 ? 1 : 0;  // argv[0] is the program
  for (int i = kept; i < argc; ++i) {
    char* arg = argv[i];
    char* equals = std::strncmp(arg, kEnvPrefix, kPrefixLength) == 0 ? std::strchr(arg + kPrefixLength, '=') : nullptr;
    if (equals == nullptr) {
      argv[kept++] = arg;
      continue;
    }
    *equals = '\0';
    ::setenv(arg + kPrefixLength, equals + 1, 1);
  }
  argv[kept] = nullptr;
  return kept;
}

}  // namespace

/// newlib's malloc asks for memory here: the arena [__heap_start, __heap_end) of mps2_an386.ld. Fails with ENOMEM
/// past its end (newlib's default _sbrk would compare against the stack pointer, which lies below the heap here).
extern "C" void* _sbrk(std::ptrdiff_t increment) {
  static char* brk = &__heap_start;
  if (increment > &__heap_end - brk || increment < &__heap_start - brk) {
    errno = ENOMEM;
    return reinterpret_cast<void*>(-1);
  }
  char* previous = brk;
  brk += increment;
  return previous;
}

namespace {

/// Makes the lowest kStackGuardBytes of the main stack inaccessible with the MPU, so that a stack overflow faults
/// on its first store there (reported as a stack overflow) instead of running on: below the stack lies a
/// "reserved" range that QEMU, like the real board, reads as zero and lets writes vanish into.
void enable_stack_guard() {
  constexpr std::uintptr_t kMpuCtrl = 0xE000ED94, kMpuRnr = 0xE000ED98, kMpuRbar = 0xE000ED9C, kMpuRasr = 0xE000EDA0;
  static_assert((kStackGuardBytes & (kStackGuardBytes - 1)) == 0, "MPU regions are powers of two");
  constexpr std::uint32_t kSizeField = 31 - __builtin_clz(kStackGuardBytes) - 1;  // size = 2^(SIZE+1)
  reg(kMpuRnr) = 0;
  reg(kMpuRbar) = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(&__stack_limit));  // aligned (.ld)
  // XN, AP=000 (no access at any privilege), SIZE, ENABLE.
  reg(kMpuRasr) = (1U << 28) | (kSizeField << 1) | 1U;
  // PRIVDEFENA (the default memory map everywhere else), ENABLE.
  reg(kMpuCtrl) = (1U << 2) | 1U;
  __asm__ volatile("dsb\n isb" ::: "memory");
}

}  // namespace

/// Entry point after reset (vector 1): the stack pointer already holds `__stack` from vector 0.
extern "C" [[noreturn]] void Reset_Handler() noexcept {
  enable_stack_guard();
  std::memset(&__bss_start__, 0, static_cast<std::size_t>(&__bss_end__ - &__bss_start__));
  initialise_monitor_handles();
  struct {
    char* buffer;
    std::uint32_t size;
  } block{cmdline, kCmdlineBytes - 1};
  if (semihost(kSysGetCmdline, &block) != 0) {
    write("*** could not read the command line (longer than 4095 bytes?)\n");
    exit_with(2);
  }
  const int argc = take_environment(split_command_line(cmdline, argv_storage), argv_storage);
  std::set_terminate(nostd::mps2_an386::verbose_terminate_handler);  // before constructors, which may throw too
  std::atexit(__libc_fini_array);
  __libc_init_array();
  std::exit(main(argc, argv_storage));
}

namespace {

using Vector = void (*)();

/// Number of external interrupts the AN386 image wires to the NVIC (CMSDK UARTs, timers, ...); all go to
/// Default_Handler.
constexpr int kExternalInterrupts = 48;

struct VectorTable {
  const void* initial_sp;
  Vector system[15];
  Vector external[kExternalInterrupts];
};

constexpr VectorTable make_vectors() {
  VectorTable t{
      &__stack,
      {Reset_Handler, NMI_Handler, HardFault_Handler, MemManage_Handler, BusFault_Handler, UsageFault_Handler, nullptr,
       nullptr, nullptr, nullptr, SVC_Handler, DebugMon_Handler, nullptr, PendSV_Handler, SysTick_Handler},
      {}};
  for (auto& v : t.external) v = Default_Handler;
  return t;
}

}  // namespace

/// The vector table, placed first in CODE (address 0) by mps2_an386.ld.
extern "C" __attribute__((section(".vectors"), used)) const VectorTable nostd_vector_table = make_vectors();
