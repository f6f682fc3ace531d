#include "minilib.h"

static int mini_calls = 0;
static int mini_other = 0;

int mini_add(int a, int b)
{
    mini_calls++; /* expect: FT401 */
    return a + b;
}

int mini_unused(void)
{
    mini_other++;
    return mini_other;
}
