/*
** The regression check's scenario thresholds (res/check.h): each name a
** scenario's check section gives ("thresholds": {GATE: VALUE}) must be a gate
** of the gates file in use that reads one, or the gate would quietly be
** judged by its own threshold.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_int.h"

/* The gates that read a threshold from the scenario's check section
** (mean_not_worse; bench_not_worse reads the microbench matrix's): their
** names into names (room for every gate), how many returned, and listed
** into list. */
static size_t threshold_gates(const json_t *gates, const char **names, char *list, size_t n) {
    size_t count = 0, used = 0;
    const json_t *all = json_object_get(gates, "gates");
    snprintf(list, n, "none");
    for (size_t i = 0; i < json_array_size(all); i++) {
        const json_t *g = json_array_get(all, i);
        if (res_check_kind(json_string_value(json_object_get(g, "kind"))) !=
            RES_GATE_MEAN_NOT_WORSE)
            continue;
        names[count] = json_string_value(json_object_get(g, "name"));
        int w = snprintf(list + used, n - used, "%s%s", count ? ", " : "", names[count]);
        used = w > 0 && (size_t)w < n - used ? used + (size_t)w : used;
        count++;
    }
    return count;
}

/* The gate named name in gates, or NULL. */
static const json_t *gate_named(const json_t *gates, const char *name) {
    size_t i;
    const json_t *g;
    json_array_foreach(json_object_get(gates, "gates"), i, g) {
        if (strcmp(json_string_value(json_object_get(g, "name")), name) == 0) return g;
    }
    return NULL;
}

/* Where run r's threshold name is: its artifact's check section, or a
** stored run's scenario file (as it is today, the section is not stored). */
static void threshold_where(const res_check_run_in *r, const char *name, char *where, size_t n) {
    const char *file =
        json_string_value(json_object_get(json_object_get(r->doc, "inputs"), "scenario_file"));
    if (r->stored)
        snprintf(where, n, "%s (its scenario file %s): $.check.thresholds.%.100s", r->path,
                 file ? file : "?", name);
    else
        snprintf(where, n, "%s: $.inputs.check.thresholds.%.100s", r->path, name);
}

/* Why gate (NULL: there is none) reads no threshold from a scenario. */
static const char *why_not(const json_t *gate, char *why, size_t n) {
    const char *kind = json_string_value(json_object_get(gate, "kind"));
    if (!gate)
        snprintf(why, n, "no such gate");
    else if (res_check_kind(kind) == RES_GATE_BENCH_NOT_WORSE)
        snprintf(why, n, "a gate of kind %s, whose threshold a microbench matrix sets", kind);
    else
        snprintf(why, n, "a gate of kind %s, which takes no threshold", kind);
    return why;
}

/* One threshold of run r (name: value) names a gate that reads it. */
static bool threshold_ok(const res_check_run_in *r, const char *name, const json_t *value,
                         const json_t *gates, const char *gates_path, res_error *err) {
    char where[4400], why[200], list[400];
    threshold_where(r, name, where, sizeof where);
    double x = json_number_value(value);
    if (!(json_is_number(value) && x >= 0 && x <= 1e9))
        return res_error_set(err, RES_EINVAL, "%s: expected a number 0 to 1e9", where);
    const json_t *gate = gate_named(gates, name);
    if (gate &&
        res_check_kind(json_string_value(json_object_get(gate, "kind"))) == RES_GATE_MEAN_NOT_WORSE)
        return true;
    const char **names =
        calloc(json_array_size(json_object_get(gates, "gates")) + 1, sizeof *names);
    if (!names) return res_error_set(err, RES_ENOMEM, "out of memory checking %s", where);
    size_t n = threshold_gates(gates, names, list, sizeof list);
    const char *near = gate ? NULL : res_nearest(name, names, n);
    res_error_set(err, RES_EINVAL,
                  "%s: %s (expected a gate of %s that takes a threshold: %s)%s%s%s", where,
                  why_not(gate, why, sizeof why), gates_path ? gates_path : "the gates file", list,
                  near ? "; did you mean \"" : "", near ? near : "", near ? "\"?" : "");
    free(names);
    return false;
}

bool res_check_side_thresholds_ok(const res_check_side *s, const json_t *gates,
                                  const char *gates_path, res_error *err) {
    for (size_t i = 0; i < s->count; i++) {
        const res_check_run_in *r = &s->runs[i];
        const json_t *t = json_object_get(
            json_object_get(json_object_get(r->doc, "inputs"), "check"), "thresholds");
        const char *name;
        json_t *v;
        if (t && !json_is_object(t))
            return res_error_set(err, RES_EINVAL,
                                 "%s: $.inputs.check.thresholds: expected an object of gate "
                                 "names to numbers",
                                 r->path);
        json_object_foreach((json_t *)t, name, v) {
            if (!threshold_ok(r, name, v, gates, gates_path, err)) return false;
        }
    }
    return true;
}
