PURE = True
