#define _DEFAULT_SOURCE /* madvise(MADV_HUGEPAGE) */
/* Arrays on transparent huge pages where the kernel offers them (res/large_alloc.h). */
#include "res/large_alloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum { HUGE_PAGE = 2u << 20 };

void *res_large_alloc(size_t bytes) {
    if (bytes < HUGE_PAGE) return malloc(bytes ? bytes : 1);
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes & ~(size_t)(HUGE_PAGE - 1), MADV_HUGEPAGE); /* advice only */
#endif
    return p;
}

void *res_large_realloc(void *p, size_t used, size_t bytes) {
    if (bytes < HUGE_PAGE) return realloc(p, bytes ? bytes : 1);
    void *q = res_large_alloc(bytes);
    if (!q) return NULL;
    if (p && used) memcpy(q, p, used);
    free(p);
    return q;
}

void *res_pages_alloc(size_t bytes) {
    void *p =
        mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void res_pages_free(void *p, size_t bytes) {
    if (p) munmap(p, bytes ? bytes : 1);
}
