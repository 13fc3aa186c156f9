#!/usr/bin/env bash
# Run the fuzz harness against a sanitizer build of fastsmce.
#
#   SAN_PKG=DIR fuzz/run_asan.sh [harness args]
#
# DIR is a build kept by tools/sanitize.sh (KEEP=1 or SAN_BUILD_ONLY=1); the
# harness args are passed through, e.g.
#   SAN_PKG=/tmp/san fuzz/run_asan.sh -atheris_runs=500000 -max_len=256 -len_control=0 \
#       -rss_limit_mb=4096 -timeout=120 /tmp/fuzz-corpus        (atheris, coverage-guided)
#   SAN_PKG=/tmp/san fuzz/run_asan.sh --smoke 100000 7            (seeded driver, no atheris)
# PYTHON names an interpreter with numpy, scipy (and atheris for the first form).
set -Eeuo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${SAN_PKG:?SAN_PKG=DIR: a build kept by tools/sanitize.sh}"
PY="${PYTHON:-python3}"
SO="$(ls "$SAN_PKG"/src/fastsmce/_core*.so 2>/dev/null | head -n 1)"
if [ -z "$SO" ] || ! ldd "$SO" | grep libasan >/dev/null; then
    echo "run_asan.sh: $SAN_PKG holds no ASan build (tools/sanitize.sh with SAN_BUILD_ONLY=1)" >&2
    exit 2
fi
# libstdc++ after libasan: ASan's __cxa_throw interceptor needs it loaded at start-up
GCC="${SAN_GCC:-gcc}"
export LD_PRELOAD="$("$GCC" -print-file-name=libasan.so):$("$GCC" -print-file-name=libstdc++.so)${LD_PRELOAD:+:$LD_PRELOAD}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1:halt_on_error=1:detect_stack_use_after_return=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export PYTHONMALLOC=malloc
export PYTHONPATH="$SAN_PKG/src"
# the harness and the references of the build's own tree (the same sources)
exec "$PY" "$SAN_PKG/fuzz/fuzz_fastsmce.py" "$@"
