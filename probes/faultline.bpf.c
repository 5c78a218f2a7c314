// SPDX-License-Identifier: GPL-2.0
/*
 * faultline.bpf.c - the ringbuf engine's probes: the traced processes' mmap, munmap, mremap,
 * mprotect, madvise, brk and msync calls, page faults, forks, execs and exits, written as fixed
 * records (faultline.h) into a BPF ring buffer that faultline reads zero-copy.
 *
 * The same events as faultline.bt, so both engines report the same counts:
 *   tracepoint/syscalls/sys_{enter,exit}_{mmap,munmap,mremap,mprotect,madvise,brk,msync}
 *                                                        latency per thread, args, return
 *   tp_btf/page_fault_{user,kernel}                     address, ip, error code (the BTF
 *       flavour of exceptions:page_fault_*: the same events, called without the classic
 *       tracepoint's copy of the arguments, about half the cost per fault)
 *   perf_event minor-faults / major-faults (one per CPU, period 1, attached by faultline)
 *       fire once the kernel has handled a fault: paired with the page_fault_* before them
 *       on the same thread for the fault's latency
 *   tracepoint/syscalls/sys_enter_execve                 arms counting when arm_on_exec is set
 *   tp_btf/sched_process_fork                           a traced process forks a process: in
 *       FL_MODE_PIDS with follow_children, the child's tgid joins "traced" before it first runs
 *   tp_btf/sched_process_exec                           the new command name
 *   tp_btf/sched_process_exit                           the last thread of a process exits:
 *       its exit code; its tgid leaves "traced"
 *
 * Configuration: struct fl_config, the whole of .rodata, written before load: which processes
 * (mode: the tgids in the map "traced", which faultline seeds with target_tgid before attaching;
 * a cgroup v2 subtree; or all but faultline), follow_children, and arm_on_exec (count nothing
 * until target_tgid enters execve, the way perf stat CMD counts a command from its exec). The
 * window: `enabled` (map .data.window) is set by faultline once every program is attached and
 * cleared before any is detached; nothing is counted outside it.
 *
 * Per-thread state (syscall entry, fault start) lives in task-local storage, cheaper than a
 * hash map keyed by tid and freed with the thread.
 *
 * Output contract: records in the ring buffer map "events" (struct fl_syscall, fl_fault,
 * fl_done, told apart by fl_header.kind), submitted without wake-ups (BPF_RB_NO_WAKEUP: the
 * reader polls); reserve failures (and syscalls with no room to keep their entry) are counted
 * per CPU in "dropped" (key 0), never silent.
 *
 * Rebuild (deno task build:bpf, which is scripts/build_bpf.sh):
 *   clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu \
 *     -fdebug-prefix-map=$PWD=. -c probes/faultline.bpf.c -o probes/faultline.bpf.o
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "faultline.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct fl_config config = {};

/* Never used: they put the record structs and kinds into the object's BTF, where the layout
 * test (src/events/event_kinds_test.ts) and bpftool can read them. */
const enum fl_kind *unused_fl_kind __attribute__((unused));
const struct fl_syscall *unused_fl_syscall __attribute__((unused));
const struct fl_fault *unused_fl_fault __attribute__((unused));
const struct fl_done *unused_fl_done __attribute__((unused));
const struct fl_task *unused_fl_task __attribute__((unused));
const enum fl_mode *unused_fl_mode __attribute__((unused));

/* Set once target_tgid enters execve (when arm_on_exec). */
__u32 armed = 0;

/* The tracing window: faultline sets it once every program is attached and clears it before
 * any is detached, so every kind of event is counted over the same instant-to-instant span
 * (its own map, written whole from user space without touching armed). */
__u32 enabled SEC(".data.window") = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24); /* faultline sets the size before load (--ring-size) */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} dropped SEC(".maps");

