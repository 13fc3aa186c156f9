/* The cross-entropy kernels one (ISA, dtype) instantiation exports (see family.h). */
#ifndef FS_XENT_OPS_H
#define FS_XENT_OPS_H
#include "../fastsmce.h"

typedef struct fs_xent_ops {
    int (*cross_entropy_2d)(const fs_xent_args *a);
} fs_xent_ops;
#endif
