// NCCL's types as its functions take them, for calls through dlsym'd function pointers
// (NCCL is loaded at run time; no NCCL header is needed to build).
#ifndef TESSERA_NCCL_H
#define TESSERA_NCCL_H

/// ncclUniqueId: 128 opaque bytes, passed by value to ncclCommInitRank.
typedef struct { char internal[128]; } tessera_nccl_unique_id;

#endif
