/* Public entry points of the cross-entropy family: route to the active path. */
#include "fastsmce.h"
#include "kernels/kernels.h"

int fs_cross_entropy_2d(fs_dtype dt, const fs_xent_args *a) {
    if ((unsigned)dt > FS_FLOAT64 || !a || a->rows < 0 || a->cols < 0 || !a->x || !a->loss)
        return FS_ERR_ARG;
    return fs_kernels(dt)->cross_entropy_2d(a);
}
