/*
 * Globals of every kind of type, initialised in the image, for the value
 * formatter's tests: built non-PIE so that gdb and the tests read the same
 * addresses straight from the file.
 */
#include <complex.h>
#include <math.h>
#include <stdbool.h>

signed char sc = -5;
unsigned char uc = 250;
char ch = 'x';
char nl = '\n';
short s16 = -12345;
unsigned short u16 = 54321;
int i32 = -2000000000;
unsigned int u32 = 4000000000u;
long i64 = -9000000000000000000L;
unsigned long u64 = 18446744073709551615UL;
long long ll = 123456789012345LL;
__int128 i128 = -((__int128)1 << 100);
unsigned __int128 u128 = ((unsigned __int128)1 << 127) + 5;

float f32 = 3.14159f;
double f64 = 2.718281828459045;
long double f80 = 1.1L;
float fneg = -0.0f;
double dinf = INFINITY;
double tenth = 0.1;
float tiny = 1e-40f;
double big = 1e300;
double complex z = 1.5 + 2.0 * I;

bool yes = true;
_Bool no = false;

enum color { RED, GREEN = 5, BLUE };
enum color color = BLUE;
enum color badcolor = (enum color)7;
enum perms { P_READ = 1, P_WRITE = 2, P_EXEC = 4 };
enum perms perms = P_READ | P_EXEC;
enum perms odd = P_READ | 8;
enum neg { MINUS = -1, PLUS = 1 };
enum neg minus = MINUS;

int square(int x) { return x * x; }
int (*fnptr)(int) = square;
int *iptr = &i32;
int *nothing = 0;
void *vptr = &u64;
const char *greeting = "hello, world";
const char *escapes = "tab\there \"quoted\" \\ \x01\x7f\xff";
char buf[16] = "hi";
char full[4] = "abcd";
char name[8] = "scene";
char longs[300] = { [0 ... 298] = 'a' };
const char *longptr = longs;

#define X4(b) b, b + 1, b + 2, b + 3
#define X16(b) X4(b), X4(b + 4), X4(b + 8), X4(b + 12)
#define X64(b) X16(b), X16(b + 16), X16(b + 32), X16(b + 48)
short ramp[256] = { X64(0), X64(64), X64(128), X64(192) };
short ramp300[300] = { X64(0), X64(64), X64(128), X64(192), X16(256), X16(272), X4(288), X4(292), X4(296) };
int arr[5] = { 1, 2, 3, 4, 5 };
int zeros[20];
int sparse[30] = { 1, 2, [29] = 3 };
int matrix[2][3] = { { 1, 2, 3 }, { 4, 5, 6 } };
int *ptrs[2] = { &arr[0], &arr[1] };

struct point { int x, y; };
struct point pt = { 3, -4 };
struct point pts[2] = { { 1, 2 }, { 3, 4 } };
struct point *ptptr = &pt;
typedef struct point Point;
Point typed = { 7, 8 };
struct flags { unsigned ready : 1; signed level : 3; unsigned mode : 4; bool on : 1; };
struct flags fl = { 1, -2, 9, true };
union number { int i; float f; char c[4]; };
union number num = { .i = 0x41424344 };
struct nested {
  struct point a;
  int v[3];
  const char *label;
  union { int i; float f; };
  struct flags f2;
  enum color c;
  double d;
} nest = { { 5, 6 }, { 7, 8, 9 }, "inner", { .i = 10 }, { 0, 3, 15, false }, GREEN, 0.5 };
struct opaque;
struct opaque *opq = (struct opaque *)&pt;
const volatile int cv = 42;

/* For frame scopes: `inner` is declared in a block the return statement is outside of. */
int scoped(int v) {
  int outer = v + 1;
  if (v > 100) {
    int inner = v * 2;
    outer += inner;
  }
  return outer; /* scoped: after the block */
}

int main(void) {
  return square(arr[0]) + scoped(arr[1]);
}
