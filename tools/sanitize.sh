#!/usr/bin/env bash
# -----------------------------------------------------------------------------
# Build fastsmce with AddressSanitizer + UndefinedBehaviorSanitizer (gcc) in a
# scratch copy of the source tree and run the test suite against that build.
#
#   tools/sanitize.sh [pytest args]        e.g.  tools/sanitize.sh -x tests/xent
#
# The sanitizer build never touches src/ of this checkout: the tracked and
# untracked (not ignored) files are copied to a scratch directory, built there
# with
#     -fsanitize=address,undefined -fno-sanitize-recover=all
#     -fno-omit-frame-pointer -O1 -g
# (FASTSMCE_OPT replaces setup.py's -O3), and pytest runs there with
#     LD_PRELOAD=libasan.so:libstdc++.so   ASan's runtime must be loaded before
#                             anything else (python itself is not instrumented);
#                             libstdc++ so that C++ exceptions work (see below)
#     ASAN_OPTIONS=detect_leaks=0:...   CPython does not free everything at exit
#                             (interned objects, module state), so LeakSanitizer
#                             would report Python's own "leaks" on every run;
#                             leaks are checked by the test suite instead
#     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
#     PYTHONMALLOC=malloc     Python objects come from malloc too, so ASan sees them
# Subprocesses the tests start (the FASTSMCE_SIMD path checks) inherit all of it.
#
# Environment:
#   PYTHON=python3   interpreter with numpy, scipy, pytest, hypothesis, Cython, setuptools
#   SAN_GCC=gcc      the gcc to build with (through ccache when it is installed)
#   JOBS=2           parallel compile jobs
#   SAN_DIR=DIR      build in DIR (default: a new directory under $TMPDIR)
#   KEEP=1           keep the build directory (its path is printed) to reuse it
#   SAN_PKG=DIR      reuse the build in DIR (a kept SAN_DIR): no copy, no build
#   SAN_SIMD=PATH    run with FASTSMCE_SIMD=PATH; "scalar" puts every memory access
#                    of the kernels in plain C, which ASan instruments completely
#                    (the AVX2 / AVX-512 masked loads and stores are not checked)
#   SAN_BUILD_ONLY=1 build, print the directory, stop (implies KEEP=1)
#
# The exit status is pytest's; a sanitizer report aborts the process that hit
# it (and fails the run).  The last line says whether any report was seen.
# -----------------------------------------------------------------------------
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
JOBS="${JOBS:-2}"
GCC="${SAN_GCC:-gcc}"
SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

if ! "$GCC" --version 2>/dev/null | grep -qi gcc; then
    echo "sanitize.sh: $GCC is not gcc (this script uses gcc's libasan; SAN_GCC=... names another)" >&2
    exit 2
fi
LIBASAN="$("$GCC" -print-file-name=libasan.so)"
if [ ! -e "$LIBASAN" ]; then
    echo "sanitize.sh: $GCC has no libasan.so (Debian/Ubuntu: apt-get install libasan8 or gcc)" >&2
    exit 2
fi
# ccache (if installed) makes a rebuild after a change to one file fast
CC_CMD="$(command -v ccache >/dev/null 2>&1 && echo "ccache $GCC" || echo "$GCC")"

if [ -n "${SAN_PKG:-}" ]; then
    DIR="$(cd "$SAN_PKG" && pwd)"
    KEEP=1
else
    [ -n "${SAN_BUILD_ONLY:-}" ] && KEEP=1
    if [ -n "${SAN_DIR:-}" ]; then
        DIR="$SAN_DIR"
        mkdir -p "$DIR"
    else
        DIR="$(mktemp -d "${TMPDIR:-/tmp}/fastsmce-san.XXXXXX")"
    fi
    if [ -z "${KEEP:-}" ]; then
        trap 'rm -rf "$DIR"' EXIT
    fi
    echo "sanitize.sh: copying the source tree to $DIR"
    (cd "$ROOT" && git ls-files -z -co --exclude-standard \
        | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -C "$DIR" -xf -
    echo "sanitize.sh: building with $SAN_FLAGS -O1 -g (log: $DIR/build.log)"
    t0=$SECONDS
    # the flags go into CC too: setup.py's OpenMP probe links with CC alone (no LDFLAGS),
    # and without -fsanitize there the probe fails and the build has no OpenMP
    if ! (cd "$DIR" && CC="$CC_CMD $SAN_FLAGS" CFLAGS="$SAN_FLAGS" LDFLAGS="$SAN_FLAGS" FASTSMCE_OPT="-O1 -g" \
            "$PY" setup.py build_ext --inplace -j "$JOBS") >"$DIR/build.log" 2>&1; then
        tail -n 40 "$DIR/build.log" >&2
        echo "sanitize.sh: build failed" >&2
        exit 2
    fi
    echo "sanitize.sh: built in $((SECONDS - t0)) s"
fi

SO="$(ls "$DIR"/src/fastsmce/_core*.so 2>/dev/null | head -n 1)"
if [ -z "$SO" ] || ! ldd "$SO" | grep libasan >/dev/null; then   # (grep -q + pipefail: SIGPIPE)
    echo "sanitize.sh: $DIR holds no ASan build of fastsmce._core" >&2
    exit 2
fi
if ! ldd "$SO" | grep libgomp >/dev/null; then
    echo "sanitize.sh: WARNING: the sanitizer build has no OpenMP (see $DIR/build.log): the" \
         "threaded paths are not checked" >&2
fi
if [ -n "${SAN_BUILD_ONLY:-}" ]; then
    echo "sanitize.sh: build kept in $DIR"
    exit 0
fi

# libstdc++ right after libasan: python is not linked with it, so ASan's __cxa_throw
# interceptor finds no real __cxa_throw at start-up and the first C++ exception
# (TensorFlow's import throws one) stops the process with "CHECK failed:
# asan_interceptors.cpp ... real___cxa_throw"
LIBSTDCXX="$("$GCC" -print-file-name=libstdc++.so)"
export LD_PRELOAD="$LIBASAN:$LIBSTDCXX${LD_PRELOAD:+:$LD_PRELOAD}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1:halt_on_error=1:detect_stack_use_after_return=0:print_summary=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export PYTHONMALLOC=malloc
export PYTHONPATH="$DIR/src"
export PYTHONDONTWRITEBYTECODE=1
if [ -n "${SAN_SIMD:-}" ]; then
    export FASTSMCE_SIMD="$SAN_SIMD"
fi

# Tests that cannot run under ASan, each with its reason (none so far):
DESELECT=()

cd "$DIR"
"$PY" - <<'PY'
import fastsmce, fastsmce._core as c
print("sanitize.sh: testing", c.__file__)
fastsmce.show_config()
PY
set +e
"$PY" -m pytest -p no:cacheprovider "${DESELECT[@]}" "$@" 2>&1 | tee "$DIR/pytest.log"
rc=${PIPESTATUS[0]}
set -e
if grep -qE "ERROR: AddressSanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior)Sanitizer" "$DIR/pytest.log"; then
    echo "sanitize.sh: SANITIZER REPORT(S) FOUND (see above; log $DIR/pytest.log)"
    rc=$(( rc == 0 ? 1 : rc ))
else
    echo "sanitize.sh: no sanitizer report (pytest exit status $rc)"
fi
[ -n "${KEEP:-}" ] && echo "sanitize.sh: build kept in $DIR (reuse: SAN_PKG=$DIR)"
exit "$rc"
