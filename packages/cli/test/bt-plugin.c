/* The library bt-scenes loads with dlopen: two frames of its own, then a call back into the program. */
int __attribute__((noinline)) plugin_inner(int v, int (*back)(int)) {
  volatile int twice = v * 2;
  return back(twice) + 1;
}

int plugin_entry(int v, int (*back)(int)) {
  return plugin_inner(v + 1, back) + 1;
}
