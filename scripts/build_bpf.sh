#!/usr/bin/env bash
# Rebuilds probes/faultline.bpf.o from probes/faultline.bpf.c and faultline.h (deno task
# build:bpf). The object is committed, so running faultline needs only libbpf; building needs
# clang and libbpf-dev. -fdebug-prefix-map keeps the build directory out of the object, so the
# same source gives the same bytes wherever it is built. SRC and OUT override the source and
# output paths (the tests build other objects, and rebuild this one elsewhere to compare).
set -euo pipefail
cd "$(dirname "$0")/.."
src=${SRC:-probes/faultline.bpf.c}
out=${OUT:-probes/faultline.bpf.o}
clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu \
  -fdebug-prefix-map="$PWD"=. -c "$src" -o "$out"
