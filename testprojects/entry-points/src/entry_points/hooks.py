def first() -> str:
    return 'first'


def second() -> str:
    return 'second'
