// SPDX-License-Identifier: GPL-2.0
/*
 * faultline.bpf.c - the ringbuf engine's probes: the traced processes' mmap, munmap, mremap,
 * mprotect, madvise, brk and msync calls, page faults, forks, execs and exits, written as fixed
 * records (faultline.h) into a BPF ring buffer that faultline reads zero-copy.
 *
 * The same events as faultline.bt, so both engines report the same counts:
 *   tp_btf/sys_enter, tp_btf/sys_exit (the raw syscall tracepoints, filtered to
 *       mmap, munmap, mremap, mprotect, madvise, brk and msync of 64-bit syscalls: the same
 *       events as syscalls:sys_{enter,exit}_*)      latency per thread, args, return; for
 *       a file mmap, the inode and device of the file at its descriptor (faultline names the
 *       mapping from /proc/PID/fd/N when that descriptor still holds it), and for the first
 *       mmap of a file in FL_FILE_WAKE_NS on a CPU, the file's path from the kernel's dentries
 *       and mounts (struct fl_file, just before the mmap's record: what names the mapping when
 *       the process is gone before faultline reads the mmap)
 *   tp_btf/page_fault_{user,kernel}                     address, ip, error code (the BTF
 *       flavour of exceptions:page_fault_*: the same events, called without the classic
 *       tracepoint's copy of the arguments, about half the cost per fault)
 *   perf_event minor-faults / major-faults (one per CPU, period 1, attached by faultline)
 *       fire once the kernel has handled a fault: paired with the page_fault_* before them
 *       on the same thread for the fault's latency
 *   execve's entry (in tp_btf/sys_enter)               arms counting when arm_on_exec is set
 *   tp_btf/sched_process_fork                           a traced process forks a process: in
 *       FL_MODE_PIDS with follow_children, the child's tgid joins "traced" before it first runs
 *   tp_btf/sched_process_exec                           the new command name; before it,
 *       the new address space's mappings, as the exec left them (struct fl_vma: the program,
 *       its interpreter, the stack, the vdso; each file's fl_file first), read with the
 *       kernel's task_vma iterator: what names the faults of a program gone before faultline
 *       reads its /proc/PID/maps
 *   tp_btf/sched_process_exit                           the last thread of a process exits:
 *       its exit code; its tgid leaves "traced"
 *
 * Configuration: struct fl_config, the whole of .rodata, written before load: which processes
 * (mode: the tgids set in the bitmap "traced", which faultline seeds with target_tgid before
 * attaching; a cgroup v2 subtree; or all but faultline), follow_children, and arm_on_exec
 * (count nothing until target_tgid enters execve, the way perf stat CMD counts a command from
 * its exec). The
 * window: `enabled` (map .data.window) is set by faultline once every program is attached and
 * cleared before any is detached; nothing is counted outside it.
 *
 * Per-thread state (syscall entry, the pending page fault) lives in task-local storage, cheaper
 * than a hash map keyed by tid and freed with the thread.
 *
 * Cost (bpf_stats of variants on the reference VM; bench/probe_cost.ts): the clock is the
 * dearest call (~130 ns); the page_fault tracepoint writes no record (the clock and the task
 * storage), the completion writes the fault and itself as one record; "traced" is a bitmap,
 * whose lookup the verifier inlines. With a ring larger than the cache, the record's write
 * itself misses the cache (~470 ns per completion with 64 MiB, ~280 ns with 4 MiB).
 *
 * Output contract: records in the ring buffer map "events" (struct fl_syscall, fl_fault,
 * fl_done, fl_fault_pair, fl_task, fl_file, fl_vma, told apart by fl_header.kind; a record
 * whose header has FL_FOLLOWED has another one right after it in the same ring record). A page
 * fault is written when it completes, with its completion (fl_fault_pair); one that never
 * completes is written alone at its thread's next page fault or exit (a fault pending when
 * tracing stops is not reported). While the reader waits for records (reader_busy clear) they
 * take the ring buffer's own wake-up (the first record committed once it has read everything
 * wakes it); while it drains on its timer (reader_busy set) they wake nobody until the ring is
 * past half full (then they wake it: see wakeup()). Forks, execs and file mmaps always wake it
 * (faultline reads the process's mappings and names the file while the process lives; one file
 * mapped over and over wakes it once per 100 ms per CPU); reserve failures (and syscalls or
 * faults with no room to keep their entry) are counted per CPU in "dropped" (key 0, in events),
 * never silent. fl_file and fl_vma records are no events: one the ring has no room for is left
 * out, uncounted.
 *
 * Two macros build variants for bench/probe_cost.ts alone (never the committed object):
 * FL_COST_EMPTY_FAULTS (the fault programs return at once: what the kernel's dispatch costs)
 * and FL_COST_NO_FAULT_RECORDS (they do all their work but write no fault record).
 *
 * Rebuild (deno task build:bpf, which is scripts/build_bpf.sh):
 *   clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu \
 *     -fdebug-prefix-map=$PWD=. -c probes/faultline.bpf.c -o probes/faultline.bpf.o
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "faultline.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct fl_config config = {};

/* Never used: they put the record structs and kinds into the object's BTF, where the layout
 * test (src/events/event_kinds_test.ts) and bpftool can read them. */
