/*
 * The ceiling of any ptrace debugger: runs PROGRAM ARGS... under ptrace with
 * an int3 at link-time address ADDR of the program (PIE base from
 * /proc/PID/maps), and for every hit only rewinds the pc, restores the byte,
 * single-steps, re-inserts the int3 and continues. Prints the hit count.
 * Usage: raw-ptrace ADDR PROGRAM ARGS...
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned long base_of(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
  FILE *f = fopen(path, "r");
  unsigned long start = 0;
  if (f && fscanf(f, "%lx-", &start) != 1) start = 0;
  if (f) fclose(f);
  return start;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: raw-ptrace ADDR PROGRAM ARGS...\n");
    return 2;
  }
  unsigned long link = strtoul(argv[1], NULL, 0);
  pid_t pid = fork();
  if (pid == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    execv(argv[2], argv + 2);
    _exit(127);
  }
  int st;
  waitpid(pid, &st, 0); /* the exec stop */
  unsigned long addr = base_of(pid) + link;
  long orig = ptrace(PTRACE_PEEKTEXT, pid, (void *)addr, 0);
  long trap = (orig & ~0xffL) | 0xcc;
  ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)trap);
  long hits = 0;
  ptrace(PTRACE_CONT, pid, 0, 0);
  for (;;) {
    if (waitpid(pid, &st, 0) < 0) break;
    if (WIFEXITED(st) || WIFSIGNALED(st)) break;
    if (WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP) {
      struct user_regs_struct regs;
      ptrace(PTRACE_GETREGS, pid, 0, &regs);
      if (regs.rip - 1 == addr) {
        hits++;
        regs.rip = addr;
        ptrace(PTRACE_SETREGS, pid, 0, &regs);
        ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)orig);
        ptrace(PTRACE_SINGLESTEP, pid, 0, 0);
        waitpid(pid, &st, 0);
        ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)trap);
      }
      ptrace(PTRACE_CONT, pid, 0, 0);
    } else {
      ptrace(PTRACE_CONT, pid, 0, (void *)(long)(WIFSTOPPED(st) ? WSTOPSIG(st) : 0));
    }
  }
  printf("hits %ld\n", hits);
  return 0;
}
