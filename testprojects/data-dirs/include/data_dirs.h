#define DATA_DIRS 1
