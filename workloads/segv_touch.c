// segv_touch: page faults that never complete. After first touches of ordinary anonymous
// pages, it touches a page mapped PROT_NONE, each touch caught by a SIGSEGV handler that jumps
// back past it: the kernel's page_fault tracepoint fires for each, but no minor or major fault
// is counted (the fault ends in a signal, not a mapped page).
//
// usage: segv_touch CAUGHT ANON_PAGES
// Prints, from getrusage around each loop (what the kernel counted for the process):
//   segv_touch: anon ANON_PAGES pages minor N major M
//   segv_touch: caught CAUGHT faults minor N major M
// The caught faults are a thread's last: a tracer that holds a fault until it completes still
// holds the final one when that thread exits. Exits 0, 2 on a usage error, 1 if a call fails.
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static sigjmp_buf back;
static char *none;
static long caught;

static void on_segv(int sig) {
  (void)sig;
  siglongjmp(back, 1);
}

// The thread that takes the caught faults, and nothing after them.
static void *catcher(void *arg) {
  (void)arg;
  volatile long n = 0;
  while (n < caught) {
    if (sigsetjmp(back, 1) == 0) *(volatile char *)none = 1;
    n++;
  }
  // The thread ends here, through the kernel alone (glibc's thread exit would touch memory);
  // the kernel still clears its tid for pthread_join.
  syscall(SYS_exit, 0);
  return NULL;
}

static void faults(long *minor, long *major) {
  struct rusage u;
  if (getrusage(RUSAGE_SELF, &u) != 0) {
    perror("getrusage");
    exit(1);
  }
  *minor = u.ru_minflt;
  *major = u.ru_majflt;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: segv_touch CAUGHT ANON_PAGES\n");
    return 2;
  }
  caught = atol(argv[1]);
  long anon = atol(argv[2]);
  long page = sysconf(_SC_PAGESIZE);
  if (caught < 1 || anon < 0) {
    fprintf(stderr, "segv_touch: CAUGHT must be at least 1, ANON_PAGES at least 0\n");
    return 2;
  }
  char *a = mmap(NULL, (anon + 1) * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                 -1, 0);
  none = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED || none == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_segv;
  sa.sa_flags = SA_NODEFER;
  if (sigaction(SIGSEGV, &sa, NULL) != 0) {
    perror("sigaction");
    return 1;
  }
  char line[2][128];
  long m0, j0, m1, j1, m2, j2;
  faults(&m0, &j0);
  for (long i = 0; i < anon; i++) a[i * page] = 1;
  faults(&m1, &j1);
  pthread_t t;
  if (pthread_create(&t, NULL, catcher, NULL) != 0 || pthread_join(t, NULL) != 0) {
    fprintf(stderr, "segv_touch: cannot run the catching thread\n");
    return 1;
  }
  faults(&m2, &j2);
  snprintf(line[0], sizeof(line[0]), "segv_touch: anon %ld pages minor %ld major %ld\n", anon,
           m1 - m0, j1 - j0);
  snprintf(line[1], sizeof(line[1]), "segv_touch: caught %ld faults minor %ld major %ld\n",
           caught, m2 - m1, j2 - j1);
  if (write(1, line[0], strlen(line[0])) < 0 || write(1, line[1], strlen(line[1])) < 0) return 1;
  return 0;
}
