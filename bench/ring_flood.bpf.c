// SPDX-License-Identifier: GPL-2.0
/*
 * ring_flood.bpf.c - a load generator for bench/ringbuf_live.ts: each getppid() call by the
 * target process writes BATCH records into the ring buffer, alternately a struct fl_fault and
 * a struct fl_done (faultline.h), the mix a page-fault storm makes. Reserve failures are
 * counted in "dropped", as faultline.bpf.c counts them. Built by the bench (clang -target bpf).
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
		if (i & 1) {
			struct fl_done *d = bpf_ringbuf_reserve(&events, sizeof(*d), 0);
			if (!d)
				goto drop;
			d->h.ts_ns = now;
			d->h.tid = (__u32)id;
			d->h.kind = FL_MINOR;
			d->h.pid = (__u32)(id >> 32);
			d->latency_ns = 1000 + i;
			bpf_ringbuf_submit(d, BPF_RB_NO_WAKEUP);
		} else {
			struct fl_fault *f = bpf_ringbuf_reserve(&events, sizeof(*f), 0);
			if (!f)
				goto drop;
			f->h.ts_ns = now;
			f->h.tid = (__u32)id;
			f->h.kind = FL_FAULT_USER;
			f->h.pid = (__u32)(id >> 32);
			f->address = 0x7f0000000000ULL + i * 4096;
			f->ip = 0x555555555443ULL;
			f->error_code = 6;
			bpf_ringbuf_submit(f, BPF_RB_NO_WAKEUP);
		}
		continue;
drop:;
		__u32 zero = 0;
		__u64 *n = bpf_map_lookup_elem(&dropped, &zero);
		if (n)
			*n += 1;
	}
	return 0;
}
