// mmap_touch: the bundled workload faultline's demo and integration tests trace.
//
// usage: mmap_touch MAPS PAGES [LENGTH [WAIT]]
//   Maps MAPS private anonymous regions of LENGTH bytes (default 0x5a5000, a length nothing else
//   in a process uses), writes one byte to each of the first PAGES pages of every region, and
//   unmaps it. With WAIT = 1 it first blocks until one byte (or EOF) arrives on stdin, so a
//   tracer can attach to its pid before it starts. It prints one line describing what it did.
//
// Exactly MAPS mmap calls and MAPS munmap calls are made with LENGTH after the start (libc's own
// start-up mappings have other lengths), and MAPS * PAGES first-touch minor faults are taken.
// Exits 0, or 2 on a usage error, or 1 if a call fails.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

int main(int argc, char **argv) {
  if (argc < 3 || argc > 5) {
    fprintf(stderr, "usage: mmap_touch MAPS PAGES [LENGTH [WAIT]]\n");
    return 2;
  }
  long maps = parse(argv[1], "MAPS");
  long pages = parse(argv[2], "PAGES");
  long length = argc > 3 ? parse(argv[3], "LENGTH") : 0x5a5000;
  long wait = argc > 4 ? parse(argv[4], "WAIT") : 0;
  long page = sysconf(_SC_PAGESIZE);
  if (pages * page > length) {
    fprintf(stderr, "mmap_touch: %ld pages do not fit in %ld bytes\n", pages, length);
    return 2;
  }
  if (wait) {
    char byte;
    if (read(STDIN_FILENO, &byte, 1) < 0) {
      perror("mmap_touch: read");
      return 1;
    }
  }
  for (long i = 0; i < maps; i++) {
    volatile char *p = mmap(NULL, (size_t)length, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      perror("mmap_touch: mmap");
      return 1;
    }
    for (long j = 0; j < pages; j++) p[j * page] = 1;
    if (munmap((void *)p, (size_t)length) != 0) {
      perror("mmap_touch: munmap");
      return 1;
    }
  }
  printf("mmap_touch: %ld maps of %ld bytes, %ld pages touched in each\n", maps, length, pages);
  return 0;
}
