/* Types shared by the dwz fixture programs, so their DWARF has common parts
   for dwz to move into a supplementary file. */
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

struct shape_point { int x, y; };
struct shape_rect { struct shape_point lo, hi; const char *label; };
struct shape_list { struct shape_rect items[4]; struct shape_list *next; FILE *log; struct stat st; struct tm when; };

static inline int shape_area(const struct shape_rect *r) { return (r->hi.x - r->lo.x) * (r->hi.y - r->lo.y); }
