// ring_consumer: libbpf's own ring-buffer consumer (ring_buffer__consume) on the ring_flood
// probes, the native reference faultline's reader is measured against (bench/ringbuf_live.ts).
//
// usage: ring_consumer OBJECT RING_SIZE CALLS_PER_SECOND SECONDS
//   Loads OBJECT (build/ring_flood.bpf.o) with config.target_tgid set to a build/ring_flood
//   child flooding at CALLS_PER_SECOND x 64 records for SECONDS, drains the ring every 1 ms
//   (as faultline's reader does while records come), reading each record's kind and
//   timestamp as any consumer must, and prints one line:
//     offered N consumed M lost L busy_ms B
// Exits 0, 1 on a failure, 2 on a usage error.
#include <bpf/bpf.h>
#include <fcntl.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../probes/faultline.h"

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

struct tally {
  unsigned long long records, kinds, ts;
};

static int on_record(void *ctx, void *data, size_t size) {
  struct tally *t = ctx;
  const struct fl_header *h = data;
  t->records++;
  t->kinds += h->kind;
  t->ts ^= h->ts_ns;
  (void)size;
  return 0;
}

static void fail(const char *what) {
  fprintf(stderr, "ring_consumer: %s failed\n", what);
  exit(1);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: ring_consumer OBJECT RING_SIZE CALLS_PER_SECOND SECONDS\n");
    return 2;
  }
  int go[2];
  if (pipe(go) != 0) fail("pipe");
  pid_t child = fork();
  if (child < 0) fail("fork");
  if (child == 0) {
    dup2(go[0], 0);
    close(go[1]);
    int null = open("/dev/null", 1);
    dup2(null, 1);
    execl("build/ring_flood", "ring_flood", argv[3], argv[4], (char *)NULL);
    _exit(127);
  }
  close(go[0]);

  struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
  if (!obj) fail("open");
  struct bpf_map *events = bpf_object__find_map_by_name(obj, "events");
  if (!events || bpf_map__set_max_entries(events, (__u32)atol(argv[2])) != 0) fail("ring size");
  struct bpf_map *rodata = NULL, *m;
  bpf_object__for_each_map(m, obj) {
    if (strstr(bpf_map__name(m), ".rodata")) rodata = m;
  }
  struct fl_config config = {.target_tgid = (__u32)child};
  if (!rodata || bpf_map__set_initial_value(rodata, &config, sizeof(config)) != 0) fail("config");
  if (bpf_object__load(obj) != 0) fail("load");
  struct bpf_program *prog = bpf_object__find_program_by_name(obj, "flood");
  if (!prog || !bpf_program__attach(prog)) fail("attach");

  struct tally tally = {0};
  struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(events), on_record, &tally, NULL);
  if (!rb) fail("ring_buffer__new");
  if (write(go[1], "g", 1) != 1) fail("start");
  close(go[1]);
  double busy = 0;
  int status;
  for (;;) {
    double t = now_ms();
    ring_buffer__consume(rb);
    busy += now_ms() - t;
    if (waitpid(child, &status, WNOHANG) == child) break;
    usleep(1000);
  }
  double t = now_ms();
  ring_buffer__consume(rb);
  busy += now_ms() - t;

  struct bpf_map *dropped = bpf_object__find_map_by_name(obj, "dropped");
  int cpus = libbpf_num_possible_cpus();
  unsigned long long *values = calloc((size_t)cpus, sizeof(*values)), lost = 0;
  __u32 zero = 0;
  if (!dropped || bpf_map_lookup_elem(bpf_map__fd(dropped), &zero, values) != 0) fail("dropped");
  for (int i = 0; i < cpus; i++) lost += values[i];
  // ring_flood made 64 records per call: what it offered is what was read plus what was lost.
  printf("offered %llu consumed %llu lost %llu busy_ms %.3f\n", tally.records + lost,
         tally.records, lost, busy);
  ring_buffer__free(rb);
  bpf_object__close(obj);
  return 0;
}
