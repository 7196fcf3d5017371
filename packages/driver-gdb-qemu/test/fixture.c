/*
 * The program the gdb driver's tests debug through gdbserver and Valgrind.
 * Usage: fixture [NTHREADS]. It starts NTHREADS busy workers, waits until all
 * run, prints "ready", then calls checkpoint(i) and touch_watched(i * 10) and
 * prints "tick i" every 20 ms, until a debugger sets exit_code (>= 0): it then
 * exits with that code.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Bytes the tests know; read at the symbol's address. */
const char known_bytes[32] = "stackdb-gdb-known-bytes-0123456";
/* Writable memory the tests may change (and restore). */
char scratch[64];
/* Written by touch_watched(): the target of a hardware watchpoint. */
volatile long watched;
volatile long counter;
/* A debugger writes the code the program should exit with. */
volatile long exit_code = -1;
static pthread_barrier_t barrier;

/* Code that never runs: a safe place for a breakpoint nobody reaches. */
__attribute__((noinline)) void never_called(void) {
  puts("never_called ran");
  abort();
}

__attribute__((noinline)) void checkpoint(long n) {
  counter += n;
}

__attribute__((noinline)) void touch_watched(long v) {
  watched = v;
}

static void *worker(void *arg) {
  (void)arg;
  pthread_barrier_wait(&barrier);
  for (;;) {
    __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
    usleep(1000);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 0;
  setvbuf(stdout, NULL, _IONBF, 0);
  pthread_barrier_init(&barrier, NULL, (unsigned)n + 1);
  for (int i = 0; i < n; i++) {
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
  }
  pthread_barrier_wait(&barrier);
  printf("ready pid=%d threads=%d\n", getpid(), n + 1);
  for (long i = 1; exit_code < 0; i++) {
    checkpoint(i);
    touch_watched(i * 10);
    printf("tick %ld\n", i);
    usleep(20000);
  }
  return (int)exit_code;
}
