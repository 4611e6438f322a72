// The header holds the types; SwiftPM needs one source file in a C target.
#include "tessera_nccl.h"
