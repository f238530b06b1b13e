/*
** A spill file: fixed-size records written out of memory while a run goes
** and read back, in the order written, once it ended.
**
** The records go through a buffer of RES_SPILL_BUFFER bytes into a
** temporary file made with mkstemp in $TMPDIR (else /tmp) and unlinked at
** once, so nothing is left behind whatever happens to the process.  A
** spill holds what the outputs will read of a run (the task timelines of a
** store that keeps no lifecycle event), so its memory stays one buffer
** whatever the run's length; the file holds record_size bytes a record.
**
** Errors stick: after a failed create (NULL, errno set), append or read,
** res_spill_error says what failed ("writing the spill file in /tmp: No
** space left on device") and every later call fails.  Not thread-safe.
*/
#ifndef RES_SPILL_H
#define RES_SPILL_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { RES_SPILL_BUFFER = 1 << 16 };

typedef struct res_spill res_spill;

/* An empty spill of records of record_size bytes (1 .. RES_SPILL_BUFFER);
** NULL when the file or memory cannot be had (errno says why). */
res_spill *res_spill_create(size_t record_size);
void res_spill_free(res_spill *s); /* NULL: nothing; closes the file */

/* Appends one record; false on a write error (res_spill_error) or once the
** spill is being read. */
bool res_spill_append(res_spill *s, const void *record);
size_t res_spill_count(const res_spill *s);

/* Starts reading from the first record (again); false on an error. */
bool res_spill_rewind(res_spill *s);
/* The next record into *record; false at the end or on an error (then
** res_spill_error is not NULL). */
bool res_spill_next(res_spill *s, void *record);

/* What failed, or NULL. */
const char *res_spill_error(const res_spill *s);
/* The directory spill files are made in: $TMPDIR, else /tmp. */
const char *res_spill_dir(void);

/* How many bytes of rows, or of events, a run keeps in memory before it
** starts spilling them: RES_SPILL_AFTER_DEFAULT, or the environment's
** ADMITSIM_SPILL_AFTER (a whole number of bytes; 0: spill from the first;
** anything else is ignored).  Small runs so never touch a file. */
#define RES_SPILL_AFTER_DEFAULT ((size_t)4 << 20)
size_t res_spill_after(void);

#ifdef __cplusplus
}
#endif

#endif
