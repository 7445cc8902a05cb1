def hello() -> None:
    print("Hi from a script!")
