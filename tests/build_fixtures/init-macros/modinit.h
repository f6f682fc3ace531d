#define INIT_NAME PyInit__hdr
#define MOD_INIT(n) PyMODINIT_FUNC PyInit_##n(void)
