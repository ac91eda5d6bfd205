/*
 * bpf_sys: the N-API shim of the kernel backend.
 *
 * Plain C over node_api.h, no libbpf, no policy: every function performs one system call (or
 * one libuv poll operation) and returns the result, or -errno on failure. All attr structs are
 * encoded, sized and validated in TypeScript (lib/kernel/attr.ts); this file only passes bytes.
 *
 * Buffers: wherever a buffer is accepted, any TypedArray, DataView or ArrayBuffer works; the
 * pointer passed to the kernel is the view's first byte. Callers keep buffers alive while the
 * kernel may use them (attr pointer fields obtained through addressOf()).
 *
 * The TypeScript signature of every export is in lib/kernel/binding.ts (BpfSys).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>

#ifndef __NR_bpf
#error "__NR_bpf is not defined for this architecture"
#endif

#define MAX_ARGS 6

#define CHECK(call)                                                                              \
  do {                                                                                           \
    if ((call) != napi_ok) return throw_last(env, #call);                                       \
  } while (0)

static napi_value throw_last(napi_env env, const char *what) {
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    char msg[256];
    snprintf(msg, sizeof msg, "bpf_sys: %s failed: %s", what,
             info && info->error_message ? info->error_message : "unknown N-API error");
    napi_throw_type_error(env, "ERR_BPF_SYS_ARG", msg);
  }
  return NULL;
}

static napi_value throw_arg(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_BPF_SYS_ARG", msg);
  return NULL;
}

static napi_value make_i32(napi_env env, int32_t v) {
  napi_value out;
  if (napi_create_int32(env, v, &out) != napi_ok) return NULL;
  return out;
}

static napi_value make_f64(napi_env env, double v) {
  napi_value out;
  if (napi_create_double(env, v, &out) != napi_ok) return NULL;
  return out;
}

/* Result of a syscall returning int/long: value, or -errno. */
static napi_value ret_long(napi_env env, long r) {
  return make_f64(env, r < 0 ? -(double)errno : (double)r);
}

/* Any TypedArray / DataView / ArrayBuffer → pointer + byte length. null/undefined → NULL, 0. */
static int get_buf(napi_env env, napi_value v, void **ptr, size_t *len, int allow_null) {
  napi_typedarray_type tt;
  size_t n, off;
  void *data;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &tt, &n, &data, &ab, &off) == napi_ok) {
    size_t elem = 1;
    switch (tt) {
      case napi_int16_array: case napi_uint16_array: elem = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
      default: elem = 1; break;
    }
    *ptr = data;
    *len = n * elem;
    return 1;
  }
  bool is;
  if (napi_is_dataview(env, v, &is) == napi_ok && is) {
    if (napi_get_dataview_info(env, v, &n, &data, &ab, &off) != napi_ok) return 0;
    *ptr = data;
    *len = n;
    return 1;
  }
  if (napi_is_arraybuffer(env, v, &is) == napi_ok && is) {
    if (napi_get_arraybuffer_info(env, v, &data, &n) != napi_ok) return 0;
    *ptr = data;
    *len = n;
    return 1;
  }
  if (allow_null) {
    napi_valuetype t;
    if (napi_typeof(env, v, &t) == napi_ok && (t == napi_null || t == napi_undefined)) {
      *ptr = NULL;
      *len = 0;
      return 1;
    }
  }
  return 0;
}

static int get_i32(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok;
}

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

/* Number or BigInt → int64. */
static int get_i64(napi_env env, napi_value v, int64_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_bigint) {
    bool lossless;
    return napi_get_value_bigint_int64(env, v, out, &lossless) == napi_ok;
  }
  if (t == napi_number) return napi_get_value_int64(env, v, out) == napi_ok;
  return 0;
}

#define ARGS(n)                                                                                  \
  size_t argc = (n);                                                                             \
  napi_value argv[(n) > 0 ? (n) : 1];                                                            \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));                                   \
  if (argc < (n)) return throw_arg(env, "bpf_sys: too few arguments")

