// MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_IN_PLACE, ...) are macros over
// implementation globals that Swift cannot import; these inline functions hand them over.
#include <mpi.h>
#include <sys/prctl.h>

static inline MPI_Comm tessera_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm tessera_mpi_comm_null(void) { return MPI_COMM_NULL; }
static inline MPI_Request tessera_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline void *tessera_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Status *tessera_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Errhandler tessera_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }

/// 0 float, 1 double, 2 int32, 3 int64, 4 uint8, 5 byte.
static inline MPI_Datatype tessera_mpi_datatype(int code) {
    switch (code) {
    case 0: return MPI_FLOAT;
    case 1: return MPI_DOUBLE;
    case 2: return MPI_INT32_T;
    case 3: return MPI_INT64_T;
    case 4: return MPI_UINT8_T;
    default: return MPI_BYTE;
    }
}

/// 0 sum, 1 max, 2 min.
static inline MPI_Op tessera_mpi_op(int code) {
    switch (code) {
    case 0: return MPI_SUM;
    case 1: return MPI_MAX;
    default: return MPI_MIN;
    }
}

/// This thread's timer slack (prctl is variadic, which Swift does not import).
static inline int tessera_set_timer_slack(unsigned long nanoseconds) {
    return prctl(PR_SET_TIMERSLACK, nanoseconds, 0, 0, 0);
}
