# Reads all of standard input and greets each name on it, one per line.
import sys


def greet(name: str) -> str:
    return f"Hello, {name}!"


def main() -> None:
    names = [line.strip() for line in sys.stdin if line.strip()]
    for name in names or ["world"]:
        print(greet(name))


if __name__ == "__main__":
    main()
