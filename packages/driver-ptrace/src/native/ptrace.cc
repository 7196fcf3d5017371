/*
 * Native layer of @stackdb/driver-ptrace: thin, synchronous wrappers around
 * ptrace(2), waitpid(2), process_vm_readv(2) and /proc/PID/mem, plus one waiter
 * thread. All policy (all-stop, breakpoints, event decoding) lives in TypeScript.
 *
 * Design, driven by two facts of Linux:
 *
 *  1. ptrace requests are accepted only from the tracer *thread*, the one that
 *     attached. Every ptrace call here therefore runs on the JavaScript thread
 *     that loaded the addon (the tracer); none is issued from another thread.
 *
 *  2. Waiting must never block Node's event loop, yet a blocking wait is the
 *     only way to learn of a stop without polling. The waiter thread does the
 *     blocking part and only *notices*: it calls
 *         waitid(P_ALL, 0, &info, WEXITED | WNOWAIT | __WALL)
 *     which sleeps until some child or tracee of this process has something to
 *     report and returns its pid *without consuming* the status (WNOWAIT). Any
 *     thread of a process may wait for the tracees of its sibling threads, so
 *     this works although the waiter is not the tracer. It then disarms itself
 *     and wakes the JavaScript thread through a thread-safe function; the
 *     JavaScript thread reaps that one pid with waitpid(pid, WNOHANG | __WALL)
 *     and acts, and re-arms the waiter when it wants more. A notice whose
 *     status was meanwhile reaped synchronously is harmless (the reap finds
 *     nothing).
 *
 *     Node itself has children (libuv reaps each with waitpid(pid)). Nothing
 *     here ever reaps a pid it does not trace: the waiter only notifies for
 *     pids the JavaScript side tracks, or whose /proc status names this tracer
 *     (new threads and fork children, before JavaScript has heard of them).
 *     A foreign child's exit seen by WNOWAIT stays visible until libuv reaps
 *     it, so the waiter backs off (1 ms, doubling to 16 ms) instead of
 *     spinning. Stopped foreign children are not reported at all: WSTOPPED is
 *     not requested, and ptrace stops are reported regardless of it.
 *
 *  Short waits (a single-step, threads answering PTRACE_INTERRUPT) complete in
 *  microseconds, so waitSpin() polls with WNOHANG and sched_yield() for a
 *  bounded time on the JavaScript thread (yielding lets a tracee pinned to the
 *  same CPU run); callers fall back to the waiter when the budget runs out
 *  (a step over a blocking system call may never finish).
 *
 *  Launch: fork; the child resets signal state, redirects stdio, and blocks
 *  reading a pipe until the parent has PTRACE_SEIZEd it, then execs. The
 *  tracer is thus seized from the start (PTRACE_INTERRUPT and PTRACE_LISTEN
 *  work, new threads report PTRACE_EVENT_STOP), and the first stop is
 *  PTRACE_EVENT_EXEC at the program's first instruction. An exec failure is
 *  sent back as errno over a close-on-exec pipe.
 */
#include <napi.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

pid_t CurrentTid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// ------------------------------------------------------------------ waiter

/** State shared by the JavaScript thread and the waiter thread. */
struct WaiterState {
  std::mutex mu;
  std::condition_variable cv;
  bool armed = false;
  bool quit = false;
  std::unordered_set<pid_t> known;
  pid_t tracer = 0;
  Napi::ThreadSafeFunction tsfn;
};

/** True when /proc/PID/status names `tracer` as TracerPid. */
bool TracedBy(pid_t pid, pid_t tracer) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return false;
  buf[n] = 0;
  const char* p = strstr(buf, "\nTracerPid:");
  if (!p) return false;
  return atoi(p + 11) == tracer;
}

