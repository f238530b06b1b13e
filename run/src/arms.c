/*
** Arms: named overrides of a scenario document (run/arms.h).
*/
#include "run/arms.h"

#include <stdio.h>
#include <string.h>

#include "admit/request_resource.h"
#include "run/config.h"

typedef run_json_node node;

static const char *const ARM_KEYS[] = {"description",
                                       "policy",
                                       "capacity",
                                       "request_admission",
                                       "models",
                                       "providers",
                                       "max_concurrent_row_groups",
                                       "model_group_limit_cap",
                                       NULL};
static const char *const ARM_MODEL_KEYS[] = {"max_parallel_requests", NULL};

static bool is_policy_name(const char *name) {
    run_policy_kind p;
    return run_policy_parse(name, &p);
}

static bool valid_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n >= RUN_ARM_NAME_MAX) return false;
    for (; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *s))
            return false;
    return true;
}

/* One arm's own shape: an object of known keys, "models" and "providers"
** objects of objects. */
static bool read_arm(const node *a, run_arm_list *out) {
    node f;
    if (!run_json_as_object(a, ARM_KEYS)) return false;
    if (!run_json_field(a, "description", false, &f) ||
        !run_json_as_str(&f, out->descriptions[out->count], sizeof out->descriptions[0], false))
        return false;
    static const char *const nested[] = {"policy", "capacity", "request_admission", "models",
                                         "providers"};
    for (size_t k = 0; k < sizeof nested / sizeof *nested; k++) {
        if (!run_json_field(a, nested[k], false, &f) || !run_json_as_object(&f, NULL)) return false;
        if (!f.v || k < 3) continue;
        const char *key;
        json_t *v;
        json_object_foreach(f.v, key, v) {
            node e;
            run_json_child(&f, key, v, &e);
            if (!run_json_as_object(&e, k == 3 ? ARM_MODEL_KEYS : NULL)) return false;
        }
    }
    return true;
}

bool run_arms_read(const node *root, run_arm_list *out) {
    node arms;
    memset(out, 0, sizeof *out);
    if (!run_json_field(root, "arms", false, &arms) || !arms.v) return true;
    if (!run_json_as_object(&arms, NULL)) return false;
    if (json_object_size(arms.v) > RUN_MAX_ARMS)
        return run_json_fail(&arms, "expected at most %d arms, got %zu", RUN_MAX_ARMS,
                             json_object_size(arms.v));
    const char *name;
    json_t *v;
    json_object_foreach(arms.v, name, v) {
        node a;
        char q[128];
        run_json_child(&arms, name, v, &a);
        if (!valid_name(name))
            return run_json_fail(&a,
                                 "expected an arm name of 1 to %d characters from "
                                 "[A-Za-z0-9_.-], got %s",
                                 RUN_ARM_NAME_MAX - 1, run_json_quoted(q, sizeof q, name));
        if (is_policy_name(name))
            return run_json_fail(&a,
                                 "expected an arm name that is not a policy name (each policy is "
                                 "already an arm), got %s",
                                 run_json_quoted(q, sizeof q, name));
        if (!read_arm(&a, out)) return false;
        snprintf(out->names[out->count++], RUN_ARM_NAME_MAX, "%s", name);
    }
    return true;
}

bool run_arms_is_known(const run_arm_list *arms, const char *name) {
    if (!name) return false;
    for (uint32_t i = 0; i < arms->count; i++)
        if (strcmp(arms->names[i], name) == 0) return true;
    return is_policy_name(name);
}

/* ---- applying an arm ----------------------------------------------------- */

/* dst.key = merge of src over dst.key (objects), or src itself. */
static void merge_into(json_t *dst, const char *key, json_t *src) {
    json_t *cur = json_object_get(dst, key);
    if (json_is_object(cur) && json_is_object(src))
        json_object_update(cur, src);
    else
        json_object_set(dst, key, src);
}

