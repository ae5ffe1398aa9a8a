// Reads standard input and greets each name on it, one per line.
#include <stdio.h>
#include <string.h>

int main(void) {
    char line[1024];
    int greeted = 0;
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] != '\0') {
            printf("Hello, %s!\n", line);
            greeted++;
        }
    }
    if (greeted == 0) {
        printf("Hello, world!\n");
    }
    return 0;
}
