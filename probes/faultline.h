/* SPDX-License-Identifier: Apache-2.0 */
/*
 * faultline.h - the record layout faultline.bpf.c writes into the BPF ring buffer and
 * the event kind definitions in src/events/ read (each kind's `record`: its struct's offsets
 * and its fl_kind ids). Both sides must agree byte for byte: change one, change both
 * (src/events/event_kinds_test.ts checks them against the object's BTF).
 *
 * Every record starts with struct fl_header; its kind says which struct it is. All fields are
 * little-endian and naturally aligned, with no implicit padding.
 */
#ifndef FAULTLINE_H
#define FAULTLINE_H

enum fl_kind {
	FL_MMAP = 1,         /* struct fl_syscall: one completed mmap */
	FL_MUNMAP = 2,       /* struct fl_syscall: one completed munmap */
	FL_FAULT_USER = 3,   /* struct fl_fault: exceptions:page_fault_user */
	FL_FAULT_KERNEL = 4, /* struct fl_fault: exceptions:page_fault_kernel */
	FL_MINOR = 5,        /* struct fl_done: minor-faults perf event */
	FL_MAJOR = 6,        /* struct fl_done: major-faults perf event */
	FL_MREMAP = 7,       /* struct fl_syscall: one completed mremap */
	FL_MPROTECT = 8,     /* struct fl_syscall: one completed mprotect */
	FL_MADVISE = 9,      /* struct fl_syscall: one completed madvise */
	FL_BRK = 10,         /* struct fl_syscall: one completed brk */
	FL_MSYNC = 11,       /* struct fl_syscall: one completed msync */
	FL_FORK = 12,        /* struct fl_task: a traced process forked a process (not a thread) */
	FL_EXEC = 13,        /* struct fl_task: a traced process completed an execve */
	FL_EXIT = 14,        /* struct fl_task: a traced process's last thread exited */
	FL_FILE = 15,        /* struct fl_file: a mapped file's path, before the mmap's record */
	FL_VMA = 16,         /* struct fl_vma: a mapping the kernel made at an exec, before it */
};

/* The map "traced" (FL_MODE_PIDS): an array of FL_TRACED_WORDS u64 words, one bit per traced
 * tgid: word tgid / 64, bit tgid % 64. */
#define FL_TRACED_WORDS (1 << 16)

/* Which processes are traced (fl_config.mode). */
enum fl_mode {
	FL_MODE_PIDS = 0,   /* the tgids set in the map "traced": target_tgid, and (follow_children)
			     * every process a traced one forks, added at sched_process_fork */
	FL_MODE_CGROUP = 1, /* every process in cgroup v2 cgroup_id or below it (at cgroup_level) */
	FL_MODE_ALL = 2,    /* every process but self_tgid (faultline itself) */
};

/* The engine's settings, the whole of .rodata, written by faultline before load. */
struct fl_config {
	__u32 target_tgid;     /* the process traced, all of its threads (FL_MODE_PIDS) */
	__u32 arm_on_exec;     /* 1: count nothing until target_tgid enters execve */
	__u32 mode;            /* enum fl_mode */
	__u32 follow_children; /* FL_MODE_PIDS: 1 traces what traced processes fork */
	__u64 cgroup_id;       /* FL_MODE_CGROUP: the cgroup v2 directory's id (its inode) */
	__u32 cgroup_level;    /* FL_MODE_CGROUP: its depth below the root (the root is 0) */
	__u32 self_tgid;       /* FL_MODE_ALL: the one process left out */
};

/* fl_done.latency_ns of a fault that no page_fault tracepoint preceded on its thread. */
#define FL_UNPAIRED 0xffffffffffffffffULL

/* fl_header.flags: another record (its own header first) follows this one in the same ring
 * record, at this record's size. A fault and its completion travel as one ring record
 * (struct fl_fault_pair): one reservation instead of two. */
#define FL_FOLLOWED 1

struct fl_header { /* 24 bytes */
	__u64 ts_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC, at the event (syscalls: their exit) */
	__u32 tid;
	__u32 kind;  /* enum fl_kind */
	__u32 pid;   /* the process (tgid) of tid */
	__u32 flags; /* FL_FOLLOWED, or 0 */
};

/* 88 bytes: one completed memory-mapping syscall. Fields a call does not have are 0 (fd -1):
 *   mmap      addr len prot flags fd off        ret: the address or -errno
 *             a file's (fd >= 0, success): addr2 its inode number, dev its device (the
 *             kernel's dev_t, major << 20 | minor), as the descriptor held it at the exit
 *   munmap    addr len                          ret: 0 or -errno
 *   mremap    addr len(old) off(new len) flags addr2(new addr)   ret: the address or -errno
 *   mprotect  addr len prot                     ret: 0 or -errno
 *   madvise   addr len flags(advice)            ret: 0 or -errno
 *   brk       addr(requested break)             ret: the break after the call
 *   msync     addr len flags                    ret: 0 or -errno */
