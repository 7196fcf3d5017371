/* The probe benchmark's target: calls f(i, 2i) N times in a tight loop. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) long f(long a, long b) { return a + b; }

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000;
  long sum = 0;
  for (long i = 0; i < n; i++) sum += f(i, 2 * i);
  printf("%ld\n", sum);
  return 0;
}
