/*
 * Native layer of @stackdb/driver-xen: thin, synchronous wrappers around the
 * Xen control libraries of Domain 0 — libxenctrl (domain info, pause, vCPU
 * contexts, debugging), libxenforeignmemory (mapping a domain's frames) and
 * libxenstore (domain names). Register records are read with the libraries'
 * own structures (vcpu_guest_context for PV guests, the HVM save record of
 * each vCPU for HVM guests) and handed to JavaScript as named 64-bit values;
 * all policy lives in TypeScript.
 */
#include <napi.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <sys/mman.h>

extern "C" {
#include <xenctrl.h>
#include <xentoollog.h>
#include <xenforeignmemory.h>
#include <xenstore.h>
#include <xen/hvm/save.h>
}

namespace {

constexpr size_t PAGE_SIZE_BYTES = 4096;

/** The three library handles of one open session. */
struct Session {
  /** The libraries' own messages are dropped: errors reach JavaScript as one exception each. */
  xentoollog_logger_stdiostream *quiet = xtl_createlogger_stdiostream(stderr, XTL_NUM_LEVELS, 0);
  xc_interface *xch = nullptr;
  xenforeignmemory_handle *fmem = nullptr;
  struct xs_handle *xs = nullptr;

  xentoollog_logger *logger() { return reinterpret_cast<xentoollog_logger *>(quiet); }

