/* Included through pkg/common.h: two levels away from the init. */
#define INIT_MODULE(m) PyInit_ ## m
