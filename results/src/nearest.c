/*
** The "did you mean" of an error (res/error.h): the known name nearest a
** mistyped one.
*/
#include <string.h>

#include "res/error.h"

/* Levenshtein distance of a and b, capped at 255 (names are short). */
static size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return 255;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *res_nearest(const char *word, const char *const *names, size_t n) {
    const char *best = NULL;
    size_t best_d = 3; /* at most two edits ... */
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, names[i]);
        /* ... and fewer than the name has letters ("ab" is not "run") */
        if (d < best_d && d < strlen(names[i])) {
            best = names[i];
            best_d = d;
        }
    }
    return best;
}