  ~Session() {
    if (xs) xs_close(xs);
    if (fmem) xenforeignmemory_close(fmem);
    if (xch) xc_interface_close(xch);
    xtl_logger_destroy(logger());
  }
};

Napi::Value Fail(Napi::Env env, const std::string &what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + std::strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

Session *SessionOf(const Napi::CallbackInfo &info) {
  return info[0].As<Napi::External<Session>>().Data();
}

uint32_t U32(const Napi::CallbackInfo &info, size_t i) {
  return info[i].As<Napi::Number>().Uint32Value();
}

/** open(): the libraries' handles; fails where this is not a Xen Domain 0. */
Napi::Value Open(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto *s = new Session();
  s->xch = xc_interface_open(s->logger(), s->logger(), 0);
  if (!s->xch) {
    int err = errno;
    delete s;
    return Fail(env, "xc_interface_open", err);
  }
  s->fmem = xenforeignmemory_open(s->logger(), 0);
  if (!s->fmem) {
    int err = errno;
    delete s;
    return Fail(env, "xenforeignmemory_open", err);
  }
  s->xs = xs_open(XS_OPEN_READONLY);
  return Napi::External<Session>::New(env, s, [](Napi::Env, Session *p) { delete p; });
}

/** domains(session): [{ domid, name }] from xenstore's /local/domain. */
Napi::Value Domains(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Session *s = SessionOf(info);
  Napi::Array out = Napi::Array::New(env);
  if (!s->xs) return out;
  unsigned int n = 0;
  char **ids = xs_directory(s->xs, XBT_NULL, "/local/domain", &n);
  if (!ids) return out;
  for (unsigned int i = 0; i < n; i++) {
    std::string key = std::string("/local/domain/") + ids[i] + "/name";
    unsigned int len = 0;
    char *name = static_cast<char *>(xs_read(s->xs, XBT_NULL, key.c_str(), &len));
    Napi::Object d = Napi::Object::New(env);
    d.Set("domid", Napi::Number::New(env, std::strtoul(ids[i], nullptr, 10)));
    if (name) d.Set("name", Napi::String::New(env, name, len));
    free(name);
    out.Set(out.Length(), d);
  }
  free(ids);
  return out;
}

/** domainInfo(session, domid): the domain's state, or undefined when it does not exist. */
Napi::Value DomainInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Session *s = SessionOf(info);
  uint32_t domid = U32(info, 1);
  xc_dominfo_t d;
  int n = xc_domain_getinfo(s->xch, domid, 1, &d);
  if (n < 0) return Fail(env, "xc_domain_getinfo", errno);
  if (n == 0 || d.domid != domid) return env.Undefined();
  Napi::Object o = Napi::Object::New(env);
  o.Set("domid", Napi::Number::New(env, d.domid));
  o.Set("dying", Napi::Boolean::New(env, d.dying));
  o.Set("crashed", Napi::Boolean::New(env, d.crashed));
  o.Set("shutdown", Napi::Boolean::New(env, d.shutdown));
  o.Set("paused", Napi::Boolean::New(env, d.paused));
  o.Set("hvm", Napi::Boolean::New(env, d.hvm));
  o.Set("debugged", Napi::Boolean::New(env, d.debugged));
  o.Set("maxVcpuId", Napi::Number::New(env, d.max_vcpu_id));
  o.Set("onlineVcpus", Napi::Number::New(env, d.nr_online_vcpus));
  o.Set("pages", Napi::Number::New(env, static_cast<double>(d.nr_pages)));
  return o;
}

Napi::Value Pause(const Napi::CallbackInfo &info) {
  if (xc_domain_pause(SessionOf(info)->xch, U32(info, 1)) < 0) return Fail(info.Env(), "xc_domain_pause", errno);
  return info.Env().Undefined();
}

Napi::Value Unpause(const Napi::CallbackInfo &info) {
  if (xc_domain_unpause(SessionOf(info)->xch, U32(info, 1)) < 0) return Fail(info.Env(), "xc_domain_unpause", errno);
  return info.Env().Undefined();
}

void Put(Napi::Object &o, const char *name, uint64_t v) {
  o.Set(name, Napi::BigInt::New(o.Env(), v));
}

/** vcpuRegisters(session, domid, vcpu, hvm): the vCPU's general, segment and control registers. */
Napi::Value VcpuRegisters(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Session *s = SessionOf(info);
  uint32_t domid = U32(info, 1), vcpu = U32(info, 2);
  bool hvm = info[3].As<Napi::Boolean>().Value();
  Napi::Object o = Napi::Object::New(env);
  if (hvm) {
    struct hvm_hw_cpu c;
    if (xc_domain_hvm_getcontext_partial(s->xch, domid, HVM_SAVE_CODE(CPU), static_cast<uint16_t>(vcpu), &c, sizeof c) < 0)
      return Fail(env, "xc_domain_hvm_getcontext_partial", errno);
    Put(o, "rax", c.rax); Put(o, "rbx", c.rbx); Put(o, "rcx", c.rcx); Put(o, "rdx", c.rdx);
    Put(o, "rsi", c.rsi); Put(o, "rdi", c.rdi); Put(o, "rbp", c.rbp); Put(o, "rsp", c.rsp);
    Put(o, "r8", c.r8); Put(o, "r9", c.r9); Put(o, "r10", c.r10); Put(o, "r11", c.r11);
    Put(o, "r12", c.r12); Put(o, "r13", c.r13); Put(o, "r14", c.r14); Put(o, "r15", c.r15);
    Put(o, "rip", c.rip); Put(o, "eflags", c.rflags);
    Put(o, "cs", c.cs_sel); Put(o, "ss", c.ss_sel); Put(o, "ds", c.ds_sel); Put(o, "es", c.es_sel);
    Put(o, "fs", c.fs_sel); Put(o, "gs", c.gs_sel);
    Put(o, "fs_base", c.fs_base); Put(o, "gs_base", c.gs_base); Put(o, "kernel_gs_base", c.shadow_gs);
    Put(o, "cr0", c.cr0); Put(o, "cr2", c.cr2); Put(o, "cr3", c.cr3); Put(o, "cr4", c.cr4);
    Put(o, "efer", c.msr_efer);
    Put(o, "dr6", c.dr6); Put(o, "dr7", c.dr7);
    return o;
  }
  vcpu_guest_context_any_t ctx;
  if (xc_vcpu_getcontext(s->xch, domid, vcpu, &ctx) < 0) return Fail(env, "xc_vcpu_getcontext", errno);
  const auto &c = ctx.x64;
  const auto &r = c.user_regs;
  Put(o, "rax", r.rax); Put(o, "rbx", r.rbx); Put(o, "rcx", r.rcx); Put(o, "rdx", r.rdx);
  Put(o, "rsi", r.rsi); Put(o, "rdi", r.rdi); Put(o, "rbp", r.rbp); Put(o, "rsp", r.rsp);
  Put(o, "r8", r.r8); Put(o, "r9", r.r9); Put(o, "r10", r.r10); Put(o, "r11", r.r11);
  Put(o, "r12", r.r12); Put(o, "r13", r.r13); Put(o, "r14", r.r14); Put(o, "r15", r.r15);
  Put(o, "rip", r.rip); Put(o, "eflags", r.rflags);
  Put(o, "cs", r.cs); Put(o, "ss", r.ss); Put(o, "ds", r.ds); Put(o, "es", r.es); Put(o, "fs", r.fs); Put(o, "gs", r.gs);
  Put(o, "fs_base", c.fs_base); Put(o, "gs_base", c.gs_base_kernel); Put(o, "kernel_gs_base", c.gs_base_user);
  Put(o, "cr0", c.ctrlreg[0]); Put(o, "cr2", c.ctrlreg[2]);
  // A PV guest's CR3 holds a machine frame number in Xen's compressed form.
  Put(o, "cr3", static_cast<uint64_t>(xen_cr3_to_pfn_x86_64(c.ctrlreg[3])) << 12);
  Put(o, "cr4", c.ctrlreg[4]);
  Put(o, "dr6", c.debugreg[6]); Put(o, "dr7", c.debugreg[7]);
  return o;
}

/**
 * Maps one guest frame (a gfn, or a PV guest's mfn) with `prot` and copies
 * between it, at `offset`, and the Uint8Array argument 3: into the array for
 * a read, into the frame for a write.
 */
Napi::Value CopyFrame(const Napi::CallbackInfo &info, int prot, const char *what) {
  Napi::Env env = info.Env();
  Session *s = SessionOf(info);
  uint32_t domid = U32(info, 1);
  xen_pfn_t frame = static_cast<xen_pfn_t>(info[2].As<Napi::Number>().Int64Value());
  Napi::Uint8Array bytes = info[3].As<Napi::Uint8Array>();
  size_t offset = info[4].As<Napi::Number>().Uint32Value();
  if (offset + bytes.ByteLength() > PAGE_SIZE_BYTES) {
    Napi::RangeError::New(env, std::string(what) + ": the bytes must lie in one frame").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int err = 0;
  void *page = xenforeignmemory_map(s->fmem, domid, prot, 1, &frame, &err);
  if (!page || err) return Fail(env, "xenforeignmemory_map", err ? (err < 0 ? -err : err) : errno);
  uint8_t *at = static_cast<uint8_t *>(page) + offset;
  if (prot & PROT_WRITE) std::memcpy(at, bytes.Data(), bytes.ByteLength());
  else std::memcpy(bytes.Data(), at, bytes.ByteLength());
  xenforeignmemory_unmap(s->fmem, page, 1);
  return env.Undefined();
}

/** readFrame(session, domid, frame, dest, offset): copies bytes of one guest frame. */
Napi::Value ReadFrame(const Napi::CallbackInfo &info) {
  return CopyFrame(info, PROT_READ, "readFrame");
}

/** writeFrame(session, domid, frame, src, offset): writes bytes into one guest frame. */
Napi::Value WriteFrame(const Napi::CallbackInfo &info) {
  return CopyFrame(info, PROT_READ | PROT_WRITE, "writeFrame");
}

/** setDebugging(session, domid, on): whether the guest's debug traps go to the debugger. */
Napi::Value SetDebugging(const Napi::CallbackInfo &info) {
  if (xc_domain_setdebugging(SessionOf(info)->xch, U32(info, 1), info[2].As<Napi::Boolean>().Value() ? 1 : 0) < 0)
    return Fail(info.Env(), "xc_domain_setdebugging", errno);
  return info.Env().Undefined();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("open", Napi::Function::New(env, Open));
  exports.Set("domains", Napi::Function::New(env, Domains));
  exports.Set("domainInfo", Napi::Function::New(env, DomainInfo));
  exports.Set("pause", Napi::Function::New(env, Pause));
  exports.Set("unpause", Napi::Function::New(env, Unpause));
  exports.Set("vcpuRegisters", Napi::Function::New(env, VcpuRegisters));
  exports.Set("readFrame", Napi::Function::New(env, ReadFrame));
  exports.Set("writeFrame", Napi::Function::New(env, WriteFrame));
  exports.Set("setDebugging", Napi::Function::New(env, SetDebugging));
  exports.Set("pageSize", Napi::Number::New(env, PAGE_SIZE_BYTES));
  return exports;
}

NODE_API_MODULE(xen, Init)
