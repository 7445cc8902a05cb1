def solo() -> str:
    return 'solo-flat'
