#!/bin/sh
# Adds MiniDebugInfo (.gnu_debugdata) to a binary the way Fedora's
# find-debuginfo does: the function symbols that .dynsym lacks, in a
# symbols-only ELF, xz-compressed; then strips the binary.
set -e
bin="$1"
objcopy --only-keep-debug "$bin" "$bin.dbg"
nm -D "$bin" --format=posix --defined-only | awk '{ print $1 }' | sort > "$bin.dynsyms"
nm "$bin.dbg" --format=posix --defined-only | awk '{ if ($2 == "T" || $2 == "t" || $2 == "D") print $1 }' | sort > "$bin.funcsyms"
comm -13 "$bin.dynsyms" "$bin.funcsyms" > "$bin.keep"
objcopy -S --remove-section .gdb_index --remove-section .comment --keep-symbols="$bin.keep" "$bin.dbg" "$bin.mini"
strip --strip-all --remove-section=.comment "$bin"
xz --threads=1 "$bin.mini"
objcopy --add-section .gnu_debugdata="$bin.mini.xz" "$bin"
rm -f "$bin.dbg" "$bin.dynsyms" "$bin.funcsyms" "$bin.keep" "$bin.mini.xz"