const enum fl_kind *unused_fl_kind __attribute__((unused));
const struct fl_syscall *unused_fl_syscall __attribute__((unused));
const struct fl_fault *unused_fl_fault __attribute__((unused));
const struct fl_done *unused_fl_done __attribute__((unused));
const struct fl_fault_pair *unused_fl_fault_pair __attribute__((unused));
const struct fl_task *unused_fl_task __attribute__((unused));
const struct fl_file *unused_fl_file __attribute__((unused));
const struct fl_vma *unused_fl_vma __attribute__((unused));
const enum fl_mode *unused_fl_mode __attribute__((unused));

/* Set once target_tgid enters execve (when arm_on_exec). */
__u32 armed = 0;

/* The tracing window: faultline sets it once every program is attached and clears it before
 * any is detached, so every kind of event is counted over the same instant-to-instant span
 * (its own map, written whole from user space without touching armed). */
__u32 enabled SEC(".data.window") = 0;

/* Set by faultline while its reader drains the ring on a timer (records keep coming): records
 * then wake nobody, except those faultline must read while their process lives (a fork, an
 * exec, a file mmap: it names them from /proc). Clear, the first record committed once the
 * reader has read everything wakes it. Its own map, like enabled. */
__u32 reader_busy SEC(".data.reader") = 0;

/* Per CPU: the file whose mmap last woke the reader (inode, device) and when. Another mmap of
 * it within FL_FILE_WAKE_NS wakes nobody: faultline names a file once per 200 ms of record time
 * (its name cache), so a program mapping one file over and over wakes it once. */
struct file_wake {
	__u64 ino;
	__u64 ts_ns;
	__u32 dev;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct file_wake);
} file_wakes SEC(".maps");

#define FL_FILE_WAKE_NS 100000000ULL

/* Per CPU: records submitted while the reader is busy, for wakeup()'s look at the fill. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} fill_checks SEC(".maps");

#define FL_FILL_EVERY 64

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

/* FL_MODE_PIDS: the traced processes, one bit per tgid (word tgid / 64, bit tgid % 64; the
 * layout faultline.h gives). An array lookup is inlined by the verifier, where a hash lookup is
 * a helper call; 2^22 bits cover PID_MAX_LIMIT. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FL_TRACED_WORDS);
	__type(key, __u32);
	__type(value, __u64);
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

/* A thread's page fault, kept from its tracepoint until the fault completes. */
struct fault_start {
	__u64 ts_ns; /* 0: none pending */
	__u64 address;
	__u64 ip;
	__u64 error_code;
	__u32 kind; /* FL_FAULT_USER or FL_FAULT_KERNEL */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct fault_start);
} fault_starts SEC(".maps");

/* The fields of the kernel's structs read here, relocated by CO-RE against the running
 * kernel's BTF. */
