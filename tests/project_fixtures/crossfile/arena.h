/* A global defined in one file, used through `extern` in another. */
#include <stddef.h>

struct arena {
    size_t block_size;
    size_t used;
};

extern struct arena default_arena;

void *arena_alloc(struct arena *a, size_t n);
