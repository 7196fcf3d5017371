/*
 * The user program of the CLI's machine tests (stubs and core files): a main
 * thread and two workers, each parked forever in pause() at a known call depth
 * with known arguments, so the same stacks can be looked at by gdb and by
 * stackdb one after the other (through gdbserver, Valgrind's vgdb, a gcore
 * core and a core the kernel writes on SIGSEGV).
 *
 * It prints "ready PID" once every thread is parked.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#define WORKERS 2

struct job {
  int id;
  const char *label;
};

static const struct job jobs[WORKERS] = { { 1, "alpha" }, { 2, "beta" } };
static pthread_barrier_t parked;
volatile long parked_count;

__attribute__((noinline)) static void park(const struct job *job, long depth)
{
  __atomic_add_fetch(&parked_count, 1, __ATOMIC_SEQ_CST);
  pthread_barrier_wait(&parked);
  if (job->id == 0) {
    /* The workers are a few instructions away from pause() by now. */
    usleep(100000);
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
  }
  for (;;)
    pause();
  (void)job;
  (void)depth;
}

__attribute__((noinline)) static void descend(const struct job *job, long depth, const char *why)
{
  if (depth < job->id + 2)
    descend(job, depth + 1, why);
  else
    park(job, depth);
}

static void *worker(void *arg)
{
  descend(arg, 1, "worker");
  return NULL;
}

__attribute__((noinline)) static void main_wait(int workers, const char *name)
{
  park(&(struct job){ 0, name }, workers);
}

int main(void)
{
  pthread_t t[WORKERS];
  pthread_barrier_init(&parked, NULL, WORKERS + 1);
  for (int i = 0; i < WORKERS; i++)
    pthread_create(&t[i], NULL, worker, (void *)&jobs[i]);
  main_wait(WORKERS, "main");
  return 0;
}
