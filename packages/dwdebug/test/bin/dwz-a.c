/* dwz fixture, first program. */
#include "shapes.h"

struct shape_list list_a;

int main(int argc, char **argv) {
  list_a.items[0].hi.x = argc;
  list_a.log = stdout;
  (void)argv;
  return shape_area(&list_a.items[0]) + (int)list_a.st.st_size + list_a.when.tm_sec;
}
