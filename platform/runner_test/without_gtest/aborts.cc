// Calls std::abort(): the runner must report failure. For platforms without GoogleTest.
#include <cstdlib>

int main() { std::abort(); }
