# kept