/*
 * bpf(cmd, attr) → result or -errno; with `no_signals`, every blockable signal is blocked in this
 * thread for the duration of the call (bpfNoSignals). The kernel verifier gives up with EAGAIN,
 * and a test run with EINTR, when a signal is pending, and a Node process gets signals all the
 * time (SIGCHLD from children, SIGPROF from --cpu-prof, ...): a large program could then never
 * load. Signals that arrive meanwhile stay pending and are delivered when the mask is restored.
 */
static napi_value bpf_call(napi_env env, napi_callback_info info, const char *cmd_err, const char *attr_err, int no_signals) {
  ARGS(2);
  int32_t cmd;
  void *attr;
  size_t len;
  if (!get_i32(env, argv[0], &cmd)) return throw_arg(env, cmd_err);
  if (!get_buf(env, argv[1], &attr, &len, 0)) return throw_arg(env, attr_err);
  sigset_t all, old;
  int masked = 0;
  if (no_signals) {
    sigfillset(&all);
    masked = pthread_sigmask(SIG_BLOCK, &all, &old) == 0;
  }
  long r = syscall(__NR_bpf, cmd, attr, (unsigned int)len);
  int saved = errno;
  if (masked) pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = saved;
  return ret_long(env, r);
}

static napi_value js_bpf(napi_env env, napi_callback_info info) {
  return bpf_call(env, info, "bpf: cmd must be a number", "bpf: attr must be a buffer", 0);
}

static napi_value js_bpf_no_signals(napi_env env, napi_callback_info info) {
  return bpf_call(env, info, "bpfNoSignals: cmd must be a number", "bpfNoSignals: attr must be a buffer", 1);
}

/*
 * Registered attr buffers: the hot path of map operations. bpfRegister(buffer) pins a buffer
 * (strong reference) and returns a slot id; bpfSlot(cmd, id) issues bpf(cmd, buffer) without
 * re-reading the buffer's address on every call. bpfUnregister(id) releases the slot.
 * Slots are per N-API environment (instance data), so worker threads never share them.
 */
typedef struct slot {
  void *ptr;
  size_t len;
  napi_ref ref;
} slot;

typedef struct instance {
  slot *slots;
  int32_t cap;
  int32_t used; /* high-water mark */
  int32_t *free_ids;
  int32_t nfree;
  int32_t *ctl;     /* bpfSlotRun control block: [0] cmd | id << 8, [1] result */
  napi_ref ctl_ref; /* the control block's Int32Array (strong) */
} instance;

/*
 * The first environment that loads the addon (normally the main thread) and its instance:
 * bpfSlotRun finds its instance without an N-API call there. Other environments (workers) take
 * napi_get_instance_data. Cleared when that environment's instance is finalized.
 */
static napi_env fast_env;
static instance *fast_in;

static void instance_finalize(napi_env env, void *data, void *hint) {
  instance *in = (instance *)data;
  if (__atomic_load_n(&fast_in, __ATOMIC_ACQUIRE) == in) {
    __atomic_store_n(&fast_env, NULL, __ATOMIC_RELEASE);
    __atomic_store_n(&fast_in, NULL, __ATOMIC_RELEASE);
  }
  free(in->slots);
  free(in->free_ids);
  free(in);
}

static instance *get_instance(napi_env env) {
  void *data = NULL;
  if (napi_get_instance_data(env, &data) != napi_ok) return NULL;
  return (instance *)data;
}

static napi_value js_bpf_register(napi_env env, napi_callback_info info) {
  ARGS(1);
  void *p;
  size_t len;
  if (!get_buf(env, argv[0], &p, &len, 0)) return throw_arg(env, "bpfRegister: expected a buffer");
  instance *in = get_instance(env);
  if (!in) return throw_arg(env, "bpfRegister: addon not initialised");
  int32_t id;
  if (in->nfree > 0) {
    id = in->free_ids[--in->nfree];
  } else {
    if (in->used == in->cap) {
      int32_t ncap = in->cap ? in->cap * 2 : 64;
      slot *ns = (slot *)realloc(in->slots, sizeof(slot) * (size_t)ncap);
      if (!ns) return make_i32(env, -ENOMEM);
      int32_t *nf = (int32_t *)realloc(in->free_ids, sizeof(int32_t) * (size_t)ncap);
      if (!nf) {
        in->slots = ns;
        return make_i32(env, -ENOMEM);
      }
      in->slots = ns;
      in->free_ids = nf;
      in->cap = ncap;
    }
    id = ++in->used;
  }
  slot *sl = &in->slots[id - 1];
  sl->ptr = p;
  sl->len = len;
  if (napi_create_reference(env, argv[0], 1, &sl->ref) != napi_ok) {
    sl->ptr = NULL;
    in->free_ids[in->nfree++] = id;
    return throw_last(env, "napi_create_reference");
  }
  return make_i32(env, id);
}

