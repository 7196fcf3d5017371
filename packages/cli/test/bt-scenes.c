/*
 * Backtrace test program: one thread per scene, each ending parked in pause()
 * so that a debugger attaching at any time sees the same stacks. Scenes:
 *   recurse  1,000 frames of recursion
 *   qsort    a qsort comparator: into glibc and back
 *   signal   a signal handler frame over code interrupted while spinning
 *   plugin   code in a library loaded with dlopen, calling back into the program
 *   inline   inlined calls (always_inline, so at -O0 too)
 *   values   arguments and locals of every kind of type
 * main prints "ready PID" once every scene is parked, then parks too.
 * Usage: bt-scenes PLUGIN.so
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCENES 6
static int parked;

/* Where every scene ends: counts itself and sleeps forever. */
void __attribute__((noinline)) park(int scene) {
  __atomic_add_fetch(&parked, 1, __ATOMIC_SEQ_CST);
  for (;;) pause();
}

/* ---- recursion ---- */
int __attribute__((noinline)) recurse(int depth, int limit) {
  volatile int here = depth;
  if (depth == limit) park(1);
  int r = recurse(depth + 1, limit);
  return r + here;
}

/* ---- qsort comparator ---- */
static int compare_ints(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  if (x == 42 || y == 42) park(2);
  return (x > y) - (x < y);
}

int __attribute__((noinline)) sort_numbers(int *v, int n) {
  qsort(v, n, sizeof *v, compare_ints);
  return v[0];
}

/* ---- signal handler ---- */
static void on_usr1(int sig) {
  park(sig);
}

static volatile int spinning;

/* Spins until main signals this thread: the handler's frame sits over an arbitrary instruction here. */
int __attribute__((noinline)) interrupted(int code) {
  unsigned long spins = 0;
  spinning = 1;
  for (;;) spins += code;
  return (int)spins;
}

/* ---- dlopen ---- */
int __attribute__((noinline)) from_plugin(int v) {
  park(4);
  return v;
}

/* ---- inlined calls ---- */
static inline __attribute__((always_inline)) int inner_inline(int v) {
  park(v);
  return v * 2;
}

static inline __attribute__((always_inline)) int middle_inline(int v) {
  return inner_inline(v + 1) + 1;
}

int __attribute__((noinline)) outer(int v) {
  return middle_inline(v * 3) - 1;
}

/* ---- values of every kind ---- */
enum color { RED, GREEN = 5, BLUE };
struct point { int x, y; };
struct flags { unsigned ready : 1; signed level : 3; unsigned mode : 4; };
union number { int i; float f; };
typedef int (*callback)(int);

int __attribute__((noinline)) show_values(char c, unsigned char uc, short s, unsigned short us, int i, unsigned u,
                                          long l, unsigned long ul, long long ll, float f, double d, bool b,
                                          enum color e, const char *str, struct point *pp, callback fn) {
  struct point p = { 3, -4 };
  struct flags fl = { 1, -2, 9 };
  union number num = { .i = 7 };
  int arr[4] = { 1, 2, 3, 4 };
  char name[8] = "scene";
  double *nothing = NULL;
  park(6);
  return c + uc + s + us + i + (int)u + (int)l + (int)ul + (int)ll + (int)f + (int)d + b + e + str[0] + pp->x + fn(1) +
         p.x + fl.level + num.i + arr[2] + name[0] + (nothing != NULL);
}

static struct point origin = { 10, 20 };

/* ---- threads ---- */
static const char *plugin_path;

static void *scene(void *arg) {
  long which = (long)arg;
  switch (which) {
  case 1:
    pthread_setname_np(pthread_self(), "recurse");
    recurse(1, 1000);
    break;
  case 2: {
    pthread_setname_np(pthread_self(), "qsort");
    int v[] = { 9, 3, 42, 7, 1 };
    sort_numbers(v, 5);
    break;
  }
  case 3:
    pthread_setname_np(pthread_self(), "signal");
    interrupted(30);
    break;
  case 4: {
    pthread_setname_np(pthread_self(), "plugin");
    void *h = dlopen(plugin_path, RTLD_NOW);
    if (!h) {
      fprintf(stderr, "dlopen: %s\n", dlerror());
      exit(1);
    }
    int (*entry)(int, int (*)(int)) = (int (*)(int, int (*)(int)))dlsym(h, "plugin_entry");
    entry(40, from_plugin);
    break;
  }
  case 5:
    pthread_setname_np(pthread_self(), "inline");
    outer(5);
    break;
  case 6:
    pthread_setname_np(pthread_self(), "values");
    show_values('A', 200, -300, 60000, -70000, 4000000000u, -5000000000L, 18000000000000000000ul, -9000000000000000000ll,
                1.5f, -2.25, true, GREEN, "hello", &origin, from_plugin);
    break;
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PLUGIN.so\n", argv[0]);
    return 2;
  }
  plugin_path = argv[1];
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  pthread_t t[SCENES];
  for (long i = 0; i < SCENES; i++) {
    pthread_create(&t[i], NULL, scene, (void *)(i + 1));
    if (i + 1 == 3) {
      while (!spinning) usleep(1000);
      usleep(10000);
      pthread_kill(t[i], SIGUSR1);
    }
    /* One at a time: thread ids and names come in scene order. */
    while (__atomic_load_n(&parked, __ATOMIC_SEQ_CST) < i + 1) usleep(1000);
  }
  usleep(50000);
  printf("ready %d\n", (int)getpid());
  fflush(stdout);
  park(0);
  return 0;
}
