/*
 * The kernel table: every family's kernels for one (ISA, dtype), in one struct.
 * Each instantiation unit (csrc/inst/<isa>_<f32|f64>.c, via instantiate.h)
 * exports one table, fs_table_<isa>_<f32|f64>; fs_init() picks the pair of the
 * active ISA once, and the public entry points (csrc/<family>.c) call through
 * fs_kernels(dt).
 *
 * FS_KERNEL_LIST is the list of kernels, X(ret, name, (params)): it makes the
 * struct's fields here and the table's initialiser in instantiate.h, whose
 * entries are the static functions of the same name in the family's .inc.
 * Adding a kernel: a line here, the static function in csrc/kernels/<family>.inc,
 * and its public wrapper in csrc/<family>.c (declared in csrc/fastsmce*.h).
 */
#ifndef FS_KERNELS_H
#define FS_KERNELS_H
#include <stdint.h>
#include "../fastsmce.h"

/* softmax family (softmax.inc, public entry points in softmax.c) */
#define FS_KERNELS_SOFTMAX(X)                                                                  \
    X(int, softmax_2d, (int64_t, int64_t, const void *, int64_t, int64_t, void *, int64_t, int64_t)) \
    X(int, log_softmax_2d, (int64_t, int64_t, const void *, int64_t, int64_t, void *, int64_t, int64_t)) \
    X(int, logsumexp_2d, (int64_t, int64_t, const void *, int64_t, int64_t, void *, int64_t))  \
    X(int, softmax_backward_2d, (int64_t, int64_t, const void *, int64_t, int64_t, const void *,     \
                                 int64_t, int64_t, void *, int64_t, int64_t))                  \
    X(int, log_softmax_backward_2d, (int64_t, int64_t, const void *, int64_t, int64_t, const void *, \
                                     int64_t, int64_t, void *, int64_t, int64_t))              \
    X(void, chunk_stats, (const void *, int64_t, double *, double *))                          \
    X(void, stats_fold, (double *, double *, double, double))                                  \
    X(void, softmax_write, (const void *, void *, int64_t, double, double))                    \
    X(void, softmax_chunk_exp, (const void *, void *, int64_t, double *, double *, double *))  \
    X(int, softmax_chunk_scale, (void *, int64_t, const double *, double, double, int))        \
    X(int, flag_values, (const void *, int64_t, int))                                          \
    X(void, log_softmax_write, (const void *, void *, int64_t, double, double))                \
    X(double, stats_logsumexp, (const void *, int64_t, double, double))                        \
    X(void, exp_array, (const void *, void *, int64_t))

/* cross-entropy (xent.inc, xent.c) */
#define FS_KERNELS_XENT(X)                                                                     \
    X(int, cross_entropy_2d, (const fs_xent_args *))                                           \
    X(void, lce_stats, (const fs_lce_block *, int64_t, int64_t))                               \
    X(void, lce_grad, (const fs_lce_block *, int64_t, int64_t))

/* sigmoid family (sigmoid.inc, sigmoid.c) */
#define FS_KERNELS_SIGMOID(X)                                                                  \
    X(int, sigmoid_2d, (int64_t, int64_t, const void *, int64_t, int64_t, void *, int64_t, int64_t)) \
    X(int, log_sigmoid_2d, (int64_t, int64_t, const void *, int64_t, int64_t, void *, int64_t, int64_t)) \
    X(int, bce_2d, (const fs_binary_loss_args *, double *, int64_t *))                          \
    X(int, focal_2d, (const fs_binary_loss_args *, double, double, double *, int64_t *))        \
    X(int64_t, count_outside_unit_2d, (int64_t, int64_t, const void *, int64_t, int64_t))      \
    X(int, csr_indptr_check, (const void *, int, int64_t, int64_t *))                          \
    X(int, csr_indices_check, (const int64_t *, const void *, int, int64_t, int64_t, int64_t, int64_t *))

/* sampled softmax / NCE (sampled.inc, sampling.c) */
#define FS_KERNELS_SAMPLED(X)                                                                  \
    X(void, sampled_gather_rows, (const void *, int64_t, int64_t, const int64_t *, int64_t, int64_t, \
                                  void *))                                                     \
    X(int, sampled_rows, (const fs_sampled_args *, int64_t, int64_t))                          \
    X(void, sampled_add_true_dx, (const fs_sampled_args *, int64_t, int64_t, void *))           \
    X(void, sampled_add_true_dw, (const fs_sampled_args *, const int64_t *, const int64_t *, int64_t, \
                                  int64_t, void *))

#define FS_KERNEL_LIST(X) FS_KERNELS_SOFTMAX(X) FS_KERNELS_XENT(X) FS_KERNELS_SIGMOID(X) FS_KERNELS_SAMPLED(X)

typedef struct fs_kernel_table {
#define FS_KERNEL_FIELD_(ret, name, params) ret(*name) params;
    FS_KERNEL_LIST(FS_KERNEL_FIELD_)
#undef FS_KERNEL_FIELD_
} fs_kernel_table;

/* the table symbol of one (ISA, dtype) */
#define FS_TABLE_NAME(name, dt) fs_table_##name##_##dt

/* every table this build compiles (rows of another architecture are absent) */
#define FS_TABLE_EXTERN_(ID, name, arch, target, probe) \
    FS_ISA_IF_BUILT(arch)(extern const fs_kernel_table FS_TABLE_NAME(name, f32), FS_TABLE_NAME(name, f64);)
FS_ISA_LIST(FS_TABLE_EXTERN_)
#undef FS_TABLE_EXTERN_

/* the active table of dtype dt (chosen by fs_init; dt already checked) */
const fs_kernel_table *fs_kernels(fs_dtype dt);

#endif
