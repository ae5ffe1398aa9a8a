// Reads standard input and greets each name on it, one per line.
#include <iostream>
#include <string>
#include <vector>

int main() {
    std::vector<std::string> names;
    for (std::string line; std::getline(std::cin, line);) {
        if (!line.empty()) {
            names.push_back(line);
        }
    }
    if (names.empty()) {
        names.push_back("world");
    }
    for (const auto& name : names) {
        std::cout << "Hello, " << name << "!\n";
    }
    return 0;
}
