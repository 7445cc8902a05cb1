def main() -> None:
    print('full-cli works')
