#ifndef TESSERA_CHDF5_SHIM_H
#define TESSERA_CHDF5_SHIM_H
#include <hdf5.h>
#include <zlib.h>

// HDF5's type and property-list identifiers are macros that call H5open(); Swift cannot
// import them, so they are exposed as functions.
static inline hid_t tessera_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t tessera_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t tessera_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t tessera_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t tessera_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t tessera_h5t_native_uint16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t tessera_h5t_native_uint64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t tessera_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t tessera_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t tessera_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t tessera_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t tessera_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t tessera_h5p_file_create(void) { return H5P_FILE_CREATE; }
static inline unsigned tessera_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned tessera_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }

/// IEEE 754 half precision (1 sign, 5 exponent, 10 mantissa bits, bias 15): h5py reads it as float16.
static inline hid_t tessera_h5t_make_float16(void) {
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    if (t < 0) return t;
    if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 || H5Tset_ebias(t, 15) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/// Chunk sizes of a chunked dataset as Tessera writes it: Fletcher-32 the only filter, applied to
/// every chunk, so each stored chunk is its raw bytes plus the 4-byte checksum. 0 when so, 3 when not.
static inline int tessera_h5_check_chunks(hid_t dataset, hid_t dcpl, size_t element_bytes) {
    if (H5Pget_nfilters(dcpl) != 1) return 3;
    unsigned flags = 0, config = 0;
    size_t values = 0;
    char name[16];
    if (H5Pget_filter2(dcpl, 0, &flags, &values, NULL, sizeof name, name, &config) != H5Z_FILTER_FLETCHER32) return 3;
    hsize_t dims[32];
    int rank = H5Pget_chunk(dcpl, 32, dims);
    if (rank <= 0) return 3;
    hsize_t chunk_bytes = element_bytes;
    for (int d = 0; d < rank; d++) {
        if (dims[d] == 0 || chunk_bytes > ((hsize_t)1 << 40) / dims[d]) return 3;
        chunk_bytes *= dims[d];
    }
    hid_t space = H5Dget_space(dataset);
    if (space < 0) return -1;
    hsize_t count = 0;
    int status = 0;
    if (H5Dget_num_chunks(dataset, space, &count) < 0) status = -1;
    for (hsize_t i = 0; status == 0 && i < count; i++) {
        unsigned mask = 0;
        haddr_t address = 0;
        hsize_t size = 0;
        if (H5Dget_chunk_info(dataset, space, i, NULL, &mask, &address, &size) < 0) status = -1;
        else if (mask != 0 || size != chunk_bytes + 4) status = 3;
    }
    H5Sclose(space);
    return status;
}

/// Whether a dataset's storage is what Tessera writes, which HDF5 1.10 reads safely: chunked as
/// `tessera_h5_check_chunks` says, or contiguous or compact holding exactly `expected_bytes`.
/// 1 for a layout Tessera never writes (virtual), 2 for external files (a forged file could make
/// HDF5 read any file), 3 for stored sizes that differ from the shape's (HDF5 1.10 copies the
/// shape's byte count out of a compact message or a chunk without comparing it with what is
/// stored: heap overflows libFuzzer found), -1 when unreadable.
static inline int tessera_h5_check_storage(hid_t dataset, hsize_t expected_bytes, size_t element_bytes) {
    hid_t dcpl = H5Dget_create_plist(dataset);
    if (dcpl < 0) return -1;
    H5D_layout_t layout = H5Pget_layout(dcpl);
    int external = H5Pget_external_count(dcpl);
    int status;
    if (external < 0 || layout < 0) status = -1;
    else if (external > 0) status = 2;
    else if (layout == H5D_CHUNKED) status = tessera_h5_check_chunks(dataset, dcpl, element_bytes);
    else if (layout == H5D_COMPACT || layout == H5D_CONTIGUOUS) status = H5Dget_storage_size(dataset) == expected_bytes ? 0 : 3;
    else status = 1;
    H5Pclose(dcpl);
    return status;
}

/// Turns off HDF5's printing of its error stack: failures become Swift errors instead.
static inline void tessera_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/// Open identifiers of any kind in any file (leak checks).
static inline ssize_t tessera_h5_open_object_count(void) { return H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL); }

/// Visits every object below a group; `callback` gets each path and whether it is a dataset.
typedef int (*tessera_visit_fn)(const char *name, int is_dataset, void *context);
typedef struct { tessera_visit_fn fn; void *context; } tessera_visit_state;

static inline herr_t tessera_visit_trampoline(hid_t obj, const char *name, const H5O_info_t *info, void *data) {
    (void)obj;
    tessera_visit_state *state = (tessera_visit_state *)data;
    return state->fn(name, info->type == H5O_TYPE_DATASET, state->context);
}

static inline herr_t tessera_h5_visit(hid_t group, tessera_visit_fn fn, void *context) {
    tessera_visit_state state = { fn, context };
    return H5Ovisit(group, H5_INDEX_NAME, H5_ITER_INC, tessera_visit_trampoline, &state);
}
#endif
