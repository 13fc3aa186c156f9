#!/usr/bin/env bash
# -----------------------------------------------------------------------------
# The C core's test program (tests/c/test_core.c) on every SIMD path this
# machine can run, natively and for aarch64 under qemu-user.
#
#   bash tests/c/run.sh [native|arm|all]      (default: all)
#
# native: builds csrc/ + the test with $CC (default cc) and runs it on each x86
#         path this CPU supports (scalar, avx2, avx512), or each path of
#         whatever architecture this is.
# arm:    cross-compiles with $CROSS_CC (default aarch64-linux-gnu-gcc, static)
#         and runs under $QEMU (default qemu-aarch64):
#           -cpu max                 best path must be sve; neon and sve (512-bit)
#                                    run the full battery, scalar a quick one
#           -cpu max,sveN=on         sve at N = 128, 256, 2048 bits (quick battery)
#           -cpu a64fx               best path sve (512-bit, an SVE CPU model)
#           -cpu max,sve=off         best path neon; a forced "sve" falls back to neon
#           -cpu cortex-a72          best path neon (an ARMv8.0 core)
#
# Every run must print RESULT: PASS on the path it was asked for, and every run
# (x86 and aarch64) must draw the same samples (sampler-digest).  The objects
# are compiled as setup.py compiles them (-O3, per-function target pragmas;
# the scalar kernel units with gcc's alias-query cap), into $FASTSMCE_C_BUILD
# (default build/c-test, ignored by git); ccache is used when present.
# Exit status: 0 all passed, 1 a failure, 77 the part asked for cannot run here
# (no compiler / no cross compiler / no qemu).
# -----------------------------------------------------------------------------
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
WHAT="${1:-all}"
CC_NATIVE="${CC:-cc}"
CROSS_CC="${CROSS_CC:-aarch64-linux-gnu-gcc}"
QEMU="${QEMU:-qemu-aarch64}"
OUT="${FASTSMCE_C_BUILD:-$ROOT/build/c-test}"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
CCACHE=""
command -v ccache >/dev/null 2>&1 && CCACHE="ccache"

FAILED=0
DIGESTS="$(mktemp)"
LOGS="$(mktemp -d)"
trap 'rm -rf "$DIGESTS" "$LOGS"' EXIT

say() { printf '%s\n' "$*"; }
fail() { say "FAILED: $*"; FAILED=1; }

# build DIR CC [LDFLAGS...]: csrc/*.c, csrc/inst/*.c and the test into DIR/test_core
build() {
    local dir="$1" cc="$2"; shift 2
    local param="--param=sccvn-max-alias-queries-per-access=20"
    mkdir -p "$dir"
    # the flag setup.py gives the scalar units, where the compiler takes it (gcc)
    echo 'int x;' > "$dir/probe.c"
    $cc -c -Werror "$param" "$dir/probe.c" -o "$dir/probe.o" 2>/dev/null || param=""
    local t0=$SECONDS
    # shellcheck disable=SC2016
    printf '%s\n' csrc/*.c csrc/inst/*.c | JOBS_CC="$CCACHE $cc" PARAM="$param" DIR="$dir" \
        xargs -P "$JOBS" -I{} sh -c '
            f={}; b=$(basename "$f" .c); extra=""
            case "$b" in scalar_*) extra="$PARAM";; esac
            $JOBS_CC -O3 -g0 -Wall -Icsrc $extra -c "$f" -o "$DIR/$b.o"' || return 1
    $cc -O2 -Wall -Wextra -Wno-missing-field-initializers -Icsrc tests/c/test_core.c \
        "$dir"/dispatch.o "$dir"/softmax.o "$dir"/xent.o "$dir"/sigmoid.o "$dir"/sampling.o \
        "$dir"/{scalar,avx2,avx512,neon,sve}_f{32,64}.o "$@" -lm -o "$dir/test_core" || return 1
    say "built $dir/test_core with $cc in $((SECONDS - t0)) s"
}

# check LABEL WANT_PATH CMD...: run the test in the background (at most $JOBS at
# once), require PASS on WANT_PATH; `collect` reports them in order
NCHK=0
check() {
    local label="$1" want="$2"; shift 2
    NCHK=$((NCHK + 1))
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
    printf '%s\n%s\n' "$label" "$want" > "$LOGS/$NCHK.what"
    ( t0=$SECONDS; rc=0; "$@" > "$LOGS/$NCHK.log" 2>&1 || rc=$?; echo "$rc $((SECONDS - t0))" > "$LOGS/$NCHK.rc" ) &
}
collect() {
    wait
    local i label want rc secs log path
    for ((i = 1; i <= NCHK; i++)); do
        [ -f "$LOGS/$i.what" ] || continue
        label="$(sed -n 1p "$LOGS/$i.what")"; want="$(sed -n 2p "$LOGS/$i.what")"
        read -r rc secs < "$LOGS/$i.rc"
        log="$(cat "$LOGS/$i.log")"
        path="$(printf '%s\n' "$log" | sed -n 's/^path: \([a-z0-9]*\).*/\1/p')"
        printf '%s\n' "$log" | sed -n '/^family/,/^RESULT/p' | sed "s/^/  [$label] /"
        printf '%s\n' "$log" | grep -E '^  FAIL|^sve vector length|^NOTE' | head -20 | sed "s/^/  [$label] /" || true
        printf '%s\n' "$log" | sed -n 's/^sampler-digest: //p' >> "$DIGESTS"
        if [ "$rc" -ne 0 ] || ! printf '%s\n' "$log" | grep -q '^RESULT: PASS'; then
            fail "$label: the test failed (exit $rc)"
        elif [ "$path" != "$want" ]; then
            fail "$label: ran path '$path', expected '$want'"
        else
            say "ok   $label: path $path, $(printf '%s\n' "$log" | sed -n 's/^RESULT: PASS (\([0-9]*\) checks.*/\1/p') checks passed in $secs s"
        fi
        rm -f "$LOGS/$i.what"
    done
}

