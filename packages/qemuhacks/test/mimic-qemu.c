/*
 * Makes the calls QEMU 7.2 makes for `-mem-path` guest RAM (backends/hostmem-file.c,
 * softmmu/physmem.c file_ram_open/file_ram_alloc, util/mmap-alloc.c), so the
 * qemuhacks preload can be tested without booting a machine:
 *   dir  PATH: mkstemp("PATH/qemu_back_mem.pc.ram.XXXXXX"), then unlink it at once;
 *   file PATH: open(PATH, O_RDWR), or on ENOENT open(PATH, O_RDWR|O_CREAT|O_EXCL);
 * then ftruncate, reserve the range with an anonymous PROT_NONE mapping and map
 * the file over it MAP_PRIVATE|MAP_FIXED, as qemu_ram_mmap does.
 *
 * usage: mimic-qemu dir|file PATH SIZE sigaction|signal|none wait|stdin
 * It writes "mimic-qemu-ram <pid>" at offset 4096 of the mapping, prints
 * "ready FILE" (and "view ok" when sigaction reports back its own handler),
 * then exits(0) after SIGINT/SIGTERM/SIGHUP (wait) or end of stdin (stdin).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void termsig_handler(int sig, siginfo_t *info, void *ctx) {
    (void)sig; (void)info; (void)ctx;
    stop_requested = 1;
}

static void plain_handler(int sig) {
    (void)sig;
    stop_requested = 1;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: mimic-qemu dir|file PATH SIZE sigaction|signal|none wait|stdin\n");
        return 2;
    }
    const char *mode = argv[1], *path = argv[2], *handler = argv[4], *action = argv[5];
    size_t size = strtoul(argv[3], NULL, 0);
    char filename[4096];
    int fd;

    if (strcmp(handler, "sigaction") == 0) {
        /* os_setup_signal_handling() in QEMU's os-posix.c */
        struct sigaction act;
        memset(&act, 0, sizeof act);
        act.sa_sigaction = termsig_handler;
        act.sa_flags = SA_SIGINFO;
        sigaction(SIGINT, &act, NULL);
        sigaction(SIGHUP, &act, NULL);
        sigaction(SIGTERM, &act, NULL);
        struct sigaction old;
        if (sigaction(SIGTERM, NULL, &old) == 0 && old.sa_sigaction == termsig_handler) printf("view ok\n");
    } else if (strcmp(handler, "signal") == 0) {
        signal(SIGINT, plain_handler);
        signal(SIGHUP, plain_handler);
        if (signal(SIGTERM, plain_handler) != SIG_ERR && signal(SIGTERM, plain_handler) == plain_handler) printf("view ok\n");
    }

    if (strcmp(mode, "dir") == 0) {
        snprintf(filename, sizeof filename, "%s/qemu_back_mem.pc.ram.XXXXXX", path);
        fd = mkstemp(filename);
        if (fd < 0) { perror("mkstemp"); return 1; }
        unlink(filename);
    } else {
        snprintf(filename, sizeof filename, "%s", path);
        fd = open(path, O_RDWR);
        if (fd < 0 && errno == ENOENT) fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
        if (fd < 0) { perror("open"); return 1; }
    }
    if (ftruncate(fd, (off_t)size) != 0) { perror("ftruncate"); return 1; }
    void *reserved = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (reserved == MAP_FAILED) { perror("mmap reserve"); return 1; }
    char *ram = mmap(reserved, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0);
    if (ram == MAP_FAILED) { perror("mmap"); return 1; }
    snprintf(ram + 4096, 64, "mimic-qemu-ram %d", (int)getpid());
    printf("ready %s\n", filename);
    fflush(stdout);

    if (strcmp(action, "wait") == 0) {
        while (!stop_requested) pause();
    } else {
        char buf[256];
        while (read(0, buf, sizeof buf) > 0) {}
    }
    return 0;
}