/**
 * Calls the waiter's JavaScript callback with a pid. The status of the call is
 * ignored on purpose: while Node tears its environment down a pending notice
 * may still be delivered, JavaScript can no longer run, and throwing about it
 * (as Napi::Function::Call does without C++ exceptions) would abort the process.
 */
void Notify(Napi::Env env, Napi::Function cb, int* p) {
  int v = *p;
  delete p;
  if (env == nullptr || cb.IsEmpty()) return;
  napi_value arg;
  napi_value recv;
  if (napi_create_int32(env, v, &arg) != napi_ok || napi_get_undefined(env, &recv) != napi_ok) return;
  napi_call_function(env, recv, cb, 1, &arg, nullptr);
}

void WaiterLoop(std::shared_ptr<WaiterState> st) {
  unsigned backoffMs = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(st->mu);
      st->cv.wait(lk, [&] { return st->armed || st->quit; });
      if (st->quit) break;
    }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = waitid(P_ALL, 0, &si, WEXITED | WNOWAIT | __WALL);
    if (r < 0) {
      if (errno == EINTR) continue;
      // ECHILD: nothing to wait for. Tell JavaScript (pid 0) and sleep until re-armed.
      {
        std::lock_guard<std::mutex> lk(st->mu);
        st->armed = false;
        if (st->quit) break;
      }
      st->tsfn.NonBlockingCall(new int(0), Notify);
      continue;
    }
    pid_t pid = si.si_pid;
    bool ours;
    {
      std::lock_guard<std::mutex> lk(st->mu);
      if (st->quit) break;
      ours = st->known.count(pid) > 0;
    }
    if (!ours) ours = TracedBy(pid, st->tracer);
    if (!ours) {
      backoffMs = backoffMs ? std::min(backoffMs * 2, 16u) : 1u;
      std::this_thread::sleep_for(std::chrono::milliseconds(backoffMs));
      continue;
    }
    backoffMs = 0;
    {
      std::lock_guard<std::mutex> lk(st->mu);
      st->armed = false;
    }
    st->tsfn.NonBlockingCall(new int(pid), Notify);
  }
}

/** Per-environment instance data: the waiter. */
struct Addon {
  std::shared_ptr<WaiterState> state;
  bool started = false;
  bool refd = false;
  ~Addon() {
    if (!started) return;
    {
      std::lock_guard<std::mutex> lk(state->mu);
      state->quit = true;
      state->armed = false;
    }
    state->cv.notify_all();
    // The thread may be blocked in waitid(); it exits when that returns. It
    // owns a reference to the state, so nothing it touches is freed under it.
    state->tsfn.Release();
  }
};

Addon& GetAddon(const Napi::Env& env) { return *env.GetInstanceData<Addon>(); }

int ArgInt(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }

uint64_t ArgU64(const Napi::CallbackInfo& info, size_t i) {
  bool lossless;
  return info[i].As<Napi::BigInt>().Uint64Value(&lossless);
}

Napi::Value Errno(const Napi::Env& env, long r) { return Napi::Number::New(env, r < 0 ? errno : 0); }

Napi::Value WatcherStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon& a = GetAddon(env);
  if (a.started) return env.Undefined();
  a.state = std::make_shared<WaiterState>();
  a.state->tracer = CurrentTid();
  a.state->tsfn = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "stackdb-ptrace-waiter", 0, 1);
  a.state->tsfn.Unref(env);
  a.started = true;
  std::thread(WaiterLoop, a.state).detach();
  return env.Undefined();
}

/** watch(armed, ref): arms or disarms the waiter, and keeps the loop alive (ref) or not. */
Napi::Value Watch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon& a = GetAddon(env);
  if (!a.started) return env.Undefined();
  bool armed = info[0].As<Napi::Boolean>().Value();
  bool ref = info[1].As<Napi::Boolean>().Value();
  {
    std::lock_guard<std::mutex> lk(a.state->mu);
    a.state->armed = armed;
  }
  if (armed) a.state->cv.notify_all();
  if (ref != a.refd) {
    if (ref) a.state->tsfn.Ref(env);
    else a.state->tsfn.Unref(env);
    a.refd = ref;
  }
  return env.Undefined();
}

