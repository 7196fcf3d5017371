/*
 * A return-oriented hijack for rop_checkret: good() returns normally three
 * times; hijacked() overwrites its own return address with landing()'s entry,
 * as a ROP chain would, so its return goes somewhere no call leads.
 */
#include <unistd.h>

volatile int sink;

__attribute__((noinline)) int good(int x)
{
	return x * 2;
}

__attribute__((noinline, noreturn)) void landing(void)
{
	write(1, "landed\n", 7);
	_exit(sink == 6 ? 0 : 1);
}

__attribute__((noinline)) void hijacked(void)
{
	void **frame = __builtin_frame_address(0);
	frame[1] = (void *)landing;
}

int main(void)
{
	for (int i = 0; i < 3; i++)
		sink += good(i);
	hijacked();
	return 2;
}
