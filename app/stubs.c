/* Temporary: replaced module by module as the issues land. */
#include <stdio.h>
#include "audit.h"
#include "auth.h"
#include "handler.h"