Napi::Value Track(const Napi::CallbackInfo& info) {
  Addon& a = GetAddon(info.Env());
  if (a.started) {
    std::lock_guard<std::mutex> lk(a.state->mu);
    if (info[1].As<Napi::Boolean>().Value()) a.state->known.insert(ArgInt(info, 0));
    else a.state->known.erase(ArgInt(info, 0));
  }
  return info.Env().Undefined();
}

Napi::Value TracerTid(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), CurrentTid()); }

// ------------------------------------------------------------------ launch

/** Child side of spawn(): only async-signal-safe calls between fork and exec. */
[[noreturn]] void ChildAfterFork(const char* file, char* const* argv, char* const* envp, int in, int out, int err, int syncFd, int errFd) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    sigaction(s, &sa, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (in >= 0 && dup2(in, 0) < 0) goto fail;
  if (out >= 0 && dup2(out, 1) < 0) goto fail;
  if (err >= 0 && dup2(err, 2) < 0) goto fail;
  // Node marks its own stdio close-on-exec; the program inherits it (dup2 cleared the flag on redirections).
  for (int fd = 0; fd < 3; fd++) fcntl(fd, F_SETFD, 0);
  // Nothing of the debugger's beyond stdio may leak into the program.
#ifdef SYS_close_range
  syscall(SYS_close_range, 3u, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */);
#endif
  {
    char c;
    ssize_t n;
    do n = read(syncFd, &c, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) _exit(126);  // the parent could not seize us and is killing us
  }
  execve(file, argv, envp);
fail : {
  int e = errno;
  ssize_t w = write(errFd, &e, sizeof e);
  (void)w;
  _exit(127);
}
}

int OpenOpt(const Napi::Value& v, int flags) {
  if (!v.IsString()) return -1;
  std::string p = v.As<Napi::String>().Utf8Value();
  return open(p.c_str(), flags | O_CLOEXEC, 0666);
}

std::vector<std::string> StringArray(const Napi::Value& v) {
  std::vector<std::string> out;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  return out;
}

Napi::Object SpawnError(const Napi::Env& env, int e, const char* stage) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("error", Napi::Number::New(env, e));
  o.Set("stage", Napi::String::New(env, stage));
  return o;
}

/**
 * spawn(file, argv, envp, stdin|null, stdout|null, stderr|null, options)
 * → { pid, execErrorFd } | { error, stage }. The child is seized and running
 * towards execve; its first stop is PTRACE_EVENT_EXEC or its exit.
 */
Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string file = info[0].As<Napi::String>().Utf8Value();
  std::vector<std::string> argvS = StringArray(info[1]), envS = StringArray(info[2]);
  std::vector<char*> argv, envp;
  for (auto& s : argvS) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  for (auto& s : envS) envp.push_back(const_cast<char*>(s.c_str()));
  envp.push_back(nullptr);
  unsigned long options = info[6].As<Napi::Number>().Uint32Value();

  int in = -1, out = -1, err = -1;
  auto closeAll = [&] {
    if (in >= 0) close(in);
    if (out >= 0) close(out);
    if (err >= 0) close(err);
  };
  if (info[3].IsString() && (in = OpenOpt(info[3], O_RDONLY)) < 0) return SpawnError(env, errno, "stdin");
  if (info[4].IsString() && (out = OpenOpt(info[4], O_WRONLY | O_CREAT | O_TRUNC)) < 0) {
    int e = errno;
    closeAll();
    return SpawnError(env, e, "stdout");
  }
  if (info[5].IsString() && (err = OpenOpt(info[5], O_WRONLY | O_CREAT | O_TRUNC)) < 0) {
    int e = errno;
    closeAll();
    return SpawnError(env, e, "stderr");
  }
  int syncP[2], errP[2];
  if (pipe2(syncP, O_CLOEXEC) < 0) {
    int e = errno;
    closeAll();
    return SpawnError(env, e, "pipe");
  }
  if (pipe2(errP, O_CLOEXEC) < 0) {
    int e = errno;
    close(syncP[0]);
    close(syncP[1]);
    closeAll();
    return SpawnError(env, e, "pipe");
  }
  pid_t pid = fork();
  if (pid == 0) ChildAfterFork(file.c_str(), argv.data(), envp.data(), in, out, err, syncP[0], errP[1]);
  int forkErr = errno;
  close(syncP[0]);
  close(errP[1]);
  closeAll();
  if (pid < 0) {
    close(syncP[1]);
    close(errP[0]);
    return SpawnError(env, forkErr, "fork");
  }
  if (ptrace(PTRACE_SEIZE, pid, nullptr, reinterpret_cast<void*>(options)) < 0) {
    int e = errno;
    close(syncP[1]);  // the child reads EOF and exits
    kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {
    }
    close(errP[0]);
    return SpawnError(env, e, "seize");
  }
  ssize_t w;
  do w = write(syncP[1], "x", 1);
  while (w < 0 && errno == EINTR);
  close(syncP[1]);
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, pid));
  o.Set("execErrorFd", Napi::Number::New(env, errP[0]));
  return o;
}

