# not included: docs/*.md only
