/* Filled in by the core work of issue 2. */
#include "config.h"
