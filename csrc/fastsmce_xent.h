/* fastsmce C API, xent family (included by fastsmce.h; see csrc/kernels/family.h) */
#ifndef FASTSMCE_XENT_H
#define FASTSMCE_XENT_H
#endif
