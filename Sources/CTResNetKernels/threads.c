// A minimal fork-join pool: worker threads spin briefly, then sleep on a condition variable, between parallel
// regions. One region runs at a time; a second concurrent caller runs its region on its own thread.
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

static atomic_int tk_requested;  // 0: not set yet
static pthread_mutex_t tk_dispatch = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t tk_sleep = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tk_wake = PTHREAD_COND_INITIALIZER;
static atomic_uint tk_generation;
static atomic_int tk_pending;
static int tk_workers;  // started so far; only changed under tk_dispatch
static void (*tk_fn)(void *, int, int);
static void *tk_context;
static int tk_count;

void tk_set_threads(int n) {
    atomic_store(&tk_requested, n < 1 ? 1 : n > TK_MAX_THREADS ? TK_MAX_THREADS : n);
}

int tk_threads(void) {
    int n = atomic_load(&tk_requested);
    if (n > 0) return n;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online < 1 ? 1 : online > TK_MAX_THREADS ? TK_MAX_THREADS : (int)online;
}

typedef struct { int index; unsigned generation; } tk_start;

static void *tk_worker(void *argument) {
    tk_start start = *(tk_start *)argument;
    free(argument);
    unsigned seen = start.generation;
    for (;;) {
        unsigned now;
        int spins = 0;
        while ((now = atomic_load_explicit(&tk_generation, memory_order_acquire)) == seen) {
            if (++spins < TK_SPIN_LIMIT) { tk_pause(); continue; }
            pthread_mutex_lock(&tk_sleep);
            while (atomic_load_explicit(&tk_generation, memory_order_acquire) == seen)
                pthread_cond_wait(&tk_wake, &tk_sleep);
            pthread_mutex_unlock(&tk_sleep);
        }
        seen = now;
        if (start.index < tk_count) tk_fn(tk_context, start.index, tk_count);
        atomic_fetch_sub_explicit(&tk_pending, 1, memory_order_acq_rel);
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
    while (tk_workers < count - 1) {
        tk_start *start = malloc(sizeof *start);
        pthread_t thread;
        if (!start) break;
        start->index = tk_workers + 1;
        start->generation = generation;
        if (pthread_create(&thread, NULL, tk_worker, start) != 0) { free(start); break; }
        pthread_detach(thread);
        tk_workers++;
    }
    if (tk_workers < count - 1) count = tk_workers + 1;  // could not start more threads
    tk_fn = fn;
    tk_context = context;
    tk_count = count;
    atomic_store_explicit(&tk_pending, tk_workers, memory_order_release);
    pthread_mutex_lock(&tk_sleep);
    atomic_fetch_add_explicit(&tk_generation, 1, memory_order_acq_rel);
    pthread_cond_broadcast(&tk_wake);
    pthread_mutex_unlock(&tk_sleep);
    fn(context, 0, count);
    int spins = 0;
    while (atomic_load_explicit(&tk_pending, memory_order_acquire) != 0) {
        if (++spins < TK_SPIN_LIMIT) tk_pause(); else sched_yield();
    }
    pthread_mutex_unlock(&tk_dispatch);
}
