// map_file: faults on a file mapping that outlives its descriptor and its name, and on
// private anonymous memory, each counted by the process itself.
//
// usage: map_file PATH PAGES ANON_PAGES [PAUSE_SECONDS]
//   Writes PAGES pages to a new file at PATH, syncs it and drops it from the page cache;
//   maps it shared, read-write, with MADV_RANDOM (no readahead, no fault-around: one fault
//   per page); closes the descriptor; writes one byte to the first half of the pages;
//   unlinks the file; with PAUSE_SECONDS, says "map_file: deleted PID" on stderr and sleeps
//   that long or until a SIGUSR1 (for a tracer to attach with --pid: whoever starts it can say
//   when the tracer is ready); writes one byte to the rest. Then maps ANON_PAGES private anonymous
//   pages and writes one byte to each.
// Prints, from getrusage around each touching loop (what the kernel counted for the process):
//   map_file: file 0xSTART PAGES pages minor N major M   (with PAUSE_SECONDS: the second half)
//   map_file: anon 0xSTART ANON_PAGES pages minor N major M
// Exits 0, 2 on a usage error, 1 if a call fails.
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

static void fail(const char *what) {
  perror(what);
  exit(1);
}

static void wake(int sig) { (void)sig; }

static void faults(long *minor, long *major) {
  struct rusage u;
  if (getrusage(RUSAGE_SELF, &u) != 0) fail("map_file: getrusage");
  *minor = u.ru_minflt;
  *major = u.ru_majflt;
}

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: map_file PATH PAGES ANON_PAGES [PAUSE_SECONDS]\n");
    return 2;
  }
  const char *path = argv[1];
  long pages = strtol(argv[2], NULL, 10), anon_pages = strtol(argv[3], NULL, 10);
  long page = sysconf(_SC_PAGESIZE);
  if (pages < 2 || anon_pages < 0) return 2;

  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) fail("map_file: open");
  char *buf = malloc(page);
  memset(buf, 'x', page);
  for (long i = 0; i < pages; i++)
    if (write(fd, buf, page) != page) fail("map_file: write");
  if (fsync(fd) != 0) fail("map_file: fsync");
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  char *f = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (f == MAP_FAILED) fail("map_file: mmap file");
  if (madvise(f, pages * page, MADV_RANDOM) != 0) fail("map_file: madvise");
  close(fd);

  long min0, maj0, min1, maj1;
  faults(&min0, &maj0);
  for (long i = 0; i < pages / 2; i++) f[i * page] = 1;
  if (unlink(path) != 0) fail("map_file: unlink");
  if (argc == 5) {
    // No SA_RESTART: the signal ends the sleep early.
    struct sigaction sa = {.sa_handler = wake};
    sigaction(SIGUSR1, &sa, NULL);
    fprintf(stderr, "map_file: deleted %d\n", getpid());
    sleep((unsigned)strtol(argv[4], NULL, 10));
    // What the kernel counted while the tracer attached is not the loop's.
    faults(&min0, &maj0);
  }
  for (long i = pages / 2; i < pages; i++) f[i * page] = 1;
  faults(&min1, &maj1);
  // Both halves, or with PAUSE_SECONDS the second alone (the first was before the tracer).
  printf("map_file: file %p %ld pages minor %ld major %ld\n", (void *)f,
         argc == 5 ? pages - pages / 2 : pages, min1 - min0, maj1 - maj0);

  char *a = mmap(NULL, anon_pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                 -1, 0);
  if (a == MAP_FAILED) fail("map_file: mmap anon");
  faults(&min0, &maj0);
  for (long i = 0; i < anon_pages; i++) a[i * page] = 1;
  faults(&min1, &maj1);
  printf("map_file: anon %p %ld pages minor %ld major %ld\n", (void *)a, anon_pages, min1 - min0,
         maj1 - maj0);
  fflush(stdout);
  munmap(f, pages * page);
  munmap(a, anon_pages * page);
  return 0;
}
