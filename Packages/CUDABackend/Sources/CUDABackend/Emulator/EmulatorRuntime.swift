/// The host side of the CUDA emulator, as C++ that is compiled in front of every kernel
/// module (the same CUDA C text NVRTC compiles for a GPU) with the toolchain's `clang++`.
///
/// Execution model: a launch runs its blocks one after another on the calling thread; the
/// threads of a block are fibers (one stack each, switched by a few instructions on x86_64,
/// `ucontext` elsewhere) that run until they finish or wait at `__syncthreads` or a warp
/// operation. When every live thread of the block waits at the barrier it is released; a warp
/// operation is released when every lane its mask names has reached it, so shuffles and votes
/// see all their lanes' values as on a GPU. A barrier that can never be released (some threads
/// at `__syncthreads`, others at a warp operation or a different barrier) stops the launch with
/// the kernel's name, block and thread rather than hanging.
///
/// Memory checks: the emulated driver places a guard page after every device allocation, so an
/// access running past an allocation's end faults; the fault stops the launch with the
/// kernel's name, block, thread and address instead of crashing the process. Shared memory is
/// checked for races (see `access` in the prelude). Dynamic shared memory starts as 0xff bytes
/// (NaN, -1) so a read before any write shows.
enum EmulatorRuntime {
    /// Defines the CUDA built-ins kernels use; precedes the module's own source.
    static let prelude = #"""
    #define TESSERA_EMULATOR 1
    #include <cstdint>
    #include <cstring>
    #include <cstdio>
    #include <cstdarg>
    #include <cstdlib>
    #include <cmath>
    #include <csetjmp>
    #include <csignal>
    #include <utility>
    #include <type_traits>
    #include <sys/mman.h>
    #if !defined(__x86_64__)
    #include <ucontext.h>
    #endif
    #undef INFINITY

    struct uint3 { unsigned x, y, z; };
    struct dim3 { unsigned x, y, z; };
    struct __attribute__((aligned(16))) uint4 { unsigned x, y, z, w; };
    struct __attribute__((aligned(16))) int4 { int x, y, z, w; };
    struct __attribute__((aligned(16))) float4 { float x, y, z, w; };
    struct __attribute__((aligned(8))) float2 { float x, y; };
    struct __attribute__((aligned(8))) uint2 { unsigned x, y; };
    static inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
    static inline float2 make_float2(float x, float y) { return float2{x, y}; }
    static const int warpSize = 32;

    namespace emu {
    enum State { READY, AT_BARRIER, AT_WARP, DONE };
    struct Fiber {
        void* sp;
    #if !defined(__x86_64__)
        ucontext_t context;
    #endif
        int state;
        unsigned mask;
    };
    struct Launch {
        const char* kernel;
        void (*body)(void*);
        void* arguments;
        unsigned block_x, block_y, block_z, threads;
        uint3 block;
        Fiber* fibers;
        int current;
        void* scheduler_sp;
    #if !defined(__x86_64__)
        ucontext_t scheduler;
    #endif
        unsigned long long exchange[1024];
        unsigned char* dynamic_shared;
        int failed;
        char* message;
        int message_length;
        sigjmp_buf fault;
    };
    static thread_local Launch* launch;
    static const size_t stack_size = 128 * 1024;
    static thread_local char* stacks;
    static thread_local Fiber fibers[1024];
    }

    static thread_local uint3 threadIdx, blockIdx;
    static thread_local dim3 blockDim, gridDim;

    namespace emu {
    #if defined(__x86_64__)
    // Saves the callee-saved registers on the current stack, stores the stack pointer in *from,
    // switches to `to` and restores what was saved there.
    extern "C" void tessera_emu_switch(void** from, void* to);
    asm(R"(
        .text
        .p2align 4
        .type tessera_emu_switch,@function
    tessera_emu_switch:
        pushq %rbp
        pushq %rbx
        pushq %r12
        pushq %r13
        pushq %r14
        pushq %r15
        movq %rsp, (%rdi)
        movq %rsi, %rsp
        popq %r15
        popq %r14
        popq %r13
        popq %r12
        popq %rbx
        popq %rbp
        ret
        .size tessera_emu_switch, .-tessera_emu_switch
    )");
    #endif

    static inline void set_thread(int t) {
        Launch& l = *launch;
        l.current = t;
        threadIdx.x = t % l.block_x;
        threadIdx.y = (t / l.block_x) % l.block_y;
        threadIdx.z = t / (l.block_x * l.block_y);
    }

    static inline void to_scheduler() {
        Launch& l = *launch;
    #if defined(__x86_64__)
        tessera_emu_switch(&l.fibers[l.current].sp, l.scheduler_sp);
    #else
        swapcontext(&l.fibers[l.current].context, &l.scheduler);
    #endif
    }

