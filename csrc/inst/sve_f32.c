/* the sve path, f32 (see csrc/kernels/instantiate.h) */
#define FS_ISA sve
#define FS_F64 0
#include "../kernels/instantiate.h"
