def main() -> None:
    print('gui')