    static void fail(const char* format, ...) __attribute__((format(printf, 1, 2)));
    static void fail(const char* format, ...) {
        Launch& l = *launch;
        if (!l.failed) {
            int used = snprintf(l.message, l.message_length, "%s, block (%u, %u, %u), thread (%u, %u, %u): ",
                                l.kernel, blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x, threadIdx.y, threadIdx.z);
            va_list args;
            va_start(args, format);
            if (used >= 0 && used < l.message_length) vsnprintf(l.message + used, l.message_length - used, format, args);
            va_end(args);
        }
        l.failed = 1;
    }

    extern "C" void tessera_emu_fiber_entry() {
        Launch& l = *launch;
        l.body(l.arguments);
        l.fibers[l.current].state = DONE;
        to_scheduler();
        __builtin_trap();  // a finished fiber is never resumed
    }

    static void resume(int t) {
        Launch& l = *launch;
        set_thread(t);
    #if defined(__x86_64__)
        tessera_emu_switch(&l.scheduler_sp, l.fibers[t].sp);
    #else
        swapcontext(&l.scheduler, &l.fibers[t].context);
    #endif
    }

    static void start(int t) {
        Launch& l = *launch;
        Fiber& f = l.fibers[t];
        f.state = READY;
        f.mask = 0;
        char* top = stacks + (size_t)(t + 1) * stack_size;
    #if defined(__x86_64__)
        // As if tessera_emu_switch had been called from the entry: six saved registers, then
        // the entry as return address, then a dummy return address (the entry never returns),
        // so the stack is 16-byte aligned at the entry's first instruction as the ABI wants.
        void** sp = (void**)((uintptr_t)top & ~(uintptr_t)15);
        *--sp = nullptr;
        *--sp = (void*)&tessera_emu_fiber_entry;
        for (int r = 0; r < 6; ++r) *--sp = nullptr;
        f.sp = sp;
    #else
        getcontext(&f.context);
        f.context.uc_stack.ss_sp = top - stack_size;
        f.context.uc_stack.ss_size = stack_size;
        f.context.uc_link = nullptr;
        makecontext(&f.context, (void (*)())tessera_emu_fiber_entry, 0);
    #endif
    }

    // Waits at __syncthreads (warp == false) or at a warp operation over `mask`.
    static void wait(bool warp, unsigned mask) {
        Launch& l = *launch;
        Fiber& f = l.fibers[l.current];
        f.state = warp ? AT_WARP : AT_BARRIER;
        f.mask = mask;
        to_scheduler();
    }

    // The lanes of warp w that exist in this block, as a mask.
    static inline unsigned existing_lanes(unsigned warp) {
        unsigned first = warp * 32, count = launch->threads - first;
        return count >= 32 ? 0xffffffffu : ((1u << count) - 1u);
    }

    struct Shadow { unsigned interval, warp_generation; int writer; };
    struct Region { uintptr_t start, end; Shadow* shadow; const char* name; };
    static thread_local Region regions[32];
    static thread_local int region_count;
    static thread_local unsigned interval = 1;
    static thread_local unsigned warp_generation[32];

    // Runs the block's threads to completion; 0, or 1 with the message written.
    static int run_block() {
        Launch& l = *launch;
        for (unsigned t = 0; t < l.threads; ++t) start((int)t);
        unsigned warps = (l.threads + 31) / 32;
        for (;;) {
            for (unsigned t = 0; t < l.threads; ++t) {
                if (l.fibers[t].state != READY) continue;
                resume((int)t);
                if (l.failed) return 1;
            }
            bool released = false, all_done = true, all_at_barrier = true;
            for (unsigned w = 0; w < warps; ++w) {
                unsigned lanes = existing_lanes(w);
                for (unsigned lane = 0; lane < 32; ++lane) {
                    if (!(lanes >> lane & 1)) continue;
                    Fiber& f = l.fibers[w * 32 + lane];
                    if (f.state != DONE) all_done = false;
                    if (f.state == AT_WARP) {
                        all_at_barrier = false;
                        unsigned group = f.mask & lanes;
                        bool complete = true;
                        for (unsigned other = 0; other < 32; ++other) {
                            if (!(group >> other & 1)) continue;
                            Fiber& g = l.fibers[w * 32 + other];
                            if (g.state == DONE) {
                                set_thread((int)(w * 32 + lane));
                                fail("a warp operation's mask 0x%08x names lane %u, which has exited", f.mask, other);
                                return 1;
                            }
                            if (g.state != AT_WARP || g.mask != f.mask) complete = false;
                        }
                        if (!(f.mask >> lane & 1)) {
                            set_thread((int)(w * 32 + lane));
                            fail("a warp operation's mask 0x%08x does not name the calling lane %u", f.mask, lane);
                            return 1;
                        }
                        if (complete) {
                            for (unsigned other = 0; other < 32; ++other)
                                if (group >> other & 1) l.fibers[w * 32 + other].state = READY;
                            ++warp_generation[w];
                            released = true;
                        }
                    } else if (f.state == READY) {
                        all_at_barrier = false;
                    }
                }
            }
            if (all_done) return 0;
            if (released) continue;
            if (all_at_barrier) {
                for (unsigned t = 0; t < l.threads; ++t) if (l.fibers[t].state == AT_BARRIER) l.fibers[t].state = READY;
                ++interval;
                continue;
            }
            for (unsigned t = 0; t < l.threads; ++t) {
                if (l.fibers[t].state == AT_BARRIER) {
                    set_thread((int)t);
                    fail("deadlock: this thread waits at __syncthreads while others of its block wait at a warp operation");
                    return 1;
                }
            }
            set_thread(0);
            fail("deadlock: warp operations whose lanes never all arrive");
            return 1;
        }
    }

