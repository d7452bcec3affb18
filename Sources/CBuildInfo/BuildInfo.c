#include "CBuildInfo.h"

#if __has_include("generated/commit.h")
#include "generated/commit.h"
#endif
#ifndef OUTPOST_GIT_COMMIT
#define OUTPOST_GIT_COMMIT "unknown"
#endif

const char *outpost_build_commit(void) { return OUTPOST_GIT_COMMIT; }
