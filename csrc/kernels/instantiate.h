/*
 * Compiles every kernel for one (ISA, dtype) pair and exports its fs_ops table
 * as fs_ops_<isa>_<f32|f64>.  The including unit defines FS_F64 and FS_ISA
 * (scalar, avx2 or avx512).  x86 ISAs are enabled per function with target
 * pragmas, so the whole package builds with the compiler's default flags and
 * one binary runs on any x86-64.
 */
#include <stdlib.h>
#include "../fastsmce.h"
#include "ops.h"

#define FS_ISA_scalar 0
#define FS_ISA_avx2 1
#define FS_ISA_avx512 2
#define FS_ISA_ID FS_CAT(FS_ISA_, FS_ISA)
#include "../simd/common.h"

#if FS_ISA_ID == 0 || (FS_X86 && (defined(__GNUC__) || defined(__clang__) || defined(_MSC_VER)))
#define FS_BUILD_THIS 1
#else
#define FS_BUILD_THIS 0 /* a SIMD path this compiler/architecture cannot build */
#endif

#if FS_BUILD_THIS
/* target pragmas take literal strings only */
#if FS_ISA_ID == 1 && defined(__clang__)
#define FS_TARGET 1
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#elif FS_ISA_ID == 1 && defined(__GNUC__)
#define FS_TARGET 1
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#elif FS_ISA_ID == 2 && defined(__clang__)
#define FS_TARGET 1
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#elif FS_ISA_ID == 2 && defined(__GNUC__)
#define FS_TARGET 1
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#endif

#if FS_ISA_ID == 0
#include "../simd/scalar.h"
#elif FS_ISA_ID == 1
#include "../simd/avx2.h"
#else
#include "../simd/avx512.h"
#endif
#include "../simd/exp.h"
#include "softmax.inc"
/* the other kernel families (see family.h); each ends with its own table */
#include "family.h"
#include "xent.inc"
#include "sigmoid.inc"
#include "sampled.inc"

#ifdef FS_TARGET
#if defined(__clang__)
#pragma clang attribute pop
#elif defined(__GNUC__)
#pragma GCC pop_options
#endif
#endif

#define FS_OPS_NAME FS_CAT(FS_CAT(FS_CAT(fs_ops_, FS_ISA), _), FS_DT)
const fs_ops FS_OPS_NAME = {
    softmax_2d, log_softmax_2d, logsumexp_2d, softmax_backward_2d, log_softmax_backward_2d,
    chunk_stats, softmax_write, log_softmax_write, stats_logsumexp, exp_array,
};
#endif /* FS_BUILD_THIS */
