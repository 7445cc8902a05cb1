# not packaged
