/* CapacityValue constructors and the configuration check. */
#include "admit/capacity_plan.h"

admit_capacity_value admit_capacity_of(int64_t value, admit_capacity_source source) {
    return (admit_capacity_value){.present = true,
                                  .value = value,
                                  .source = (int32_t)source,
                                  .fallback_from = ADMIT_SRC_NONE};
}

admit_capacity_value admit_capacity_fallback(int64_t value, admit_capacity_source source,
                                             admit_capacity_source from) {
    admit_capacity_value v = admit_capacity_of(value, source);
    v.fallback_from = (int32_t)from;
    return v;
}

admit_capacity_value admit_capacity_missing(const char *reason) {
    return (admit_capacity_value){
        .source = ADMIT_SRC_NONE, .fallback_from = ADMIT_SRC_NONE, .missing_reason = reason};
}

admit_status admit_capacity_require(const admit_capacity_value *v, const char *name,
                                    admit_error *err) {
    if (v->present && v->source >= 0 && v->source < ADMIT_SRC_COUNT) return ADMIT_OK;
    if (!v->present && v->missing_reason && v->missing_reason[0]) return ADMIT_OK;
    return admit_error_set(err, ADMIT_ECONFIG, "capacity value %s has %s and no safe fallback",
                           name, v->present ? "no known source" : "no value, no source");
}

const char *admit_capacity_source_name(admit_capacity_source s) {
    static const char *names[] = {"default",
                                  "run_config",
                                  "dataset_builder",
                                  "model_metadata",
                                  "engine_internal_config",
                                  "adapter_config",
                                  "environment",
                                  "runtime_snapshot",
                                  "benchmark_override"};
    return (unsigned)s < ADMIT_SRC_COUNT ? names[s] : "none";
}
