/* Public entry points of the cross-entropy family: route to the active path. */
#include "fastsmce.h"
#include "kernels/kernels.h"

int fs_cross_entropy_2d(fs_dtype dt, const fs_xent_args *a) {
    if ((unsigned)dt > FS_FLOAT64 || !a || a->rows < 0 || a->cols < 0 || !a->x || !a->loss)
        return FS_ERR_ARG;
    return fs_kernels(dt)->cross_entropy_2d(a);
}

static int lce_ok(fs_dtype dt, const fs_lce_block *b, int64_t r0, int64_t r1) {
    return (unsigned)dt <= FS_FLOAT64 && b && b->z && b->label && b->rows >= 0 && b->cols >= 0 &&
           b->ld >= b->cols && 0 <= r0 && r0 <= r1 && r1 <= b->rows && !(b->softcap < 0);
}

int fs_lce_stats(fs_dtype dt, const fs_lce_block *b, int64_t r0, int64_t r1) {
    if (!lce_ok(dt, b, r0, r1) || !b->m || !b->s || !b->zy) return FS_ERR_ARG;
    fs_kernels(dt)->lce_stats(b, r0, r1);
    return FS_OK;
}

int fs_lce_grad(fs_dtype dt, const fs_lce_block *b, int64_t r0, int64_t r1) {
    if (!lce_ok(dt, b, r0, r1) || !b->m || !b->k || !b->ky) return FS_ERR_ARG;
    fs_kernels(dt)->lce_grad(b, r0, r1);
    return FS_OK;
}
