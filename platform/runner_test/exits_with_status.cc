// Returns 3 from main without GoogleTest: the runner must pass the exact status through.
int main() { return 3; }
