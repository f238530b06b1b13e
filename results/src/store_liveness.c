#include "store_liveness.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* The first line of a small file, without its newline; false if unreadable. */
static bool first_line(const char *path, char *out, size_t len) {
    FILE *f = fopen(path, "r");
    if (!f) return false;
    bool ok = fgets(out, (int)len, f) != NULL;
    fclose(f);
    if (ok) out[strcspn(out, "\n")] = '\0';
    return ok && out[0];
}

/* State and start time (field 22, clock ticks after boot) of a process,
** from /proc/<pid>/stat; false when it has no entry. */
static bool proc_stat(int64_t pid, char *state, unsigned long long *start) {
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
    if (!first_line(path, line, sizeof line)) return false;
    const char *p = strrchr(line, ')'); /* the command name may hold blanks and ')' */
    if (!p || p[1] != ' ' || sscanf(p + 2, "%c", state) != 1) return false;
    p += 2; /* field 3 */
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p) return false;
        p++;
    }
    return sscanf(p, "%llu", start) == 1;
}

/* "<boot id> <pid namespace>" of this boot and namespace, or "" */
static void boot_and_namespace(char *out, size_t len) {
    char boot[64], ns[64];
    ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
    out[0] = '\0';
    if (n <= 0 || !first_line("/proc/sys/kernel/random/boot_id", boot, sizeof boot)) return;
    ns[n] = '\0';
    snprintf(out, len, "%s %s", boot, ns);
}

void res_writer_self(res_writer_id *w) {
    memset(w, 0, sizeof *w);
    if (gethostname(w->host, sizeof w->host - 1) != 0) w->host[0] = '\0';
    w->pid = (int64_t)getpid();
    char here[128], state;
    unsigned long long start;
    boot_and_namespace(here, sizeof here);
    if (here[0] && proc_stat(w->pid, &state, &start))
        snprintf(w->instance, sizeof w->instance, "%s %llu", here, start);
}

res_writer_state res_writer_check(const char *host, int64_t pid, const char *instance) {
    res_writer_id self;
    res_writer_self(&self);
    if (!host || pid <= 0 || strcmp(host, self.host) != 0) return RES_WRITER_UNKNOWN;
    char here[128], boot[64], ns[64];
    unsigned long long start, now_start;
    boot_and_namespace(here, sizeof here);
    if (instance && instance[0] && here[0] &&
        sscanf(instance, "%63s %63s %llu", boot, ns, &start) == 3) {
        if (strncmp(here, boot, strlen(boot)) != 0 || here[strlen(boot)] != ' ')
            return RES_WRITER_GONE; /* another boot */
        if (strcmp(here + strlen(boot) + 1, ns) != 0) return RES_WRITER_UNKNOWN;
        char state;
        if (proc_stat(pid, &state, &now_start))
            return now_start == start && state != 'Z' && state != 'X' ? RES_WRITER_ALIVE
                                                                      : RES_WRITER_GONE;
        /* no entry: gone, unless /proc hides other users' processes */
    }
    /* no instance recorded (or no /proc): the pid alone, reuse undetected */
    if (kill((pid_t)pid, 0) == 0 || errno == EPERM) return RES_WRITER_ALIVE;
    return errno == ESRCH ? RES_WRITER_GONE : RES_WRITER_UNKNOWN;
}
