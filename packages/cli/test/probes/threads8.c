/* Eight threads call hit() concurrently; the program counts the calls itself. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 8
static long rounds = 200;
static long calls;

__attribute__((noinline)) void hit(long thread, long i) {
  __atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST);
  __asm__ volatile("" ::"r"(thread), "r"(i) : "memory");
}

static pthread_barrier_t start;

static void *worker(void *arg) {
  long id = (long)arg;
  pthread_barrier_wait(&start);
  for (long i = 0; i < rounds; i++) hit(id, i);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1) rounds = atol(argv[1]);
  pthread_t t[THREADS];
  pthread_barrier_init(&start, NULL, THREADS);
  for (long i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, (void *)i);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  printf("calls %ld\n", calls);
  return 0;
}
