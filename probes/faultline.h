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
};

/* The engine's settings, the whole of .rodata, written by faultline before load. */
struct fl_config {
	__u32 target_tgid; /* the process traced, all of its threads */
	__u32 arm_on_exec; /* 1: count nothing until target_tgid enters execve */
};

/* fl_done.latency_ns of a fault that no page_fault tracepoint preceded on its thread. */
#define FL_UNPAIRED 0xffffffffffffffffULL

struct fl_header { /* 16 bytes */
	__u64 ts_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC, at the event (syscalls: their exit) */
	__u32 tid;
	__u32 kind; /* enum fl_kind */
};

/* 80 bytes: one completed memory-mapping syscall. Fields a call does not have are 0 (fd -1):
 *   mmap      addr len prot flags fd off        ret: the address or -errno
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
	__u32 pad;
	__u64 addr2;
};

struct fl_fault { /* 40 bytes */
	struct fl_header h;
	__u64 address;
	__u64 ip;
	__u64 error_code;
};

struct fl_done { /* 24 bytes */
	struct fl_header h;
	__u64 latency_ns; /* since the page_fault tracepoint on this thread, or FL_UNPAIRED */
};

#endif /* FAULTLINE_H */
