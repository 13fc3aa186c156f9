/*
 * Compiles every kernel for one (ISA, dtype) pair and exports its kernel table
 * as fs_table_<isa>_<f32|f64> (see kernels.h).  The including unit defines
 * FS_ISA (a name of csrc/isa.h) and FS_F64 (0 or 1); the ISA's row gives the
 * architecture (rows of another architecture compile to nothing), the target
 * pragma and the vector layer csrc/simd/<isa>.h.
 */
#include <stdlib.h>
#include "../isa.h"

#define FS_ISA_ROW FS_CAT(FS_ISA_ROW_, FS_ISA)
#define FS_ISA_ARCH_(ID, name, arch, target, probe) arch
#define FS_ISA_TARGET_(ID, name, arch, target, probe) target

#if FS_CAT(FS_ARCH_, FS_ISA_ROW(FS_ISA_ARCH_))
#include "kernels.h"

/* the row's target field is FS_BASELINE or FS_TARGET("..."): expanded once to
 * push the target (gcc/clang: per function, with a pragma), once to pop it */
#define FS_BASELINE
#if defined(__clang__)
#define FS_TARGET_GCC_CLANG(gcc, clang) FS_TARGET(clang)
#else
#define FS_TARGET_GCC_CLANG(gcc, clang) FS_TARGET(gcc)
#endif
#if defined(__clang__)
#define FS_TARGET(s) _Pragma(FS_STR(clang attribute push(__attribute__((target(s))), apply_to = function)))
#elif defined(__GNUC__)
#define FS_TARGET(s) _Pragma("GCC push_options") _Pragma(FS_STR(GCC target(s)))
#else
#define FS_TARGET(s) /* MSVC: intrinsics need no target */
#endif
FS_ISA_ROW(FS_ISA_TARGET_)
#undef FS_TARGET

#include "../simd/common.h"
#include FS_STR(../simd/FS_ISA.h)
#include "../simd/exp.h"
#include "driver.inc"
/* the kernel families, each written once against the vector layer */
#include "softmax.inc"
#include "xent.inc"
#include "sigmoid.inc"
#include "sampled.inc"

#if defined(__clang__)
#define FS_TARGET(s) _Pragma("clang attribute pop")
#elif defined(__GNUC__)
#define FS_TARGET(s) _Pragma("GCC pop_options")
#else
#define FS_TARGET(s)
#endif
FS_ISA_ROW(FS_ISA_TARGET_)
#undef FS_TARGET
#undef FS_TARGET_GCC_CLANG
#undef FS_BASELINE

#define FS_KERNEL_INIT_(ret, name, params) name,
const fs_kernel_table FS_CAT(FS_CAT(FS_CAT(fs_table_, FS_ISA), _), FS_DT) = {FS_KERNEL_LIST(FS_KERNEL_INIT_)};
#endif /* the row's architecture */
