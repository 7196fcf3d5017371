/* dwz fixture, second program. */
#include "shapes.h"

struct shape_list list_b;

int main(void) {
  list_b.items[1].hi.y = 3;
  list_b.log = stderr;
  return shape_area(&list_b.items[1]) + (int)list_b.st.st_mode + list_b.when.tm_min;
}
