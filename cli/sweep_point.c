/* A sweep point as an arm (sweep.h): its parameters' values become the
** overrides of run/arms.h, and run_arms_apply makes the point's scenario.
**
** An arm merges each top-level object one level deep ("capacity",
** "policy", "request_admission": their keys are replaced) and each model
** or provider entry one level deep (its keys are replaced).  A parameter
** that reaches deeper ("providers.gen.latency.mu") therefore overrides the
** whole value at the merge depth ("latency"), taken from the scenario as
** the base arm makes it with the deeper keys set, so that the rest of that
** value stays as written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/arms.h"
#include "run/json_reader.h"
#include "sweep.h"

enum { SEGMENTS_MAX = 8, SEGMENT_MAX = 128 };

/* ---- a point's values ------------------------------------------------------ */

const json_t *sweep_point_value(const sweep_plan *p, size_t point, size_t param) {
    for (size_t i = p->nparams; i-- > param + 1;)
        point /= json_array_size(p->params[i].values);
    return json_array_get(p->params[param].values,
                          point % json_array_size(p->params[param].values));
}

json_t *sweep_point_values(const sweep_plan *p, size_t point) {
    json_t *o = json_object();
    for (size_t i = 0; i < p->nparams; i++)
        json_object_set(o, p->params[i].name, (json_t *)sweep_point_value(p, point, i));
    return o;
}

size_t sweep_value_text(const json_t *v, char *buf, size_t len) {
    int n;
    if (json_is_integer(v)) {
        n = snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        n = (int)strlen(run_json_fmt_num(buf, len, json_real_value(v)));
    } else if (json_is_string(v)) {
        n = snprintf(buf, len, "%s", json_string_value(v));
    } else {
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        n = snprintf(buf, len, "%s", t ? t : "?");
        free(t);
    }
    return n < 0 ? 0 : (size_t)n;
}

void sweep_point_label(const sweep_plan *p, size_t point, char *buf, size_t len) {
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < p->nparams && n < len; i++) {
        char v[SWEEP_VALUE_TEXT_MAX];
        sweep_value_text(sweep_point_value(p, point, i), v, sizeof v);
        n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", i ? "," : "", p->params[i].name, v);
    }
}

/* ---- parameters as override paths -------------------------------------------- */

typedef struct param_path {
    size_t n;
    char seg[SEGMENTS_MAX][SEGMENT_MAX];
} param_path;

/* "a.b.\"c.d\"" -> a, b, c.d; false when malformed. */
static bool split(const char *name, param_path *out) {
    out->n = 0;
    const char *s = name;
    while (*s) {
        if (out->n == SEGMENTS_MAX) return false;
        char *seg = out->seg[out->n++];
        size_t len = 0;
        if (*s == '"') {
            const char *end = strchr(s + 1, '"');
            if (!end || (end[1] && end[1] != '.')) return false;
            len = (size_t)(end - s - 1);
            if (len == 0 || len >= SEGMENT_MAX) return false;
            memcpy(seg, s + 1, len);
            s = end + 1;
        } else {
            len = strcspn(s, ".");
            if (len == 0 || len >= SEGMENT_MAX) return false;
            memcpy(seg, s, len);
            s += len;
        }
        seg[len] = '\0';
        if (*s == '.' && !*++s) return false;
    }
    return out->n > 0;
}

/* How deep an arm merges under the path's first segment (segments that
** name the replaced key), or 0 when an arm cannot override it. */
static size_t merge_depth(const param_path *p) {
    const char *top = p->seg[0];
    if (!strcmp(top, "max_concurrent_row_groups") || !strcmp(top, "model_group_limit_cap"))
        return p->n == 1 ? 1 : 0;
    if (!strcmp(top, "policy")) return p->n == 1 ? 1 : 2;
    if (!strcmp(top, "capacity")) return p->n == 2 ? 2 : 0;
    if (!strcmp(top, "request_admission") && !strcmp(p->seg[1], "resources"))
        return p->n == 4 ? 4 : 0; /* an entry of the array, by ALIAS[/DOMAIN] */
    if (!strcmp(top, "request_admission")) return p->n >= 2 ? 2 : 0;
    if (!strcmp(top, "models"))
        return p->n == 3 && !strcmp(p->seg[2], "max_parallel_requests") ? 3 : 0;
    if (!strcmp(top, "providers")) return p->n >= 3 ? 3 : 0;
    return 0;
}

/* A providers entry's "model" and "domain" name the endpoint: an arm never
** changes them (run_arms_apply drops them), so a parameter there would vary
** nothing. */
static bool names_endpoint(const param_path *p) {
    return !strcmp(p->seg[0], "providers") && p->n == 3 &&
           (!strcmp(p->seg[2], "model") || !strcmp(p->seg[2], "domain"));
}

