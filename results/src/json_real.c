/* A figure in JSON (res/json_real.h). */
#include "res/json_real.h"

#include <math.h>

json_t *res_json_real_or_null(double x) {
    return isfinite(x) ? json_real(x) : json_null();
}
