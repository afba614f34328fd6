/* api_internal.h (internal to api/): helpers shared by the api sources. */
#ifndef H2_API_INTERNAL_H
#define H2_API_INTERNAL_H

#include "h2.h"

/* h2_api_fail sets the thread's validation message (h2_last_error_message)
 * and returns H2_ERR_INVALID_ARG. */
int h2_api_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
