NAME = 'uvconf'