struct pt_regs {
	unsigned long ip;
	unsigned long di, si, dx, r10, r8, r9;
	unsigned long orig_ax;
} __attribute__((preserve_access_index));
struct thread_info {
	__u32 status;
} __attribute__((preserve_access_index));
struct super_block {
	__u32 s_dev; /* dev_t: major << 20 | minor */
} __attribute__((preserve_access_index));
struct inode {
	unsigned long i_ino;
	struct super_block *i_sb;
} __attribute__((preserve_access_index));
struct qstr {
	const unsigned char *name;
} __attribute__((preserve_access_index));
struct hlist_bl_node {
	struct hlist_bl_node **pprev;
} __attribute__((preserve_access_index));
struct dentry {
	struct hlist_bl_node d_hash;
	struct dentry *d_parent;
	struct qstr d_name;
} __attribute__((preserve_access_index));
struct vfsmount {
	struct dentry *mnt_root;
} __attribute__((preserve_access_index));
struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
} __attribute__((preserve_access_index));
struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
} __attribute__((preserve_access_index));
struct file {
	struct inode *f_inode;
	struct path f_path;
} __attribute__((preserve_access_index));
struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));
struct files_struct {
	struct fdtable *fdt;
} __attribute__((preserve_access_index));
struct fs_struct {
	struct path root;
} __attribute__((preserve_access_index));
struct mm_struct {
	unsigned long start_brk;
	unsigned long brk;
	unsigned long start_stack;
} __attribute__((preserve_access_index));
struct vm_special_mapping {
	const char *name;
} __attribute__((preserve_access_index));
struct vm_area_struct {
	unsigned long vm_start;
	unsigned long vm_end;
	unsigned long vm_flags;
	const void *vm_ops;
	unsigned long vm_pgoff;
	struct file *vm_file;
	void *vm_private_data;
} __attribute__((preserve_access_index));
struct task_struct {
	struct thread_info thread_info;
	struct mm_struct *mm;
	struct fs_struct *fs;
	int pid;
	int tgid;
	int exit_code;
	char comm[16];
	struct files_struct *files;
} __attribute__((preserve_access_index));

/* The kernel's open-coded iterator over a task's mappings (kernel 6.4 on), and its vm_flags. */
struct bpf_iter_task_vma {
	__u64 __opaque[1];
} __attribute__((aligned(8)));
extern int bpf_iter_task_vma_new(struct bpf_iter_task_vma *it, struct task_struct *task,
				 __u64 addr) __ksym;
extern struct vm_area_struct *bpf_iter_task_vma_next(struct bpf_iter_task_vma *it) __ksym;
extern void bpf_iter_task_vma_destroy(struct bpf_iter_task_vma *it) __ksym;
#define VM_READ 0x1
#define VM_WRITE 0x2
#define VM_EXEC 0x4
#define VM_SHARED 0x8

/* x86-64 syscall numbers (asm/unistd_64.h) of the calls traced. */
#define NR_mmap 9
#define NR_mprotect 10
#define NR_munmap 11
#define NR_brk 12
#define NR_mremap 25
#define NR_msync 26
#define NR_madvise 28
#define NR_execve 59
/* thread_info.status: the task is in a 32-bit syscall, whose numbers are others. */
#define TS_COMPAT 0x0002

/* The word of the bitmap "traced" holding tgid's bit (tgid % 64), or NULL past its end. */
static __always_inline __u64 *traced_word(__u32 tgid)
{
	__u32 word = tgid / 64;
	return bpf_map_lookup_elem(&traced, &word);
}

/* Whether the current task's process (tgid) is one faultline traces. */
static __always_inline int in_scope(__u32 tgid)
{
	if (config.mode == FL_MODE_ALL)
		return tgid != config.self_tgid;
	if (config.mode == FL_MODE_CGROUP)
		return bpf_get_current_ancestor_cgroup_id(config.cgroup_level) == config.cgroup_id;
	__u64 *bits = traced_word(tgid);
	return bits && ((*bits >> (tgid % 64)) & 1);
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

/* `events` events were lost (a full ring, no storage). */
static __always_inline void count_drop(__u64 events)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&dropped, &zero);
	if (n)
		*n += events;
}

static __always_inline void fill_header(struct fl_header *h, __u64 ts, __u64 id, __u32 kind,
					__u32 flags)
{
	h->ts_ns = ts;
	h->tid = (__u32)id;
	h->kind = kind;
	h->pid = (__u32)(id >> 32);
	h->flags = flags;
}

/* How an ordinary record is submitted: with the ring's own wake-up while the reader waits for
 * records; while it drains on its timer, with none until the ring is past half full (looked at
 * every FL_FILL_EVERY records per CPU), then with a forced one: a burst between two drains
 * wakes the reader before the ring runs out, whatever its size. */