bool sweep_param_name_is_valid(const char *name, char *why, size_t len) {
    param_path p;
    if (strpbrk(name, ",=")) { /* a point's arm, NAME=VALUE,..., would read otherwise */
        snprintf(why, len,
                 "a name without \",\" or \"=\", which a point's arm NAME=VALUE,... "
                 "would read otherwise");
        return false;
    }
    if (split(name, &p) && names_endpoint(&p)) {
        snprintf(why, len,
                 "a provider entry's \"%s\" names its endpoint, which an arm does not change",
                 p.seg[2]);
        return false;
    }
    if (split(name, &p) && merge_depth(&p)) return true;
    snprintf(why, len,
             "policy, policy.KEY, capacity.RESOURCE, request_admission.KEY,"
             " request_admission.resources.ALIAS[/DOMAIN].KEY,"
             " models.ALIAS.max_parallel_requests, providers.ALIAS[/DOMAIN].KEY,"
             " max_concurrent_row_groups or model_group_limit_cap; deeper keys with dots,"
             " a key holding a dot in double quotes");
    return false;
}

/* "ALIAS" or "ALIAS/DOMAIN" (chat when no domain is named), as
** run_arms_apply reads a providers key. */
static void alias_domain(const char *key, char *alias, size_t alen, char *domain, size_t dlen) {
    const char *slash = strrchr(key, '/');
    snprintf(alias, alen, "%.*s", slash && slash != key ? (int)(slash - key) : (int)strlen(key),
             key);
    snprintf(domain, dlen, "%s", slash && slash != key ? slash + 1 : "chat");
}

/* The override a parameter sets, in one spelling: quotes gone, "policy" as
** "policy.default"; *keyed: the segment that is a providers or request
** resource key (ALIAS[/DOMAIN]), 0 when none. */
static bool canonical(const char *name, param_path *p, size_t *keyed) {
    if (!split(name, p) || !merge_depth(p)) return false;
    if (p->n == 1 && !strcmp(p->seg[0], "policy")) {
        snprintf(p->seg[1], SEGMENT_MAX, "default");
        p->n = 2;
    }
    *keyed = 0;
    if (!strcmp(p->seg[0], "providers")) *keyed = 1;
    if (!strcmp(p->seg[0], "request_admission") && !strcmp(p->seg[1], "resources")) *keyed = 2;
    return true;
}

bool sweep_params_overlap(const char *a, const char *b) {
    param_path x, y;
    size_t kx, ky;
    if (!canonical(a, &x, &kx) || !canonical(b, &y, &ky)) return false;
    size_t n = x.n < y.n ? x.n : y.n;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && i == kx && kx == ky) { /* ALIAS is ALIAS/chat */
            char ax[SEGMENT_MAX], ay[SEGMENT_MAX], dx[SEGMENT_MAX], dy[SEGMENT_MAX];
            alias_domain(x.seg[i], ax, sizeof ax, dx, sizeof dx);
            alias_domain(y.seg[i], ay, sizeof ay, dy, sizeof dy);
            if (strcmp(ax, ay) || strcmp(dx, dy)) return false;
        } else if (strcmp(x.seg[i], y.seg[i])) {
            return false;
        }
    }
    return true;
}

/* The entry of array (providers, request_admission.resources) for the
** model alias and domain key names, or NULL. */
static json_t *entry_of(json_t *array, const char *key) {
    char alias[SEGMENT_MAX], domain[32];
    alias_domain(key, alias, sizeof alias, domain, sizeof domain);
    size_t i;
    json_t *e;
    json_array_foreach(array, i, e) {
        const char *m = json_string_value(json_object_get(e, "model"));
        const char *d = json_string_value(json_object_get(e, "domain"));
        if (m && !strcmp(m, alias) && !strcmp(d ? d : "chat", domain)) return e;
    }
    return NULL;
}

/* The value the scenario has where the arm merges (path's first depth
** segments), or NULL. */
static json_t *base_value(json_t *doc, const param_path *p, size_t depth) {
    if (!strcmp(p->seg[0], "providers")) {
        json_t *e = entry_of(json_object_get(doc, "providers"), p->seg[1]);
        return e ? json_object_get(e, p->seg[2]) : NULL;
    }
    json_t *v = doc;
    for (size_t i = 0; v && i < depth; i++)
        v = json_object_get(v, p->seg[i]);
    return v;
}

