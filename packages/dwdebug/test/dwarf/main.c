/* DWARF test fixture: the main unit. */
#include <stdio.h>
#include <stdlib.h>
#include "fixture.h"

struct outer global_outer = { .id = 7, .name = "outer" };
struct outer *global_outer_ptr = &global_outer;
static int file_static = 3;
const volatile int cv_int = 9;
int *restrict restrict_ptr;
_Atomic int atomic_int;
handle_ptr hp;
union value global_value;
int shared_counter = 11;
struct opaque *opaque_handle;
int grid[2][3][4];

static int helper(int x)
{
	return x * file_static;
}

static inline __attribute__((always_inline)) int inlined_add(int a, int b)
{
	int sum = a + b;
	return sum * 2;
}

int twice(int x)
{
	return 2 * x;
}

static int run_callback(int v, const char *s)
{
	return v + (s ? s[0] : 0);
}

int work(int n)
{
	int total = 0;
	for (int i = 0; i < n; i++) {
		int sq = i * i;
		total += inlined_add(sq, i);
		{
			int inner_block = total ^ i;
			total += inner_block & 1;
		}
	}
	return total;
}

int main(int argc, char **argv)
{
	global_outer.callback = run_callback;
	global_outer.pin = &global_outer.in;
	int r = work(argc + 3);
	r += helper(argc);
	r += call_other(r);
	r += twice(global_outer.fl.mode);
	label_here:
	if (argc > 100)
		goto label_here;
	printf("%d %s\n", r, argv[0]);
	return r & 0;
}
