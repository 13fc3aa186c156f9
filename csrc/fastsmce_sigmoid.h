/* fastsmce C API, sigmoid family (included by fastsmce.h; see csrc/kernels/family.h) */
#ifndef FASTSMCE_SIGMOID_H
#define FASTSMCE_SIGMOID_H
#endif
