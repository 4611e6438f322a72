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