static __always_inline __u64 wakeup(void)
{
	if (!reader_busy)
		return 0;
	__u32 zero = 0;
	__u32 *n = bpf_map_lookup_elem(&fill_checks, &zero);
	if (!n || ++*n % FL_FILL_EVERY)
		return BPF_RB_NO_WAKEUP;
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) * 2 >
			bpf_ringbuf_query(&events, BPF_RB_RING_SIZE)
		? BPF_RB_FORCE_WAKEUP
		: BPF_RB_NO_WAKEUP;
}

/* Whether the mmap of file (ino, dev) at `now` must wake the reader (see file_wakes). */
static __always_inline int file_wakeup(__u64 ino, __u32 dev, __u64 now)
{
	__u32 zero = 0;
	struct file_wake *w = bpf_map_lookup_elem(&file_wakes, &zero);
	if (!w)
		return 1;
	if (w->ino == ino && w->dev == dev && now - w->ts_ns < FL_FILE_WAKE_NS)
		return 0;
	w->ino = ino;
	w->dev = dev;
	w->ts_ns = now;
	return 1;
}

/* A ring record of `size` bytes with its header filled in, or NULL (counted as dropped) when
 * the ring is full. */
static __always_inline void *reserve(__u64 size, __u64 now, __u64 id, __u32 kind)
{
	struct fl_header *h = bpf_ringbuf_reserve(&events, size, 0);
	if (!h) {
		count_drop(1);
		return NULL;
	}
	fill_header(h, now, id, kind, 0);
	return h;
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
		count_drop(1);
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

/* The file open at descriptor `fd` of the current process, or NULL. */
static __always_inline struct file *file_of_fd(__s32 fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || (__u32)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) != 0)
		return NULL;
	return f;
}

/* The inode number and device (the kernel's dev_t) of file f: what faultline names a file by. */
static __always_inline void file_identity(struct file *f, __u64 *ino, __u32 *dev)
{
	*ino = BPF_CORE_READ(f, f_inode, i_ino);
	*dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
}

/* How many names and mount crossings a path walk takes at most. */
#define FL_PATH_STEPS 48

/* Per CPU: the path record being built (see write_file_path). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fl_file);
} file_records SEC(".maps");

/* Where a path walk stands between its steps. */
struct path_walk {
	struct dentry *d;
	struct vfsmount *vm;
	struct mount *m;
	struct dentry *root;
	struct vfsmount *root_mnt;
	__u64 mnt_offset;
	__u32 off;
	__u16 flags;
};

/* One step of a path walk (a bpf_loop callback, so the verifier checks it once, not once per
 * step: unrolled, 48 steps took it 0.4 s at every start): writes the name of w->d and goes to
 * its parent, or crosses from the root of a mount to its mountpoint. Returns 1 to stop. */
static long path_step(__u32 i, struct path_walk *w)
{
	__u32 zero = 0;
	struct fl_file *r = bpf_map_lookup_elem(&file_records, &zero);
	if (!r)
		return 1;
	/* Locals, not w's members, under BPF_CORE_READ (see write_file_path). */
	struct dentry *d = w->d;
	struct vfsmount *vm = w->vm;
	struct mount *m = w->m;
	if (d == w->root && vm == w->root_mnt) {
		w->flags = 0; /* the process's root: the path is whole */
		return 1;
	}
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	if (d == BPF_CORE_READ(vm, mnt_root) || d == parent) {
		struct mount *up = BPF_CORE_READ(m, mnt_parent);
		if (up == m) {
			/* The top mount, and the process's root not met: a pseudo file's internal
			 * mount, or a file outside its chroot. */
			w->flags = FL_FILE_PSEUDO;
			return 1;
		}
		w->d = BPF_CORE_READ(m, mnt_mountpoint);
		w->m = up;
		w->vm = (struct vfsmount *)((void *)up + w->mnt_offset);
		return 0;
	}
	__u32 off = w->off;
	if (off >= FL_PATH_MAX)
		return 1;
	long n = bpf_probe_read_kernel_str(&r->path[off & (FL_PATH_MAX - 1)], FL_NAME_MAX,
					  BPF_CORE_READ(d, d_name.name));
	if (n <= 0)
		return 1;
	w->off = off + n;
	w->d = parent;
	return 0;
}

