#include <string.h>
#include <errno.h>

static long header_hits = 0;

static inline void count_hit(void) {
    header_hits++; /* expect: FT401 */
}
