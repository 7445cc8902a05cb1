NAME = 'widgets'
