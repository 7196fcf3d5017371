/* A small program with the symbol kinds and code shapes the ELF, CFI and
   location tests look for: global/static/TLS data, an IFUNC, static and
   exported functions, a variable-length array (frame-pointer CFA), and
   locals that live in registers at -O2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct point {
  int x;
  long y;
  char name[12];
};

int global_counter = 3;
static long static_total;
__thread int tls_value = 7;
const char *greeting = "hello";
struct point origin = { 1, 2, "origin" };

static int add_impl(int a, int b) { return a + b; }
static int (*resolve_add(void))(int, int) { return add_impl; }
int add(int a, int b) __attribute__((ifunc("resolve_add")));

__attribute__((noinline, noclone)) static long sum_points(const struct point *p, int n) {
  long total = 0;
  for (int i = 0; i < n; i++) total += p[i].x * p[i].y;
  static_total += total;
  return total;
}

__attribute__((noinline)) long with_vla(int n) {
  long buf[n];
  for (int i = 0; i < n; i++) buf[i] = i * global_counter;
  long s = 0;
  for (int i = 0; i < n; i++) s += buf[i];
  return s;
}

__attribute__((noinline)) int recurse(int depth, int *out) {
  if (depth <= 0) {
    *out = tls_value;
    return 0;
  }
  int r = recurse(depth - 1, out) + 1;
  return r + add(depth, global_counter);
}

int main(int argc, char **argv) {
  struct point pts[3] = { { 1, 2, "a" }, { 3, 4, "b" }, { argc, 6, "c" } };
  int out = 0;
  long total = sum_points(pts, 3) + with_vla(argc + 4);
  int r = recurse(argc + 2, &out);
  if (argc > 1) printf("%s %s %ld %d %d %ld\n", greeting, argv[1], total, r, out, static_total);
  return (int)(total + r + out + origin.x) & 1;
}