static napi_value js_bpf_unregister(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t id;
  if (!get_i32(env, argv[0], &id)) return throw_arg(env, "bpfUnregister: id must be a number");
  instance *in = get_instance(env);
  if (!in || id <= 0 || id > in->used || !in->slots[id - 1].ptr) return make_i32(env, -ENOENT);
  slot *sl = &in->slots[id - 1];
  napi_delete_reference(env, sl->ref);
  sl->ptr = NULL;
  sl->ref = NULL;
  in->free_ids[in->nfree++] = id;
  return make_i32(env, 0);
}

/* bpfSlot(cmd, id) → result or -errno (throws on an unknown slot) */
static napi_value js_bpf_slot(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t cmd, id;
  if (argc < 2 || !get_i32(env, argv[0], &cmd) || !get_i32(env, argv[1], &id))
    return throw_arg(env, "bpfSlot: expected (cmd, id)");
  instance *in = get_instance(env);
  if (!in || id <= 0 || id > in->used || !in->slots[id - 1].ptr)
    return throw_arg(env, "bpfSlot: unknown slot (buffer not registered or already released)");
  slot *sl = &in->slots[id - 1];
  long r = syscall(__NR_bpf, cmd, sl->ptr, (unsigned int)sl->len);
  napi_value out;
  napi_create_int32(env, r < 0 ? -errno : (int32_t)r, &out);
  return out;
}

/*
 * bpfSlotControl() → Int32Array(16): this environment's control block for bpfSlotRun, created on
 * the first call; every later call returns the same array, so all copies of the TypeScript side
 * loaded into one environment share it.
 */
static napi_value js_bpf_slot_control(napi_env env, napi_callback_info info) {
  instance *in = get_instance(env);
  if (!in) return throw_arg(env, "bpfSlotControl: addon not initialised");
  napi_value arr;
  if (in->ctl_ref) {
    CHECK(napi_get_reference_value(env, in->ctl_ref, &arr));
    if (arr) return arr;
  }
  napi_value ab;
  void *data;
  CHECK(napi_create_arraybuffer(env, 64, &data, &ab));
  memset(data, 0, 64);
  CHECK(napi_create_typedarray(env, napi_int32_array, 16, ab, 0, &arr));
  napi_ref ref;
  CHECK(napi_create_reference(env, arr, 1, &ref));
  if (in->ctl_ref) napi_delete_reference(env, in->ctl_ref);
  in->ctl_ref = ref;
  in->ctl = (int32_t *)data;
  return arr;
}

/* bpf(2) without the libc wrapper on x86-64 (one frame and the errno TLS access fewer): result or -errno */
static inline long bpf_raw(int cmd, void *attr, unsigned int size) {
#if defined(__x86_64__)
  long r;
  register long a1 __asm__("rdi") = cmd;
  register long a2 __asm__("rsi") = (long)attr;
  register long a3 __asm__("rdx") = size;
  __asm__ volatile("syscall" : "=a"(r) : "0"((long)__NR_bpf), "r"(a1), "r"(a2), "r"(a3) : "rcx", "r11", "memory");
  return r;
#else
  long r = syscall(__NR_bpf, cmd, attr, size);
  return r < 0 ? -errno : r;
#endif
}

/*
 * bpfSlotRun() → undefined: the hot path of map operations. No arguments and no return value
 * (each costs N-API calls): reads `cmd | slot id << 8` from control block word 0, issues
 * bpf(cmd, slot buffer) and writes the result or -errno into word 1. Throws when no control
 * block is registered or the slot is unknown.
 */
