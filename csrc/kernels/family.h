/*
 * Kernel families beyond the softmax core (cross-entropy, sigmoid / BCE,
 * candidate sampling).  Each family <fam> has
 *   csrc/kernels/<fam>_ops.h   its table type  fs_<fam>_ops
 *   csrc/kernels/<fam>.inc     its kernels, written once against the vector
 *                              layer, ending with FS_FAMILY_TABLE(<fam>) = {...}
 *                              (included by instantiate.h for every ISA x dtype)
 *   csrc/<fam>.c               its public C entry points (declared in
 *                              csrc/fastsmce_<fam>.h), which pick the active
 *                              table with the getter FS_FAMILY_GETTER makes.
 */
#ifndef FS_FAMILY_H
#define FS_FAMILY_H
#include "../fastsmce.h"

#define FS_FCAT_(a, b) a##b
#define FS_FCAT(a, b) FS_FCAT_(a, b)

/* inside a .inc: the exported name of this (ISA, dtype) table of family fam */
#define FS_FAMILY_TABLE(fam) \
    FS_FCAT(FS_FCAT(FS_FCAT(FS_FCAT(FS_FCAT(fs_, fam), _ops_), FS_ISA), _), FS_DT)

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
/* in <fam>.c: `static const fs_<fam>_ops *fs_<fam>_get(fs_dtype dt)` for the active path */
#define FS_FAMILY_GETTER(fam, type)                                                          \
    extern const type fs_##fam##_ops_scalar_f32, fs_##fam##_ops_scalar_f64,                  \
        fs_##fam##_ops_avx2_f32, fs_##fam##_ops_avx2_f64, fs_##fam##_ops_avx512_f32,         \
        fs_##fam##_ops_avx512_f64;                                                           \
    static const type *fs_##fam##_get(fs_dtype dt) {                                         \
        static const type *const t[3][2] = {                                                 \
            {&fs_##fam##_ops_scalar_f32, &fs_##fam##_ops_scalar_f64},                        \
            {&fs_##fam##_ops_avx2_f32, &fs_##fam##_ops_avx2_f64},                            \
            {&fs_##fam##_ops_avx512_f32, &fs_##fam##_ops_avx512_f64}};                       \
        return t[fs_active_isa()][dt == FS_FLOAT64];                                         \
    }
#else
#define FS_FAMILY_GETTER(fam, type)                                                          \
    extern const type fs_##fam##_ops_scalar_f32, fs_##fam##_ops_scalar_f64;                  \
    static const type *fs_##fam##_get(fs_dtype dt) {                                         \
        return dt == FS_FLOAT64 ? &fs_##fam##_ops_scalar_f64 : &fs_##fam##_ops_scalar_f32;   \
    }
#endif
#endif
