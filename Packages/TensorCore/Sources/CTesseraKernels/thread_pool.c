// One small fork-join pool for the GEMM and the element-wise loops. OpenBLAS's own workers
// spin in sched_yield between calls and fought our Dispatch workers for the two cores; a
// single pool whose helpers spin briefly (then sleep on a futex) serves both with ~1 µs
// wake-up, which matters for the many small GEMMs of a recurrent step.
#include "CTesseraKernels.h"
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

enum { MAX_HELPERS = 63 };

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;   // one job at a time
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;  // creating helpers
// Both are read without a lock on every call (the fast path must not take one); relaxed
// atomics make those reads well defined when a thread changes the count meanwhile.
static _Atomic int helper_count = 0;                            // helpers started
static _Atomic int wanted_threads = 1;                          // including the caller
static long spin_nanoseconds = 200000;

// The current job. Its function and context are written before `ticket` is published with
// a release store; a task is claimed by a CAS on `ticket`, which packs the job's number,
// task count and next index, so a helper arriving late can never claim a task of a job
// other than the one whose fields it then reads (the job cannot finish, and its fields
// cannot change, while a claimed task is still running).
static tessera_task_fn job_fn;
static void *job_context;
static _Atomic uint64_t ticket;          // job:20 | count:22 | next:22
static _Atomic long job_done;
static _Atomic int job_helpers;          // helpers allowed to join this job
static _Atomic uint32_t generation;      // wakes helpers
static _Atomic int sleepers;

#define TICKET_BITS 22
#define TICKET_MASK ((1ULL << TICKET_BITS) - 1)

static __thread int inside_pool = 0;

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void run_tasks(void) {
    uint64_t t = atomic_load_explicit(&ticket, memory_order_acquire);
    for (;;) {
        uint64_t next = t & TICKET_MASK, count = (t >> TICKET_BITS) & TICKET_MASK;
        if (next >= count) return;
        if (!atomic_compare_exchange_weak_explicit(&ticket, &t, t + 1, memory_order_acq_rel, memory_order_acquire))
            continue;
        job_fn(job_context, (long)next);
        atomic_fetch_add_explicit(&job_done, 1, memory_order_release);
        t = atomic_load_explicit(&ticket, memory_order_acquire);
    }
}

static void *helper_main(void *arg) {
    int index = (int)(long)arg;
    inside_pool = 1;
    uint32_t seen = atomic_load_explicit(&generation, memory_order_acquire);
    for (;;) {
        // Spin a little: the next job usually follows within microseconds.
        long deadline = now_ns() + spin_nanoseconds;
        uint32_t g;
        for (int n = 0;; n++) {
            g = atomic_load_explicit(&generation, memory_order_acquire);
            if (g != seen) break;
            if ((n & 63) == 63 && now_ns() > deadline) {
                atomic_fetch_add(&sleepers, 1);
                g = atomic_load_explicit(&generation, memory_order_acquire);
                if (g == seen) syscall(SYS_futex, &generation, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
                atomic_fetch_sub(&sleepers, 1);
                deadline = now_ns() + spin_nanoseconds;
                n = 0;
            }
            CPU_RELAX();
        }
        seen = g;
        if (index < atomic_load_explicit(&job_helpers, memory_order_acquire)) run_tasks();
    }
    return NULL;
}

void tessera_pool_set_threads(int threads) {
    int clamped = threads < 1 ? 1 : (threads > MAX_HELPERS + 1 ? MAX_HELPERS + 1 : threads);
    atomic_store_explicit(&wanted_threads, clamped, memory_order_relaxed);
}

int tessera_pool_threads(void) { return atomic_load_explicit(&wanted_threads, memory_order_relaxed); }

static void ensure_helpers(int n) {
    pthread_mutex_lock(&start_lock);
    while (atomic_load_explicit(&helper_count, memory_order_relaxed) < n) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int index = atomic_load_explicit(&helper_count, memory_order_relaxed);
        if (pthread_create(&thread, &attr, helper_main, (void *)(long)index) != 0) {
            pthread_attr_destroy(&attr);
            break;
        }
        pthread_attr_destroy(&attr);
        atomic_store_explicit(&helper_count, index + 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&start_lock);
}

void tessera_pool_run(tessera_task_fn fn, void *context, long count) {
    if (count <= 0) return;
    // Nested calls (a task that parallelises again) and calls while another thread holds
    // the pool run on the calling thread: correct, and never deadlocks.
    int wanted = atomic_load_explicit(&wanted_threads, memory_order_relaxed);
    if (count == 1 || count > (long)TICKET_MASK || inside_pool || wanted <= 1 || pthread_mutex_trylock(&pool_lock) != 0) {
        for (long i = 0; i < count; i++) fn(context, i);
        return;
    }
    int helpers = wanted - 1;
    if (helpers > count - 1) helpers = (int)count - 1;
    if (atomic_load_explicit(&helper_count, memory_order_relaxed) < helpers) ensure_helpers(helpers);
    int started = atomic_load_explicit(&helper_count, memory_order_relaxed);
    if (helpers > started) helpers = started;
    job_fn = fn;
    job_context = context;
    atomic_store_explicit(&job_done, 0, memory_order_relaxed);
    atomic_store_explicit(&job_helpers, helpers, memory_order_relaxed);
    static uint64_t jobs = 0;
    jobs = (jobs + 1) & ((1ULL << (64 - 2 * TICKET_BITS)) - 1);
    atomic_store_explicit(&ticket, (jobs << (2 * TICKET_BITS)) | ((uint64_t)count << TICKET_BITS), memory_order_release);
    atomic_fetch_add_explicit(&generation, 1, memory_order_release);
    if (atomic_load(&sleepers) > 0) syscall(SYS_futex, &generation, FUTEX_WAKE_PRIVATE, MAX_HELPERS, NULL, NULL, 0);
    inside_pool = 1;
    run_tasks();
    inside_pool = 0;
    while (atomic_load_explicit(&job_done, memory_order_acquire) < count) CPU_RELAX();
    pthread_mutex_unlock(&pool_lock);
}
