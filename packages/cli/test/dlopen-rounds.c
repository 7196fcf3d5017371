/*
 * Library tracking test program: loads the plugin with dlopen, calls through
 * it back into called_back(), unloads it, and does that again.
 * Usage: dlopen-rounds PLUGIN.so
 */
#include <dlfcn.h>
#include <stdio.h>

int __attribute__((noinline)) called_back(int v) {
  return v + 1;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  for (int round = 0; round < 2; round++) {
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h) {
      fprintf(stderr, "dlopen: %s\n", dlerror());
      return 1;
    }
    int (*entry)(int, int (*)(int)) = (int (*)(int, int (*)(int)))dlsym(h, "plugin_entry");
    entry(round, called_back);
    dlclose(h);
  }
  return 0;
}