/* FL_MODE_PIDS: the traced processes, tgid -> the tgid of the traced process that forked it
 * (0 for the target). A fork that finds it full is counted as dropped. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} traced SEC(".maps");

struct syscall_start {
	__u64 ts_ns; /* 0: no syscall in flight */
	__u64 addr;
	__u64 len;
	__u64 prot;
	__u64 flags;
	__u64 fd;
	__u64 off;
	__u64 addr2;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct syscall_start);
} syscall_starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64); /* ts of the page_fault tracepoint; 0: none pending */
} fault_starts SEC(".maps");

/* Tracepoint contexts, as /sys/kernel/tracing/events/.../format lays them out. */
struct tp_sys_enter_mmap {
	__u64 common;
	__s64 nr;
	__u64 addr, len, prot, flags, fd, off;
};
struct tp_sys_enter_munmap {
	__u64 common;
	__s64 nr;
	__u64 addr, len;
};
/* mremap, mprotect, madvise, brk and msync: up to five unsigned long arguments. */
struct tp_sys_enter_args {
	__u64 common;
	__s64 nr;
	__u64 a0, a1, a2, a3, a4;
};
struct tp_sys_exit {
	__u64 common;
	__s64 nr;
	__s64 ret;
};
/* The fields of the kernel's structs read here, relocated by CO-RE against the running
 * kernel's BTF. */
struct pt_regs {
	unsigned long ip;
} __attribute__((preserve_access_index));
struct task_struct {
	int pid;
	int tgid;
	int exit_code;
	char comm[16];
} __attribute__((preserve_access_index));

/* Whether the current task's process (tgid) is one faultline traces. */
static __always_inline int in_scope(__u32 tgid)
{
	if (config.mode == FL_MODE_ALL)
		return tgid != config.self_tgid;
	if (config.mode == FL_MODE_CGROUP)
		return bpf_get_current_ancestor_cgroup_id(config.cgroup_level) == config.cgroup_id;
	return bpf_map_lookup_elem(&traced, &tgid) != NULL;
}

/* Whether the window is open and counting is armed. */
static __always_inline int counting(void)
{
	return enabled && (!config.arm_on_exec || armed);
}

/* The calling thread's pid (high 32 bits) and tid (low) if it belongs to a traced process,
 * the window is open and counting is armed, else 0. */
static __always_inline __u64 traced_task(void)
{
	if (!counting())
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	if (!in_scope((__u32)(id >> 32)))
		return 0;
	return id;
}

static __always_inline void count_drop(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&dropped, &zero);
	if (n)
		*n += 1;
}

/* A ring record of `size` bytes with its header filled in, or NULL (counted as dropped) when
 * the ring is full. */
static __always_inline void *reserve(__u64 size, __u64 now, __u64 id, __u32 kind)
{
	struct fl_header *h = bpf_ringbuf_reserve(&events, size, 0);
	if (!h) {
		count_drop();
		return NULL;
	}
	h->ts_ns = now;
	h->tid = (__u32)id;
	h->kind = kind;
	h->pid = (__u32)(id >> 32);
	h->pad = 0;
	return h;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int on_execve(void *ctx)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) == config.target_tgid)
		armed = 1;
	return 0;
}

/* Keeps a syscall's entry time and arguments until its exit. If there is no storage for
 * them, the call cannot be reported: it counts as dropped, like a full ring. */