    // Shared-memory race checks. The module is compiled with clang's thread-sanitizer
    // instrumentation but without its runtime: every load and store calls the __tsan_read* /
    // __tsan_write* entries below. Each shared array registers itself when its declaration
    // runs; each 4-byte word remembers which thread last wrote it and in which barrier interval
    // (and warp-synchronisation generation). Reading or overwriting a word another thread wrote
    // since the last __syncthreads (or, within a warp, the last warp operation) stops the launch.

    __attribute__((no_sanitize("thread"))) static void note_shared(const void* address, size_t bytes, const char* name) {
        if (!launch) return;
        uintptr_t start = (uintptr_t)address;
        for (int r = 0; r < region_count; ++r) if (regions[r].start == start) return;
        if (region_count == 32) return;
        Region& region = regions[region_count++];
        region.start = start;
        region.end = start + bytes;
        region.shadow = (Shadow*)calloc((bytes + 3) / 4, sizeof(Shadow));
        region.name = name;
    }
    __attribute__((no_sanitize("thread"))) static void forget_shared() {
        for (int r = 0; r < region_count; ++r) free(regions[r].shadow);
        region_count = 0;
    }
    // Device allocations, kept by the emulated driver in the support library: `lookup` answers
    // 0 (not device memory: a stack, the module's own data), 1 (inside an allocation's live
    // bytes) or 2 (inside its mapping but outside them: alignment padding, the unused tail of a
    // cached block, a block the caching allocator holds freed), with the allocation.
    typedef int (*Lookup)(uintptr_t address, size_t bytes, uintptr_t* base, size_t* live);
    static Lookup lookup;
    static void (*lock_allocations)(int);

    __attribute__((no_sanitize("thread"))) static void access(const void* address, size_t bytes, bool write) {
        Launch* l = launch;
        if (!l || l->failed) return;
        uintptr_t a = (uintptr_t)address;
        if (lookup) {
            uintptr_t base = 0;
            size_t live = 0;
            if (lookup(a, bytes, &base, &live) == 2) {
                fail("%s %zu bytes at %p, outside the %zu live bytes of the device allocation at %p",
                     write ? "writes" : "reads", bytes, address, live, (void*)base);
                to_scheduler();
            }
        }
        for (int r = 0; r < region_count; ++r) {
            Region& region = regions[r];
            if (a < region.start || a >= region.end) continue;
            int me = l->current;
            unsigned warp = (unsigned)me / 32;
            for (uintptr_t word = (a - region.start) / 4; word <= (a + bytes - 1 - region.start) / 4 && region.start + word * 4 < region.end; ++word) {
                Shadow& s = region.shadow[word];
                bool racing = s.interval == interval && s.writer != me
                    && !((unsigned)s.writer / 32 == warp && s.warp_generation != warp_generation[warp]);
                if (racing) {
                    fail("%s shared memory %s[byte %lu], which thread %d wrote with no barrier in between",
                         write ? "overwrites" : "reads", region.name, (unsigned long)(word * 4), s.writer);
                    to_scheduler();
                }
                if (write) { s.interval = interval; s.writer = me; s.warp_generation = warp_generation[warp]; }
            }
            return;
        }
    }
    }  // namespace emu
    #if defined(__has_feature)
    #if __has_feature(thread_sanitizer)
    #define EMU_ACCESS(kind, write, n) extern "C" __attribute__((visibility("hidden"), no_sanitize("thread"))) void __tsan_##kind(void* p) { emu::access(p, n, write); }
    EMU_ACCESS(read1, false, 1) EMU_ACCESS(read2, false, 2) EMU_ACCESS(read4, false, 4) EMU_ACCESS(read8, false, 8) EMU_ACCESS(read16, false, 16)
    EMU_ACCESS(write1, true, 1) EMU_ACCESS(write2, true, 2) EMU_ACCESS(write4, true, 4) EMU_ACCESS(write8, true, 8) EMU_ACCESS(write16, true, 16)
    EMU_ACCESS(unaligned_read2, false, 2) EMU_ACCESS(unaligned_read4, false, 4) EMU_ACCESS(unaligned_read8, false, 8) EMU_ACCESS(unaligned_read16, false, 16)
    EMU_ACCESS(unaligned_write2, true, 2) EMU_ACCESS(unaligned_write4, true, 4) EMU_ACCESS(unaligned_write8, true, 8) EMU_ACCESS(unaligned_write16, true, 16)
    extern "C" __attribute__((visibility("hidden"))) void __tsan_init() {}
    extern "C" void tessera_emu_attach(void* lookup, void* lock) {
        emu::lookup = (emu::Lookup)lookup;
        emu::lock_allocations = (void (*)(int))lock;
    }
    extern "C" __attribute__((visibility("hidden"), no_sanitize("thread"))) void __tsan_read_range(void* p, unsigned long n) { emu::access(p, n, false); }
    extern "C" __attribute__((visibility("hidden"), no_sanitize("thread"))) void __tsan_write_range(void* p, unsigned long n) { emu::access(p, n, true); }
    extern "C" __attribute__((visibility("hidden"))) void __tsan_vptr_read(void**) {}
    extern "C" __attribute__((visibility("hidden"))) void __tsan_vptr_update(void**, void*) {}
    extern "C" __attribute__((visibility("hidden"))) void __tsan_func_entry(void*) {}
    extern "C" __attribute__((visibility("hidden"))) void __tsan_func_exit() {}
    #endif
    #endif
    namespace emu {

