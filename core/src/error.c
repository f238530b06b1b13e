#include "admit/error.h"

#include <stdarg.h>
#include <stdio.h>

admit_status admit_error_set(admit_error *err, admit_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *admit_status_name(admit_status code) {
    switch (code) {
    case ADMIT_OK: return "ok";
    case ADMIT_EINVAL: return "invalid_argument";
    case ADMIT_ENOMEM: return "out_of_memory";
    case ADMIT_EMETADATA: return "scheduling_metadata_error";
    case ADMIT_ECONFIG: return "configuration_error";
    case ADMIT_ESTATE: return "invalid_state";
    case ADMIT_ESPAWN: return "spawn_failed";
    }
    return "unknown";
}
