/*
 * The probe tests' main program. Each function prints what it was given and
 * what it returns, so the tests compare a probe's typed values with the
 * program's own words. Modes (argv[1]):
 *   calls N     add(i, 2*i) and describe() N times, then a string and a struct
 *   watch       writes a global and a struct member reached through pointers
 *   guard       asks check_password() and says whether access was granted
 *   skip        calls side_effect() (which bumps a counter) and prints the counter
 *   wait        blocks on stdin between rounds of calls (for signal tests)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct point {
  int x;
  long y;
};

struct big {
  long a, b, c;
};

struct inner {
  int pad;
  long value;
};

struct outer {
  char tag[4];
  struct inner *in;
};

long watched_global;
struct inner the_inner = {1, 100};
struct outer the_outer = {"abc", &the_inner};
struct outer *root = &the_outer;
int side_effects;

__attribute__((noinline)) long add(long a, long b) {
  long r = a + b;
  printf("add(%ld, %ld) = %ld\n", a, b, r);
  return r;
}

__attribute__((noinline)) double scale(double v, int k) {
  double r = v * k;
  printf("scale(%g, %d) = %g\n", v, k, r);
  return r;
}

__attribute__((noinline)) const char *describe(const char *what, int n) {
  static char buf[64];
  snprintf(buf, sizeof buf, "%s#%d", what, n);
  printf("describe(\"%s\", %d) = \"%s\"\n", what, n, buf);
  return buf;
}

__attribute__((noinline)) struct point make_point(int x, long y) {
  struct point p = {x, y};
  printf("make_point(%d, %ld) = {%d, %ld}\n", x, y, p.x, p.y);
  return p;
}

__attribute__((noinline)) struct big make_big(long a) {
  struct big b = {a, a + 1, a + 2};
  printf("make_big(%ld) = {%ld, %ld, %ld}\n", a, b.a, b.b, b.c);
  return b;
}

__attribute__((noinline)) int check_password(const char *pw) {
  int ok = strcmp(pw, "open sesame") == 0;
  printf("check_password(\"%s\") = %d\n", pw, ok);
  return ok;
}

__attribute__((noinline)) void side_effect(void) { side_effects++; }

__attribute__((noinline)) void writer(long v) {
  watched_global = v;                 /* LINE_WRITE_GLOBAL */
  root->in->value = v * 10;           /* LINE_WRITE_MEMBER */
}

static void calls(int n) {
  for (int i = 0; i < n; i++) {
    add(i, 2 * i);
    describe("item", i);
  }
  printf("scaled %g\n", scale(1.5, 3));
  struct point p = make_point(7, -9);
  printf("point %d %ld\n", p.x, p.y);
  struct big b = make_big(10);
  printf("big %ld %ld %ld\n", b.a, b.b, b.c);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "calls";
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!strcmp(mode, "calls")) {
    calls(argc > 2 ? atoi(argv[2]) : 3);
  } else if (!strcmp(mode, "watch")) {
    for (long v = 1; v <= 3; v++) writer(v);
    printf("watched %ld %ld\n", watched_global, root->in->value);
  } else if (!strcmp(mode, "guard")) {
    printf(check_password("guess") ? "access granted\n" : "access denied\n");
  } else if (!strcmp(mode, "skip")) {
    side_effect();                    /* LINE_SKIP */
    side_effect();
    printf("side effects %d\n", side_effects);
  } else if (!strcmp(mode, "wait")) {
    char line[64];
    int round = 0;
    printf("ready %d\n", (int)getpid());
    while (fgets(line, sizeof line, stdin)) {
      add(round, round);
      printf("round %d\n", round++);
    }
    printf("done %d\n", round);
  }
  return 0;
}