    // The fault handler is installed once per module and never removed (launches on several
    // host threads at once must not restore each other's handlers); a fault on a thread that
    // is not running this module's kernel goes to the handler that was there before.
    static thread_local Launch* faulting;
    static struct sigaction previous_segv, previous_bus;
    static void on_fault(int signal, siginfo_t* info, void* context) {
        Launch* l = faulting;
        if (!l) {
            struct sigaction& previous = signal == SIGSEGV ? previous_segv : previous_bus;
            if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction) { previous.sa_sigaction(signal, info, context); return; }
            if (!(previous.sa_flags & SA_SIGINFO) && previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
                previous.sa_handler(signal);
                return;
            }
            ::signal(signal, SIG_DFL);
            raise(signal);
            return;
        }
        fail("invalid %s access at address %p (outside every live device allocation)",
             signal == SIGSEGV ? "memory" : "bus", info->si_addr);
        siglongjmp(l->fault, 1);
    }
    static void install_fault_handler() {
        static bool installed = [] {
            struct sigaction action;
            memset(&action, 0, sizeof action);
            action.sa_sigaction = on_fault;
            action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
            sigemptyset(&action.sa_mask);
            sigaction(SIGSEGV, &action, &previous_segv);
            sigaction(SIGBUS, &action, &previous_bus);
            return true;
        }();
        (void)installed;
    }

