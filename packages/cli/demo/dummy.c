/*
 * The bundled demo program, after the original Stackdb's tests/dummy.c: a loop
 * through a chain of nested calls f1..f10 that update counters and sleep.
 * Built with -DTHREADS it runs the loop in two threads (dummy.threads).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#ifdef THREADS
#include <pthread.h>
#endif

struct counters {
  unsigned long loops;
  int depth;
  const char *name;
};

struct counters counters = { 0, 0, "dummy" };
volatile int calls[11];

static void napping(unsigned int seconds) { sleep(seconds); }

#define STEP(n, next) \
  int __attribute__((noinline)) f##n(int i, int arg) { \
    calls[n]++; counters.depth = n; \
    return next + arg; \
  }

int __attribute__((noinline)) f10(int i, int arg) {
  calls[10]++;
  counters.depth = 10;
  napping(i);
  return arg + 1;
}
STEP(9, f10(i, arg + 1))
STEP(8, f9(i, arg + 1))
STEP(7, f8(i, arg + 1))
STEP(6, f7(i, arg + 1))
STEP(5, f6(i, arg + 1))
STEP(4, f5(i, arg + 1))
STEP(3, f4(i, arg + 1))
STEP(2, f3(i, arg + 1))
STEP(1, f2(i, arg + 1))

int __attribute__((noinline)) looper(int istart) {
  int r = 0;
  for (;;) {
    counters.loops++;
    r += f1(istart, 0);
  }
  return r;
}

#ifdef THREADS
static void *thread_main(void *arg) {
  looper((int)(long)arg);
  return NULL;
}
#endif

int main(int argc, char **argv) {
  int seconds = argc > 1 ? atoi(argv[1]) : 3;
  printf("%s: pid %d\n", argv[0], (int)getpid());
  fflush(stdout);
#ifdef THREADS
  pthread_t t;
  pthread_create(&t, NULL, thread_main, (void *)(long)seconds);
#endif
  return looper(seconds);
}
