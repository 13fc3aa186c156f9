/* the avx2 path, f32 (see csrc/kernels/instantiate.h) */
#define FS_ISA avx2
#define FS_F64 0
#include "../kernels/instantiate.h"
