/* square() is inlined into three callers (built with -O2); each prints what it got. */
#include <stdio.h>
#include <stdlib.h>

static inline __attribute__((always_inline)) long square(long x) { return x * x; }

__attribute__((noinline)) long one(long a) { return square(a) + 1; }
__attribute__((noinline)) long two(long a) { return square(a + 1) + 2; }
__attribute__((noinline)) long three(long a) { return square(a - 1) * 3; }

int main(int argc, char **argv) {
  long v = argc > 1 ? atol(argv[1]) : 5;
  printf("%ld %ld %ld\n", one(v), two(v), three(v));
  return 0;
}