/* Writes the path record of file f (inode ino, device dev) for the mmap that returned at now:
 * the names from its dentry up to the root of its mount, then on from the mount's mountpoint in
 * the parent mount, until the process's root (its chroot, or the root its namespace was
 * switched to), as d_path does. Built in file_records and copied to the ring; with the ring
 * full it is left out, uncounted: it is no event ("dropped" counts events), and the mmap's own
 * record, reserved next, is then most likely dropped too. */
static __always_inline void write_file_path(struct file *f, __u64 ino, __u32 dev, __u64 now,
					    __u64 id)
{
	__u32 zero = 0;
	struct fl_file *r = bpf_map_lookup_elem(&file_records, &zero);
	if (!r)
		return;
	fill_header(&r->h, now, id, FL_FILE, 0);
	r->ino = ino;
	r->dev = dev;
	r->len = 0;
	r->flags = 0;
	/* BPF_CORE_READ of a local, not of a member of w: the macro would relocate w's fields too. */
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	struct vfsmount *vm = BPF_CORE_READ(f, f_path.mnt);
	if (!BPF_CORE_READ(d, d_hash.pprev) && BPF_CORE_READ(d, d_parent) != d)
		r->flags = FL_FILE_DELETED;
	struct task_struct *task = bpf_get_current_task_btf();
	struct path_walk w = {
		.d = d,
		.vm = vm,
		.mnt_offset = bpf_core_field_offset(struct mount, mnt),
		.root_mnt = BPF_CORE_READ(task, fs, root.mnt),
		.root = BPF_CORE_READ(task, fs, root.dentry),
		.flags = FL_FILE_TRUNCATED,
	};
	w.m = (struct mount *)((void *)vm - w.mnt_offset);
	bpf_loop(FL_PATH_STEPS, path_step, &w, 0);
	r->len = w.off;
	r->flags |= w.flags;
	bpf_ringbuf_output(&events, r, sizeof(*r), BPF_RB_NO_WAKEUP);
}

static __always_inline int syscall_exit(__s64 ret, __u32 kind)
{
	__u64 id = traced_task();
	if (!id)
		return 0;
	struct syscall_start *s = bpf_task_storage_get(&syscall_starts,
		bpf_get_current_task_btf(), 0, 0);
	if (!s || !s->ts_ns)
		return 0; /* entered before the probes attached */
	__u64 now = bpf_ktime_get_ns();
	/* A file mmap: the inode and device of the file at its descriptor (what faultline checks
	 * /proc/PID/fd/N against, to name the mapping without the mmap lock map_files takes), and
	 * when it wakes the reader for this file, the file's path first, in its own record. */
	__u64 ino = 0;
	__u32 dev = 0;
	int wake_for_file = 0;
	if (kind == FL_MMAP && (__s32)s->fd >= 0 && (ret < -4095 || ret >= 0)) {
		struct file *f = file_of_fd((__s32)s->fd);
		if (f)
			file_identity(f, &ino, &dev);
		if (ino && file_wakeup(ino, dev, now)) {
			wake_for_file = 1;
			write_file_path(f, ino, dev, now, id);
		}
	}
	struct fl_syscall *r = reserve(sizeof(*r), now, id, kind);
	if (r) {
		r->addr = s->addr;
		r->len = s->len;
		r->ret = ret;
		r->latency_ns = now - s->ts_ns;
		r->off = s->off;
		r->prot = (__u32)s->prot;
		r->flags = (__u32)s->flags;
		r->fd = (__s32)s->fd;
		r->dev = dev;
		r->addr2 = kind == FL_MMAP && ino ? ino : s->addr2;
		__u64 flags = wakeup();
		if (wake_for_file)
			flags = BPF_RB_FORCE_WAKEUP;
		bpf_ringbuf_submit(r, flags);
	}
	s->ts_ns = 0;
	return 0;
}

/* Whether the current task is in a 32-bit (compat) syscall. */
static __always_inline int in_compat_syscall(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	return task->thread_info.status & TS_COMPAT;
}

