/*
 * Guest test program: opens, maps and closes files on demand, so tests can watch
 * a process's file table and memory map change. It reads one command per line from
 * the control FIFO named by argv[1] and answers each on stdout (a log file):
 *   open PATH   -> "open fd=N PATH"            (keeps the file open)
 *   map PATH    -> "map addr=0xADDR len=N PATH" (read-only private mapping of the whole file)
 *   close N     -> "close fd=N"
 * Errors are answered as "error CMD: strerror". The FIFO is opened read-write so the
 * program never sees end-of-file when a writer goes away.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

unsigned long commands_done = 0;

static void answer_error(const char *cmd) {
    printf("error %s: %s\n", cmd, strerror(errno));
}

static void do_open(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return answer_error("open");
    printf("open fd=%d %s\n", fd, path);
}

static void do_map(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return answer_error("map");
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size == 0) {
        if (st.st_size == 0) errno = EINVAL;
        close(fd);
        return answer_error("map");
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return answer_error("map");
    printf("map addr=%p len=%lld %s\n", p, (long long)st.st_size, path);
}

static void do_close(const char *arg) {
    int fd = atoi(arg);
    if (close(fd) != 0) return answer_error("close");
    printf("close fd=%d\n", fd);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: opener CONTROL-FIFO\n");
        return 2;
    }
    FILE *ctl = fopen(argv[1], "r+");
    if (!ctl) {
        perror(argv[1]);
        return 1;
    }
    printf("opener pid=%d ready\n", getpid());
    fflush(stdout);
    char line[4096];
    while (fgets(line, sizeof line, ctl)) {
        line[strcspn(line, "\r\n")] = 0;
        char *arg = strchr(line, ' ');
        if (!arg) {
            printf("error %s: missing argument\n", line);
        } else {
            *arg++ = 0;
            if (strcmp(line, "open") == 0) do_open(arg);
            else if (strcmp(line, "map") == 0) do_map(arg);
            else if (strcmp(line, "close") == 0) do_close(arg);
            else printf("error %s: unknown command\n", line);
        }
        commands_done++;
        fflush(stdout);
    }
    return 0;
}
