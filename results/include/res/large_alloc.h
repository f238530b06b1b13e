/*
** Arrays of megabytes, written once front to back (event logs, the
** correlated view's rows and task slots), on transparent huge pages where
** the kernel offers them ("madvise" mode): touched a 4 KiB page at a time,
** such an array costs a page fault per page, which is most of what writing
** it costs; with 2 MiB pages, one per 512.  The pages are still zeroed on
** first touch, and an untouched tail costs nothing.  Smaller arrays come
** from malloc.  Either way free() releases them.
*/
#ifndef RES_LARGE_ALLOC_H
#define RES_LARGE_ALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* bytes of memory (uninitialized), NULL when out of memory. */
void *res_large_alloc(size_t bytes);
/* p (from res_large_alloc, res_large_realloc, malloc or NULL, holding
** `used` bytes worth keeping) moved to a block of bytes >= used; NULL when
** out of memory, p then untouched. */
void *res_large_realloc(void *p, size_t used, size_t bytes);

/* Blocks freed while the run goes on (the view's task chunks): pages of
** their own, handed back to the system by res_pages_free (malloc may keep
** a freed block of this size in its heap).  res_pages_alloc gives `bytes`
** zero bytes, NULL when out of memory; res_pages_free takes the same size
** (p NULL: nothing). */
void *res_pages_alloc(size_t bytes);
void res_pages_free(void *p, size_t bytes);

#ifdef __cplusplus
}
#endif

#endif
