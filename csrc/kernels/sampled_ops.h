/* The table of sampled-softmax / NCE kernels one (ISA, dtype) instantiation
 * exports (csrc/kernels/sampled.inc; public wrappers in csrc/sampling.c). */
#ifndef FS_SAMPLED_OPS_H
#define FS_SAMPLED_OPS_H
#include "../fastsmce.h"

typedef struct fs_sampled_ops {
    void (*gather_rows)(const void *, int64_t, int64_t, const int64_t *, int64_t, int64_t, void *);
    int (*rows)(const fs_sampled_args *, int64_t, int64_t);
    void (*add_true_dx)(const fs_sampled_args *, int64_t, int64_t, void *);
    void (*add_true_dw)(const fs_sampled_args *, const int64_t *, const int64_t *, int64_t, int64_t,
                        void *);
} fs_sampled_ops;
#endif