/* ctx: (struct pt_regs *regs, long id): every syscall's entry. One raw tracepoint for all seven
 * calls (and execve): attached and detached at once, where seven syscalls:sys_enter_* events
 * each wait out an RCU grace period (~55 ms) on detach. */
SEC("tp_btf/sys_enter")
int on_sys_enter(__u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];
	long id = (long)ctx[1];
	switch (id) {
	case NR_execve:
		if (!in_compat_syscall() &&
		    (__u32)(bpf_get_current_pid_tgid() >> 32) == config.target_tgid)
			armed = 1;
		return 0;
	case NR_mmap:
	case NR_munmap:
	case NR_mremap:
	case NR_mprotect:
	case NR_madvise:
	case NR_brk:
	case NR_msync:
		break;
	default:
		return 0;
	}
	if (in_compat_syscall())
		return 0;
	__u64 a0 = regs->di, a1 = regs->si, a2 = regs->dx, a3 = regs->r10, a4 = regs->r8;
	switch (id) {
	case NR_mmap: /* addr, len, prot, flags, fd, off */
		return syscall_enter(a0, a1, a2, a3, a4, regs->r9, 0);
	case NR_munmap: /* addr, len */
		return syscall_enter(a0, a1, 0, 0, (__u64)-1, 0, 0);
	case NR_mremap: /* addr, old_len, new_len, flags, new_addr */
		return syscall_enter(a0, a1, 0, a3, (__u64)-1, a2, a4);
	case NR_mprotect: /* start, len, prot */
		return syscall_enter(a0, a1, a2, 0, (__u64)-1, 0, 0);
	case NR_madvise: /* start, len_in, behavior */
		return syscall_enter(a0, a1, 0, a2, (__u64)-1, 0, 0);
	case NR_brk: /* brk */
		return syscall_enter(a0, 0, 0, 0, (__u64)-1, 0, 0);
	default: /* msync: start, len, flags */
		return syscall_enter(a0, a1, 0, a2, (__u64)-1, 0, 0);
	}
}

/* ctx: (struct pt_regs *regs, long ret): every syscall's exit; its number is regs->orig_ax. */
SEC("tp_btf/sys_exit")
int on_sys_exit(__u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];
	__s64 ret = (__s64)ctx[1];
	__u32 kind;
	switch (regs->orig_ax) {
	case NR_mmap: kind = FL_MMAP; break;
	case NR_munmap: kind = FL_MUNMAP; break;
	case NR_mremap: kind = FL_MREMAP; break;
	case NR_mprotect: kind = FL_MPROTECT; break;
	case NR_madvise: kind = FL_MADVISE; break;
	case NR_brk: kind = FL_BRK; break;
	case NR_msync: kind = FL_MSYNC; break;
	default: return 0;
	}
	if (in_compat_syscall())
		return 0;
	return syscall_exit(ret, kind);
}

/* Writes the thread's pending fault `s` as a record of its own (a fault that did not complete:
 * a signal, an exception-table fix-up, a spurious fault) and clears it. */
static __always_inline void flush_fault(struct fault_start *s, __u64 id)
{
	struct fl_fault *r = reserve(sizeof(*r), s->ts_ns, id, s->kind);
	s->ts_ns = 0;
	if (!r)
		return;
	r->address = s->address;
	r->ip = s->ip;
	r->error_code = s->error_code;
	bpf_ringbuf_submit(r, wakeup());
}

/* ctx: the tracepoint's arguments (unsigned long address, struct pt_regs *regs,
 * unsigned long error_code). Nothing goes to the ring here: the fault waits in task storage
 * for its completion (fault_done), which writes both in one record. */