/* obj[key] as an object, created (empty, or a copy of base) when absent. */
static json_t *child_object(json_t *obj, const char *key, const json_t *base) {
    json_t *c = json_object_get(obj, key);
    if (json_is_object(c)) return c;
    c = json_is_object(base) ? json_deep_copy(base) : json_object();
    json_object_set_new(obj, key, c);
    return c;
}

/* request_admission.resources.ALIAS[/DOMAIN].KEY = value: an arm replaces
** the array whole, so o gets the scenario's array (or the one o has) with
** that entry's key set, the entry added when the scenario has none. */
static void set_resource(json_t *o, json_t *doc, const param_path *p, json_t *value) {
    json_t *ra = child_object(o, "request_admission", NULL);
    json_t *list = json_object_get(ra, "resources");
    if (!json_is_array(list)) {
        json_t *base = json_object_get(json_object_get(doc, "request_admission"), "resources");
        list = json_is_array(base) ? json_deep_copy(base) : json_array();
        json_object_set_new(ra, "resources", list);
    }
    json_t *e = entry_of(list, p->seg[2]);
    if (!e) {
        char alias[SEGMENT_MAX], domain[32];
        alias_domain(p->seg[2], alias, sizeof alias, domain, sizeof domain);
        e = json_pack("{s:s, s:s}", "model", alias, "domain", domain);
        json_array_append_new(list, e);
    }
    json_object_set(e, p->seg[3], value);
}

/* Sets parameter path = value in the overrides o. */
static void set_override(json_t *o, json_t *doc, const param_path *in, json_t *value) {
    param_path p = *in;
    if (p.n == 4 && !strcmp(p.seg[0], "request_admission") && !strcmp(p.seg[1], "resources")) {
        set_resource(o, doc, &p, value);
        return;
    }
    if (p.n == 1 && !strcmp(p.seg[0], "policy")) { /* "policy": a policy name */
        snprintf(p.seg[1], SEGMENT_MAX, "default");
        p.n = 2;
    }
    size_t depth = merge_depth(&p);
    json_t *at = o;
    for (size_t i = 0; i + 1 < depth; i++)
        at = child_object(at, p.seg[i], NULL);
    if (p.n == depth) {
        json_object_set(at, p.seg[depth - 1], value);
        return;
    }
    at = child_object(at, p.seg[depth - 1], base_value(doc, &p, depth));
    for (size_t i = depth; i + 1 < p.n; i++)
        at = child_object(at, p.seg[i], NULL);
    json_object_set(at, p.seg[p.n - 1], value);
}

json_t *sweep_point_overrides(const sweep_plan *p, size_t point, char *err, size_t errlen) {
    json_t *o = json_object();
    for (size_t i = 0; i < p->nparams; i++) {
        param_path path;
        if (!split(p->params[i].name, &path) || !merge_depth(&path)) {
            snprintf(err, errlen, "%s: parameter \"%s\" names nothing an arm overrides", p->file,
                     p->params[i].name);
            json_decref(o);
            return NULL;
        }
        set_override(o, p->doc, &path, (json_t *)sweep_point_value(p, point, i));
    }
    return o;
}

/* "point N (LABEL): " before msg, with the arm's own name taken out. */
static void blame_point(const sweep_plan *p, size_t point, const char *msg, char *err,
                        size_t errlen) {
    char label[SWEEP_LABEL_MAX];
    sweep_point_label(p, point, label, sizeof label);
    const char *arm = strstr(msg, "$.arms.sweep_point");
    if (arm)
        snprintf(err, errlen, "%s: point %zu (%s): %.*sthe point's overrides $%s", p->file, point,
                 label, (int)(arm - msg), msg, arm + strlen("$.arms.sweep_point"));
    else
        snprintf(err, errlen, "%s: point %zu (%s): %s", p->file, point, label, msg);
}

sim_scenario *sweep_point_scenario(const sweep_plan *p, size_t point, char *err, size_t errlen) {
    json_t *over = sweep_point_overrides(p, point, err, errlen);
    if (!over) return NULL;
    json_t *doc = json_deep_copy(p->doc);
    json_object_set_new(doc, "arms", json_pack("{s:o}", "sweep_point", over));
    run_error rerr = {0};
    json_t *made = run_arms_apply(doc, "sweep_point", NULL, p->scenario, &rerr);
    json_decref(doc);
    if (!made) {
        blame_point(p, point, rerr.message, err, errlen);
        return NULL;
    }
    sim_error serr;
    sim_scenario *sc = sim_scenario_from_json(made, p->scenario, NULL, &serr);
    if (!sc) blame_point(p, point, serr.message, err, errlen);
    return sc;
}
