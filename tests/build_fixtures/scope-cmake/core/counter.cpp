#include "core.h"

static int bumps = 0;

int core_bump()
{
    bumps++; // expect: FT401
    return bumps;
}