static __always_inline int page_fault(__u64 *ctx, __u32 kind)
{
#ifdef FL_COST_EMPTY_FAULTS
	return 0;
#endif
	__u64 id = traced_task();
	if (!id)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	struct fault_start *s = bpf_task_storage_get(&fault_starts, bpf_get_current_task_btf(), 0,
		BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s) {
		count_drop(1);
		return 0;
	}
	if (s->ts_ns)
		flush_fault(s, id);
	s->ts_ns = now;
	s->address = ctx[0];
	s->ip = ((struct pt_regs *)ctx[1])->ip;
	s->error_code = ctx[2];
	s->kind = kind;
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

/* A handled fault (kind FL_MINOR or FL_MAJOR): with the fault pending on its thread, one
 * fl_fault_pair; without one, an fl_done with FL_UNPAIRED. */
static __always_inline int fault_done(__u32 kind)
{
#ifdef FL_COST_EMPTY_FAULTS
	return 0;
#endif
	__u64 id = traced_task();
	if (!id)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	struct fault_start *s = bpf_task_storage_get(&fault_starts, bpf_get_current_task_btf(), 0, 0);
	if (!s || !s->ts_ns) {
		struct fl_done *r = reserve(sizeof(*r), now, id, kind);
		if (!r)
			return 0;
		r->latency_ns = FL_UNPAIRED;
		bpf_ringbuf_submit(r, wakeup());
		return 0;
	}
	/* Built on the stack and copied by one helper call (measured no dearer than reserve +
	 * submit). */
	struct fl_fault_pair r;
	__u64 start = s->ts_ns;
	s->ts_ns = 0;
	fill_header(&r.fault.h, start, id, s->kind, FL_FOLLOWED);
	r.fault.address = s->address;
	r.fault.ip = s->ip;
	r.fault.error_code = s->error_code;
	fill_header(&r.done.h, now, id, kind, 0);
	r.done.latency_ns = now - start;
#ifdef FL_COST_NO_FAULT_RECORDS
	if (r.done.latency_ns != 1) /* keeps the work above from being optimized away */
		return 0;
#endif
	if (bpf_ringbuf_output(&events, &r, sizeof(r), wakeup()) != 0)
		count_drop(2);
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

/* A record of a traced process's life (fork, exec, exit), on the current thread. A fork or an
 * exec wakes the reader: faultline reads the new process's mappings from /proc while it lives. */
static __always_inline void task_record(__u64 id, __u32 kind, __u32 child, __s32 exit_code,
					const char *comm)
{
	struct fl_task *r = reserve(sizeof(*r), bpf_ktime_get_ns(), id, kind);
	if (!r)
		return;
	r->child = child;
	r->exit_code = exit_code;
	bpf_probe_read_kernel(r->comm, sizeof(r->comm), comm);
	bpf_ringbuf_submit(r, kind == FL_EXIT ? wakeup() : BPF_RB_FORCE_WAKEUP);
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
		__u64 *bits = traced_word(child_tgid);
		if (!bits) {
			count_drop(1);
			return 0;
		}
		__sync_fetch_and_or(bits, 1ULL << (child_tgid % 64));
	}
	if (!counting())
		return 0;
	task_record(((__u64)parent_tgid << 32) | (__u32)parent->pid, FL_FORK, child_tgid, 0,
		    child->comm);
	return 0;
}

/* One mapping of a new address space, as write_exec_mappings hands it to write_exec_mapping:
 * its fields as plain numbers, with what names it. */
struct exec_vma {
	__u64 id;
	__u64 now;
	__u64 start;
	__u64 end;
	__u64 pgoff;
	__u64 vm_flags;
	__u64 file;         /* struct file *, or 0 */
	__u64 ops;          /* vm_ops */
	__u64 private_data; /* vm_private_data */
	__u64 start_stack;
	__u64 start_brk;
	__u64 brk;
	__u64 last_ino; /* the file of the mapping before (its path was written then) */
	__u64 last_dev;
};

/* Writes the fl_vma of mapping v, its file's path first when the mapping before was of another
 * file. A global function: the verifier checks it once, not once per turn of the caller's loop
 * over the mappings (inlined there, it went through 17,621 instructions in 0.5 s). */
__noinline int write_exec_mapping(struct exec_vma *v)
{
	if (!v)
		return 0; /* the verifier takes a global function's pointers as maybe null */
	struct fl_vma r = {};
	fill_header(&r.h, v->now, v->id, FL_VMA, 0);
	r.start = v->start;
	r.end = v->end;
	__u64 vm_flags = v->vm_flags;
	r.flags = (vm_flags & VM_READ ? FL_VMA_READ : 0) | (vm_flags & VM_WRITE ? FL_VMA_WRITE : 0) |
		  (vm_flags & VM_EXEC ? FL_VMA_EXEC : 0) | (vm_flags & VM_SHARED ? FL_VMA_SHARED : 0);
	struct file *f = (struct file *)v->file;
	if (f) {
		r.offset = v->pgoff << 12; /* an anonymous mapping's is its address: /proc says 0 */
		file_identity(f, &r.ino, &r.dev);
		if (r.ino != v->last_ino || r.dev != v->last_dev)
			write_file_path(f, r.ino, r.dev, v->now, v->id);
		v->last_ino = r.ino;
		v->last_dev = r.dev;
	} else if (r.start <= v->start_stack && v->start_stack <= r.end) {
		r.flags |= FL_VMA_STACK; /* as /proc's vma_is_initial_stack */
	} else if (r.start < v->brk && v->start_brk < r.end) {
		r.flags |= FL_VMA_HEAP; /* as /proc's vma_is_initial_heap (strict since 6.6) */
	} else if (v->ops && v->private_data) {
		/* Anonymous, with operations: a special mapping, whose private data is its struct
		 * vm_special_mapping ([vdso], [vvar]). */
		struct vm_special_mapping *sm = (struct vm_special_mapping *)v->private_data;
		if (bpf_probe_read_kernel_str(r.name, sizeof(r.name), BPF_CORE_READ(sm, name)) > 1)
			r.flags |= FL_VMA_SPECIAL;
	}
	bpf_ringbuf_output(&events, &r, sizeof(r), BPF_RB_NO_WAKEUP);
	return 0;
}

/* Writes the mappings of the current task's new address space (struct fl_vma), each file's path
 * first (struct fl_file), as the exec left them: what names its faults when it is gone before
 * faultline reads /proc/PID/maps (a program that lives a few ms). A full ring leaves them out,
 * uncounted: they are no events, and /proc is still read. */
static __always_inline void write_exec_mappings(__u64 id, __u64 now)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct mm_struct *mm = task->mm;
	if (!mm)
		return;
	struct exec_vma v = {
		.id = id,
		.now = now,
		.start_stack = mm->start_stack,
		.start_brk = mm->start_brk,
		.brk = mm->brk,
	};
	struct bpf_iter_task_vma it;
	struct vm_area_struct *vma;
	bpf_iter_task_vma_new(&it, task, 0);
	/* No count of its own: one the verifier had to follow made it walk the loop once per
	 * value. A new address space holds a dozen or so mappings. */
	while ((vma = bpf_iter_task_vma_next(&it))) {
		v.start = vma->vm_start;
		v.end = vma->vm_end;
		v.pgoff = vma->vm_pgoff;
		v.vm_flags = vma->vm_flags;
		v.file = (__u64)vma->vm_file;
		v.ops = (__u64)vma->vm_ops;
		v.private_data = (__u64)vma->vm_private_data;
		write_exec_mapping(&v);
	}
	bpf_iter_task_vma_destroy(&it);
}