static napi_value js_bpf_slot_run(napi_env env, napi_callback_info info) {
  instance *in;
  if (env == __atomic_load_n(&fast_env, __ATOMIC_ACQUIRE)) {
    in = fast_in;
  } else {
    void *data = NULL;
    napi_get_instance_data(env, &data);
    in = (instance *)data;
  }
  if (!in || !in->ctl) return throw_arg(env, "bpfSlotRun: no control block (call bpfSlotControl first)");
  int32_t *c = in->ctl;
  int32_t op = c[0];
  int32_t id = op >> 8;
  if (id <= 0 || id > in->used || !in->slots[id - 1].ptr)
    return throw_arg(env, "bpfSlotRun: unknown slot (buffer not registered or already released)");
  slot *sl = &in->slots[id - 1];
  c[1] = (int32_t)bpf_raw(op & 0xff, sl->ptr, (unsigned int)sl->len);
  return NULL;
}

/* addressOf(buffer) → BigInt address of its first byte */
static napi_value js_address_of(napi_env env, napi_callback_info info) {
  ARGS(1);
  void *p;
  size_t len;
  if (!get_buf(env, argv[0], &p, &len, 1)) return throw_arg(env, "addressOf: expected a buffer");
  napi_value out;
  CHECK(napi_create_bigint_uint64(env, (uint64_t)(uintptr_t)p, &out));
  return out;
}

/* perfEventOpen(attr, pid, cpu, groupFd, flags) → fd or -errno */
static napi_value js_perf_event_open(napi_env env, napi_callback_info info) {
  ARGS(5);
  void *attr;
  size_t len;
  int32_t pid, cpu, group;
  uint32_t flags;
  if (!get_buf(env, argv[0], &attr, &len, 0)) return throw_arg(env, "perfEventOpen: attr must be a buffer");
  if (!get_i32(env, argv[1], &pid) || !get_i32(env, argv[2], &cpu) || !get_i32(env, argv[3], &group) ||
      !get_u32(env, argv[4], &flags))
    return throw_arg(env, "perfEventOpen: pid, cpu, groupFd, flags must be numbers");
  long r = syscall(__NR_perf_event_open, attr, pid, cpu, group, (unsigned long)flags);
  return ret_long(env, r);
}

/* ioctl(fd, req, arg) → result or -errno; arg is a number (passed as unsigned long) or a buffer */
static napi_value js_ioctl(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd;
  int64_t req;
  if (!get_i32(env, argv[0], &fd) || !get_i64(env, argv[1], &req))
    return throw_arg(env, "ioctl: fd and req must be numbers");
  void *p;
  size_t len;
  int64_t num;
  long r;
  if (get_buf(env, argv[2], &p, &len, 0)) {
    r = ioctl(fd, (unsigned long)req, p);
  } else if (get_i64(env, argv[2], &num)) {
    r = ioctl(fd, (unsigned long)req, (unsigned long)num);
  } else {
    return throw_arg(env, "ioctl: arg must be a number, bigint or buffer");
  }
  return ret_long(env, r);
}

/* ---- mmap ----------------------------------------------------------------------------------- */

typedef struct mapping {
  void *addr;
  size_t len;
  int unmapped;
  struct mapping *next;
} mapping;

static pthread_mutex_t mappings_lock = PTHREAD_MUTEX_INITIALIZER;
static mapping *mappings = NULL;

static void mapping_finalize(napi_env env, void *data, void *hint) {
  mapping *m = (mapping *)hint;
  pthread_mutex_lock(&mappings_lock);
  for (mapping **pp = &mappings; *pp; pp = &(*pp)->next) {
    if (*pp == m) {
      *pp = m->next;
      break;
    }
  }
  pthread_mutex_unlock(&mappings_lock);
  if (!m->unmapped) munmap(m->addr, m->len);
  free(m);
}

