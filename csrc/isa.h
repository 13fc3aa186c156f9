/*
 * The instruction sets, written once.  Everything ISA-dependent is derived from
 * this list: the public fs_isa enum (fastsmce.h), the names FASTSMCE_SIMD
 * accepts, fs_isa_compiled / fs_isa_supported / fs_init and the dispatch table
 * (dispatch.c), the extern declarations of every (ISA, dtype) kernel table
 * (kernels/kernels.h), and the target pragma and vector header of each
 * instantiation unit (kernels/instantiate.h).
 *
 * One row per ISA, X(ID, name, arch, target, probe):
 *   ID      the enum constant FS_ISA_<ID>; its value is the row's position, and
 *           the preference order: the supported ISA with the highest id wins.
 *           Append new rows, never reorder (the enum is a public contract).
 *   name    the FASTSMCE_SIMD / fs_isa_name() spelling, the vector layer
 *           csrc/simd/<name>.h, and the symbol suffix of its kernel tables.
 *   arch    ANY (portable C), X86 (x86 / x86-64, gcc, clang or MSVC), ARM64
 *           (AArch64), ARM64_SVE (AArch64 Linux, gcc or clang with SVE support):
 *           rows of an architecture this build is not for are "not compiled".
 *   target  FS_BASELINE (the compiler's default flags) or FS_TARGET("...") (a
 *           gcc/clang target string, applied per function with a pragma, so the
 *           package builds with default flags and one binary runs everywhere);
 *           FS_TARGET_GCC_CLANG("...", "...") where the two spell it differently.
 *   probe   the CPU check of csrc/simd/cpu.h: int probe(void), 1 when the CPU
 *           and the OS can run this path.
 *
 * A row is a macro of its own, FS_ISA_ROW_<name>, so that an instantiation unit
 * (which only knows its name) can pick its fields by token pasting; the list
 * then names the rows in order.  Adding an ISA: a row here and in the list,
 * csrc/simd/<name>.h, its probe in csrc/simd/cpu.h, csrc/inst/<name>_f32.c and
 * _f64.c.
 */
#ifndef FS_ISA_H
#define FS_ISA_H

#define FS_ISA_ROW_scalar(X) X(SCALAR, scalar, ANY, FS_BASELINE, fs_cpu_scalar)
#define FS_ISA_ROW_avx2(X) X(AVX2, avx2, X86, FS_TARGET("avx2,fma"), fs_cpu_avx2)
#define FS_ISA_ROW_avx512(X) X(AVX512, avx512, X86, FS_TARGET("avx512f,avx2,fma"), fs_cpu_avx512)
/* Advanced SIMD: part of every AArch64 CPU, so the compiler's default target */
#define FS_ISA_ROW_neon(X) X(NEON, neon, ARM64, FS_BASELINE, fs_cpu_neon)
/* SVE (not SVE2): gcc spells the extension "+sve", clang "sve" */
#define FS_ISA_ROW_sve(X) X(SVE, sve, ARM64_SVE, FS_TARGET_GCC_CLANG("+sve", "sve"), fs_cpu_sve)

#define FS_ISA_LIST(X) \
    FS_ISA_ROW_scalar(X) FS_ISA_ROW_avx2(X) FS_ISA_ROW_avx512(X) FS_ISA_ROW_neon(X) FS_ISA_ROW_sve(X)

/* ---- the architectures: 1 where this build can compile that row's code
 * (-DFS_ARCH_X86=0 builds an x86 binary with the portable rows only) ---- */
#ifndef FS_ARCH_X86
#if (defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)) && \
    (defined(__GNUC__) || defined(__clang__) || defined(_MSC_VER))
#define FS_ARCH_X86 1
#else
#define FS_ARCH_X86 0
#endif
#endif
/* AArch64 (Linux, macOS, Windows): gcc, clang, Apple clang or MSVC, <arm_neon.h> */
#ifndef FS_ARCH_ARM64
#if (defined(__aarch64__) || defined(_M_ARM64)) && (defined(__GNUC__) || defined(__clang__) || defined(_MSC_VER))
#define FS_ARCH_ARM64 1
#else
#define FS_ARCH_ARM64 0
#endif
#endif
/* AArch64 with SVE code: Linux only (the probe reads getauxval(AT_HWCAP); no Apple
 * CPU has SVE), a compiler whose <arm_sve.h> works in functions with an SVE target
 * attribute: gcc >= 10, clang >= 18 (clang 14's header refuses to be included
 * without -march=...+sve: tested; any clang built with SVE enabled is fine) */
#ifndef FS_ARCH_ARM64_SVE
#if FS_ARCH_ARM64 && defined(__linux__) &&                                                \
    ((defined(__clang__) && (__clang_major__ >= 18 || defined(__ARM_FEATURE_SVE))) ||    \
     (!defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 10))
#define FS_ARCH_ARM64_SVE 1
#else
#define FS_ARCH_ARM64_SVE 0
#endif
#endif
#define FS_ARCH_ANY 1

/* ---- preprocessor helpers ------------------------------------------------- */
#define FS_CAT_(a, b) a##b
#define FS_CAT(a, b) FS_CAT_(a, b)
#define FS_STR_(...) #__VA_ARGS__
#define FS_STR(...) FS_STR_(__VA_ARGS__)
#define FS_IF_1(...) __VA_ARGS__
#define FS_IF_0(...)
/* FS_ISA_IF_BUILT(arch)(tokens): the tokens where this build compiles arch, else nothing */
#define FS_ISA_IF_BUILT(arch) FS_CAT(FS_IF_, FS_CAT(FS_ARCH_, arch))

#endif /* FS_ISA_H */
