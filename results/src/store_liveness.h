/* Whether the process that writes a run is still alive, from what the run
** row recorded about it: host name, pid and an instance string that tells
** that process from a later one with the same pid.  Between store.c,
** store_reader.c and store_liveness.c; not part of the public interface.
**
** The instance is "<boot id> <pid namespace> <start time>" on Linux (from
** /proc: the kernel's boot_id, /proc/self/ns/pid and field 22 of
** /proc/self/stat, clock ticks after boot), empty elsewhere.  A WAL
** database is only ever written from one host, so a writer of another boot
** can no longer be writing it; one in another pid namespace of this boot (a
** container) cannot be checked from here. */
#ifndef RES_STORE_LIVENESS_H
#define RES_STORE_LIVENESS_H

#include <stdint.h>

enum { RES_WRITER_HOST_MAX = 256, RES_WRITER_INSTANCE_MAX = 160 };

typedef struct res_writer_id {
    char host[RES_WRITER_HOST_MAX];
    int64_t pid;
    char instance[RES_WRITER_INSTANCE_MAX];
} res_writer_id;

typedef enum res_writer_state {
    RES_WRITER_ALIVE,
    RES_WRITER_GONE,   /* dead (or a zombie), or of another boot */
    RES_WRITER_UNKNOWN /* not recorded, or another host or pid namespace */
} res_writer_state;

/* This process. */
void res_writer_self(res_writer_id *w);

/* The writer a run recorded (any may be NULL/negative when not recorded),
** seen from this process. */
res_writer_state res_writer_check(const char *host, int64_t pid, const char *instance);

#endif
