# sdist only
