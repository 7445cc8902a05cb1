#define BUILT_BY_KILN 1
