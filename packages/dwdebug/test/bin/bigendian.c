/* Linked with --oformat=elf64-big / elf32-big: binutils for x86 write the
   headers and symbol table big-endian (section contents stay as compiled),
   which is what the big-endian header and symbol reader tests need. */
int x = 5;
long y[4] = { 1, 2, 3, 4 };
int f(int a) { return a + x; }
