/*
 * libqemuhacks: an LD_PRELOAD library that makes QEMU's guest-RAM file readable
 * by other processes while the VM runs, without modifying QEMU.
 *
 * QEMU's `-mem-path DIR` creates DIR/qemu_back_mem.<block>.XXXXXX with mkstemp,
 * unlinks it at once and maps it MAP_PRIVATE, so the file is both invisible and
 * stale (private pages never reach it). With QEMU_MEMPATH_PREFIX=PREFIX set, this
 * library, for files whose absolute path starts with PREFIX:
 *   - turns MAP_PRIVATE file mappings into MAP_SHARED (mmap, mmap64), so the
 *     file holds the live guest RAM;
 *   - makes unlink/unlinkat of them succeed without removing anything, and
 *     remembers them; files QEMU itself creates under the prefix (open* with
 *     O_CREAT|O_EXCL, mkstemp*) are remembered too;
 *   - removes the remembered files when QEMU exits: from an atexit handler, and
 *     from the termination signals QEMU watches (SIGINT, SIGTERM, SIGHUP), by
 *     wrapping the handlers QEMU installs with sigaction/signal (and, where the
 *     disposition is still the default, a handler that removes and re-raises).
 * SIGKILL and _exit cannot be caught: the files then stay behind.
 *
 * Which calls to interpose was checked on QEMU 7.2 (nm -D, strace): it imports
 * mmap64, mkstemp64, open64, openat64, unlink, unlinkat, sigaction and signal.
 * The plain (non-64) names are interposed too, for builds without
 * _FILE_OFFSET_BITS=64. Real calls go straight to the kernel with syscall(2),
 * except sigaction (the libc wrapper supplies the signal-return trampoline), so
 * nothing here needs dlsym in the middle of an allocation.
 *
 * QEMUHACKS_DEBUG=1 makes the library say what it does on stderr.
 */
#define _GNU_SOURCE
/* Both the plain and the 64-bit names are defined below; node-gyp's -D_FILE_OFFSET_BITS=64
 * would make the headers rename one into the other. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define MAX_KEPT 64

static char prefix[PATH_MAX];
static size_t prefix_len;
static int active;
static int debug;

/* Remembered files. A slot is filled, then published by raising `nkept`, so the
 * signal handler only ever reads complete paths. */
static char kept[MAX_KEPT][PATH_MAX];
static pid_t kept_owner[MAX_KEPT];
static volatile sig_atomic_t kept_removed[MAX_KEPT];
static int nkept;
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
static sigaction_fn real_sigaction;

/* The program's own view of the termination signals we wrap. */
static struct sigaction user_act[NSIG];
static volatile sig_atomic_t wrapped[NSIG];

static void say(const char *fmt, ...) {
    if (!debug) return;
    char buf[PATH_MAX + 128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0) {
        if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
        ssize_t ignored = write(2, buf, (size_t)n);
        (void)ignored;
    }
}

static int is_term_signal(int sig) {
    return sig == SIGINT || sig == SIGTERM || sig == SIGHUP;
}

/* Makes `path` absolute (relative to `dirfd`, or the cwd) into `out`; 0 on success. */
static int absolute(int dirfd, const char *path, char *out) {
    if (path[0] == '/') {
        if (strlen(path) >= PATH_MAX) return -1;
        strcpy(out, path);
        return 0;
    }
    char base[PATH_MAX];
    if (dirfd == AT_FDCWD) {
        if (!getcwd(base, sizeof base)) return -1;
    } else {
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
        ssize_t n = readlink(link, base, sizeof base - 1);
        if (n < 0) return -1;
        base[n] = 0;
    }
    if ((size_t)snprintf(out, PATH_MAX, "%s/%s", base, path) >= PATH_MAX) return -1;
    return 0;
}

static int under_prefix(const char *abs) {
    return strncmp(abs, prefix, prefix_len) == 0;
}

