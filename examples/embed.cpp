// Embedding the admit core in C++: the same two stages as embed.c, with the
// task stage's pieces used directly and the model calls on threads.
//
// The dispatch loop (select -> try_acquire -> commit) by hand: a FairTaskQueue
// holds kTasks ready tasks, a TaskAdmissionController (StrictFair, 3
// submission slots) decides which may run, and each admitted task runs on a
// std::thread that takes a request lease with the blocking acquire_sync from a
// thread-safe RequestAdmissionController (2 calls at once, CLOCK_MONOTONIC),
// "calls the model" for kCallMs and releases the lease through an RAII guard.
// The task controller is not thread-safe: only the main thread acquires and
// releases task leases.  Prints task leases and every request event.  Exits 0
// when every task ran and nothing is left: no task or request lease, no waiter.
// Build: c++ -std=c++17 embed.cpp $(pkg-config --cflags --libs admit-core) -pthread
#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <time.h>

#include "admit/admit.h"

namespace {

constexpr int kTasks = 5;
constexpr auto kCallMs = std::chrono::milliseconds(20);
std::mutex print_mutex;

// The request controller's clock hook: CLOCK_MONOTONIC in nanoseconds (what
// acquire_sync's timed waits need).
int64_t monotonic_now(void *) {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
const int64_t t0 = monotonic_now(nullptr);

void print_line(const char *stream, const char *what, uint64_t task, uint64_t lease, int64_t at) {
    std::lock_guard<std::mutex> hold(print_mutex);
    std::printf("%8.3f ms  %-9s  %-26s task=%#-14llx lease=%llu\n", double(at - t0) / 1e6, stream,
                what, static_cast<unsigned long long>(task),
                static_cast<unsigned long long>(lease));
}

// Sink of the request stream: called from whichever thread made the change.
void print_request_event(void *, const admit_event *ev) {
    print_line("request", admit_event_name(ev), ev->task_id, ev->lease_id, ev->captured_at_ns);
}

// A request lease, released exactly once when the guard goes away (as
// unexpected_exception unless the call set another outcome).
struct RequestLease {
    RequestLease(admit_request_admission *c, const admit_request_item &item) : c(c) {
        admitted = admit_request_admission_acquire_sync(c, &item, nullptr, &lease, &denied);
    }
    ~RequestLease() {
        if (admitted) admit_request_admission_release(c, lease, outcome);
    }
    RequestLease(const RequestLease &) = delete;
    RequestLease &operator=(const RequestLease &) = delete;

    admit_request_admission *c;
    admit_request_lease lease{};
    admit_request_denied denied{};
    admit_request_outcome outcome{ADMIT_REQ_UNEXPECTED_EXCEPTION, 0};
    bool admitted = false;
};

// One worker: one model call under a request lease.
void model_call(admit_request_admission *requests, uint32_t resource, const admit_task *task) {
    admit_request_item item{};
    item.resource = resource;
    item.group = ADMIT_REQ_GROUP_DEFAULT;
    item.queue_wait_timeout_ns = ADMIT_REQ_TIMEOUT_DEFAULT;
    item.ctx.task_id = task->task_id;
    RequestLease lease(requests, item);
    if (!lease.admitted) {
        std::fprintf(stderr, "embed_cpp: request denied: %s\n",
                     admit_request_deny_reason_name(lease.denied.reason));
        return;
    }
    std::this_thread::sleep_for(kCallMs); // the provider call
    lease.outcome.kind = ADMIT_REQ_SUCCESS;
}

bool eligible(void *ctx, const admit_task *task, const admit_queue_view *view) {
    return admit_task_admission_is_eligible(static_cast<admit_task_admission *>(ctx), task, view,
                                            nullptr);
}

// The core's objects, each destroyed by its own admit_*_destroy.
template <typename T> using Owned = std::unique_ptr<T, void (*)(T *)>;

struct Core {
    Owned<admit_request_admission> requests{nullptr, admit_request_admission_destroy};
    Owned<admit_task_admission> tasks{nullptr, admit_task_admission_destroy};
    Owned<admit_fair_queue> queue{nullptr, admit_fair_queue_destroy};
    uint32_t resource = 0; // the request resource every call uses
    admit_task slab[kTasks] = {};
};

struct Running {
    const admit_task *task;
    admit_task_lease lease;
    std::thread worker;
};

// Admits every task the controller allows now and starts its worker.
void dispatch(Core &core, std::deque<Running> &running) {
    admit_queue_selection sel;
    while (admit_fair_queue_select_next(core.queue.get(), eligible, core.tasks.get(), &sel)) {
        admit_task_lease lease;
        admit_policy_decision decision;
        int64_t now = monotonic_now(nullptr);
        if (!admit_task_admission_try_acquire(core.tasks.get(), sel.task,
                                              admit_fair_queue_view(core.queue.get()), now, &lease,
                                              &decision))
            return;
        const admit_task *task = admit_fair_queue_commit(core.queue.get(), &sel);
        if (!task) { // stale selection: the queue changed since select_next
            admit_task_admission_release(core.tasks.get(), lease);
            continue;
        }
        print_line("task", "task_lease_acquired", task->task_id, lease.lease_id, now);
        std::thread worker(model_call, core.requests.get(), core.resource, task);
        running.push_back({task, lease, std::move(worker)});
    }
}

// Request stage: endpoint example/model-a, 2 calls at once, callable from any thread.
bool make_requests(Core &core, admit_error &err) {
    Owned<admit_request_resolver> resolver(admit_request_resolver_create(&err),
                                           admit_request_resolver_destroy);
    uint32_t pm = 0;
    if (!resolver || admit_request_resolver_add_alias(resolver.get(), "model-a", "example",
                                                      "model-a", 2, &pm, &err) != ADMIT_OK)
        return false;
    int resource = admit_request_resolver_resource(resolver.get(), pm, ADMIT_DOMAIN_CHAT);
    admit_request_admission_config rc;
    admit_request_admission_config_init(&rc);
    rc.resolver = resolver.get(); // read at create only
    rc.now = monotonic_now;
    rc.thread_safe = true;
    rc.sink = admit_event_sink{print_request_event, nullptr};
    core.requests.reset(admit_request_admission_create(&rc, &err));
    core.resource = uint32_t(resource);
    return core.requests && resource >= 0;
}

// Task stage: one group, kTasks ready cells, 3 submission slots.
bool make_tasks(Core &core, admit_error &err) {
    static admit_group_spec groups[1] = {};
    std::snprintf(groups[0].key, sizeof groups[0].key, "model:example/model-a|answer");
    groups[0].kind = ADMIT_KIND_MODEL;
    groups[0].weight = 2;
    groups[0].admitted_limit = 3;
    static const uint32_t limits[1] = {3}; // resource 0: submission
    admit_task_admission_config ac{};
    ac.groups = groups;
    ac.group_count = 1;
    ac.resource_count = 1;
    ac.limits = limits;
    admit_policy_strict_fair(&ac.policy);
    core.tasks.reset(admit_task_admission_create(&ac, &err));
    core.queue.reset(admit_fair_queue_create(groups, 1, 1, &err));
    if (!core.tasks || !core.queue) return false;
    const admit_task *ready[kTasks];
    for (int i = 0; i < kTasks; i++) {
        admit_task &t = core.slab[i]; // stable address: queue and leases point at it
        t.task_id = admit_task_id(0, ADMIT_TASK_CELL, 0, i);
        t.row = i;
        t.type = ADMIT_TASK_CELL;
        t.resources.count = 1; // submission (resource 0), amount 1
        t.resources.amount[0] = 1;
        ready[i] = &t;
    }
    return admit_fair_queue_enqueue(core.queue.get(), ready, kTasks, nullptr) == kTasks;
}

// Final snapshot: every task ran, nothing queued, leased or waiting.
bool report(const Core &core) {
    admit_task_admission_stats ts;
    admit_task_admission_stats_get(core.tasks.get(), &ts);
    admit_request_admission_stats rs;
    admit_request_admission_stats_get(core.requests.get(), &rs);
    uint64_t queued = admit_fair_queue_view(core.queue.get())->queued_total;
    uint64_t task_leases = admit_task_admission_view(core.tasks.get())->leases_active;
    std::printf("embed_cpp: %llu task and %llu request leases taken; left: %llu queued tasks, "
                "%llu task leases, %llu request leases, %llu request waiters\n",
                (unsigned long long)ts.acquired, (unsigned long long)rs.leases_acquired,
                (unsigned long long)queued, (unsigned long long)task_leases,
                (unsigned long long)rs.leases_active, (unsigned long long)rs.waiters_queued);
    return ts.acquired == kTasks && rs.outcomes[ADMIT_REQ_SUCCESS] == kTasks && queued == 0 &&
           task_leases == 0 && rs.leases_active == 0 && rs.waiters_queued == 0;
}

} // namespace

int main() {
    Core core;
    admit_error err{};
    if (!make_requests(core, err) || !make_tasks(core, err)) {
        std::fprintf(stderr, "embed_cpp: %s: %s\n", admit_status_name(err.code), err.message);
        return 1;
    }
    std::deque<Running> running;
    for (dispatch(core, running); !running.empty(); dispatch(core, running)) {
        Running done = std::move(running.front()); // oldest first
        running.pop_front();
        done.worker.join();
        admit_task_admission_release(core.tasks.get(), done.lease); // once, on this thread
        print_line("task", "task_lease_released", done.task->task_id, done.lease.lease_id,
                   monotonic_now(nullptr));
    }
    return report(core) ? 0 : 1;
}
