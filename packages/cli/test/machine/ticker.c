/*
 * The user program of the CLI's probe tests through GDB stubs: it calls
 * tick(i, label) every 20 ms and then prints "tick i", forever.
 * Usage: ticker [LABEL] (default "tock").
 */
#include <stdio.h>
#include <unistd.h>

volatile long ticks;

__attribute__((noinline)) void tick(long n, const char *label)
{
  ticks += n;
  (void)label;
}

int main(int argc, char **argv)
{
  const char *label = argc > 1 ? argv[1] : "tock";
  setvbuf(stdout, NULL, _IONBF, 0);
  for (long i = 1;; i++) {
    tick(i, label);
    printf("tick %ld\n", i);
    usleep(20000);
  }
}
