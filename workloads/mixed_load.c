// mixed_load: a mix of memory mapping work for bench/overhead.ts, beside mmap_touch's one pattern:
// several threads, each repeating ROUNDS times:
//   - 8 small private anonymous mappings (1 to 16 pages), every page written, then unmapped;
//   - a read of every page of a shared mapping of FILE (a file of FILE_PAGES pages it writes
//     first and keeps in the page cache: file-backed minor faults, no disk), then unmapped;
//   - an mprotect of one small region to read-only and back, and an madvise(MADV_DONTNEED)
//     of a 16-page region, which the next writes fault in again.
//
// usage: mixed_load FILE THREADS ROUNDS FILE_PAGES [HOLD_MS]
// HOLD_MS (default 0): after the work and its line, keep the file and its descriptor open that
// long before closing and unlinking it (a tracer then still finds the descriptor, whatever it
// was doing while the work ran).
// Prints one line, ending in the time the work took (CLOCK_MONOTONIC, after the file is
// written), which bench/overhead.ts reads:
//   mixed_load: THREADS threads x ROUNDS rounds, FILE_PAGES file pages, N ms
// Exits 0, 2 on a usage error, 1 if a call fails.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static long rounds, file_pages, page;
static int fd;

static void fail(const char *what) {
  perror(what);
  exit(1);
}

static void *work(void *arg) {
  unsigned seed = (unsigned)(long)arg * 2654435761u + 1;
  volatile char sink = 0;
  char *dontneed = mmap(NULL, 16 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                        -1, 0);
  if (dontneed == MAP_FAILED) fail("mmap");
  for (long r = 0; r < rounds; r++) {
    for (int m = 0; m < 8; m++) {
      seed = seed * 1103515245u + 12345u;
      long n = 1 + (seed >> 16) % 16;
      char *p = mmap(NULL, n * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) fail("mmap");
      for (long i = 0; i < n; i++) p[i * page] = (char)i;
      if (m == 0) {
        if (mprotect(p, n * page, PROT_READ) != 0) fail("mprotect");
        sink += p[0];
        if (mprotect(p, n * page, PROT_READ | PROT_WRITE) != 0) fail("mprotect");
      }
      if (munmap(p, n * page) != 0) fail("munmap");
    }
    char *f = mmap(NULL, file_pages * page, PROT_READ, MAP_SHARED, fd, 0);
    if (f == MAP_FAILED) fail("mmap file");
    for (long i = 0; i < file_pages; i++) sink += f[i * page];
    if (munmap(f, file_pages * page) != 0) fail("munmap");
    for (long i = 0; i < 16; i++) dontneed[i * page] = 1;
    if (madvise(dontneed, 16 * page, MADV_DONTNEED) != 0) fail("madvise");
  }
  munmap(dontneed, 16 * page);
  (void)sink;
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 5 && argc != 6) {
    fprintf(stderr, "usage: mixed_load FILE THREADS ROUNDS FILE_PAGES [HOLD_MS]\n");
    return 2;
  }
  long hold_ms = argc == 6 ? atol(argv[5]) : 0;
  long threads = atol(argv[2]);
  rounds = atol(argv[3]);
  file_pages = atol(argv[4]);
  page = sysconf(_SC_PAGESIZE);
  if (threads < 1 || threads > 64 || rounds < 1 || file_pages < 1 || hold_ms < 0) {
    fprintf(stderr,
            "mixed_load: THREADS must be 1-64, ROUNDS and FILE_PAGES at least 1, HOLD_MS at "
            "least 0\n");
    return 2;
  }
  fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) fail("open");
  char *buf = calloc(1, page);
  for (long i = 0; i < file_pages; i++) {
    buf[0] = (char)i;
    if (write(fd, buf, page) != page) fail("write");
  }
  free(buf);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pthread_t t[64];
  for (long i = 0; i < threads; i++) {
    if (pthread_create(&t[i], NULL, work, (void *)i) != 0) fail("pthread_create");
  }
  for (long i = 0; i < threads; i++) pthread_join(t[i], NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("mixed_load: %ld threads x %ld rounds, %ld file pages, %.3f ms\n", threads, rounds,
         file_pages, (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
  fflush(stdout);
  if (hold_ms > 0) {
    struct timespec hold = {hold_ms / 1000, (hold_ms % 1000) * 1000000L};
    while (nanosleep(&hold, &hold) != 0) {
    }
  }
  close(fd);
  unlink(argv[1]);
  return 0;
}