struct fl_syscall {
	struct fl_header h;
	__u64 addr;
	__u64 len;
	__s64 ret;
	__u64 latency_ns; /* exit - entry */
	__u64 off;
	__u32 prot;
	__u32 flags;
	__s32 fd;
	__u32 dev;
	__u64 addr2;
};

/* 48 bytes: one hit of a page_fault tracepoint. Written when the fault completes (as the first
 * half of an fl_fault_pair), or alone, later, for a fault that never completed (the thread's
 * next fault, or its exit, finds it still pending): its ts_ns is the tracepoint's time. */
struct fl_fault {
	struct fl_header h;
	__u64 address;
	__u64 ip;
	__u64 error_code;
};

struct fl_done { /* 32 bytes */
	struct fl_header h;
	__u64 latency_ns; /* since the page_fault tracepoint on this thread, or FL_UNPAIRED */
};

/* 80 bytes: a fault and its completion, in one ring record: fault.h.flags is FL_FOLLOWED,
 * done.latency_ns is done.h.ts_ns - fault.h.ts_ns. An fl_done alone is a completion no
 * page_fault tracepoint preceded on its thread (FL_UNPAIRED). */
struct fl_fault_pair {
	struct fl_fault fault;
	struct fl_done done;
};

/* 48 bytes: a traced process's life. The header's pid and tid are the process and thread the
 * event happened on (FL_FORK: the parent, on the thread that forked).
 *   FL_FORK  child: the new process's tgid; comm: its name (the parent's, until it execs)
 *   FL_EXEC  comm: the name after the exec
 *   FL_EXIT  exit_code: the kernel's exit code (wait(2) status: code << 8, or the signal)
 */
struct fl_task {
	struct fl_header h;
	__u32 child;
	__s32 exit_code;
	char comm[16];
};

/* struct fl_file: the path is at most FL_PATH_MAX bytes of names; each name is read into room
 * for FL_NAME_MAX more, so that no read can run past the record. */
#define FL_PATH_MAX 512
#define FL_NAME_MAX 256
/* fl_file.flags */
#define FL_FILE_TRUNCATED 1 /* deeper or longer than the record holds: path is its leaf end */
#define FL_FILE_DELETED 2   /* the file was unlinked (as /proc's " (deleted)") */
#define FL_FILE_PSEUDO 4    /* the walk met the top mount, not the process's root: an internal
			     * mount's file (anon_inode, memfd, a socket), whose name only /proc
			     * gives, or a file outside the process's chroot */

/* 808 bytes: the path of the file a traced mmap mapped, read from the kernel's dentries and
 * mounts at the mmap's exit, written just before that mmap's fl_syscall when the mmap wakes the
 * reader for its file (the first mmap of a file on a CPU in FL_FILE_WAKE_NS). faultline names
 * the mapping from it when the process or its descriptor is gone before its mmap is read.
 *   path  the names from the file up to the process's root (as d_path), leaf first, each
 *         ending in a NUL: "libc.so.6\0x86_64-linux-gnu\0lib\0usr\0" is
 *         /usr/lib/x86_64-linux-gnu/libc.so.6; len bytes of it are used
 *   ino, dev  the file's inode number and device (the kernel's dev_t), as in fl_syscall */
struct fl_file {
	struct fl_header h;
	__u64 ino;
	__u32 dev;
	__u16 len;
	__u16 flags;
	char path[FL_PATH_MAX + FL_NAME_MAX];
};

/* fl_vma.flags: its permissions, and what /proc/PID/maps would call it */
#define FL_VMA_READ 1
#define FL_VMA_WRITE 2
#define FL_VMA_EXEC 4
#define FL_VMA_SHARED 8
#define FL_VMA_STACK 16   /* [stack]: it holds the process's initial stack */
#define FL_VMA_HEAP 32    /* [heap]: it holds the initial program break */
#define FL_VMA_SPECIAL 64 /* a kernel special mapping ([vdso], [vvar]): its name in name */

/* 88 bytes: one mapping of a traced process's new address space, as the kernel made it at the
 * exec (the program, its interpreter, the stack, the vdso: what no traced mmap made), written
 * at sched_process_exec before the exec's fl_task, each file's fl_file (path) before its first
 * mapping. faultline maps them when the process is gone before it reads /proc/PID/maps.
 *   start, end  the mapping's addresses; offset  the file offset at start, in bytes (0 with
 *   no file)
 *   ino, dev  its file (0, 0: none), as in fl_syscall */
struct fl_vma {
	struct fl_header h;
	__u64 start;
	__u64 end;
	__u64 offset;
	__u64 ino;
	__u32 dev;
	__u32 flags;
	char name[24];
};

#endif /* FAULTLINE_H */