static void remember(const char *abs) {
    pthread_mutex_lock(&kept_lock);
    pid_t me = getpid();
    for (int i = 0; i < nkept; i++) {
        if (kept_owner[i] == me && strcmp(kept[i], abs) == 0) {
            kept_removed[i] = 0;
            pthread_mutex_unlock(&kept_lock);
            return;
        }
    }
    if (nkept < MAX_KEPT) {
        strcpy(kept[nkept], abs);
        kept_owner[nkept] = me;
        kept_removed[nkept] = 0;
        __atomic_store_n(&nkept, nkept + 1, __ATOMIC_RELEASE);
        say("qemuhacks: keeping %s\n", abs);
    } else {
        say("qemuhacks: too many files, not keeping %s\n", abs);
    }
    pthread_mutex_unlock(&kept_lock);
}

/* Async-signal-safe: unlinks the remembered files of this process (not of a forked parent). */
static void remove_kept(void) {
    int n = __atomic_load_n(&nkept, __ATOMIC_ACQUIRE);
    pid_t me = (pid_t)syscall(SYS_getpid);
    for (int i = 0; i < n; i++) {
        if (kept_owner[i] != me || kept_removed[i]) continue;
        kept_removed[i] = 1;
        syscall(SYS_unlink, kept[i]);
        if (debug) {
            static const char msg[] = "qemuhacks: removed a kept file\n";
            ssize_t ignored = write(2, msg, sizeof msg - 1);
            (void)ignored;
        }
    }
}

static void at_exit(void) {
    remove_kept();
}

/* Removes the files, then does what the program asked for this signal. */
static void on_term_signal(int sig, siginfo_t *info, void *uctx) {
    remove_kept();
    const struct sigaction *ua = &user_act[sig];
    if (ua->sa_flags & SA_SIGINFO) {
        ua->sa_sigaction(sig, info, uctx);
    } else if (ua->sa_handler == SIG_DFL) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        real_sigaction(sig, &dfl, NULL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
        raise(sig);
    } else if (ua->sa_handler != SIG_IGN) {
        ua->sa_handler(sig);
    }
}

/* Installs our wrapper for `sig`, carrying the program's mask and flags. */
static int install_wrapper(int sig, const struct sigaction *program) {
    struct sigaction ours = *program;
    ours.sa_sigaction = on_term_signal;
    ours.sa_flags = (program->sa_flags & ~SA_RESETHAND) | SA_SIGINFO;
    user_act[sig] = *program;
    wrapped[sig] = 1;
    return real_sigaction(sig, &ours, NULL);
}

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *oldact) {
    if (!real_sigaction) real_sigaction = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
    if (!active || !is_term_signal(sig)) return real_sigaction(sig, act, oldact);
    /* The program sees its own handlers, never our wrapper. */
    struct sigaction prev;
    if (wrapped[sig]) prev = user_act[sig];
    else if (real_sigaction(sig, NULL, &prev) != 0) return -1;
    int rc = 0;
    if (act) {
        int ignore = !(act->sa_flags & SA_SIGINFO) && act->sa_handler == SIG_IGN;
        if (ignore) {
            wrapped[sig] = 0;
            rc = real_sigaction(sig, act, NULL);
        } else {
            rc = install_wrapper(sig, act);
            say("qemuhacks: wrapped the handler of signal %d\n", sig);
        }
    }
    if (rc == 0 && oldact) *oldact = prev;
    return rc;
}

EXPORT sighandler_t signal(int sig, sighandler_t handler) {
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler;
    act.sa_flags = SA_RESTART;
    sigemptyset(&act.sa_mask);
    if (sigaction(sig, &act, &old) != 0) return SIG_ERR;
    /* sa_handler and sa_sigaction share storage: this is the old handler either way. */
    return old.sa_handler;
}

