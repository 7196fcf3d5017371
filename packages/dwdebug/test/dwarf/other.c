/* DWARF test fixture: a second unit with a static function of the same name. */
#include "fixture.h"

static int helper(int x)
{
	return x + shared_counter;
}

int call_other(int v)
{
	struct inner local = { v, 2 };
	return helper(local.a) + (int)local.b + twice(v);
}
