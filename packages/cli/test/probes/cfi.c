/*
 * Calls for cfi_check: good() three times, a recursion, a longjmp out of a
 * nested call (deep() never returns), then swap(), whose return address is
 * overwritten with the one its caller's caller pushed: it returns to a real
 * call site, only not to its own.
 */
#include <setjmp.h>
#include <unistd.h>

volatile int sink;
static jmp_buf out;

__attribute__((noinline)) int good(int x)
{
	return x * 2;
}

__attribute__((noinline)) int fact(int n)
{
	return n <= 1 ? 1 : n * fact(n - 1);
}

__attribute__((noinline)) void deep(int n)
{
	if (n == 0)
		longjmp(out, 1);
	deep(n - 1);
}

__attribute__((noinline)) void swap(void **caller_frame)
{
	void **frame = __builtin_frame_address(0);
	frame[1] = caller_frame[1];
}

__attribute__((noinline)) void middle(void)
{
	swap(__builtin_frame_address(0));
	write(1, "skipped\n", 8);
}

int main(void)
{
	for (int i = 0; i < 3; i++)
		sink += good(i);
	sink += fact(4);
	if (!setjmp(out))
		deep(3);
	sink += good(0);
	middle();
	write(1, "back in main\n", 13);
	return sink == 30 ? 0 : 1;
}
