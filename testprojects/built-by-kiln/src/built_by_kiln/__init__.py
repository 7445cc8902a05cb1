def greet() -> str:
    return "Hello from kiln"
