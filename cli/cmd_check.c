/* admitsim check: the regression gates of SPEC §9 judged on recorded
** figures (res/check.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "res/check.h"

#ifndef ADMIT_GATES_FILE
#define ADMIT_GATES_FILE "gates/gates.json"
#endif

static void check_usage(FILE *f) {
    fprintf(f, "usage: admitsim check CANDIDATE --baseline BASELINE [options]\n"
               "\n"
               "Judges CANDIDATE against BASELINE by the gates of SPEC section 9, from the\n"
               "figures their artifacts recorded (nothing is re-simulated). Each is an\n"
               "artifact file (run --out, ab --out) or a directory of them; runs are matched\n"
               "by scenario, arm and seed.\n"
               "\n"
               "options:\n"
               "  --baseline BASELINE     what the candidate is judged against (required)\n"
               "  --gates FILE            the gates file (default: the shipped gates.json)\n"
               "  --format table|json     table for people (default) or the JSON verdict\n"
               "  -h, --help              this text\n"
               "\n"
               "exit codes: 0 every gate passed or does not apply, 1 a regression (a gate\n"
               "failed), 2 bad input (unreadable or mismatched inputs, an unknown gate)\n");
}

/* The shipped gates file: beside the sources (a build tree) or installed. */
static const char *default_gates(void) {
    static const char *const candidates[] = {ADMIT_GATES_FILE, ADMIT_GATES_INSTALLED, NULL};
    for (int i = 0; candidates[i]; i++)
        if (access(candidates[i], R_OK) == 0) return candidates[i];
    return ADMIT_GATES_FILE;
}

int cmd_check(int argc, char **argv) {
    static const struct option opts[] = {{"baseline", required_argument, 0, 'b'},
                                         {"gates", required_argument, 0, 'g'},
                                         {"format", required_argument, 0, 'f'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *baseline = NULL, *gates_path = NULL;
    bool json = false;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'b': baseline = optarg; break;
        case 'g': gates_path = optarg; break;
        case 'f':
            if (strcmp(optarg, "json") && strcmp(optarg, "table")) {
                fprintf(stderr, "admitsim check: --format expects table or json, got '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            json = !strcmp(optarg, "json");
            break;
        case 'h': check_usage(stdout); return EXIT_OK;
        default: check_usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !baseline) {
        fprintf(stderr, "admitsim check: expected one CANDIDATE and --baseline BASELINE\n\n");
        check_usage(stderr);
        return EXIT_USAGE;
    }
    res_error err = {0};
    json_t *gates = res_check_gates_load(gates_path ? gates_path : default_gates(), &err);
    res_check_side *cand = gates ? res_check_side_load(argv[optind], &err) : NULL;
    res_check_side *base = cand ? res_check_side_load(baseline, &err) : NULL;
    json_t *verdict = base ? res_check_run(cand, base, gates, &err) : NULL;
    int rc = EXIT_USAGE;
    if (!verdict) {
        fprintf(stderr, "admitsim check: %s\n", err.message);
    } else {
        if (json) {
            json_dumpf(verdict, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
            fputc('\n', stdout);
        } else {
            res_check_print(verdict, stdout);
        }
        rc = json_is_true(json_object_get(verdict, "passed")) ? EXIT_OK : EXIT_FAILURE_RUN;
    }
    json_decref(verdict);
    json_decref(gates);
    res_check_side_free(cand);
    res_check_side_free(base);
    return rc;
}