/** readExecError(fd): the child's execve errno, or 0 when it exec'd; closes fd. */
Napi::Value ReadExecError(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0);
  int e = 0;
  ssize_t n;
  do n = read(fd, &e, sizeof e);
  while (n < 0 && errno == EINTR);
  close(fd);
  return Napi::Number::New(info.Env(), n == static_cast<ssize_t>(sizeof e) ? e : 0);
}

// ------------------------------------------------------------- ptrace ops

Napi::Value Seize(const Napi::CallbackInfo& info) {
  unsigned long opts = info[1].As<Napi::Number>().Uint32Value();
  return Errno(info.Env(), ptrace(PTRACE_SEIZE, ArgInt(info, 0), nullptr, reinterpret_cast<void*>(opts)));
}

Napi::Value Interrupt(const Napi::CallbackInfo& info) {
  return Errno(info.Env(), ptrace(PTRACE_INTERRUPT, ArgInt(info, 0), nullptr, nullptr));
}

/** restart(tid, mode, sig): mode 0 CONT, 1 SYSCALL, 2 SINGLESTEP, 3 LISTEN. */
Napi::Value Restart(const Napi::CallbackInfo& info) {
  static const enum __ptrace_request reqs[] = {PTRACE_CONT, PTRACE_SYSCALL, PTRACE_SINGLESTEP, PTRACE_LISTEN};
  int mode = ArgInt(info, 1);
  if (mode < 0 || mode > 3) return Napi::Number::New(info.Env(), EINVAL);
  long sig = ArgInt(info, 2);
  return Errno(info.Env(), ptrace(reqs[mode], ArgInt(info, 0), nullptr, reinterpret_cast<void*>(sig)));
}

Napi::Value Detach(const Napi::CallbackInfo& info) {
  long sig = ArgInt(info, 1);
  return Errno(info.Env(), ptrace(PTRACE_DETACH, ArgInt(info, 0), nullptr, reinterpret_cast<void*>(sig)));
}

Napi::Value SetOptions(const Napi::CallbackInfo& info) {
  unsigned long opts = info[1].As<Napi::Number>().Uint32Value();
  return Errno(info.Env(), ptrace(PTRACE_SETOPTIONS, ArgInt(info, 0), nullptr, reinterpret_cast<void*>(opts)));
}

