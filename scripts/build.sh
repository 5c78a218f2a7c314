#!/usr/bin/env bash
# Builds the bundled workload into build/ (deno task build).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
cc=$(command -v clang || command -v cc)
"$cc" -O2 -Wall -Wextra -Werror -pthread -o build/mmap_touch workloads/mmap_touch.c
"$cc" -O2 -Wall -Wextra -Werror -o build/mm_calls workloads/mm_calls.c
"$cc" -O2 -Wall -Wextra -Werror -o build/fork_tree workloads/fork_tree.c
"$cc" -O2 -Wall -Wextra -Werror -o build/map_file workloads/map_file.c
"$cc" -O2 -Wall -Wextra -Werror -pthread -o build/segv_touch workloads/segv_touch.c
"$cc" -O2 -Wall -Wextra -Werror -pthread -o build/mixed_load workloads/mixed_load.c
