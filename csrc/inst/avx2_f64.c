/* the avx2 path, f64 (see csrc/kernels/instantiate.h) */
#define FS_ISA avx2
#define FS_F64 1
#include "../kernels/instantiate.h"