    // Runs every block of the grid. Returns 0, or 1 with `message` saying what went wrong.
    static int run_grid(const char* kernel, void (*body)(void*), void* arguments, const unsigned* dims,
                        unsigned shared_bytes, char* message, int message_length) {
        if (!stacks) {
            void* memory = mmap(nullptr, stack_size * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (memory == MAP_FAILED) { snprintf(message, message_length, "%s: no memory for the emulated threads' stacks", kernel); return 1; }
            stacks = (char*)memory;
        }
        static thread_local Launch state;
        Launch& l = state;
        l.kernel = kernel; l.body = body; l.arguments = arguments;
        l.block_x = dims[3]; l.block_y = dims[4]; l.block_z = dims[5];
        l.threads = dims[3] * dims[4] * dims[5];
        l.fibers = fibers; l.failed = 0; l.message = message; l.message_length = message_length;
        if (l.threads == 0 || l.threads > 1024 || dims[0] == 0 || dims[1] == 0 || dims[2] == 0) {
            snprintf(message, message_length, "%s: grid (%u, %u, %u) and block (%u, %u, %u) are not a valid launch",
                     kernel, dims[0], dims[1], dims[2], dims[3], dims[4], dims[5]);
            return 1;
        }
        unsigned char* shared = nullptr;
        if (shared_bytes) {
            shared = (unsigned char*)aligned_alloc(16, (shared_bytes + 15) & ~15u);
            if (!shared) { snprintf(message, message_length, "%s: no memory for %u bytes of shared memory", kernel, shared_bytes); return 1; }
        }
        l.dynamic_shared = shared;
        gridDim.x = dims[0]; gridDim.y = dims[1]; gridDim.z = dims[2];
        blockDim.x = dims[3]; blockDim.y = dims[4]; blockDim.z = dims[5];
        Launch* previous = launch;
        launch = &l;
        install_fault_handler();
        // Allocations stay as they are while a launch runs (other host threads wait to change them).
        if (lock_allocations) lock_allocations(1);
        faulting = &l;
        int status = 0;
        if (sigsetjmp(l.fault, 1) != 0) {
            status = 1;
        } else {
            for (unsigned z = 0; z < dims[2] && !status; ++z)
                for (unsigned y = 0; y < dims[1] && !status; ++y)
                    for (unsigned x = 0; x < dims[0] && !status; ++x) {
                        blockIdx.x = x; blockIdx.y = y; blockIdx.z = z;
                        // Uninitialised shared memory reads as NaN / -1 rather than zeros.
                        if (shared) memset(shared, 0xff, shared_bytes);
                        forget_shared();
                        if (shared) note_shared(shared, shared_bytes, "(extern __shared__)");
                        status = run_block();
                    }
        }
        forget_shared();
        faulting = nullptr;
        if (lock_allocations) lock_allocations(0);
        launch = previous;
        free(shared);
        return status;
    }

    template <class... A> struct Kernel {
        void (*function)(A...);
        void** arguments;
        template <size_t... I> void call(std::index_sequence<I...>) {
            function(*static_cast<std::decay_t<A>*>(arguments[I])...);
        }
        static void body(void* kernel) { static_cast<Kernel*>(kernel)->call(std::index_sequence_for<A...>{}); }
    };

    template <class... A> static int launch_kernel(const char* name, void (*function)(A...), const unsigned* dims,
                                                   unsigned shared_bytes, void** arguments, char* message, int length) {
        Kernel<A...> kernel{function, arguments};
        return run_grid(name, &Kernel<A...>::body, &kernel, dims, shared_bytes, message, length);
    }

    static inline unsigned char* dynamic_shared() { return launch->dynamic_shared; }
    static inline unsigned lane_id() { return (unsigned)launch->current & 31u; }
    static inline unsigned warp_base() { return (unsigned)launch->current & ~31u; }
    }  // namespace emu

    // ---- CUDA built-ins ----
    #define __global__
    #define __device__
    #define __host__
    #define __forceinline__ inline __attribute__((always_inline))
    #define __noinline__ __attribute__((noinline))
    #define __shared__ static thread_local
    #define __constant__ static
    #define __restrict__ __restrict
    #define __launch_bounds__(...)
    #define __align__(n) __attribute__((aligned(n)))

    static inline void __syncthreads() { emu::wait(false, 0); }
    static inline void __syncwarp(unsigned mask = 0xffffffffu) { emu::wait(true, mask & emu::existing_lanes(emu::launch->current / 32)); }
    static inline void __threadfence() {}
    static inline void __threadfence_block() {}
    static inline unsigned __activemask() { return emu::existing_lanes(emu::launch->current / 32); }
    static inline long long clock64() { return 0; }

