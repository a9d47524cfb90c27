// Never ends: the runner must stop it and report failure. For platforms without GoogleTest.
int main() {
  for (;;) {
    __asm__ volatile("" ::: "memory");
  }
}