static __always_inline int syscall_enter(__u64 addr, __u64 len, __u64 prot, __u64 flags,
					 __u64 fd, __u64 off, __u64 addr2)
{
	if (!traced_task())
		return 0;
	struct syscall_start *s = bpf_task_storage_get(&syscall_starts,
		bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s) {
		count_drop();
		return 0;
	}
	s->ts_ns = bpf_ktime_get_ns();
	s->addr = addr;
	s->len = len;
	s->prot = prot;
	s->flags = flags;
	s->fd = fd;
	s->off = off;
	s->addr2 = addr2;
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_mmap")
int on_enter_mmap(struct tp_sys_enter_mmap *ctx)
{
	return syscall_enter(ctx->addr, ctx->len, ctx->prot, ctx->flags, ctx->fd, ctx->off, 0);
}

SEC("tracepoint/syscalls/sys_enter_munmap")
int on_enter_munmap(struct tp_sys_enter_munmap *ctx)
{
	return syscall_enter(ctx->addr, ctx->len, 0, 0, (__u64)-1, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_mremap")
int on_enter_mremap(struct tp_sys_enter_args *ctx)
{
	/* addr, old_len, new_len, flags, new_addr */
	return syscall_enter(ctx->a0, ctx->a1, 0, ctx->a3, (__u64)-1, ctx->a2, ctx->a4);
}

SEC("tracepoint/syscalls/sys_enter_mprotect")
int on_enter_mprotect(struct tp_sys_enter_args *ctx)
{
	/* start, len, prot */
	return syscall_enter(ctx->a0, ctx->a1, ctx->a2, 0, (__u64)-1, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_madvise")
int on_enter_madvise(struct tp_sys_enter_args *ctx)
{
	/* start, len_in, behavior */
	return syscall_enter(ctx->a0, ctx->a1, 0, ctx->a2, (__u64)-1, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_brk")
int on_enter_brk(struct tp_sys_enter_args *ctx)
{
	return syscall_enter(ctx->a0, 0, 0, 0, (__u64)-1, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_msync")
int on_enter_msync(struct tp_sys_enter_args *ctx)
{
	/* start, len, flags */
	return syscall_enter(ctx->a0, ctx->a1, 0, ctx->a2, (__u64)-1, 0, 0);
}

static __always_inline int syscall_exit(struct tp_sys_exit *ctx, __u32 kind)
{
	__u64 id = traced_task();
	if (!id)
		return 0;
	struct syscall_start *s = bpf_task_storage_get(&syscall_starts,
		bpf_get_current_task_btf(), 0, 0);
	if (!s || !s->ts_ns)
		return 0; /* entered before the probes attached */
	__u64 now = bpf_ktime_get_ns();
	struct fl_syscall *r = reserve(sizeof(*r), now, id, kind);
	if (r) {
		r->addr = s->addr;
		r->len = s->len;
		r->ret = ctx->ret;
		r->latency_ns = now - s->ts_ns;
		r->off = s->off;
		r->prot = (__u32)s->prot;
		r->flags = (__u32)s->flags;
		r->fd = (__s32)s->fd;
		r->pad = 0;
		r->addr2 = s->addr2;
		bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	}
	s->ts_ns = 0;
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int on_exit_mmap(struct tp_sys_exit *ctx)
{
	return syscall_exit(ctx, FL_MMAP);
}

SEC("tracepoint/syscalls/sys_exit_munmap")
int on_exit_munmap(struct tp_sys_exit *ctx)
{
	return syscall_exit(ctx, FL_MUNMAP);
}

SEC("tracepoint/syscalls/sys_exit_mremap")
int on_exit_mremap(struct tp_sys_exit *ctx)
{
	return syscall_exit(ctx, FL_MREMAP);
}

SEC("tracepoint/syscalls/sys_exit_mprotect")
int on_exit_mprotect(struct tp_sys_exit *ctx)
{
	return syscall_exit(ctx, FL_MPROTECT);
}

SEC("tracepoint/syscalls/sys_exit_madvise")
int on_exit_madvise(struct tp_sys_exit *ctx)
{
	return syscall_exit(ctx, FL_MADVISE);
}

SEC("tracepoint/syscalls/sys_exit_brk")
int on_exit_brk(struct tp_sys_exit *ctx)
{
	return syscall_exit(ctx, FL_BRK);
}

SEC("tracepoint/syscalls/sys_exit_msync")
int on_exit_msync(struct tp_sys_exit *ctx)
{
	return syscall_exit(ctx, FL_MSYNC);
}

/* ctx: the tracepoint's arguments (unsigned long address, struct pt_regs *regs,
 * unsigned long error_code). */
static __always_inline int page_fault(__u64 *ctx, __u32 kind)
{
	__u64 id = traced_task();
	if (!id)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	__u64 *start = bpf_task_storage_get(&fault_starts, bpf_get_current_task_btf(), 0,
		BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (start)
		*start = now;
	struct fl_fault *r = reserve(sizeof(*r), now, id, kind);
	if (!r)
		return 0;
	r->address = ctx[0];
	r->ip = ((struct pt_regs *)ctx[1])->ip;
	r->error_code = ctx[2];
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp_btf/page_fault_user")
int on_page_fault_user(__u64 *ctx)
{
	return page_fault(ctx, FL_FAULT_USER);
}

SEC("tp_btf/page_fault_kernel")
int on_page_fault_kernel(__u64 *ctx)
{
	return page_fault(ctx, FL_FAULT_KERNEL);
}

static __always_inline int fault_done(__u32 kind)
{
	__u64 id = traced_task();
	if (!id)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	__u64 latency = FL_UNPAIRED;
	__u64 *start = bpf_task_storage_get(&fault_starts, bpf_get_current_task_btf(), 0, 0);
	if (start && *start) {
		latency = now - *start;
		*start = 0;
	}
	struct fl_done *r = reserve(sizeof(*r), now, id, kind);
	if (!r)
		return 0;
	r->latency_ns = latency;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("perf_event")
int on_minor_fault(void *ctx)
{
	return fault_done(FL_MINOR);
}

SEC("perf_event")
int on_major_fault(void *ctx)
{
	return fault_done(FL_MAJOR);
}

/* A record of a traced process's life (fork, exec, exit), on the current thread. */
static __always_inline void task_record(__u64 id, __u32 kind, __u32 child, __s32 exit_code,
					const char *comm)
{
	struct fl_task *r = reserve(sizeof(*r), bpf_ktime_get_ns(), id, kind);
	if (!r)
		return;
	r->child = child;
	r->exit_code = exit_code;
	bpf_probe_read_kernel(r->comm, sizeof(r->comm), comm);
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
}

/* ctx: (struct task_struct *parent, struct task_struct *child), in the parent. */
SEC("tp_btf/sched_process_fork")
int on_process_fork(__u64 *ctx)
{
	struct task_struct *parent = (struct task_struct *)ctx[0];
	struct task_struct *child = (struct task_struct *)ctx[1];
	__u32 parent_tgid = parent->tgid;
	__u32 child_tgid = child->tgid;
	if (child_tgid == parent_tgid)
		return 0; /* a new thread: its process is traced or not already */
	if (!in_scope(parent_tgid))
		return 0;
	if (config.mode == FL_MODE_PIDS) {
		if (!config.follow_children)
			return 0;
		/* Before the child first runs: none of its events can be missed. */
		if (bpf_map_update_elem(&traced, &child_tgid, &parent_tgid, BPF_ANY) != 0) {
			count_drop();
			return 0;
		}
	}
	if (!counting())
		return 0;
	task_record(((__u64)parent_tgid << 32) | (__u32)parent->pid, FL_FORK, child_tgid, 0,
		    child->comm);
	return 0;
}

/* ctx: (struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm), in p. */
SEC("tp_btf/sched_process_exec")
int on_process_exec(__u64 *ctx)
{
	__u64 id = traced_task();
	if (!id)
		return 0;
	struct task_struct *p = (struct task_struct *)ctx[0];
	task_record(id, FL_EXEC, 0, 0, p->comm);
	return 0;
}

/* ctx: (struct task_struct *p, bool group_dead), in p. */
SEC("tp_btf/sched_process_exit")
int on_process_exit(__u64 *ctx)
{
	if (!(__u8)ctx[1])
		return 0; /* other threads of the process live on */
	struct task_struct *p = (struct task_struct *)ctx[0];
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = (__u32)(id >> 32);
	if (!in_scope(tgid))
		return 0;
	if (counting())
		task_record(id, FL_EXIT, 0, p->exit_code, p->comm);
	if (config.mode == FL_MODE_PIDS)
		bpf_map_delete_elem(&traced, &tgid); /* its tgid may be reused by anyone */
	return 0;
}