/* mmap(fd, length, prot, flags, offset) → external ArrayBuffer, or -errno */
static napi_value js_mmap(napi_env env, napi_callback_info info) {
  ARGS(5);
  int32_t fd, prot, flags;
  int64_t length, offset;
  if (!get_i32(env, argv[0], &fd) || !get_i64(env, argv[1], &length) || !get_i32(env, argv[2], &prot) ||
      !get_i32(env, argv[3], &flags) || !get_i64(env, argv[4], &offset))
    return throw_arg(env, "mmap: fd, length, prot, flags, offset must be numbers");
  if (length <= 0) return make_f64(env, -EINVAL);
  void *addr = mmap(NULL, (size_t)length, prot, flags, fd, (off_t)offset);
  if (addr == MAP_FAILED) return make_f64(env, -(double)errno);
  mapping *m = (mapping *)calloc(1, sizeof *m);
  if (!m) {
    munmap(addr, (size_t)length);
    return make_f64(env, -ENOMEM);
  }
  m->addr = addr;
  m->len = (size_t)length;
  napi_value ab;
  if (napi_create_external_arraybuffer(env, addr, (size_t)length, mapping_finalize, m, &ab) != napi_ok) {
    munmap(addr, (size_t)length);
    free(m);
    return throw_last(env, "napi_create_external_arraybuffer");
  }
  pthread_mutex_lock(&mappings_lock);
  m->next = mappings;
  mappings = m;
  pthread_mutex_unlock(&mappings_lock);
  return ab;
}

/* munmap(arrayBuffer) → 0 or -errno; the ArrayBuffer is detached (length 0) afterwards */
static napi_value js_munmap(napi_env env, napi_callback_info info) {
  ARGS(1);
  void *data;
  size_t len;
  bool is;
  if (napi_is_arraybuffer(env, argv[0], &is) != napi_ok || !is)
    return throw_arg(env, "munmap: expected the ArrayBuffer returned by mmap");
  CHECK(napi_get_arraybuffer_info(env, argv[0], &data, &len));
  mapping *found = NULL;
  pthread_mutex_lock(&mappings_lock);
  for (mapping *m = mappings; m; m = m->next) {
    if (m->addr == data && !m->unmapped && data != NULL) {
      found = m;
      m->unmapped = 1;
      break;
    }
  }
  pthread_mutex_unlock(&mappings_lock);
  if (!found) return make_i32(env, -EINVAL);
  int r = munmap(found->addr, found->len);
  int err = errno;
  napi_detach_arraybuffer(env, argv[0]);
  return make_i32(env, r < 0 ? -err : 0);
}

/* close(fd) → 0 or -errno */
static napi_value js_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!get_i32(env, argv[0], &fd)) return throw_arg(env, "close: fd must be a number");
  return ret_long(env, close(fd));
}

/* ---- sockets -------------------------------------------------------------------------------- */

/* socket(domain, type, protocol) → fd or -errno */
static napi_value js_socket(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t d, t, p;
  if (!get_i32(env, argv[0], &d) || !get_i32(env, argv[1], &t) || !get_i32(env, argv[2], &p))
    return throw_arg(env, "socket: domain, type, protocol must be numbers");
  return ret_long(env, socket(d, t, p));
}

/* bind(fd, sockaddr) → 0 or -errno */
static napi_value js_bind(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  void *sa;
  size_t len;
  if (!get_i32(env, argv[0], &fd)) return throw_arg(env, "bind: fd must be a number");
  if (!get_buf(env, argv[1], &sa, &len, 0)) return throw_arg(env, "bind: sockaddr must be a buffer");
  return ret_long(env, bind(fd, (const struct sockaddr *)sa, (socklen_t)len));
}

/* setsockopt(fd, level, name, value) → 0 or -errno; value is a buffer or a number (int) */
static napi_value js_setsockopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, level, name;
  if (!get_i32(env, argv[0], &fd) || !get_i32(env, argv[1], &level) || !get_i32(env, argv[2], &name))
    return throw_arg(env, "setsockopt: fd, level, name must be numbers");
  void *p;
  size_t len;
  int32_t iv;
  if (get_buf(env, argv[3], &p, &len, 0)) return ret_long(env, setsockopt(fd, level, name, p, (socklen_t)len));
  if (get_i32(env, argv[3], &iv)) return ret_long(env, setsockopt(fd, level, name, &iv, sizeof iv));
  return throw_arg(env, "setsockopt: value must be a buffer or a number");
}

