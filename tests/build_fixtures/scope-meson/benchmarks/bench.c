#include <time.h>
#include <string.h>

int main(void)
{
    return (int)strlen(asctime(localtime(NULL)));
}
