#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

bool cli_parse_u64(const char *cmd, const char *opt, const char *text, uint64_t max,
                   uint64_t *out) {
    char *end = NULL;
    if (!text || !*text || *text == '-') goto bad;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end || v > max) goto bad;
    *out = v;
    return true;
bad:
    fprintf(stderr, "admitsim %s: %s expects an integer from 0 to %llu, got '%s'\n", cmd, opt,
            (unsigned long long)max, text ? text : "");
    return false;
}

double cli_monotonic_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