/** eventMsg(tid): PTRACE_GETEVENTMSG, or -errno. */
Napi::Value EventMsg(const Napi::CallbackInfo& info) {
  unsigned long msg = 0;
  if (ptrace(PTRACE_GETEVENTMSG, ArgInt(info, 0), nullptr, &msg) < 0) return Napi::Number::New(info.Env(), -errno);
  return Napi::Number::New(info.Env(), static_cast<double>(msg));
}

/** sigInfo(tid, out Int32Array[3] = signo, errno, code) → errno. */
Napi::Value SigInfo(const Napi::CallbackInfo& info) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (ptrace(PTRACE_GETSIGINFO, ArgInt(info, 0), nullptr, &si) < 0) return Napi::Number::New(info.Env(), errno);
  Napi::Int32Array out = info[1].As<Napi::Int32Array>();
  out[0] = si.si_signo;
  out[1] = si.si_errno;
  out[2] = si.si_code;
  return Napi::Number::New(info.Env(), 0);
}

/** syscallInfo(tid, buf) → bytes filled (struct ptrace_syscall_info), or -errno. */
Napi::Value SyscallInfo(const Napi::CallbackInfo& info) {
  Napi::Uint8Array buf = info[1].As<Napi::Uint8Array>();
  long r = ptrace(PTRACE_GET_SYSCALL_INFO, ArgInt(info, 0), reinterpret_cast<void*>(buf.ByteLength()), buf.Data());
  return Napi::Number::New(info.Env(), r < 0 ? -errno : r);
}

template <enum __ptrace_request Req, size_t Size>
Napi::Value RegsOp(const Napi::CallbackInfo& info) {
  Napi::Uint8Array buf = info[1].As<Napi::Uint8Array>();
  if (buf.ByteLength() < Size) return Napi::Number::New(info.Env(), EINVAL);
  return Errno(info.Env(), ptrace(Req, ArgInt(info, 0), nullptr, buf.Data()));
}

constexpr size_t kDebugRegOffset = offsetof(struct user, u_debugreg);

/** getDebugRegs(tid, out BigUint64Array[8]) → errno; DR4 and DR5 are left 0. */
Napi::Value GetDebugRegs(const Napi::CallbackInfo& info) {
  int tid = ArgInt(info, 0);
  Napi::BigUint64Array out = info[1].As<Napi::BigUint64Array>();
  for (int i = 0; i < 8; i++) {
    if (i == 4 || i == 5) {
      out[i] = 0;
      continue;
    }
    errno = 0;
    long v = ptrace(PTRACE_PEEKUSER, tid, reinterpret_cast<void*>(kDebugRegOffset + i * sizeof(long)), nullptr);
    if (v == -1 && errno) return Napi::Number::New(info.Env(), errno);
    out[i] = static_cast<uint64_t>(v);
  }
  return Napi::Number::New(info.Env(), 0);
}

/** getDebugReg(tid, index) → the value as a bigint, or an errno as a number. */
Napi::Value GetDebugReg(const Napi::CallbackInfo& info) {
  int i = ArgInt(info, 1);
  errno = 0;
  long v = ptrace(PTRACE_PEEKUSER, ArgInt(info, 0), reinterpret_cast<void*>(kDebugRegOffset + i * sizeof(long)), nullptr);
  if (v == -1 && errno) return Napi::Number::New(info.Env(), errno);
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(v));
}

/** setDebugReg(tid, index, value: bigint) → errno. */
Napi::Value SetDebugReg(const Napi::CallbackInfo& info) {
  int i = ArgInt(info, 1);
  uint64_t v = ArgU64(info, 2);
  return Errno(info.Env(), ptrace(PTRACE_POKEUSER, ArgInt(info, 0), reinterpret_cast<void*>(kDebugRegOffset + i * sizeof(long)), reinterpret_cast<void*>(v)));
}

// ------------------------------------------------------------------ waits

