#include "codecs.h"

static int codec_calls = 0;

int codec_size(void)
{
    codec_calls++; /* expect: FT401 */
    return 4;
}
