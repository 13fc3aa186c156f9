/* the scalar path, f64 (see csrc/kernels/instantiate.h) */
#define FS_ISA scalar
#define FS_F64 1
#include "../kernels/instantiate.h"
