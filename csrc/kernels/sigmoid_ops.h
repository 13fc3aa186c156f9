/* The table of sigmoid-family kernels one (ISA, dtype) instantiation exports
 * (see family.h); csrc/sigmoid.c routes the public entry points through it. */
#ifndef FS_SIGMOID_OPS_H
#define FS_SIGMOID_OPS_H
#include <stdint.h>
#include "../fastsmce.h"

typedef int (*fs_elementwise_2d_fn)(int64_t rows, int64_t cols, const void *x, int64_t x_rs,
                                    int64_t x_cs, void *y, int64_t y_rs, int64_t y_cs);

typedef struct fs_sigmoid_ops {
    fs_elementwise_2d_fn sigmoid_2d, log_sigmoid_2d;
    int (*bce_2d)(const fs_binary_loss_args *a, double *sum, int64_t *bad);
    int (*focal_2d)(const fs_binary_loss_args *a, double alpha, double gamma, double *sum,
                    int64_t *bad);
    int64_t (*count_outside_unit_2d)(int64_t rows, int64_t cols, const void *z, int64_t z_rs,
                                     int64_t z_cs);
} fs_sigmoid_ops;
#endif
