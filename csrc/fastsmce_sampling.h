/* fastsmce C API, sampling family (included by fastsmce.h; see csrc/kernels/family.h) */
#ifndef FASTSMCE_SAMPLING_H
#define FASTSMCE_SAMPLING_H
#endif
