C = 'c'