static json_t *find_by(json_t *array, const char *field, const char *value,
                       const char *domain_field, const char *domain) {
    size_t i;
    json_t *e;
    json_array_foreach(array, i, e) {
        const char *v = json_string_value(json_object_get(e, field));
        if (!v || strcmp(v, value) != 0) continue;
        if (!domain_field) return e;
        const char *d = json_string_value(json_object_get(e, domain_field));
        if (strcmp(d ? d : "chat", domain) == 0) return e;
    }
    return NULL;
}

static bool apply_models(json_t *doc, json_t *models, const char *file, const char *arm,
                         run_error *err) {
    const char *alias;
    json_t *v;
    json_object_foreach(models, alias, v) {
        json_t *m = find_by(json_object_get(doc, "models"), "alias", alias, NULL, NULL);
        if (!m)
            return run_error_set(err, RUN_EINVAL,
                                 "%.300s: $.arms.%s.models: expected a model alias named in "
                                 "$.models, got \"%.100s\"",
                                 file, arm, alias);
        json_object_update(m, v);
    }
    return true;
}

/* "ALIAS" or "ALIAS/DOMAIN" -> the providers entry serving it. */
static bool apply_providers(json_t *doc, json_t *providers, const char *file, const char *arm,
                            run_error *err) {
    const char *key;
    json_t *v;
    json_object_foreach(providers, key, v) {
        char alias[ADMIT_NAME_MAX], domain[32] = "chat";
        const char *slash = strrchr(key, '/');
        if (slash && slash != key && strlen(slash + 1) < sizeof domain) {
            snprintf(alias, sizeof alias, "%.*s", (int)(slash - key), key);
            snprintf(domain, sizeof domain, "%s", slash + 1);
        } else {
            snprintf(alias, sizeof alias, "%s", key);
        }
        json_t *p = find_by(json_object_get(doc, "providers"), "model", alias, "domain", domain);
        if (!p)
            return run_error_set(err, RUN_EINVAL,
                                 "%.300s: $.arms.%s.providers: expected a model alias (with an "
                                 "optional /domain) that a $.providers entry serves, got "
                                 "\"%.100s\"",
                                 file, arm, key);
        json_t *changes = json_deep_copy(v);
        json_object_del(changes, "model"); /* the entry stays the same endpoint */
        json_object_del(changes, "domain");
        json_object_update(p, changes);
        json_decref(changes);
    }
    return true;
}

/* An arm's capacities override the scenario's resources: a name $.capacity
** does not declare (a typo) would add a resource no task uses and change
** nothing, so it is refused, with the names there are. */
static bool check_capacity(json_t *doc, json_t *capacity, const char *file, const char *arm,
                           run_error *err) {
    json_t *declared = json_object_get(doc, "capacity");
    const char *name;
    json_t *v;
    json_object_foreach(capacity, name, v) {
        if (json_object_get(declared, name)) continue;
        char list[400] = "";
        size_t len = 0;
        const char *have;
        json_t *c;
        json_object_foreach(declared, have, c) {
            if (len >= sizeof list) break; /* cut: the first names say enough */
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "", have);
        }
        return run_error_set(err, RUN_EINVAL,
                             "%.300s: $.arms.%s.capacity: expected a resource $.capacity "
                             "declares (%s), got \"%.100s\"",
                             file, arm, len ? list : "none", name);
    }
    return true;
}

static bool apply_explicit(json_t *doc, json_t *over, const char *file, const char *arm,
                           run_error *err) {
    const char *key;
    json_t *v;
    json_object_foreach(over, key, v) {
        if (strcmp(key, "description") == 0) continue;
        if (strcmp(key, "models") == 0) {
            if (!apply_models(doc, v, file, arm, err)) return false;
        } else if (strcmp(key, "providers") == 0) {
            if (!apply_providers(doc, v, file, arm, err)) return false;
        } else if (strcmp(key, "capacity") == 0 && json_is_object(v)) {
            if (!check_capacity(doc, v, file, arm, err)) return false;
            merge_into(doc, key, v);
        } else {
            merge_into(doc, key, v);
        }
    }
    return true;
}

