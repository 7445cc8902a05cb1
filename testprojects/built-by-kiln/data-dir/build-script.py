print('not packaged')
