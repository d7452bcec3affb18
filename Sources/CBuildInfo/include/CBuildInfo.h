// Facts fixed when the binary was built (the Makefile writes generated/commit.h before building).
#ifndef OUTPOST_CBUILDINFO_H
#define OUTPOST_CBUILDINFO_H
const char *outpost_build_commit(void);
#endif
