// platform/riscv32_virt/startup.cc — board startup for QEMU's RISC-V `virt` board in machine mode (rv32imac):
// the trap vector, fault reports over semihosting, interrupt dispatch and a stack guard.
//
// picolibc's semihosting crt0 (`--crt0=semihost`) does the reset work: stack pointer, .data and .bss, the command
// line into argv (SYS_GET_CMDLINE), constructors, `exit(main(...))`, which ends QEMU with main's status. Its own
// trap handler prints the registers from the faulting stack, which cannot work after a stack overflow. So a
// constructor here (nostd_board_init, run by crt0 before main) replaces it:
//
// - mtvec points at nostd_trap_entry (direct mode). An exception (bad address, illegal instruction, misaligned
//   access, ecall, ebreak outside semihosting) moves to a stack of its own, prints its name, mcause, mepc, mtval
//   and sp, and ends QEMU with kFaultExitCode (139, like a shell's 128 + SIGSEGV), so a fault fails the test.
// - An interrupt saves the caller-saved registers on the current stack and calls the handler for its cause:
//   MachineTimer_Handler (CLINT mtimecmp), MachineSoftware_Handler, MachineExternal_Handler. A test installs one by
//   defining the function; the definitions here are weak and report an unexpected interrupt as a fault.
// - The lowest kStackGuardBytes of the main stack are made inaccessible to machine mode by a locked PMP entry, so a
//   stack overflow faults on its first store there and is reported as a stack overflow, instead of running on
//   into malloc's arena below the stack (picolibc.ld puts the stack at the top of RAM, right after the arena).
#include <cstddef>
#include <cstdint>

#include "platform/hex_field.h"

extern "C" {
extern char __heap_end[];                    // picolibc.ld: the end of malloc's arena is the bottom of the main stack
extern char __stack[];                       // picolibc.ld: the top of the main stack
void _exit(int status);                      // picolibc's semihosting _exit: SYS_EXIT(_EXTENDED) with the status
void sys_semihost_write0(const char* text);  // picolibc: SYS_WRITE0, a NUL-terminated string to the debug console

void nostd_trap_entry();
void nostd_handle_interrupt();
[[noreturn]] void nostd_report_trap(std::uintptr_t sp);
void nostd_unexpected_interrupt();
void MachineSoftware_Handler() __attribute__((weak, alias("nostd_unexpected_interrupt")));
void MachineTimer_Handler() __attribute__((weak, alias("nostd_unexpected_interrupt")));
void MachineExternal_Handler() __attribute__((weak, alias("nostd_unexpected_interrupt")));
}

namespace {

/// Exit status of a test that trapped (like a shell's 128 + SIGSEGV).
constexpr int kFaultExitCode = 139;

/// The lowest bytes of the main stack, kept inaccessible by the PMP (enable_stack_guard).
constexpr std::uintptr_t kStackGuardBytes = 1024;

// mcause values (RISC-V privileged spec, table "Machine cause register values after trap").
constexpr std::uintptr_t kInterruptBit = std::uintptr_t{1} << 31;
constexpr std::uintptr_t kMachineSoftwareInterrupt = 3;
constexpr std::uintptr_t kMachineTimerInterrupt = 7;
constexpr std::uintptr_t kMachineExternalInterrupt = 11;
constexpr std::uintptr_t kLoadAccessFault = 5;
constexpr std::uintptr_t kStoreAccessFault = 7;

const char* exception_name(std::uintptr_t cause) {
  switch (cause) {
    case 0:
      return "instruction address misaligned";
    case 1:
      return "instruction access fault";
    case 2:
      return "illegal instruction";
    case 3:
      return "breakpoint";
    case 4:
      return "load address misaligned";
    case 5:
      return "load access fault";
    case 6:
      return "store/AMO address misaligned";
    case 7:
      return "store/AMO access fault";
    case 8:
      return "environment call from U-mode";
    case 11:
      return "environment call from M-mode";
    default:
      return "exception";
  }
}

void write(const char* text) { sys_semihost_write0(text); }

void write_hex(const char* name, std::uintptr_t value) {
  char field[nostd::board::kHexFieldBytes];
  write(nostd::board::hex_field(field, name, static_cast<std::uint32_t>(value)));
}

std::uintptr_t read_mcause() {
  std::uintptr_t v;
  __asm__ volatile("csrr %0, mcause" : "=r"(v));
  return v;
}

}  // namespace

