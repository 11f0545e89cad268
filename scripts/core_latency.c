// Development tool of `make bench` (scripts/bench_cpus.py): the round-trip time of one cache line between CPU 0
// and CPU 1, each thread pinned, 200,000 round trips; prints nanoseconds per round trip. On this project's virtual
// machines it is either ~55 ns (the two vCPUs on one die) or ~350 ns (on two dies), and the host moves between the
// two without notice; multi-threaded batch-1 latencies depend on it, so the bench records it beside them.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#define ROUNDS 200000
static _Atomic int flag __attribute__((aligned(64)));

static int pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *echo(void *unused) {
    (void)unused;
    pin(1);
    for (int i = 0; i < ROUNDS; i++) {
        while (atomic_load(&flag) != 1) {}
        atomic_store(&flag, 0);
    }
    return NULL;
}

int main(void) {
    pthread_t thread;
    if (pin(0) != 0 || pthread_create(&thread, NULL, echo, NULL) != 0) return 1;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < ROUNDS; i++) {
        atomic_store(&flag, 1);
        while (atomic_load(&flag) != 0) {}
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    pthread_join(thread, NULL);
    printf("%.0f\n", ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / ROUNDS);
    return 0;
}
