from pathlib import Path


def area(radius: float) -> float:
    pi = float((Path(__file__).parent / 'pi.txt').read_text())
    return pi * radius * radius
