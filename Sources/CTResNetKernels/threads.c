// A minimal fork-join pool: worker threads spin briefly, then sleep on a condition variable, between parallel
// regions. One region runs at a time; a second concurrent caller runs its region on its own thread.
// The parts of a region are claimed, not assigned: the caller and every awake worker take the next unclaimed part
// until none is left, and the caller returns when every part is done. A worker that is late (asleep, or not
// scheduled on a machine busy with other work) then costs nothing: the others take its parts, and nobody waits
// for it to acknowledge a region it never joined. The caller claims from the front and the workers from the back,
// so with two threads each keeps to its own half of every region: the kernels split parts by pixels, so a thread
// mostly reads the activations it wrote itself in the layer before (on a machine whose two cores are far apart,
// e.g. on two dies, every cache line the other core wrote costs a slow transfer).
#include "tresnet_kernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define TK_MAX_THREADS 64
/// Pause iterations a worker spins before it sleeps (a few hundred microseconds).
#define TK_SPIN_LIMIT 20000

static inline void tk_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static atomic_int tk_requested; // 0: not set yet
static pthread_mutex_t tk_dispatch = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t tk_sleep = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tk_wake = PTHREAD_COND_INITIALIZER;
static atomic_uint tk_generation;
/// The region's claim word: generation << 32 | end << 16 | begin: parts [begin, end) are unclaimed.
static _Atomic unsigned long long tk_claim;
/// Parts of the current region finished.
static atomic_int tk_done;
static int tk_workers; // started so far; only changed under tk_dispatch
// Written by the caller before it publishes a region's claim word and not changed until every part of that
// region is done, so a thread that claims a part (which keeps the region open) reads this region's values.
static void (*tk_fn)(void *, int, int);
static void *tk_context;
static int tk_count;

void tk_set_threads(int n) { atomic_store(&tk_requested, n < 1 ? 1 : n > TK_MAX_THREADS ? TK_MAX_THREADS : n); }

int tk_threads(void) {
    int n = atomic_load(&tk_requested);
    if (n > 0) return n;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online < 1 ? 1 : online > TK_MAX_THREADS ? TK_MAX_THREADS : (int)online;
}

typedef struct {
    int index;
    unsigned generation;
} tk_start;

/// Claims and runs parts of region `generation` until none is left (or the region is over): the first unclaimed
/// part when `front`, else the last.
static void tk_run_parts(unsigned generation, int front) {
    for (;;) {
        unsigned long long word = atomic_load(&tk_claim);
        if ((unsigned)(word >> 32) != generation) return;
        const int end = (int)((word >> 16) & 0xFFFF), begin = (int)(word & 0xFFFF);
        if (begin >= end) return;
        void (*fn)(void *, int, int) = tk_fn;
        void *context = tk_context;
        const int count = tk_count;
        const unsigned long long claimed = front ? word + 1 : word - (1ull << 16);
        if (!atomic_compare_exchange_weak(&tk_claim, &word, claimed)) continue;
        fn(context, front ? begin : end - 1, count);
        atomic_fetch_add(&tk_done, 1);
    }
}

static void *tk_worker(void *argument) {
    tk_start start = *(tk_start *)argument;
    free(argument);
    unsigned seen = start.generation;
    for (;;) {
        unsigned now;
        int spins = 0;
        while ((now = atomic_load_explicit(&tk_generation, memory_order_acquire)) == seen) {
            if (++spins < TK_SPIN_LIMIT) {
                tk_pause();
                continue;
            }
            pthread_mutex_lock(&tk_sleep);
            while (atomic_load_explicit(&tk_generation, memory_order_acquire) == seen)
                pthread_cond_wait(&tk_wake, &tk_sleep);
            pthread_mutex_unlock(&tk_sleep);
        }
        seen = now;
        if (start.index < tk_threads()) // workers beyond a lowered thread count stay out
            tk_run_parts(now, 0);
    }
    return NULL;
}

void tk_parallel(int count, void (*fn)(void *, int, int), void *context) {
    if (count > TK_MAX_THREADS) count = TK_MAX_THREADS;
    if (count <= 1 || pthread_mutex_trylock(&tk_dispatch) != 0) {
        for (int t = 0; t < (count < 1 ? 1 : count); t++) fn(context, t, count < 1 ? 1 : count);
        return;
    }
    unsigned generation = atomic_load(&tk_generation);
    const int threads = count < tk_threads() ? count : tk_threads(); // parts may outnumber threads
    while (tk_workers < threads - 1) {
        tk_start *start = malloc(sizeof *start);
        pthread_t thread;
        if (!start) break;
        start->index = tk_workers + 1;
        start->generation = generation;
        if (pthread_create(&thread, NULL, tk_worker, start) != 0) {
            free(start);
            break;
        }
        pthread_detach(thread);
        tk_workers++;
    }
    tk_fn = fn;
    tk_context = context;
    tk_count = count;
    atomic_store(&tk_done, 0);
    const unsigned next = generation + 1;
    atomic_store(&tk_claim, ((unsigned long long)next << 32) | ((unsigned long long)count << 16));
    pthread_mutex_lock(&tk_sleep);
    atomic_store(&tk_generation, next);
    pthread_cond_broadcast(&tk_wake);
    pthread_mutex_unlock(&tk_sleep);
    tk_run_parts(next, 1);
    int spins = 0;
    while (atomic_load(&tk_done) != count) { // parts other threads claimed and are still running
        if (++spins < TK_SPIN_LIMIT)
            tk_pause();
        else
            sched_yield();
    }
    pthread_mutex_unlock(&tk_dispatch);
}
