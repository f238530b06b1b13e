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
               "       admitsim check experiment:ID [options]\n"
               "\n"
               "Judges CANDIDATE against BASELINE by the gates of SPEC section 9, from the\n"
               "figures their runs recorded (nothing is re-simulated). Each is an artifact\n"
               "file (run --out, ab --out), a directory of them, or runs stored in a results\n"
               "database: run:ID (one run) or experiment:ID (all its runs). Runs are matched\n"
               "by scenario, arm and seed. Without --baseline, experiment:ID judges that A/B\n"
               "experiment's candidate arm against its baseline arm, matched by scenario\n"
               "and seed.\n"
               "\n"
               "options:\n"
               "  --baseline BASELINE     what the candidate is judged against\n"
               "  --db FILE               the results database of run:ID and experiment:ID\n"
               "                          (default $ADMITSIM_DB,\n"
               "                          else results/admitsim.db)\n"
               "  --baseline-db FILE      the baseline's database when it is another one\n"
               "                          (default: --db)\n"
               "  --gates FILE            the gates file (default: the shipped gates.json)\n"
               "  --format table|json     table for people (default) or the JSON verdict\n"
               "  -h, --help              this text\n"
               "\n"
               "A stored run's check section (tags, claims, thresholds) is read from its\n"
               "scenario file; the gates that need it are not applicable when that file is\n"
               "gone. A path that begins with run: or experiment: is given as ./run:...\n"
               "\n"
               "exit codes: 0 every gate passed or does not apply, 1 a regression (a gate\n"
               "failed), 2 bad input (unreadable or mismatched inputs, an unknown run or\n"
               "experiment, an unknown gate)\n");
}

#ifndef ADMIT_GATES_FROM_BIN
#define ADMIT_GATES_FROM_BIN "../share/admitsim/gates.json"
#endif

/* The shipped gates file: beside the sources (a build tree), in the
** installed tree this program is in (moved or not), or the configured
** install's. */
static const char *default_gates(void) {
    static char beside[4096];
    const char *candidates[] = {ADMIT_GATES_FILE, NULL, ADMIT_GATES_INSTALLED};
    if (cli_beside_self(ADMIT_GATES_FROM_BIN, beside, sizeof beside)) candidates[1] = beside;
    for (int i = 0; i < 3; i++)
        if (candidates[i] && access(candidates[i], R_OK) == 0) return candidates[i];
    return ADMIT_GATES_FILE;
}

typedef struct check_args {
    const char *candidate, *baseline, *gates, *db, *baseline_db;
    bool json;
} check_args;

/* EXIT_OK when the command line is good, else the exit code. */
static int parse_args(int argc, char **argv, check_args *a) {
    static const struct option opts[] = {{"baseline", required_argument, 0, 'b'},
                                         {"gates", required_argument, 0, 'g'},
                                         {"format", required_argument, 0, 'f'},
                                         {"db", required_argument, 0, 'd'},
                                         {"baseline-db", required_argument, 0, 'B'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    *a = (check_args){.db = cli_db_default()};
    optind = 1;
    int ch;
    while ((ch = cli_getopt("check", argc, argv, "h", opts)) != -1) {
        switch (ch) {
        case 'b': a->baseline = optarg; break;
        case 'g': a->gates = optarg; break;
        case 'd': a->db = optarg; break;
        case 'B': a->baseline_db = optarg; break;
        case 'f':
            if (strcmp(optarg, "json") && strcmp(optarg, "table")) {
                fprintf(stderr, "admitsim check: --format expects table or json, got '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            a->json = !strcmp(optarg, "json");
            break;
        case 'h': check_usage(stdout); return -1;
        default: return EXIT_USAGE;
        }
    }
    const char *why = NULL;
    if (optind != argc - 1)
        why = "expected one CANDIDATE";
    else if (!a->baseline && !res_check_spec_is_stored(argv[optind]))
        why = "expected --baseline BASELINE (only an experiment:ID is judged on its own)";
    else if (a->baseline_db && !(a->baseline && res_check_spec_is_stored(a->baseline)))
        why = "--baseline-db is the database of a stored --baseline (run:ID or experiment:ID)";
    if (why) return cli_usage_error("check", "%s", why);
    a->candidate = argv[optind];
    return EXIT_OK;
}

/* The two sides as the command line names them; false with err set. */
static bool load_sides(const check_args *a, res_check_side **cand, res_check_side **base,
                       res_error *err) {
    if (!a->baseline) return res_check_sides_of_experiment(a->candidate, a->db, cand, base, err);
    *cand = res_check_side_load(a->candidate, a->db, err);
    *base = *cand ? res_check_side_load(a->baseline, a->baseline_db ? a->baseline_db : a->db, err)
                  : NULL;
    return *base != NULL;
}

int cmd_check(int argc, char **argv) {
    check_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != EXIT_OK) return rc < 0 ? EXIT_OK : rc;
    res_error err = {0};
    res_check_side *cand = NULL, *base = NULL;
    const char *gates_path = a.gates ? a.gates : default_gates();
    json_t *gates = res_check_gates_load(gates_path, &err);
    json_t *verdict = gates && load_sides(&a, &cand, &base, &err)
                          ? res_check_run(cand, base, gates, gates_path, &err)
                          : NULL;
    rc = EXIT_USAGE;
    if (!verdict) {
        fprintf(stderr, "admitsim check: %s\n", err.message);
    } else {
        if (a.json) {
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
