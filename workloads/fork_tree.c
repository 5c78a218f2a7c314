// fork_tree: a process tree that maps, touches and unmaps known amounts in every process.
//
// usage: fork_tree MAPS PAGES
//   The parent forks two children; the first child forks a grandchild. Each of the four
//   processes then mmaps MAPS private anonymous regions of PAGES pages, writes one byte to
//   every page (one minor fault each), and munmaps them; the parent waits for its children,
//   each child for its own. So the tree makes 4 * MAPS mmap and munmap calls and touches
//   4 * MAPS * PAGES pages, on top of what libc and the loader do.
// Each process prints "fork_tree: pid P parent Q role R touched N" on stderr. Exits 0, 2 on a
// usage error, 1 if a call fails.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static long maps, pages, page;

static void fail(const char *what) {
  perror(what);
  exit(1);
}

static void work(const char *role) {
  long touched = 0;
  for (long m = 0; m < maps; m++) {
    char *p = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) fail("fork_tree: mmap");
    for (long i = 0; i < pages; i++, touched++) p[i * page] = 1;
    if (munmap(p, pages * page) != 0) fail("fork_tree: munmap");
  }
  fprintf(stderr, "fork_tree: pid %d parent %d role %s touched %ld\n", getpid(), getppid(), role,
          touched);
}

static pid_t spawn(void (*body)(void)) {
  pid_t pid = fork();
  if (pid < 0) fail("fork_tree: fork");
  if (pid == 0) {
    body();
    exit(0);
  }
  return pid;
}

static void wait_for(pid_t pid) {
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "fork_tree: child %d failed\n", pid);
    exit(1);
  }
}

static void grandchild(void) { work("grandchild"); }

static void first_child(void) {
  pid_t g = spawn(grandchild);
  work("child");
  wait_for(g);
}

static void second_child(void) { work("child"); }

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: fork_tree MAPS PAGES\n");
    return 2;
  }
  maps = strtol(argv[1], NULL, 10);
  pages = strtol(argv[2], NULL, 10);
  page = sysconf(_SC_PAGESIZE);
  if (maps < 0 || pages < 1) return 2;
  pid_t a = spawn(first_child);
  pid_t b = spawn(second_child);
  work("parent");
  wait_for(a);
  wait_for(b);
  return 0;
}