/* ctx: (struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm), in p. */
SEC("tp_btf/sched_process_exec")
int on_process_exec(__u64 *ctx)
{
	__u64 id = traced_task();
	if (!id)
		return 0;
	struct task_struct *p = (struct task_struct *)ctx[0];
	write_exec_mappings(id, bpf_ktime_get_ns());
	task_record(id, FL_EXEC, 0, 0, p->comm);
	return 0;
}

/* ctx: (struct task_struct *p, bool group_dead), in p. */
SEC("tp_btf/sched_process_exit")
int on_process_exit(__u64 *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = (__u32)(id >> 32);
	if (!in_scope(tgid))
		return 0;
	/* Any thread: a fault that never completed is still counted. */
	struct fault_start *s = bpf_task_storage_get(&fault_starts, bpf_get_current_task_btf(), 0, 0);
	if (s && s->ts_ns && counting())
		flush_fault(s, id);
	if (!(__u8)ctx[1])
		return 0; /* other threads of the process live on */
	struct task_struct *p = (struct task_struct *)ctx[0];
	if (counting())
		task_record(id, FL_EXIT, 0, p->exit_code, p->comm);
	if (config.mode == FL_MODE_PIDS)
	{
		/* Its tgid may be reused by anyone. */
		__u64 *bits = traced_word(tgid);
		if (bits)
			__sync_fetch_and_and(bits, ~(1ULL << (tgid % 64)));
	}
	return 0;
}