json_t *run_arms_apply(json_t *doc, const char *arm, const run_arm_list *arms, const char *file,
                       run_error *err) {
    json_t *copy = json_deep_copy(doc);
    if (!copy) {
        run_error_set(err, RUN_ENOMEM, "%.400s: out of memory applying an arm", file);
        return NULL;
    }
    json_t *declared = json_object_get(doc, "arms");
    json_object_del(copy, "arms");
    if (!arm || !arm[0]) return copy;
    json_t *over = json_object_get(declared, arm);
    bool ok = true;
    if (over) {
        ok = apply_explicit(copy, over, file, arm, err);
    } else if (is_policy_name(arm)) {
        json_t *p = json_object_get(copy, "policy");
        if (!json_is_object(p)) json_object_set_new(copy, "policy", p = json_object());
        json_object_set_new(p, "default", json_string(arm));
    } else {
        char list[600];
        size_t len = (size_t)snprintf(list, sizeof list, "strict, bounded, provider_aware");
        for (uint32_t i = 0; arms && i < arms->count && len < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, ", %s", arms->names[i]);
        ok = run_error_set(err, RUN_EINVAL, "%.300s: no arm \"%.100s\" (expected one of: %s)", file,
                           arm, list);
    }
    if (ok) return copy;
    json_decref(copy);
    return NULL;
}

void run_arms_blame(run_error *err, const char *file, const char *arm) {
    char inner[sizeof err->message];
    size_t flen = strlen(file);
    const char *rest = err->message;
    if (strncmp(rest, file, flen) == 0 && strncmp(rest + flen, ": ", 2) == 0) rest += flen + 2;
    snprintf(inner, sizeof inner, "%s", rest);
    snprintf(err->message, sizeof err->message, "%.300s: $.arms.%.63s: %.600s", file, arm, inner);
}

/* ---- loading ---------------------------------------------------------------- */

static void *parse_arm(json_t *json, const char *file, const char *arm, const run_arm_list *arms,
                       run_doc_parse_fn parse, void *ctx, run_error *err) {
    json_t *doc = run_arms_apply(json, arm, arms, file, err);
    void *obj = doc ? parse(ctx, doc, arm, err) : NULL;
    json_decref(doc);
    if (!obj && doc && arm && arm[0]) run_arms_blame(err, file, arm);
    return obj;
}

void *run_arms_load(json_t *json, const char *file, const char *want, run_doc_parse_fn parse,
                    void (*drop)(void *obj), void *ctx, run_arm_list *arms, run_error *err) {
    memset(arms, 0, sizeof *arms);
    if (!json) return NULL;
    void *base = parse_arm(json, file, NULL, NULL, parse, ctx, err), *chosen = NULL;
    run_json_doc d = {file, "", err};
    node root;
    run_json_root(&d, json, &root);
    bool ok = base && run_arms_read(&root, arms);
    if (ok && want && want[0] && !run_arms_is_known(arms, want)) {
        json_t *none = run_arms_apply(json, want, arms, file, err); /* says what exists */
        json_decref(none);
        ok = false;
    }
    if (ok && (!want || !want[0])) chosen = base, base = NULL;
    for (uint32_t i = 0; ok && i < arms->count; i++) {
        void *obj = parse_arm(json, file, arms->names[i], arms, parse, ctx, err);
        ok = obj != NULL;
        if (ok && want && strcmp(want, arms->names[i]) == 0)
            chosen = obj;
        else if (obj)
            drop(obj);
    }
    if (ok && !chosen) chosen = parse_arm(json, file, want, arms, parse, ctx, err);
    if (base) drop(base);
    json_decref(json);
    if (!ok && chosen) {
        drop(chosen);
        chosen = NULL;
    }
    return chosen;
}
