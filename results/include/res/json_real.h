/*
** A figure in JSON: a real, or null for an absent one.  Figures over an
** empty set (the waits of a column that never dispatched, of a request
** resource without an admitted attempt) and shares of no time (0/0) are
** NaN in the summaries and null in every JSON output, never 0.  Its own
** translation unit so that the summary, the request report, the
** correlated view and the artifact can all use it without depending on
** one another.
*/
#ifndef RES_JSON_REAL_H
#define RES_JSON_REAL_H

#include <jansson.h>

/* A JSON real of x, or null when x is not finite (json_real() takes no NaN
** or infinity, and a NULL value would drop its key or row without a word).
** New reference; NULL on out of memory. */
json_t *res_json_real_or_null(double x);

#endif
