#ifndef TESSERA_COPENBLAS_SHIM_H
#define TESSERA_COPENBLAS_SHIM_H
#include <cblas.h>
// Not declared in every cblas.h; OpenBLAS exports them.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
#endif
