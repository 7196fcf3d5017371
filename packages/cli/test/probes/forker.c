/*
 * Fork and exec for the probe inheritance tests. Every call of work() is
 * printed with the caller's pid, so tests count them per process.
 *   fork N      the parent calls work() N times, forks; the child calls it N
 *               more times and exits; the parent waits and calls it once more
 *   forkexec N  the child execs this program as `exec N` instead
 *   exec N      calls work() N times (the image the child exec'd)
 *   execself N  execs itself as `exec N` (for re-resolution in one process)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) int work(int i) {
  printf("%d work %d\n", (int)getpid(), i);
  return i * 2;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "fork";
  int n = argc > 2 ? atoi(argv[2]) : 3;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!strcmp(mode, "exec")) {
    for (int i = 0; i < n; i++) work(1000 + i);
    return 0;
  }
  if (!strcmp(mode, "execself")) {
    work(-1);
    char num[16];
    snprintf(num, sizeof num, "%d", n);
    execl("/proc/self/exe", argv[0], "exec", num, (char *)NULL);
    perror("execl");
    return 1;
  }
  for (int i = 0; i < n; i++) work(i);
  pid_t child = fork();
  if (child == 0) {
    if (!strcmp(mode, "forkexec")) {
      char num[16];
      snprintf(num, sizeof num, "%d", n);
      execl("/proc/self/exe", argv[0], "exec", num, (char *)NULL);
      perror("execl");
      _exit(1);
    }
    for (int i = 0; i < n; i++) work(100 + i);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  work(999);
  printf("%d child %d status %d\n", (int)getpid(), (int)child, WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
  return 0;
}
