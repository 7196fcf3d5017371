/*
 * Guest test program: loops through nested calls f1..f5 forever; f5 sleeps 100 ms
 * (or spins with argv[1] == "spin"). Built static with -g for the test VM, so
 * debuggers attached to the VM can walk its user stack and read its globals.
 * -DNTHREADS=2 builds a two-thread variant (main plus one worker, both looping).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifndef NTHREADS
#define NTHREADS 1
#endif
#if NTHREADS > 1
#include <pthread.h>
#endif

volatile unsigned long counter = 0;
static int spin = 0;

struct point {
    int x, y;
    const char *name;
};
struct point global_pt = { 3, 4, "origin" };
const char looper_banner[] = "stackdb test-vm looper";

__attribute__((noinline)) int f5(int depth) {
    volatile int local5 = depth * 5;
    counter++;
    if (spin) {
        for (volatile int i = 0; i < 1000000; i++)
            ;
    } else {
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return local5 + 1;
}
__attribute__((noinline)) int f4(int d) { volatile int l4 = d + 4; int r = f5(l4); return r + l4; }
__attribute__((noinline)) int f3(int d) { volatile int l3 = d + 3; int r = f4(l3); return r + l3; }
__attribute__((noinline)) int f2(int d) { volatile int l2 = d + 2; int r = f3(l2); return r + l2; }
__attribute__((noinline)) int f1(int d) { volatile int l1 = d + 1; int r = f2(l1); return r + l1; }

static void *loop(void *arg) {
    int id = (int)(long)arg;
    for (;;) {
        volatile int r = f1(id);
        (void)r;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "spin") == 0) spin = 1;
    printf("%s pid=%d threads=%d mode=%s\n", looper_banner, getpid(), NTHREADS, spin ? "spin" : "sleep");
    fflush(stdout);
#if NTHREADS > 1
    pthread_t th[NTHREADS];
    for (long i = 1; i < NTHREADS; i++) pthread_create(&th[i], NULL, loop, (void *)i);
#endif
    loop((void *)0);
    return 0;
}
