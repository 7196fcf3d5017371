/* Types shared by the DWARF test fixture's units. */
#ifndef FIXTURE_H
#define FIXTURE_H

typedef unsigned int u32;
typedef u32 handle_t;
typedef handle_t *handle_ptr;

enum color { RED, GREEN = 5, BLUE = -3 };

struct list_node {
	struct list_node *next;
	struct list_node *prev;
};

struct flags {
	unsigned int ready : 1;
	unsigned int mode : 3;
	signed int delta : 5;
	unsigned char tail;
	unsigned long long wide : 40;
};

union value {
	int i;
	double d;
	char bytes[8];
};

struct inner {
	int a;
	long b;
};

struct outer {
	int id;
	struct inner in;
	struct inner *pin;
	union {
		int anon_i;
		float anon_f;
	};
	struct {
		short x, y;
	} point;
	int matrix[3][4];
	const char *name;
	int (*callback)(int, const char *);
	void (*handlers[2])(void);
	enum color color;
	struct flags fl;
	struct list_node link;
	char data[];
};

struct opaque;
extern struct opaque *opaque_handle;

extern int shared_counter;
int twice(int x);
int call_other(int v);

#endif
