/* A shared library: exported and hidden functions, data, and a TLS variable. */
int shared_data = 42;
__thread long shared_tls;
static int helper(int v) { return v * 3 + shared_data; }
__attribute__((visibility("hidden"))) int hidden_func(int v) { return helper(v) + 1; }
int exported_func(int v) {
  shared_tls += v;
  return hidden_func(v) + (int)shared_tls;
}
