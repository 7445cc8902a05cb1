# ignored by the nested .gitignore