__attribute__((constructor)) static void qemuhacks_init(void) {
    real_sigaction = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
    debug = getenv("QEMUHACKS_DEBUG") && getenv("QEMUHACKS_DEBUG")[0] == '1';
    const char *p = getenv("QEMU_MEMPATH_PREFIX");
    if (!p || !*p || !real_sigaction) return;
    if (absolute(AT_FDCWD, p, prefix) != 0) return;
    prefix_len = strlen(prefix);
    active = 1;
    atexit(at_exit);
    /* Signals still at their default (fatal) disposition get a handler that cleans up and re-raises. */
    for (int sig = 1; sig < NSIG; sig++) {
        if (!is_term_signal(sig)) continue;
        struct sigaction cur;
        if (real_sigaction(sig, NULL, &cur) == 0 && !(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_DFL)
            install_wrapper(sig, &cur);
    }
    say("qemuhacks: active for prefix %s\n", prefix);
}

/* ---- memory mappings ---- */

static void *map(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    if (active && fd >= 0 && (flags & MAP_TYPE) == MAP_PRIVATE) {
        char link[64], path[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, path, sizeof path - 1);
        if (n > 0) {
            path[n] = 0;
            if (under_prefix(path)) {
                int shared = (flags & ~MAP_TYPE) | MAP_SHARED;
                void *p = (void *)syscall(SYS_mmap, addr, len, prot, shared, fd, off);
                if (p != MAP_FAILED) {
                    say("qemuhacks: mapped %s shared (%zu bytes)\n", path, len);
                    return p;
                }
                say("qemuhacks: shared mapping of %s failed (%s), mapping it private\n", path, strerror(errno));
            }
        }
    }
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    return map(addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off) {
    return map(addr, len, prot, flags, fd, off);
}

/* ---- unlink ---- */

static int keep_instead_of_unlink(int dirfd, const char *path) {
    char abs[PATH_MAX];
    if (!active || !path || absolute(dirfd, path, abs) != 0 || !under_prefix(abs)) return 0;
    remember(abs);
    return 1;
}

EXPORT int unlink(const char *path) {
    if (keep_instead_of_unlink(AT_FDCWD, path)) return 0;
    return (int)syscall(SYS_unlink, path);
}

EXPORT int unlinkat(int dirfd, const char *path, int flags) {
    if (!(flags & AT_REMOVEDIR) && keep_instead_of_unlink(dirfd, path)) return 0;
    return (int)syscall(SYS_unlinkat, dirfd, path, flags);
}

/* ---- files QEMU creates under the prefix ---- */

static void note_created(int dirfd, const char *path, int flags, int fd) {
    char abs[PATH_MAX];
    if (active && fd >= 0 && (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL) && absolute(dirfd, path, abs) == 0 && under_prefix(abs))
        remember(abs);
}

static int open_at(int dirfd, const char *path, int flags, mode_t mode) {
    int fd = (int)syscall(SYS_openat, dirfd, path, flags, mode);
    note_created(dirfd, path, flags, fd);
    return fd;
}

#define MODE_ARG(flags, mode)                                   \
    mode_t mode = 0;                                            \
    if ((flags) & O_CREAT || ((flags) & O_TMPFILE) == O_TMPFILE) { \
        va_list ap;                                             \
        va_start(ap, flags);                                    \
        mode = va_arg(ap, mode_t);                              \
        va_end(ap);                                             \
    }

EXPORT int open(const char *path, int flags, ...) {
    MODE_ARG(flags, mode)
    return open_at(AT_FDCWD, path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...) {
    MODE_ARG(flags, mode)
    return open_at(AT_FDCWD, path, flags, mode);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...) {
    MODE_ARG(flags, mode)
    return open_at(dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...) {
    MODE_ARG(flags, mode)
    return open_at(dirfd, path, flags, mode);
}

typedef int (*mkstemp_fn)(char *);

static int make_temp(const char *name, char *tmpl) {
    mkstemp_fn real = (mkstemp_fn)dlsym(RTLD_NEXT, name);
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    int fd = real(tmpl);
    note_created(AT_FDCWD, tmpl, O_CREAT | O_EXCL, fd);
    return fd;
}

EXPORT int mkstemp(char *tmpl) {
    return make_temp("mkstemp", tmpl);
}

EXPORT int mkstemp64(char *tmpl) {
    return make_temp("mkstemp64", tmpl);
}
