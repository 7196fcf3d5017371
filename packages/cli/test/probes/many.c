/* A hundred functions, f0 to f99, each called once: fN(x) returns x + N. */
#include <stdio.h>

#define F(n) __attribute__((noinline)) int f##n(int x) { return x + n; }
#define F10(t) F(t##0) F(t##1) F(t##2) F(t##3) F(t##4) F(t##5) F(t##6) F(t##7) F(t##8) F(t##9)
F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9)
F10(1) F10(2) F10(3) F10(4) F10(5) F10(6) F10(7) F10(8) F10(9)

#define C(n) sum += f##n(1);
#define C10(t) C(t##0) C(t##1) C(t##2) C(t##3) C(t##4) C(t##5) C(t##6) C(t##7) C(t##8) C(t##9)

int main(void) {
  long sum = 0;
  C(0) C(1) C(2) C(3) C(4) C(5) C(6) C(7) C(8) C(9)
  C10(1) C10(2) C10(3) C10(4) C10(5) C10(6) C10(7) C10(8) C10(9)
  printf("sum %ld\n", sum);
  return 0;
}
