// SPDX-License-Identifier: GPL-2.0
/*
 * ring_flood.bpf.c - a load generator for bench/ringbuf_live.ts: each getppid() call by the
 * target process writes BATCH records into the ring buffer, each a struct fl_fault_pair
 * (faultline.h: a page fault and its completion, two events), what a page-fault storm makes.
 * Reserve failures are counted in "dropped" (per record), as faultline.bpf.c counts them.
 * Built by the bench (clang -target bpf).
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../probes/faultline.h"

#define BATCH 64

char LICENSE[] SEC("license") = "GPL";

const volatile struct fl_config config = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} dropped SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int flood(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	if ((__u32)(id >> 32) != config.target_tgid)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	for (int i = 0; i < BATCH; i++) {
		struct fl_fault_pair *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
		if (!r) {
			__u32 zero = 0;
			__u64 *n = bpf_map_lookup_elem(&dropped, &zero);
			if (n)
				*n += 1;
			continue;
		}
		r->fault.h.ts_ns = now - 1000 - i;
		r->fault.h.tid = (__u32)id;
		r->fault.h.kind = FL_FAULT_USER;
		r->fault.h.pid = (__u32)(id >> 32);
		r->fault.h.flags = FL_FOLLOWED;
		r->fault.address = 0x7f0000000000ULL + i * 4096;
		r->fault.ip = 0x555555555443ULL;
		r->fault.error_code = 6;
		r->done.h.ts_ns = now;
		r->done.h.tid = (__u32)id;
		r->done.h.kind = FL_MINOR;
		r->done.h.pid = (__u32)(id >> 32);
		r->done.h.flags = 0;
		r->done.latency_ns = 1000 + i;
		bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	}
	return 0;
}