/* getsockopt(fd, level, name, out) → bytes written into out, or -errno */
static napi_value js_getsockopt(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, level, name;
  if (!get_i32(env, argv[0], &fd) || !get_i32(env, argv[1], &level) || !get_i32(env, argv[2], &name))
    return throw_arg(env, "getsockopt: fd, level, name must be numbers");
  void *p;
  size_t len;
  if (!get_buf(env, argv[3], &p, &len, 0)) return throw_arg(env, "getsockopt: out must be a buffer");
  socklen_t sl = (socklen_t)len;
  int r = getsockopt(fd, level, name, p, &sl);
  if (r < 0) return make_f64(env, -(double)errno);
  return make_f64(env, (double)sl);
}

/* sendto(fd, data, flags, sockaddr | null) → bytes sent or -errno */
static napi_value js_sendto(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, flags;
  void *p, *sa;
  size_t len, salen;
  if (!get_i32(env, argv[0], &fd) || !get_i32(env, argv[2], &flags))
    return throw_arg(env, "sendto: fd and flags must be numbers");
  if (!get_buf(env, argv[1], &p, &len, 1)) return throw_arg(env, "sendto: data must be a buffer or null");
  if (!get_buf(env, argv[3], &sa, &salen, 1)) return throw_arg(env, "sendto: sockaddr must be a buffer or null");
  return ret_long(env, sendto(fd, p, len, flags, (const struct sockaddr *)sa, (socklen_t)salen));
}

/* recv(fd, out, flags) → bytes received or -errno */
static napi_value js_recv(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, flags;
  void *p;
  size_t len;
  if (!get_i32(env, argv[0], &fd) || !get_i32(env, argv[2], &flags))
    return throw_arg(env, "recv: fd and flags must be numbers");
  if (!get_buf(env, argv[1], &p, &len, 0)) return throw_arg(env, "recv: out must be a buffer");
  return ret_long(env, recv(fd, p, len, flags));
}

/* ifNameToIndex(name) → index, or -errno (0 is never a valid index) */
static napi_value js_if_name_to_index(napi_env env, napi_callback_info info) {
  ARGS(1);
  char name[IF_NAMESIZE + 1];
  size_t n = 0;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &n) != napi_ok)
    return throw_arg(env, "ifNameToIndex: name must be a string");
  if (n >= IF_NAMESIZE) return make_i32(env, -ENODEV);
  unsigned idx = if_nametoindex(name);
  if (idx == 0) return make_i32(env, -(errno ? errno : ENODEV));
  return make_f64(env, (double)idx);
}

static napi_value js_getpid(napi_env env, napi_callback_info info) {
  return make_i32(env, (int32_t)getpid());
}

static napi_value js_gettid(napi_env env, napi_callback_info info) {
  return make_i32(env, (int32_t)syscall(SYS_gettid));
}

static napi_value js_page_size(napi_env env, napi_callback_info info) {
  return make_i32(env, (int32_t)sysconf(_SC_PAGESIZE));
}

/* errnoString(errno) → strerror text (accepts positive or negative values) */
static napi_value js_errno_string(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t e;
  if (!get_i32(env, argv[0], &e)) return throw_arg(env, "errnoString: errno must be a number");
  if (e < 0) e = -e;
  char buf[256];
  const char *s = strerror_r(e, buf, sizeof buf);
  napi_value out;
  CHECK(napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &out));
  return out;
}

/*
 * atomicLoad64(buffer, byteOffset) → number: acquire load of a little-endian u64 (ring buffer
 * producer/consumer positions); atomicStore64(buffer, byteOffset, value): release store.
 * byteOffset must be 8-aligned within the view; values are below 2^53.
 */
static napi_value js_atomic_load64(napi_env env, napi_callback_info info) {
  ARGS(2);
  void *p;
  size_t len;
  int64_t off;
  if (!get_buf(env, argv[0], &p, &len, 0) || !get_i64(env, argv[1], &off))
    return throw_arg(env, "atomicLoad64: expected (buffer, byteOffset)");
  if (off < 0 || (size_t)off + 8 > len || (((uintptr_t)p + (uintptr_t)off) & 7))
    return throw_arg(env, "atomicLoad64: offset out of range or unaligned");
  uint64_t v = __atomic_load_n((uint64_t *)((char *)p + off), __ATOMIC_ACQUIRE);
  return make_f64(env, (double)v);
}

