def solo() -> str:
    return 'solo'
