def alpha() -> None:
    print('alpha says hi')


def zeta() -> None:
    print('zeta says hi')
