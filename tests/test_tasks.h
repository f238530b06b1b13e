/* Shared by the queue and admission tests: a bare cell task whose id and row
** encode its index in the test's task array. */
#ifndef ADMIT_TEST_TASKS_H
#define ADMIT_TEST_TASKS_H

#include <string.h>

#include "admit/resources.h"

static inline void test_task_init(admit_task *t, uint32_t group, uint32_t index) {
    memset(t, 0, sizeof *t);
    t->task_id = admit_task_id(group, ADMIT_TASK_CELL, 0, (int64_t)index);
    t->group = group;
    t->column = group;
    t->row = (int64_t)index;
    t->type = ADMIT_TASK_CELL;
}

#endif
