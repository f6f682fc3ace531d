#include <stdio.h>
#include <string.h>
#include <errno.h>

static int dumped = 0;

int main(int argc, char **argv)
{
    dumped++;
    fprintf(stderr, "%s\n", strerror(errno));
    return 0;
}
