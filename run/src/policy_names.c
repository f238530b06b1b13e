/*
** The task admission policies by name (run/config.h).
*/
#include <string.h>

#include "run/config.h"

const char *const run_policy_names[] = {"strict", "bounded", "provider_aware", NULL};

bool run_policy_parse(const char *text, run_policy_kind *out) {
    for (int i = 0; text && run_policy_names[i]; i++)
        if (strcmp(text, run_policy_names[i]) == 0) {
            *out = (run_policy_kind)i;
            return true;
        }
    return false;
}

const char *run_policy_name(run_policy_kind p) {
    return (unsigned)p < RUN_POLICY_COUNT ? run_policy_names[p] : "unknown";
}