    // Every lane of `mask` stores its value, waits for the others, reads lane `source`'s value,
    // then waits again so no lane overwrites its slot before all have read.
    template <class V> static inline V emu_exchange(unsigned mask, V value, int source, bool valid) {
        static_assert(sizeof(V) <= 8, "warp shuffles of values up to 8 bytes");
        emu::Launch& l = *emu::launch;
        unsigned me = (unsigned)l.current;
        memcpy(&l.exchange[me], &value, sizeof(V));
        emu::wait(true, mask);
        V result = value;
        unsigned from = emu::warp_base() + (unsigned)source;
        if (valid && from < l.threads && (mask >> source & 1)) memcpy(&result, &l.exchange[from], sizeof(V));
        emu::wait(true, mask);
        return result;
    }
    template <class V> static inline V __shfl_sync(unsigned mask, V v, int src, int width = 32) {
        int lane = (int)emu::lane_id(), base = lane & ~(width - 1);
        return emu_exchange(mask, v, base + (src & (width - 1)), true);
    }
    template <class V> static inline V __shfl_down_sync(unsigned mask, V v, unsigned delta, int width = 32) {
        int lane = (int)emu::lane_id(), segment = lane & (width - 1);
        return emu_exchange(mask, v, lane + (int)delta, segment + (int)delta < width);
    }
    template <class V> static inline V __shfl_up_sync(unsigned mask, V v, unsigned delta, int width = 32) {
        int lane = (int)emu::lane_id(), segment = lane & (width - 1);
        return emu_exchange(mask, v, lane - (int)delta, segment >= (int)delta);
    }
    template <class V> static inline V __shfl_xor_sync(unsigned mask, V v, int lane_mask, int width = 32) {
        int lane = (int)emu::lane_id(), target = lane ^ lane_mask;
        return emu_exchange(mask, v, target, (target & ~(width - 1)) == (lane & ~(width - 1)));
    }
    static inline unsigned __ballot_sync(unsigned mask, int predicate) {
        emu::Launch& l = *emu::launch;
        unsigned me = (unsigned)l.current;
        l.exchange[me] = predicate != 0;
        emu::wait(true, mask);
        unsigned bits = 0;
        for (unsigned lane = 0; lane < 32; ++lane)
            if ((mask >> lane & 1) && emu::warp_base() + lane < l.threads && l.exchange[emu::warp_base() + lane]) bits |= 1u << lane;
        emu::wait(true, mask);
        return bits;
    }
    static inline int __any_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) != 0; }
    static inline int __all_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) == (mask & __activemask()); }
    static inline int __syncthreads_count(int predicate) {
        emu::Launch& l = *emu::launch;
        l.exchange[l.current] = predicate != 0;
        __syncthreads();
        int count = 0;
        for (unsigned t = 0; t < l.threads; ++t) count += (int)l.exchange[t];
        __syncthreads();
        return count;
    }
    static inline int __syncthreads_or(int predicate) { return __syncthreads_count(predicate) != 0; }
    static inline int __syncthreads_and(int predicate) { return __syncthreads_count(predicate) == (int)emu::launch->threads; }

    // Atomics (blocks run one at a time, but a kernel may be launched from several host threads).
    template <class V> static inline V emu_atomic_add_integer(V* p, V v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
    static inline int atomicAdd(int* p, int v) { return emu_atomic_add_integer(p, v); }
    static inline unsigned atomicAdd(unsigned* p, unsigned v) { return emu_atomic_add_integer(p, v); }
    static inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) { return emu_atomic_add_integer(p, v); }
    template <class V, class Bits> static inline V emu_atomic_add_float(V* p, V v) {
        Bits old = __atomic_load_n((Bits*)p, __ATOMIC_RELAXED), updated;
        V current;
        do {
            memcpy(&current, &old, sizeof(V));
            V sum = current + v;
            memcpy(&updated, &sum, sizeof(V));
        } while (!__atomic_compare_exchange_n((Bits*)p, &old, updated, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
        return current;
    }
    static inline float atomicAdd(float* p, float v) { return emu_atomic_add_float<float, unsigned>(p, v); }
    static inline double atomicAdd(double* p, double v) { return emu_atomic_add_float<double, unsigned long long>(p, v); }
    template <class V> static inline V emu_atomic_cas(V* p, V compare, V value) {
        __atomic_compare_exchange_n(p, &compare, value, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
        return compare;
    }
    static inline int atomicCAS(int* p, int c, int v) { return emu_atomic_cas(p, c, v); }
    static inline unsigned atomicCAS(unsigned* p, unsigned c, unsigned v) { return emu_atomic_cas(p, c, v); }
    static inline unsigned long long atomicCAS(unsigned long long* p, unsigned long long c, unsigned long long v) { return emu_atomic_cas(p, c, v); }
    template <class V> static inline V atomicExch(V* p, V v) { return __atomic_exchange_n(p, v, __ATOMIC_RELAXED); }
    template <class V> static inline V atomicSub(V* p, V v) { return __atomic_fetch_sub(p, v, __ATOMIC_RELAXED); }
    template <class V> static inline V atomicAnd(V* p, V v) { return __atomic_fetch_and(p, v, __ATOMIC_RELAXED); }
    template <class V> static inline V atomicOr(V* p, V v) { return __atomic_fetch_or(p, v, __ATOMIC_RELAXED); }
    template <class V> static inline V atomicXor(V* p, V v) { return __atomic_fetch_xor(p, v, __ATOMIC_RELAXED); }
    template <class V> static inline V atomicMax(V* p, V v) { V old = __atomic_load_n(p, __ATOMIC_RELAXED); while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {} return old; }
    template <class V> static inline V atomicMin(V* p, V v) { V old = __atomic_load_n(p, __ATOMIC_RELAXED); while (old > v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {} return old; }

    // Bit casts and integer intrinsics.
    template <class To, class From> static inline To emu_bit_cast(From v) { To t; memcpy(&t, &v, sizeof(To)); return t; }
    static inline float __int_as_float(int v) { return emu_bit_cast<float>(v); }
    static inline float __uint_as_float(unsigned v) { return emu_bit_cast<float>(v); }
    static inline int __float_as_int(float v) { return emu_bit_cast<int>(v); }
    static inline unsigned __float_as_uint(float v) { return emu_bit_cast<unsigned>(v); }
    static inline double __longlong_as_double(long long v) { return emu_bit_cast<double>(v); }
    static inline long long __double_as_longlong(double v) { return emu_bit_cast<long long>(v); }
    static inline int __popc(unsigned v) { return __builtin_popcount(v); }
    static inline int __popcll(unsigned long long v) { return __builtin_popcountll(v); }
    static inline int __clz(int v) { return v == 0 ? 32 : __builtin_clz((unsigned)v); }
    static inline int __ffs(int v) { return __builtin_ffs(v); }
    static inline unsigned __brev(unsigned v) { return __builtin_bitreverse32(v); }
    static inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }

    // Math: the C++ overloads (float arguments stay float), and CUDA's extra names.
    using std::exp; using std::log; using std::log1p; using std::expm1; using std::sqrt; using std::sin; using std::cos;
    using std::tan; using std::tanh; using std::erf; using std::erfc; using std::pow; using std::floor; using std::ceil;
    using std::fabs; using std::fmax; using std::fmin; using std::round; using std::trunc; using std::atan2; using std::exp2;
    using std::log2; using std::isnan; using std::isinf; using std::fma; using std::abs; using std::sinh; using std::cosh;
    using std::asin; using std::acos; using std::atan; using std::cbrt; using std::hypot; using std::fmod; using std::lgamma;
    static inline float rsqrt(float x) { return 1.0f / std::sqrt(x); }
    static inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
    static inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
    // glibc declares these names itself.
    #define __expf(x) expf(x)
    #define __logf(x) logf(x)
    #define __sinf(x) sinf(x)
    #define __cosf(x) cosf(x)
    #define __powf(x, y) powf(x, y)
    static inline float __fdividef(float x, float y) { return x / y; }
    static inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
    template <class A, class B> static inline auto min(A a, B b) -> decltype(a + b) { return a < b ? a : b; }
    template <class A, class B> static inline auto max(A a, B b) -> decltype(a + b) { return a > b ? a : b; }

    // Half precision for user kernels.
    typedef _Float16 __half;
    struct __nv_bfloat16 { unsigned short bits; };
    static inline __half __float2half(float f) { return (__half)f; }
    static inline float __half2float(__half h) { return (float)h; }
    static inline float __bfloat162float(__nv_bfloat16 b) { return __uint_as_float((unsigned)b.bits << 16); }
    static inline __nv_bfloat16 __float2bfloat16(float f) {
        unsigned u = __float_as_uint(f);
        if ((u & 0x7fffffffu) > 0x7f800000u) return __nv_bfloat16{(unsigned short)((u >> 16) | 0x40u)};
        u += 0x7fffu + ((u >> 16) & 1u);
        return __nv_bfloat16{(unsigned short)(u >> 16)};
    }
    """#
}

extension EmulatorRuntime {
    /// The emulated driver's support library, compiled once: the table of device allocations
    /// the modules' memory checks consult, and cuBLAS's strided batched GEMM (column-major, as
    /// cuBLAS) on host memory: float32 and float64 as themselves, float16 and bfloat16 with
    /// float32 accumulation as `cublasGemmStridedBatchedEx` with CUBLAS_COMPUTE_32F does.
    static let support = #"""
    #include <cstdint>
    #include <cstring>
    #include <pthread.h>
    #include <vector>
    #include <algorithm>

    // Each allocation's mapping [start, end) and its live bytes [live_start, live_end).
    struct Allocation { uintptr_t start, end, live_start, live_end; };
    static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
    static std::vector<Allocation> table;  // by start

    // The entry whose mapping holds `address`, or table.end().
    static std::vector<Allocation>::iterator holding(uintptr_t address) {
        auto after = std::upper_bound(table.begin(), table.end(), address, [](uintptr_t a, const Allocation& e) { return a < e.start; });
        if (after == table.begin()) return table.end();
        auto entry = after - 1;
        return address < entry->end ? entry : table.end();
    }
    extern "C" void tessera_emu_track(uintptr_t start, uintptr_t end, uintptr_t live_start, size_t live) {
        pthread_rwlock_wrlock(&lock);
        Allocation entry{start, end, live_start, live_start + live};
        table.insert(std::upper_bound(table.begin(), table.end(), start, [](uintptr_t a, const Allocation& e) { return a < e.start; }), entry);
        pthread_rwlock_unlock(&lock);
    }
    extern "C" void tessera_emu_untrack(uintptr_t live_start) {
        pthread_rwlock_wrlock(&lock);
        auto entry = holding(live_start);
        if (entry != table.end()) table.erase(entry);
        pthread_rwlock_unlock(&lock);
    }
    extern "C" void tessera_emu_set_live(uintptr_t live_start, size_t live) {
        pthread_rwlock_wrlock(&lock);
        auto entry = holding(live_start);
        if (entry != table.end()) entry->live_end = entry->live_start + live;
        pthread_rwlock_unlock(&lock);
    }
    extern "C" void tessera_emu_lock(int read) {
        if (read) pthread_rwlock_rdlock(&lock); else pthread_rwlock_unlock(&lock);
    }
    // Called with the read lock held (a launch holds it throughout).
    extern "C" int tessera_emu_lookup(uintptr_t address, size_t bytes, uintptr_t* base, size_t* live) {
        auto entry = holding(address);
        if (entry == table.end()) return 0;
        if (address >= entry->live_start && address + bytes <= entry->live_end) return 1;
        *base = entry->live_start;
        *live = entry->live_end - entry->live_start;
        return 2;
    }

    typedef long long i64;
    static inline float load_half(const void* p, i64 i) { _Float16 v; memcpy(&v, (const char*)p + 2 * i, 2); return (float)v; }
    static inline void store_half(void* p, i64 i, float f) { _Float16 v = (_Float16)f; memcpy((char*)p + 2 * i, &v, 2); }
    static inline float load_bf16(const void* p, i64 i) { unsigned short h; memcpy(&h, (const char*)p + 2 * i, 2); unsigned u = (unsigned)h << 16; float f; memcpy(&f, &u, 4); return f; }
    static inline void store_bf16(void* p, i64 i, float f) {
        unsigned u; memcpy(&u, &f, 4);
        unsigned short h = (u & 0x7fffffffu) > 0x7f800000u ? (unsigned short)((u >> 16) | 0x40u) : (unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
        memcpy((char*)p + 2 * i, &h, 2);
    }
    // type: 0 float32, 1 float64, 2 float16, 14 bfloat16 (cudaDataType). Returns a cuBLAS status.
    template <class Acc> static int gemm(int type, int ta, int tb, int m, int n, int k, Acc alpha, const void* a, int lda, i64 sa,
                                         const void* b, int ldb, i64 sb, Acc beta, void* c, int ldc, i64 sc, int batch) {
        if (m < 0 || n < 0 || k < 0 || batch < 0) return 7;  // CUBLAS_STATUS_INVALID_VALUE
        if (lda < (ta == 0 ? (m > 1 ? m : 1) : (k > 1 ? k : 1)) || ldb < (tb == 0 ? (k > 1 ? k : 1) : (n > 1 ? n : 1)) || ldc < (m > 1 ? m : 1)) return 7;
        auto load = [type](const void* p, i64 i) -> Acc {
            switch (type) {
            case 0: return (Acc)((const float*)p)[i];
            case 1: return (Acc)((const double*)p)[i];
            case 2: return (Acc)load_half(p, i);
            default: return (Acc)load_bf16(p, i);
            }
        };
        auto store = [type](void* p, i64 i, Acc v) {
            switch (type) {
            case 0: ((float*)p)[i] = (float)v; break;
            case 1: ((double*)p)[i] = (double)v; break;
            case 2: store_half(p, i, (float)v); break;
            default: store_bf16(p, i, (float)v); break;
            }
        };
        for (int q = 0; q < batch; ++q) {
            i64 ao = q * sa, bo = q * sb, co = q * sc;
            for (int j = 0; j < n; ++j) {
                for (int i = 0; i < m; ++i) {
                    Acc acc = 0;
                    for (int p = 0; p < k; ++p) {
                        Acc x = load(a, ao + (ta == 0 ? i + (i64)p * lda : p + (i64)i * lda));
                        Acc y = load(b, bo + (tb == 0 ? p + (i64)j * ldb : j + (i64)p * ldb));
                        acc += x * y;
                    }
                    i64 at = co + i + (i64)j * ldc;
                    store(c, at, alpha * acc + (beta == 0 ? (Acc)0 : beta * load(c, at)));
                }
            }
        }
        return 0;
    }
    extern "C" int tessera_emu_gemm(int type, int ta, int tb, int m, int n, int k, const void* alpha, const void* a, int lda, i64 sa,
                                    const void* b, int ldb, i64 sb, const void* beta, void* c, int ldc, i64 sc, int batch) {
        if (type == 1) return gemm<double>(type, ta, tb, m, n, k, *(const double*)alpha, a, lda, sa, b, ldb, sb, *(const double*)beta, c, ldc, sc, batch);
        if (type == 0 || type == 2 || type == 14)
            return gemm<float>(type, ta, tb, m, n, k, *(const float*)alpha, a, lda, sa, b, ldb, sb, *(const float*)beta, c, ldc, sc, batch);
        return 15;  // CUBLAS_STATUS_NOT_SUPPORTED
    }
    """#
}