# best LABEL WANT CMD...: the path fs_init picks by itself
best() {
    local label="$1" want="$2"; shift 2
    local got
    got="$("$@" --list | sed -n 's/^best: //p')"
    if [ "$got" = "$want" ]; then say "ok   $label: best path $got"; else fail "$label: best path '$got', expected '$want'"; fi
}

# which LABEL WANT CMD...: the path a request lands on
which() {
    local label="$1" want="$2"; shift 2
    local got
    got="$("$@" --which | sed -n 's/^path: \([a-z0-9]*\).*/\1/p')"
    if [ "$got" = "$want" ]; then say "ok   $label: path $got"; else fail "$label: path '$got', expected '$want'"; fi
}

run_native() {
    if ! command -v "$CC_NATIVE" >/dev/null 2>&1; then
        say "SKIP native: no C compiler ($CC_NATIVE)"; return 77
    fi
    say "== native ($(uname -m), $CC_NATIVE)"
    build "$OUT/native" "$CC_NATIVE" || { fail "native build"; return 1; }
    local bin="$OUT/native/test_core" p
    "$bin" --list | sed 's/^/  /'
    for p in $("$bin" --list | sed -n 's/^supported: //p'); do
        check "native $p" "$p" "$bin" "$p"
    done
    collect
}

run_arm() {
    if ! command -v "$CROSS_CC" >/dev/null 2>&1 || ! command -v "$QEMU" >/dev/null 2>&1; then
        say "SKIP arm: needs $CROSS_CC and $QEMU (Debian: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)"
        return 77
    fi
    say "== aarch64 under $($QEMU --version | head -1)"
    build "$OUT/aarch64" "$CROSS_CC" -static || { fail "aarch64 build"; return 1; }
    local bin="$OUT/aarch64/test_core" p vl
    "$QEMU" -cpu max "$bin" --list | sed 's/^/  /'
    best "qemu -cpu max" sve "$QEMU" -cpu max "$bin"
    # the full battery on the two vector paths; the portable scalar code is the one
    # native runs test in full, so a quick pass here
    check "qemu -cpu max neon" neon "$QEMU" -cpu max "$bin" neon
    check "qemu -cpu max sve" sve "$QEMU" -cpu max "$bin" sve
    check "qemu -cpu max scalar (quick)" scalar "$QEMU" -cpu max "$bin" scalar --quick
    # other vector lengths (qemu-user starts a process at sve-default-vector-length
    # bytes, 64 unless lowered by the largest enabled length)
    for vl in 128 256 2048; do
        check "qemu -cpu max,sve$vl=on sve (quick)" sve "$QEMU" -cpu "max,sve$vl=on,sve-default-vector-length=$((vl / 8))" \
            "$bin" sve --quick
    done
    best "qemu -cpu a64fx" sve "$QEMU" -cpu a64fx "$bin"
    best "qemu -cpu max,sve=off" neon "$QEMU" -cpu max,sve=off "$bin"
    which "qemu -cpu max,sve=off, sve requested" neon "$QEMU" -cpu max,sve=off "$bin" sve
    best "qemu -cpu cortex-a72" neon "$QEMU" -cpu cortex-a72 "$bin"
    collect
}

rc_native=0 rc_arm=0
case "$WHAT" in
    native) run_native || rc_native=$? ;;
    arm) run_arm || rc_arm=$? ;;
    all) run_native || rc_native=$?; run_arm || rc_arm=$? ;;
    *) say "usage: $0 [native|arm|all]"; exit 2 ;;
esac

if [ "$(sort -u "$DIGESTS" | wc -l)" -gt 1 ]; then
    fail "the samplers drew differently across runs: $(sort -u "$DIGESTS" | tr '\n' ' ')"
elif [ -s "$DIGESTS" ]; then
    say "ok   samplers: one digest over all runs ($(head -1 "$DIGESTS"))"
fi
[ "$FAILED" -ne 0 ] && { say "C core tests: FAILED"; exit 1; }
[ "$rc_native" -eq 77 ] && [ "$rc_arm" -eq 77 ] && exit 77
[ "$WHAT" != all ] && [ "$rc_native" -eq 77 -o "$rc_arm" -eq 77 ] && exit 77
say "C core tests: passed"