static napi_value js_atomic_store64(napi_env env, napi_callback_info info) {
  ARGS(3);
  void *p;
  size_t len;
  int64_t off, v;
  if (!get_buf(env, argv[0], &p, &len, 0) || !get_i64(env, argv[1], &off) || !get_i64(env, argv[2], &v))
    return throw_arg(env, "atomicStore64: expected (buffer, byteOffset, value)");
  if (off < 0 || (size_t)off + 8 > len || (((uintptr_t)p + (uintptr_t)off) & 7))
    return throw_arg(env, "atomicStore64: offset out of range or unaligned");
  __atomic_store_n((uint64_t *)((char *)p + off), (uint64_t)v, __ATOMIC_RELEASE);
  return NULL;
}

/* ---- readiness polling (libuv) -------------------------------------------------------------- */

typedef struct poller {
  uv_poll_t handle;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  int32_t id;
  int stopped;
  struct poller *next;
} poller;

static pthread_mutex_t pollers_lock = PTHREAD_MUTEX_INITIALIZER;
static poller *pollers = NULL;
static int32_t next_poll_id = 1;

static void poller_closed(uv_handle_t *h) {
  poller *p = (poller *)h->data;
  free(p);
}

static void poller_release(poller *p) {
  /* unlink, drop JS references, close the uv handle (freed in poller_closed) */
  pthread_mutex_lock(&pollers_lock);
  for (poller **pp = &pollers; *pp; pp = &(*pp)->next) {
    if (*pp == p) {
      *pp = p->next;
      break;
    }
  }
  pthread_mutex_unlock(&pollers_lock);
  p->stopped = 1;
  uv_poll_stop(&p->handle);
  if (p->callback) napi_delete_reference(p->env, p->callback);
  p->callback = NULL;
  if (p->async) napi_async_destroy(p->env, p->async);
  p->async = NULL;
  uv_close((uv_handle_t *)&p->handle, poller_closed);
}

static void poller_cb(uv_poll_t *h, int status, int events) {
  poller *p = (poller *)h->data;
  if (p->stopped || !p->callback) return;
  napi_env env = p->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, argv[2], result;
  if (napi_get_reference_value(env, p->callback, &fn) == napi_ok && fn != NULL &&
      napi_get_global(env, &recv) == napi_ok) {
    napi_create_int32(env, status, &argv[0]);
    napi_create_int32(env, events, &argv[1]);
    napi_status s = napi_make_callback(env, p->async, recv, fn, 2, argv, &result);
    if (s == napi_pending_exception) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
}

/*
 * pollStart(fd, events, callback(status, events)) → poll id (> 0) or -errno.
 * events: 1 = readable (UV_READABLE), 2 = writable, 4 = disconnect, 8 = prioritized.
 * The callback runs on the event loop whenever the fd is ready; status is 0 or a negative
 * libuv error. The poll keeps the event loop alive until pollStop() (or pollRef(id, false)).
 */
static napi_value js_poll_start(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd, events;
  if (!get_i32(env, argv[0], &fd) || !get_i32(env, argv[1], &events))
    return throw_arg(env, "pollStart: fd and events must be numbers");
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[2], &t));
  if (t != napi_function) return throw_arg(env, "pollStart: callback must be a function");
  struct uv_loop_s *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  poller *p = (poller *)calloc(1, sizeof *p);
  if (!p) return make_i32(env, -ENOMEM);
  int r = uv_poll_init(loop, &p->handle, fd);
  if (r < 0) {
    free(p);
    return make_i32(env, r);
  }
  p->handle.data = p;
  p->env = env;
  napi_value name;
  if (napi_create_reference(env, argv[2], 1, &p->callback) != napi_ok ||
      napi_create_string_utf8(env, "bpfkit:poll", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &p->async) != napi_ok) {
    poller_release(p);
    return throw_last(env, "pollStart");
  }
  r = uv_poll_start(&p->handle, events, poller_cb);
  if (r < 0) {
    poller_release(p);
    return make_i32(env, r);
  }
  pthread_mutex_lock(&pollers_lock);
  p->id = next_poll_id++;
  if (next_poll_id <= 0) next_poll_id = 1;
  p->next = pollers;
  pollers = p;
  pthread_mutex_unlock(&pollers_lock);
  return make_i32(env, p->id);
}