// The trap vector (mtvec, direct mode: 4-byte aligned). Exceptions never return: they leave the (possibly
// overflowed) stack for nostd_fault_stack before calling C. Interrupts save the registers a C call may clobber
// (ra, t0-t6, a0-a7: 16 words, keeping sp 16-byte aligned as the ilp32 ABI requires) and return with mret.
__asm__(R"(
  .section .text.nostd_trap_entry, "ax", @progbits
  .globl nostd_trap_entry
  .balign 4
nostd_trap_entry:
  csrw mscratch, t0
  csrr t0, mcause
  bltz t0, 1f
  mv a0, sp
  la sp, nostd_fault_stack + 1024
  call nostd_report_trap
1:
  csrr t0, mscratch
  addi sp, sp, -64
  sw ra, 0(sp)
  sw t0, 4(sp)
  sw t1, 8(sp)
  sw t2, 12(sp)
  sw a0, 16(sp)
  sw a1, 20(sp)
  sw a2, 24(sp)
  sw a3, 28(sp)
  sw a4, 32(sp)
  sw a5, 36(sp)
  sw a6, 40(sp)
  sw a7, 44(sp)
  sw t3, 48(sp)
  sw t4, 52(sp)
  sw t5, 56(sp)
  sw t6, 60(sp)
  call nostd_handle_interrupt
  lw ra, 0(sp)
  lw t0, 4(sp)
  lw t1, 8(sp)
  lw t2, 12(sp)
  lw a0, 16(sp)
  lw a1, 20(sp)
  lw a2, 24(sp)
  lw a3, 28(sp)
  lw a4, 32(sp)
  lw a5, 36(sp)
  lw a6, 40(sp)
  lw a7, 44(sp)
  lw t3, 48(sp)
  lw t4, 52(sp)
  lw t5, 56(sp)
  lw t6, 60(sp)
  addi sp, sp, 64
  mret
)");

/// The stack the fault report runs on (1 KiB): the main stack may be the reason for the fault.
extern "C" alignas(16) std::uint32_t nostd_fault_stack[256];
alignas(16) std::uint32_t nostd_fault_stack[256];

/// Calls the handler of the interrupt in progress (mcause), from nostd_trap_entry.
extern "C" void nostd_handle_interrupt() {
  switch (read_mcause() & ~kInterruptBit) {
    case kMachineTimerInterrupt:
      MachineTimer_Handler();
      return;
    case kMachineSoftwareInterrupt:
      MachineSoftware_Handler();
      return;
    case kMachineExternalInterrupt:
      MachineExternal_Handler();
      return;
    default:
      nostd_unexpected_interrupt();
  }
}

/// An interrupt nobody installed a handler for: returning would take it again at once, so it fails the test.
extern "C" void nostd_unexpected_interrupt() {
  write("\n*** unexpected interrupt ");
  write_hex("mcause=", read_mcause());
  write("\n*** test binary ended by an interrupt without a handler\n");
  _exit(kFaultExitCode);
}

/// Reports the exception in progress over semihosting and ends QEMU with kFaultExitCode. `sp` is the stack
/// pointer at the trap. Runs on nostd_fault_stack.
extern "C" void nostd_report_trap(std::uintptr_t sp) {
  std::uintptr_t mepc, mtval;
  __asm__ volatile("csrr %0, mepc" : "=r"(mepc));
  __asm__ volatile("csrr %0, mtval" : "=r"(mtval));
  const std::uintptr_t cause = read_mcause();
  const auto guard = reinterpret_cast<std::uintptr_t>(__heap_end);
  const bool hit_guard = (cause == kLoadAccessFault || cause == kStoreAccessFault) && mtval - guard < kStackGuardBytes;
  write("\n*** ");
  write(exception_name(cause));
  write_hex(": mcause=", cause);
  write("\n*** ");
  if (hit_guard) {
    write("stack overflow: ");
    write_hex("sp=", sp);
    write_hex("stack limit=", guard + kStackGuardBytes);
    write("(the main stack is 256 KiB, platform/riscv32_virt/BUILD.bazel)\n*** ");
  }
  write_hex("mepc=", mepc);
  write_hex("mtval=", mtval);
  write_hex("sp=", sp);
  write("\n*** test binary ended by an unhandled exception\n");
  _exit(kFaultExitCode);
  for (;;) {
  }
}

namespace {

/// Makes [__heap_end, __heap_end + kStackGuardBytes), the bottom of the main stack, inaccessible: PMP entry 0 holds
/// the lower bound, entry 1 is a locked top-of-range (TOR) entry with no permissions. A locked entry applies to
/// machine mode too; addresses no entry matches stay fully accessible to machine mode.
void enable_stack_guard() {
  const auto bottom = reinterpret_cast<std::uintptr_t>(__heap_end);
  const std::uintptr_t lo = bottom >> 2, hi = (bottom + kStackGuardBytes) >> 2;  // pmpaddr holds address / 4
  constexpr std::uintptr_t kTorLocked = (1U << 3) | (1U << 7);                   // A = TOR, L; R = W = X = 0
  __asm__ volatile("csrw pmpaddr0, %0" : : "r"(lo));
  __asm__ volatile("csrw pmpaddr1, %0" : : "r"(hi));
  __asm__ volatile("csrw pmpcfg0, %0" : : "r"(kTorLocked << 8) : "memory");  // entry 1's byte; entry 0 OFF
}

}  // namespace

/// Installs the trap vector and the stack guard before main (and before other constructors).
extern "C" [[gnu::constructor(101)]] void nostd_board_init() {
  __asm__ volatile("csrw mtvec, %0" : : "r"(&nostd_trap_entry) : "memory");
  enable_stack_guard();
}
