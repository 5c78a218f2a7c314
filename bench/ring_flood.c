// ring_flood CALLS_PER_SECOND SECONDS: after one byte (or EOF) on stdin, calls getppid() at a
// steady CALLS_PER_SECOND for SECONDS (paced per millisecond), then prints "calls N in S s".
// With bench/ring_flood.bpf.o attached, every call offers 64 ring-buffer records.
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: ring_flood CALLS_PER_SECOND SECONDS\n");
    return 2;
  }
  double rate = atof(argv[1]), seconds = atof(argv[2]);
  char c;
  if (read(0, &c, 1) < 0) return 1;
  double start = now(), t;
  long calls = 0;
  while ((t = now()) - start < seconds) {
    long due = (long)((t - start) * rate);
    while (calls < due) {
      syscall(SYS_getppid);
      calls++;
    }
  }
  printf("calls %ld in %.3f s\n", calls, now() - start);
  return 0;
}
