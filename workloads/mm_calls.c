// mm_calls: a workload of the other memory-mapping syscalls, a known number of times each.
//
// usage: mm_calls N
//   N times: mmap two pages, mprotect them read-only and back, madvise(MADV_DONTNEED),
//   msync(MS_ASYNC), mremap to four pages, munmap; and sbrk(4096) then sbrk(-4096).
//
// So, beyond what libc does on its own at start-up and exit: 2N mprotect, N madvise, N msync,
// N mremap, 2N brk (each sbrk is one brk call once libc knows the break), N mmap, N munmap.
// Prints one line with N. Exits 0, 2 on a usage error, 1 if a call fails.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static void fail(const char *what) {
  perror(what);
  exit(1);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: mm_calls N\n");
    return 2;
  }
  long n = strtol(argv[1], NULL, 10);
  long page = sysconf(_SC_PAGESIZE);
  if (n < 0) return 2;
  if (sbrk(0) == (void *)-1) fail("mm_calls: sbrk"); // libc learns the break: one brk
  for (long i = 0; i < n; i++) {
    char *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) fail("mm_calls: mmap");
    p[0] = 1;
    if (mprotect(p, 2 * page, PROT_READ) != 0) fail("mm_calls: mprotect");
    if (mprotect(p, 2 * page, PROT_READ | PROT_WRITE) != 0) fail("mm_calls: mprotect");
    if (madvise(p, 2 * page, MADV_DONTNEED) != 0) fail("mm_calls: madvise");
    if (msync(p, 2 * page, MS_ASYNC) != 0) fail("mm_calls: msync");
    char *q = mremap(p, 2 * page, 4 * page, MREMAP_MAYMOVE);
    if (q == MAP_FAILED) fail("mm_calls: mremap");
    if (munmap(q, 4 * page) != 0) fail("mm_calls: munmap");
    if (sbrk(page) == (void *)-1) fail("mm_calls: sbrk");
    if (sbrk(-page) == (void *)-1) fail("mm_calls: sbrk");
  }
  printf("mm_calls: %ld rounds\n", n);
  return 0;
}
