def hello() -> str:
    return 'flat'
