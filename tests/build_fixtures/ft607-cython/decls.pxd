# A .pxd declares, it is not a module: never reported.
cdef int helper(int x)