/** wait(tid, nohang, out Int32Array[1]) → pid, 0 (nothing yet), or -errno. */
Napi::Value Wait(const Napi::CallbackInfo& info) {
  int status = 0;
  int flags = __WALL | (info[1].As<Napi::Boolean>().Value() ? WNOHANG : 0);
  pid_t r;
  do r = waitpid(ArgInt(info, 0), &status, flags);
  while (r < 0 && errno == EINTR);
  if (r > 0) info[2].As<Napi::Int32Array>()[0] = status;
  return Napi::Number::New(info.Env(), r < 0 ? -errno : r);
}

/**
 * waitSpin(tids Int32Array, count, budgetMicros, out Int32Array[1]) → the tid
 * that reported (its status in out[0]), 0 when none did within the budget, or
 * -ECHILD when none of them can report any more.
 */
Napi::Value WaitSpin(const Napi::CallbackInfo& info) {
  Napi::Int32Array tids = info[0].As<Napi::Int32Array>();
  size_t count = std::min<size_t>(ArgInt(info, 1), tids.ElementLength());
  auto budget = std::chrono::microseconds(ArgInt(info, 2));
  auto start = std::chrono::steady_clock::now();
  for (unsigned round = 0;; round++) {
    size_t alive = 0;
    for (size_t i = 0; i < count; i++) {
      int status = 0;
      pid_t r;
      do r = waitpid(tids[i], &status, WNOHANG | __WALL);
      while (r < 0 && errno == EINTR);
      if (r > 0) {
        info[3].As<Napi::Int32Array>()[0] = status;
        return Napi::Number::New(info.Env(), r);
      }
      if (r == 0) alive++;
    }
    if (alive == 0) return Napi::Number::New(info.Env(), -ECHILD);
    if (round > 0 && std::chrono::steady_clock::now() - start >= budget) return Napi::Number::New(info.Env(), 0);
    sched_yield();
  }
}

// ----------------------------------------------------------------- memory

Napi::Value OpenMem(const Napi::CallbackInfo& info) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/mem", ArgInt(info, 0));
  int fd = open(path, O_RDWR | O_CLOEXEC);
  return Napi::Number::New(info.Env(), fd < 0 ? -errno : fd);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  return Errno(info.Env(), close(ArgInt(info, 0)));
}

/**
 * readMem(pid, memFd, addr: bigint, buf) → bytes read before the first fault.
 * process_vm_readv first (one copy, no ptrace-stop needed); what it cannot
 * read (unreadable protections) is retried through /proc/PID/mem, which stops
 * exactly at the first unmapped page.
 */
