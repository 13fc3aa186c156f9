/* The table of kernels one (ISA, dtype) instantiation exports to dispatch.c. */
#ifndef FS_OPS_H
#define FS_OPS_H
#include <stdint.h>

typedef struct fs_ops {
    int (*softmax_2d)(int64_t, int64_t, const void *, int64_t, int64_t, void *, int64_t, int64_t);
    int (*log_softmax_2d)(int64_t, int64_t, const void *, int64_t, int64_t, void *, int64_t, int64_t);
    int (*logsumexp_2d)(int64_t, int64_t, const void *, int64_t, int64_t, void *, int64_t);
    int (*softmax_backward_2d)(int64_t, int64_t, const void *, int64_t, int64_t, const void *, int64_t,
                               int64_t, void *, int64_t, int64_t);
    int (*log_softmax_backward_2d)(int64_t, int64_t, const void *, int64_t, int64_t, const void *,
                                   int64_t, int64_t, void *, int64_t, int64_t);
    void (*chunk_stats)(const void *, int64_t, double *, double *);
    void (*softmax_write)(const void *, void *, int64_t, double, double);
    void (*log_softmax_write)(const void *, void *, int64_t, double, double);
    double (*stats_logsumexp)(const void *, int64_t, double, double);
    void (*exp)(const void *, void *, int64_t);
} fs_ops;

#define FS_DECLARE_OPS(isa) \
    extern const fs_ops fs_ops_##isa##_f32; \
    extern const fs_ops fs_ops_##isa##_f64;
#endif
