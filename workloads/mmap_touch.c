// mmap_touch: the bundled workload faultline's demo and integration tests trace.
//
// usage: mmap_touch MAPS PAGES [LENGTH [WAIT [THREADS [LINGER [RATE]]]]]
//   Maps MAPS private anonymous regions of LENGTH bytes (default 0x5a5000, a length nothing else
//   in a process uses), writes one byte to each of the first PAGES pages of every region, and
//   unmaps it. With WAIT = 1 it first blocks until one byte (or EOF) arrives on stdin, so a
//   tracer can attach to its pid before it starts. With THREADS > 1, that many threads each do
//   all of it at once. It prints one line describing what it did and how long the mapping
//   and touching took (CLOCK_MONOTONIC, from after the wait), which bench/overhead.ts reads.
//   With LINGER > 0 it then sleeps that many seconds before exiting, doing nothing (so a
//   tracer's counts stay still while something reads them). With RATE > 0 each thread makes
//   at most RATE maps a second, sleeping between them (a steady load below what a slow tracer
//   keeps up with, whatever the machine's speed).
//
// Exactly MAPS * THREADS mmap calls and as many munmap calls are made with LENGTH (libc's own
// mappings, thread stacks included, have other lengths), and MAPS * PAGES * THREADS first-touch
// minor faults are taken. Exits 0, or 2 on a usage error, or 1 if a call fails.
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static long parse(const char *s, const char *what) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 0);
  if (errno != 0 || end == s || *end != '\0' || v < 0) {
    fprintf(stderr, "mmap_touch: %s must be a non-negative integer, got \"%s\"\n", what, s);
    exit(2);
  }
  return v;
}

static long maps, pages, length, page, rate;

static void *run(void *unused) {
  (void)unused;
  struct timespec due;
  clock_gettime(CLOCK_MONOTONIC, &due);
  for (long i = 0; i < maps; i++) {
    if (rate > 0) {
      due.tv_nsec += 1000000000L / rate;
      if (due.tv_nsec >= 1000000000L) {
        due.tv_sec += due.tv_nsec / 1000000000L;
        due.tv_nsec %= 1000000000L;
      }
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
    }
    volatile char *p = mmap(NULL, (size_t)length, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      perror("mmap_touch: mmap");
      exit(1);
    }
    for (long j = 0; j < pages; j++) p[j * page] = 1;
    if (munmap((void *)p, (size_t)length) != 0) {
      perror("mmap_touch: munmap");
      exit(1);
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 8) {
    fprintf(stderr, "usage: mmap_touch MAPS PAGES [LENGTH [WAIT [THREADS [LINGER [RATE]]]]]\n");
    return 2;
  }
  maps = parse(argv[1], "MAPS");
  pages = parse(argv[2], "PAGES");
  length = argc > 3 ? parse(argv[3], "LENGTH") : 0x5a5000;
  long wait = argc > 4 ? parse(argv[4], "WAIT") : 0;
  long threads = argc > 5 ? parse(argv[5], "THREADS") : 1;
  long linger = argc > 6 ? parse(argv[6], "LINGER") : 0;
  rate = argc > 7 ? parse(argv[7], "RATE") : 0;
  page = sysconf(_SC_PAGESIZE);
  if (pages * page > length || threads < 1 || threads > 64) {
    fprintf(stderr, "mmap_touch: %ld pages do not fit in %ld bytes, or %ld threads is not 1-64\n",
            pages, length, threads);
    return 2;
  }
  if (wait) {
    char byte;
    if (read(STDIN_FILENO, &byte, 1) < 0) {
      perror("mmap_touch: read");
      return 1;
    }
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (threads == 1) {
    run(NULL);
  } else {
    pthread_t ids[64];
    for (long t = 0; t < threads; t++) {
      if (pthread_create(&ids[t], NULL, run, NULL) != 0) {
        fprintf(stderr, "mmap_touch: cannot start thread %ld\n", t);
        return 1;
      }
    }
    for (long t = 0; t < threads; t++) pthread_join(ids[t], NULL);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
  printf("mmap_touch: %ld maps of %ld bytes, %ld pages touched in each, %ld thread(s), %.3f ms\n",
         maps, length, pages, threads, ms);
  if (linger > 0) {
    fflush(stdout);
    sleep((unsigned)linger);
  }
  return 0;
}
