/*
 * The CPU probes of the ISA rows (csrc/isa.h): int fs_cpu_<name>(void) is 1
 * when this CPU and OS can run that path.  Included by dispatch.c only; the
 * probes of an architecture this build is not for are not compiled (nor
 * referenced).
 */
#ifndef FS_SIMD_CPU_H
#define FS_SIMD_CPU_H
#include "../isa.h"

static int fs_cpu_scalar(void) { return 1; }

#if FS_ARCH_X86
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif

static void fs_cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
#if defined(_MSC_VER)
    int v[4];
    __cpuidex(v, (int)leaf, (int)sub);
    r[0] = (unsigned)v[0]; r[1] = (unsigned)v[1]; r[2] = (unsigned)v[2]; r[3] = (unsigned)v[3];
#else
    r[0] = r[1] = r[2] = r[3] = 0;
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
#endif
}

static unsigned long long fs_xgetbv0(void) {
#if defined(_MSC_VER)
    return _xgetbv(0);
#else
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
#endif
}

/* AVX2 + FMA usable (the OS saves YMM state); *ebx7: cpuid leaf 7 EBX, *xcr0 */
static int fs_cpu_x86_avx2(unsigned *ebx7, unsigned long long *xcr0) {
    unsigned r[4];
    fs_cpuid(0, 0, r);
    if (r[0] < 7) return 0;
    fs_cpuid(1, 0, r);
    /* OSXSAVE (27), AVX (28), FMA (12) */
    if (!(r[2] & (1u << 27)) || !(r[2] & (1u << 28)) || !(r[2] & (1u << 12))) return 0;
    *xcr0 = fs_xgetbv0();
    if ((*xcr0 & 0x6) != 0x6) return 0; /* XMM and YMM state */
    fs_cpuid(7, 0, r);
    *ebx7 = r[1];
    return (r[1] & (1u << 5)) != 0; /* AVX2 */
}

static int fs_cpu_avx2(void) {
    unsigned ebx7;
    unsigned long long xcr0;
    return fs_cpu_x86_avx2(&ebx7, &xcr0);
}

static int fs_cpu_avx512(void) {
    unsigned ebx7;
    unsigned long long xcr0;
    /* AVX-512F (EBX bit 16) and opmask + ZMM state saved by the OS */
    return fs_cpu_x86_avx2(&ebx7, &xcr0) && (ebx7 & (1u << 16)) && (xcr0 & 0xE6) == 0xE6;
}
#endif /* FS_ARCH_X86 */

#if FS_ARCH_ARM64
/* Advanced SIMD is part of every AArch64 CPU (the Linux, macOS and Windows ABIs
 * require it) */
static int fs_cpu_neon(void) { return 1; }
#endif

#if FS_ARCH_ARM64_SVE
#include <sys/auxv.h>
#ifndef HWCAP_SVE
#define HWCAP_SVE (1UL << 22) /* <asm/hwcap.h>; older libc headers lack it */
#endif
/* the kernel reports SVE (it is enabled for user space); any vector length */
static int fs_cpu_sve(void) { return (getauxval(AT_HWCAP) & HWCAP_SVE) != 0; }
#endif /* FS_ARCH_ARM64_SVE */
#endif
