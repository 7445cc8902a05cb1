PLAT = True