Napi::Value ReadMem(const Napi::CallbackInfo& info) {
  pid_t pid = ArgInt(info, 0);
  int fd = ArgInt(info, 1);
  uint64_t addr = ArgU64(info, 2);
  Napi::Uint8Array buf = info[3].As<Napi::Uint8Array>();
  size_t len = buf.ByteLength();
  uint8_t* data = buf.Data();
  size_t done = 0;
  while (done < len) {
    struct iovec local = {data + done, len - done};
    struct iovec remote = {reinterpret_cast<void*>(addr + done), len - done};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  while (done < len && fd >= 0) {
    ssize_t n = pread(fd, data + done, len - done, static_cast<off_t>(addr + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  return Napi::Number::New(info.Env(), static_cast<double>(done));
}

/**
 * writeMem(memFd, tid, addr: bigint, buf) → bytes written before the first
 * fault. /proc/PID/mem writes even read-only text (the tracer's FOLL_FORCE);
 * when the file cannot be used, PTRACE_POKEDATA through stopped thread `tid`.
 */
Napi::Value WriteMem(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0);
  pid_t tid = ArgInt(info, 1);
  uint64_t addr = ArgU64(info, 2);
  Napi::Uint8Array buf = info[3].As<Napi::Uint8Array>();
  size_t len = buf.ByteLength();
  const uint8_t* data = buf.Data();
  size_t done = 0;
  while (done < len && fd >= 0) {
    ssize_t n = pwrite(fd, data + done, len - done, static_cast<off_t>(addr + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  while (done < len && tid > 0) {
    uint64_t a = addr + done;
    uint64_t word = a & ~7ull;
    size_t off = a - word;
    size_t k = std::min<size_t>(8 - off, len - done);
    errno = 0;
    long v = ptrace(PTRACE_PEEKDATA, tid, reinterpret_cast<void*>(word), nullptr);
    if (v == -1 && errno) break;
    memcpy(reinterpret_cast<uint8_t*>(&v) + off, data + done, k);
    if (ptrace(PTRACE_POKEDATA, tid, reinterpret_cast<void*>(word), reinterpret_cast<void*>(v)) < 0) break;
    done += k;
  }
  return Napi::Number::New(info.Env(), static_cast<double>(done));
}

Napi::Value Kill(const Napi::CallbackInfo& info) {
  return Errno(info.Env(), kill(ArgInt(info, 0), ArgInt(info, 1)));
}

Napi::Value Tgkill(const Napi::CallbackInfo& info) {
  return Errno(info.Env(), syscall(SYS_tgkill, ArgInt(info, 0), ArgInt(info, 1), ArgInt(info, 2)));
}

Napi::Object Constants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  auto set = [&](const char* k, double v) { c.Set(k, Napi::Number::New(env, v)); };
  set("PTRACE_O_TRACESYSGOOD", PTRACE_O_TRACESYSGOOD);
  set("PTRACE_O_TRACEFORK", PTRACE_O_TRACEFORK);
  set("PTRACE_O_TRACEVFORK", PTRACE_O_TRACEVFORK);
  set("PTRACE_O_TRACECLONE", PTRACE_O_TRACECLONE);
  set("PTRACE_O_TRACEEXEC", PTRACE_O_TRACEEXEC);
  set("PTRACE_O_TRACEVFORKDONE", PTRACE_O_TRACEVFORKDONE);
  set("PTRACE_O_TRACEEXIT", PTRACE_O_TRACEEXIT);
  set("userRegsSize", sizeof(struct user_regs_struct));
  set("userFpRegsSize", sizeof(struct user_fpregs_struct));
  return c;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new Addon());
  auto fn = [&](const char* name, Napi::Function::Callback cb) { exports.Set(name, Napi::Function::New(env, cb, name)); };
  fn("watcherStart", WatcherStart);
  fn("watch", Watch);
  fn("track", Track);
  fn("tracerTid", TracerTid);
  fn("spawn", Spawn);
  fn("readExecError", ReadExecError);
  fn("seize", Seize);
  fn("interrupt", Interrupt);
  fn("restart", Restart);
  fn("detach", Detach);
  fn("setOptions", SetOptions);
  fn("eventMsg", EventMsg);
  fn("sigInfo", SigInfo);
  fn("syscallInfo", SyscallInfo);
  fn("getRegs", RegsOp<PTRACE_GETREGS, sizeof(struct user_regs_struct)>);
  fn("setRegs", RegsOp<PTRACE_SETREGS, sizeof(struct user_regs_struct)>);
  fn("getFpRegs", RegsOp<PTRACE_GETFPREGS, sizeof(struct user_fpregs_struct)>);
  fn("setFpRegs", RegsOp<PTRACE_SETFPREGS, sizeof(struct user_fpregs_struct)>);
  fn("getDebugRegs", GetDebugRegs);
  fn("getDebugReg", GetDebugReg);
  fn("setDebugReg", SetDebugReg);
  fn("wait", Wait);
  fn("waitSpin", WaitSpin);
  fn("openMem", OpenMem);
  fn("closeFd", CloseFd);
  fn("readMem", ReadMem);
  fn("writeMem", WriteMem);
  fn("kill", Kill);
  fn("tgkill", Tgkill);
  exports.Set("constants", Constants(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(stackdb_ptrace, Init)