static poller *find_poller(napi_env env, int32_t id) {
  poller *found = NULL;
  pthread_mutex_lock(&pollers_lock);
  for (poller *p = pollers; p; p = p->next) {
    if (p->id == id && p->env == env) {
      found = p;
      break;
    }
  }
  pthread_mutex_unlock(&pollers_lock);
  return found;
}

/* pollStop(id) → 0, or -ENOENT when no such poll */
static napi_value js_poll_stop(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t id;
  if (!get_i32(env, argv[0], &id)) return throw_arg(env, "pollStop: id must be a number");
  poller *p = find_poller(env, id);
  if (!p) return make_i32(env, -ENOENT);
  poller_release(p);
  return make_i32(env, 0);
}

/* pollRef(id, ref) → 0 or -ENOENT: whether the poll keeps the event loop alive */
static napi_value js_poll_ref(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t id;
  bool ref;
  if (!get_i32(env, argv[0], &id)) return throw_arg(env, "pollRef: id must be a number");
  if (napi_get_value_bool(env, argv[1], &ref) != napi_ok) return throw_arg(env, "pollRef: ref must be a boolean");
  poller *p = find_poller(env, id);
  if (!p) return make_i32(env, -ENOENT);
  if (ref) uv_ref((uv_handle_t *)&p->handle);
  else uv_unref((uv_handle_t *)&p->handle);
  return make_i32(env, 0);
}

static void env_cleanup(void *arg) {
  napi_env env = (napi_env)arg;
  for (;;) {
    poller *victim = NULL;
    pthread_mutex_lock(&pollers_lock);
    for (poller *p = pollers; p; p = p->next) {
      if (p->env == env) {
        victim = p;
        break;
      }
    }
    pthread_mutex_unlock(&pollers_lock);
    if (!victim) break;
    poller_release(victim);
  }
}

static napi_value init(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"bpf", js_bpf},
      {"bpfNoSignals", js_bpf_no_signals},
      {"bpfRegister", js_bpf_register},
      {"bpfUnregister", js_bpf_unregister},
      {"bpfSlot", js_bpf_slot},
      {"bpfSlotControl", js_bpf_slot_control},
      {"bpfSlotRun", js_bpf_slot_run},
      {"addressOf", js_address_of},
      {"perfEventOpen", js_perf_event_open},
      {"ioctl", js_ioctl},
      {"mmap", js_mmap},
      {"munmap", js_munmap},
      {"close", js_close},
      {"socket", js_socket},
      {"bind", js_bind},
      {"setsockopt", js_setsockopt},
      {"getsockopt", js_getsockopt},
      {"sendto", js_sendto},
      {"recv", js_recv},
      {"ifNameToIndex", js_if_name_to_index},
      {"getpid", js_getpid},
      {"gettid", js_gettid},
      {"pageSize", js_page_size},
      {"errnoString", js_errno_string},
      {"atomicLoad64", js_atomic_load64},
      {"atomicStore64", js_atomic_store64},
      {"pollStart", js_poll_start},
      {"pollStop", js_poll_stop},
      {"pollRef", js_poll_ref},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, fns[i].name, f) != napi_ok) return NULL;
  }
  instance *in = (instance *)calloc(1, sizeof *in);
  if (!in || napi_set_instance_data(env, in, instance_finalize, NULL) != napi_ok) {
    free(in);
    napi_throw_error(env, NULL, "bpf_sys: cannot allocate instance data");
    return NULL;
  }
  napi_env none = NULL;
  if (__atomic_compare_exchange_n(&fast_env, &none, env, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    __atomic_store_n(&fast_in, in, __ATOMIC_RELEASE);
  napi_add_env_cleanup_hook(env, env_cleanup, env);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
