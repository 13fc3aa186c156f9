/* the avx512 path, f32 (see csrc/kernels/instantiate.h) */
#define FS_ISA avx512
#define FS_F64 0
#include "../kernels/instantiate.h"
