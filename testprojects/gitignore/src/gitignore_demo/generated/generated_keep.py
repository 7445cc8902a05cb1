# re-included by negation
