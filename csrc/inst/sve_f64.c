/* the sve path, f64 (see csrc/kernels/instantiate.h) */
#define FS_ISA sve
#define FS_F64 1
#include "../kernels/instantiate.h"
