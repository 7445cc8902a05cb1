#define BUILD_ONLY 1
