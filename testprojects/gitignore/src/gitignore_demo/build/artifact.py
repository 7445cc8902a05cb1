# ignored (build/)
