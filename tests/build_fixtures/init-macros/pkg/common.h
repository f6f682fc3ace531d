#include "pkg/compat.h"
