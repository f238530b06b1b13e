/* admitsim mock-provider: a scenario's simulated providers as an
** OpenAI-compatible HTTP server on 127.0.0.1 (live/mock.h). */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "live/mock.h"

static void mock_usage(FILE *f) {
    fprintf(f, "usage: admitsim mock-provider SCENARIO [options]\n"
               "\n"
               "Serves SCENARIO's simulated providers (its \"providers\": latency, server\n"
               "concurrency and requests-per-minute limits answered with 429 and Retry-After,\n"
               "scripted outage, capacity and latency windows, failure and timeout\n"
               "probabilities) as an OpenAI-compatible HTTP server on 127.0.0.1 only, in real\n"
               "time, until interrupted (SIGINT or SIGTERM).  Endpoints:\n"
               "POST [/PROVIDER]/v1/chat/completions, /v1/embeddings, /v1/images/generations\n"
               "(the body's \"model\" names the model id or alias), GET [/PROVIDER]/v1/models.\n"
               "The mock's clock starts at its first request.\n"
               "\n"
               "options:\n"
               "  --port N          the port (default 0: any free port)\n"
               "  --time-scale F    real seconds per scenario second (default 1; 0.25 runs\n"
               "                    four times faster: every latency, window and\n"
               "                    Retry-After multiplied by F)\n"
               "  --seed N          the providers' random streams, as `run --seed N` (default 1)\n"
               "  --iteration N     ... of iteration N (default 0)\n"
               "  --arm NAME        the scenario as its arm NAME makes it\n"
               "  -h, --help        this text\n"
               "\n"
               "Prints the port it listens on, alone on the first line of standard output.\n");
}

int cmd_mock_provider(int argc, char **argv) {
    static const struct option opts[] = {{"port", required_argument, 0, 'p'},
                                         {"time-scale", required_argument, 0, 't'},
                                         {"seed", required_argument, 0, 's'},
                                         {"iteration", required_argument, 0, 'i'},
                                         {"arm", required_argument, 0, 'a'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    live_mock_options mo = {.time_scale = 1, .seed = 1};
    const char *arm = NULL;
    uint64_t v;
    optind = 1;
    int ch;
    while ((ch = cli_getopt("mock-provider", argc, argv, "h", opts)) != -1) {
        switch (ch) {
        case 'p':
            if (!cli_parse_u64("mock-provider", "--port", optarg, 65535, &v)) return EXIT_USAGE;
            mo.port = (uint16_t)v;
            break;
        case 't':
            if (!cli_parse_time_scale("mock-provider", optarg, &mo.time_scale)) return EXIT_USAGE;
            break;
        case 's':
            if (!cli_parse_seed("mock-provider", "--seed", optarg, &mo.seed)) return EXIT_USAGE;
            break;
        case 'i':
            if (!cli_parse_u64("mock-provider", "--iteration", optarg, 4095, &v)) return EXIT_USAGE;
            mo.iteration = (uint32_t)v;
            break;
        case 'a': arm = optarg; break;
        case 'h': mock_usage(stdout); return EXIT_OK;
        default: return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_usage_error("mock-provider", "expected exactly one SCENARIO file");
        return EXIT_USAGE;
    }
    sim_error serr;
    sim_scenario *sc = cli_scenario_load(argv[optind], arm, &serr);
    if (!sc) {
        fprintf(stderr, "admitsim mock-provider: %s\n", serr.message);
        return EXIT_FAILURE_RUN;
    }
    /* The signals are waited for here; the mock's thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    admit_error err = {0};
    live_mock *m = live_mock_start(sc, &mo, &err);
    if (!m) {
        fprintf(stderr, "admitsim mock-provider: %s\n", err.message);
        sim_scenario_free(sc);
        return EXIT_FAILURE_RUN;
    }
    printf("%u\n", (unsigned)live_mock_port(m));
    fflush(stdout);
    fprintf(stderr,
            "admitsim mock-provider: %s on http://127.0.0.1:%u/v1 (time scale %g, seed %llu)\n",
            sc->config.scenario_id, (unsigned)live_mock_port(m), mo.time_scale,
            (unsigned long long)mo.seed);
    int sig;
    sigwait(&set, &sig);
    fprintf(stderr, "admitsim mock-provider: stopping after %llu requests (%llu answered 429)\n",
            (unsigned long long)live_mock_requests(m),
            (unsigned long long)live_mock_rate_limited(m));
    live_mock_stop(m);
    sim_scenario_free(sc);
    return EXIT_OK;
}
