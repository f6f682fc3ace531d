#include <time.h>
#include <string.h>

static long iterations = 0;

int main(void)
{
    iterations++;
    return (int)strlen(asctime(localtime(NULL)));
}
